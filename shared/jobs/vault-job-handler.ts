import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { JobFailure } from '../alerts/failure-alert.js';
import { clientIn, type RegionalRds, rdsIn } from '../aws/clients.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { invocationDeadline, rdsLimiter } from '../aws/rate-limiter.js';
import type { JobLog } from '../observability/job-log.js';
import { JOB_SUCCEEDED_METRIC } from '../observability/metric-names.js';
import { jobObservability } from '../observability/powertools.js';
import { loadPackagedVaultPolicy, type VaultPolicy } from '../policy/vault-policy.js';
import { runScheduledJob } from './job-handler.js';
import { parseScheduledEvent } from './scheduled-event.js';
import { onFirstCall } from './task-handler.js';

/** What a vault job runs with, in the vault account: its RDS, bucket and key, from the stack. */
export interface VaultJobEnvironment {
  readonly rds: RegionalRds;
  readonly limiter: RateLimiter;
  readonly log: JobLog;
  /** Stores a report in the vault bucket (Object Lock, COMPLIANCE) under the vault key. */
  readonly store: (key: string, body: unknown) => Promise<void>;
  readonly vaultKeyArn: string;
}

/** A scheduled job of the vault stack: its run, over the vault policy. */
export type VaultJob = (
  env: VaultJobEnvironment,
  policy: VaultPolicy,
  scheduledTime: Date,
) => Promise<{ readonly failures: readonly JobFailure[] }>;

/**
 * The Lambda handler of a vault job: reads the packaged vault policy and the stack's bucket, key
 * and topic, refuses a malformed or stale Scheduler event, runs the job, and settles it as
 * production's jobs are settled: one alert naming every failure, a failed invocation, and the
 * JobSucceeded heartbeat only when nothing failed.
 */
export function vaultJobHandler(name: string, job: VaultJob) {
  return onFirstCall(() => {
    const { logger, metrics } = jobObservability(name);
    const need = (key: string) =>
      getStringFromEnv({
        key,
        errorMessage: `environment variable ${key} is required (set by the vault stack)`,
      });
    let policy: VaultPolicy | undefined;
    const run = async (event: unknown, context: Context) => {
      policy ??= loadPackagedVaultPolicy(need('LIFEBOAT_VAULT_POLICY_PATH'));
      const vault = policy;
      const region = need('AWS_REGION');
      const scheduledTime = parseScheduledEvent(event, '7d');
      const bucket = need('VAULT_BUCKET');
      const vaultKeyArn = need('VAULT_KEY_ARN');
      const s3 = clientIn(S3Client, region);
      const env: VaultJobEnvironment = {
        rds: rdsIn(region),
        limiter: rdsLimiter(5, invocationDeadline(context)),
        log: logger,
        vaultKeyArn,
        store: async (key, body) => {
          await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: `${JSON.stringify(body, null, 2)}\n`,
              ContentType: 'application/json',
              ServerSideEncryption: 'aws:kms',
              SSEKMSKeyId: vaultKeyArn,
            }),
          );
        },
      };
      return runScheduledJob(
        name,
        {
          sns: clientIn(SNSClient, region),
          alertTopicArn: need('ALERT_TOPIC_ARN'),
          region,
          log: logger,
        },
        async () => {
          const result = await job(env, vault, scheduledTime);
          if (result.failures.length === 0) {
            metrics.addMetric(JOB_SUCCEEDED_METRIC, MetricUnit.Count, 1);
          }
          return result;
        },
      );
    };
    return middy(run).use(injectLambdaContext(logger)).use(logMetrics(metrics));
  });
}
