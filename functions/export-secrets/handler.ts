import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { clientIn } from '../../shared/aws/clients.js';
import { accountOf, readLambdaJobConfig, runScheduledJob } from '../../shared/jobs/lambda-job.js';
import { parseScheduledEvent } from '../../shared/jobs/scheduled-event.js';
import { runRecorder } from '../../shared/manifest/run-recorder.js';
import { slotOf } from '../../shared/naming/slot.js';
import { jobObservability } from '../../shared/observability/powertools.js';
import { type ExportJobResult, runExportJob } from '../../shared/secrets/export-job.js';
import { vaultFromEnv } from '../../shared/vault/vault.js';

const config = readLambdaJobConfig();
const vault = vaultFromEnv();
const { policy } = config;
const { logger, metrics } = jobObservability('export-secrets');
const sm = clientIn(SecretsManagerClient, policy.regions.primary);
const s3 = clientIn(S3Client, policy.regions.primary);
const kms = clientIn(KMSClient, policy.regions.primary);
const sns = clientIn(SNSClient, config.region);

const exportSecrets = async (event: unknown, context: Context): Promise<ExportJobResult> => {
  const scheduledTime = parseScheduledEvent(event, policy.verification.lookback);
  return runScheduledJob('export-secrets', { sns, config, log: logger }, async () => {
    const result = await runExportJob(
      {
        sm,
        s3,
        vault,
        recorder: runRecorder({ s3, kms, vault, account: accountOf(context) }),
        log: logger,
      },
      policy,
      slotOf(scheduledTime),
    );
    metrics.addMetric('SecretsExported', MetricUnit.Count, result.exported);
    metrics.addMetric('SecretExportFailures', MetricUnit.Count, result.failures.length);
    return result;
  });
};

export const handler = middy(exportSecrets)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
