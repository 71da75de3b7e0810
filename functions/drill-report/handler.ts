import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { clientIn } from '../../shared/aws/clients.js';
import { drillReport, publishDrillReport } from '../../shared/drills/drill-report.js';
import { readLambdaJobConfig } from '../../shared/jobs/lambda-job.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import {
  DRILL_RPO_METRIC,
  DRILL_RTO_METRIC,
  DRILL_SUCCEEDED_METRIC,
} from '../../shared/observability/metric-names.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readLambdaJobConfig();
const { logger, metrics } = jobObservability('drill-report');
const sink = {
  s3: clientIn(S3Client, config.region),
  sns: clientIn(SNSClient, config.region),
  bucket: getStringFromEnv({
    key: 'REPORT_BUCKET',
    errorMessage: 'environment variable REPORT_BUCKET is required',
  }),
  topicArn: config.alertTopicArn,
};

/** Restore drill, Report: the report in S3, the drill's metrics, one SNS summary. */
export const handler = stateMachineTask(logger, async (event) => {
  const report = drillReport(event, new Date());
  const location = await publishDrillReport(sink, report);
  metrics.addDimensions({ Target: report.target });
  metrics.addMetric(DRILL_SUCCEEDED_METRIC, MetricUnit.Count, report.succeeded ? 1 : 0);
  if (report.rtoSeconds !== null)
    metrics.addMetric(DRILL_RTO_METRIC, MetricUnit.Seconds, report.rtoSeconds);
  if (report.rpoSeconds !== null)
    metrics.addMetric(DRILL_RPO_METRIC, MetricUnit.Seconds, report.rpoSeconds);
  logger.info('drill report', {
    drillId: report.drillId,
    succeeded: report.succeeded,
    ...location,
  });
  return {
    succeeded: report.succeeded,
    failure: report.failure,
    rtoSeconds: report.rtoSeconds,
    rpoSeconds: report.rpoSeconds,
    ...location,
  };
}).use(logMetrics(metrics));
