import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { invocationDeadline, rdsLimiter } from '../../shared/aws/rate-limiter.js';
import { accountOf, readLambdaJobConfig, runScheduledJob } from '../../shared/jobs/lambda-job.js';
import { parseScheduledEvent } from '../../shared/jobs/scheduled-event.js';
import { runRecorder } from '../../shared/manifest/run-recorder.js';
import { jobObservability } from '../../shared/observability/powertools.js';
import { type RetentionJobResult, runRetentionJob } from '../../shared/retention/retention-job.js';
import { vaultFromEnv } from '../../shared/vault/vault.js';

const config = readLambdaJobConfig();
const { policy } = config;
const { logger, metrics } = jobObservability('enforce-retention');
const primary = rdsIn(policy.regions.primary);
const dr = rdsIn(policy.regions.dr);
const s3 = clientIn(S3Client, policy.regions.primary);
const kms = clientIn(KMSClient, policy.regions.primary);
const sns = clientIn(SNSClient, config.region);
const vault = vaultFromEnv();

const enforceRetention = async (event: unknown, context: Context): Promise<RetentionJobResult> => {
  // The scheduled time is the clock retention reasons with: a redelivered event plans the same.
  const scheduledTime = parseScheduledEvent(event, policy.verification.lookback);
  return runScheduledJob('enforce-retention', { sns, config, log: logger }, async () => {
    const result = await runRetentionJob(
      {
        primary,
        dr,
        limiter: rdsLimiter(policy.rdsRequestsPerSecond, invocationDeadline(context)),
        recorder: runRecorder({ s3, kms, vault, account: accountOf(context) }),
        log: logger,
      },
      policy,
      scheduledTime,
    );
    metrics.addMetric('SnapshotsKept', MetricUnit.Count, result.plan.keep);
    metrics.addMetric(
      'SnapshotsDeleted',
      MetricUnit.Count,
      result.deletions.filter((d) => d.outcome !== 'failed').length,
    );
    metrics.addMetric('DeletionFailures', MetricUnit.Count, result.failures.length);
    return result;
  });
};

export const handler = middy(enforceRetention)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
