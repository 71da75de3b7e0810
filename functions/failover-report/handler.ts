import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { reportFailover } from '../../shared/failover/failover-report.js';
import { readTaskConfig } from '../../shared/jobs/task-config.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { FAILOVER_RTO_METRIC } from '../../shared/observability/metric-names.js';
import { jobObservability } from '../../shared/observability/powertools.js';
import { reportSinkFromEnv } from '../../shared/reports/publish-report.js';

const config = readTaskConfig();
const { logger, metrics } = jobObservability('failover-report');
const sink = reportSinkFromEnv(config);

/** Regional failover, Report: the report in the DR region's bucket, FailoverRTO, one SNS summary. */
export const handler = stateMachineTask(logger, async (event) => {
  const { report, summary } = await reportFailover(sink, event, new Date());
  if (report.rtoSeconds !== null) {
    metrics.addDimensions({ Target: report.target });
    metrics.addMetric(FAILOVER_RTO_METRIC, MetricUnit.Seconds, report.rtoSeconds);
  }
  logger.info('failover report', { failoverId: report.failoverId, ...summary });
  return summary;
}).use(logMetrics(metrics));
