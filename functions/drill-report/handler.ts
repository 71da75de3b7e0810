import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { reportDrill } from '../../shared/drills/drill-report.js';
import { readTaskConfig } from '../../shared/jobs/task-config.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import {
  DRILL_RPO_METRIC,
  DRILL_RTO_METRIC,
  DRILL_SUCCEEDED_METRIC,
} from '../../shared/observability/metric-names.js';
import { jobObservability } from '../../shared/observability/powertools.js';
import { reportSinkFromEnv } from '../../shared/reports/publish-report.js';

const config = readTaskConfig();
const { logger, metrics } = jobObservability('drill-report');
const sink = reportSinkFromEnv(config);

/** Restore drill, Report: the report in S3, the drill's metrics, one SNS summary. */
export const handler = stateMachineTask(logger, async (event) => {
  const { report, summary } = await reportDrill(sink, event, new Date());
  metrics.addDimensions({ Target: report.target });
  metrics.addMetric(DRILL_SUCCEEDED_METRIC, MetricUnit.Count, report.succeeded ? 1 : 0);
  if (report.rtoSeconds !== null)
    metrics.addMetric(DRILL_RTO_METRIC, MetricUnit.Seconds, report.rtoSeconds);
  if (report.rpoSeconds !== null)
    metrics.addMetric(DRILL_RPO_METRIC, MetricUnit.Seconds, report.rpoSeconds);
  logger.info('drill report', { drillId: report.drillId, ...summary });
  return summary;
}).use(logMetrics(metrics));
