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
import { slotOf } from '../../shared/naming/slot.js';
import { QUOTA_METRIC } from '../../shared/observability/metric-names.js';
import { jobObservability } from '../../shared/observability/powertools.js';
import { runSnapshotJob, type SnapshotJobResult } from '../../shared/snapshots/snapshot-job.js';
import { vaultFromEnv } from '../../shared/vault/vault.js';

const config = readLambdaJobConfig();
const vault = vaultFromEnv();
const { policy } = config;
const { logger, metrics } = jobObservability('snapshot-rds');
const primary = rdsIn(policy.regions.primary);
const dr = rdsIn(policy.regions.dr);
const s3 = clientIn(S3Client, policy.regions.primary);
const kms = clientIn(KMSClient, policy.regions.primary);
const sns = clientIn(SNSClient, config.region);

const snapshotRds = async (event: unknown, context: Context): Promise<SnapshotJobResult> => {
  const scheduledTime = parseScheduledEvent(event, policy.verification.lookback);
  return runScheduledJob('snapshot-rds', { sns, config, log: logger }, async () => {
    const result = await runSnapshotJob(
      {
        primary,
        dr,
        limiter: rdsLimiter(policy.rdsRequestsPerSecond, invocationDeadline(context)),
        recorder: runRecorder({ s3, kms, vault, account: accountOf(context) }),
        log: logger,
      },
      policy,
      slotOf(scheduledTime),
    );
    const count = (outcome: string) =>
      [...result.targets, ...result.copies].filter((o) => o.outcome === outcome).length;
    metrics.addMetric('SnapshotsCreated', MetricUnit.Count, count('created'));
    metrics.addMetric('CopiesStarted', MetricUnit.Count, count('started'));
    metrics.addMetric('CopiesPending', MetricUnit.Count, count('pending'));
    metrics.addMetric('SnapshotFailures', MetricUnit.Count, result.failures.length);
    for (const q of result.quotas) {
      const single = metrics.singleMetric();
      single.addDimensions({ Region: q.region, Kind: q.kind });
      single.addMetric(QUOTA_METRIC, MetricUnit.Percent, q.percent);
    }
    return result;
  });
};

export const handler = middy(snapshotRds).use(injectLambdaContext(logger)).use(logMetrics(metrics));
