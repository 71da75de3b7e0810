import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { clientIn } from '../../shared/aws/clients.js';
import { failoverReport, publishFailoverReport } from '../../shared/failover/failover-report.js';
import { readLambdaJobConfig } from '../../shared/jobs/lambda-job.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { FAILOVER_RTO_METRIC } from '../../shared/observability/metric-names.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readLambdaJobConfig();
const { logger, metrics } = jobObservability('failover-report');
const sink = {
  s3: clientIn(S3Client, config.region),
  sns: clientIn(SNSClient, config.region),
  bucket: getStringFromEnv({
    key: 'REPORT_BUCKET',
    errorMessage: 'environment variable REPORT_BUCKET is required',
  }),
  topicArn: config.alertTopicArn,
};

/** Regional failover, Report: the report in the DR region's bucket, FailoverRTO, one SNS summary. */
export const handler = stateMachineTask(logger, async (event) => {
  const report = failoverReport(event, new Date());
  const location = await publishFailoverReport(sink, report);
  if (report.rtoSeconds !== null) {
    metrics.addDimensions({ Target: report.target });
    metrics.addMetric(FAILOVER_RTO_METRIC, MetricUnit.Seconds, report.rtoSeconds);
  }
  logger.info('failover report', {
    failoverId: report.failoverId,
    succeeded: report.succeeded,
    ...location,
  });
  return {
    succeeded: report.succeeded,
    failure: report.failure,
    rtoSeconds: report.rtoSeconds,
    ...location,
  };
}).use(logMetrics(metrics));
