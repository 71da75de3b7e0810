import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { type JanitorResult, runJanitor } from '../../shared/drills/janitor.js';
import { readLambdaJobConfig, runScheduledJob } from '../../shared/jobs/lambda-job.js';
import { parseScheduledEvent } from '../../shared/jobs/scheduled-event.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readLambdaJobConfig();
const { logger, metrics } = jobObservability('drill-janitor');
const rds = rdsIn(config.region);
const sns = clientIn(SNSClient, config.region);

/** Deletes the databases failed drills left behind in this region, by drill tag only. */
const janitor = async (event: unknown): Promise<JanitorResult> => {
  const scheduledTime = parseScheduledEvent(event, config.policy.verification.lookback);
  return runScheduledJob('drill-janitor', { sns, config, log: logger }, async () => {
    const result = await runJanitor({ rds, log: logger }, config.policy, scheduledTime);
    metrics.addMetric('DrillLeftoversDeleted', MetricUnit.Count, result.deleted.length);
    return result;
  });
};

export const handler = middy(janitor).use(injectLambdaContext(logger)).use(logMetrics(metrics));
