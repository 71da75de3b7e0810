import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    globalSetup: ['test/support/global-temp.ts'],
    // Far above any test's normal duration: the suite must pass on a busy machine.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Dummy credentials and a dead endpoint: nothing can reach real AWS. Integration tests point
    // AWS_ENDPOINT_URL at their own moto server.
    env: {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_REGION: 'eu-central-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',

      ALERT_TOPIC_ARN: 'arn:aws:sns:eu-central-1:123456789012:lifeboat-alerts',
    },
  },
});
