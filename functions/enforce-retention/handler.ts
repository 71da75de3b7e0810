import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { rdsLimiter } from '../../shared/aws/rate-limiter.js';
import { readLambdaJobConfig, settleRun } from '../../shared/jobs/lambda-job.js';
import { parseEvent, ScheduledEventSchema } from '../../shared/jobs/scheduled-event.js';
import { jobObservability } from '../../shared/observability/powertools.js';
import { type RetentionJobResult, runRetentionJob } from '../../shared/retention/retention-job.js';

const config = readLambdaJobConfig();
const { policy } = config;
const { logger, metrics } = jobObservability('enforce-retention');
const primary = rdsIn(policy.regions.primary);
const dr = rdsIn(policy.regions.dr);
const sns = clientIn(SNSClient, config.region);

const enforceRetention = async (event: unknown): Promise<RetentionJobResult> => {
  // The scheduled time is the clock retention reasons with: a redelivered event plans the same.
  const { scheduledTime } = parseEvent(ScheduledEventSchema, event);
  const result = await runRetentionJob(
    { primary, dr, limiter: rdsLimiter(policy.rdsRequestsPerSecond), log: logger },
    policy,
    new Date(scheduledTime),
  );
  metrics.addMetric('SnapshotsKept', MetricUnit.Count, result.plan.keep);
  metrics.addMetric(
    'SnapshotsDeleted',
    MetricUnit.Count,
    result.deletions.filter((d) => d.outcome !== 'failed').length,
  );
  metrics.addMetric('DeletionFailures', MetricUnit.Count, result.failures.length);
  await settleRun(sns, config, 'enforce-retention', result.failures, logger);
  return result;
};

export const handler = middy(enforceRetention)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
