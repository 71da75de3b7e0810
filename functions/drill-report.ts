import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { reportDrill } from '../shared/drills/drill-report.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { taskHandler } from '../shared/jobs/task-handler.js';
import {
  DRILL_OBJECTIVE_MISSED_METRIC,
  DRILL_RPO_METRIC,
  DRILL_RTO_METRIC,
  DRILL_SUCCEEDED_METRIC,
} from '../shared/observability/metric-names.js';
import { type ReportSink, reportSinkIn } from '../shared/reports/publish-report.js';

/** Restore drill, Report: the report in S3, the drill's metrics, one SNS summary. */
export const definition: StateMachineTask<ReportSink, Awaited<ReturnType<typeof reportDrill>>> = {
  kind: 'task',
  name: 'drillReport',
  machine: 'restore-drill',
  description:
    'Restore drill - stores the report, publishes RTO, RPO, the outcome and any objective missed',
  timeout: 60,
  writesReports: true,
  wire: (env) => reportSinkIn(env),
  run: async (sink, event, env) => {
    const reported = await reportDrill(sink, event, env.now());
    env.log.info('drill report', { drillId: reported.report.drillId, ...reported.summary });
    return reported;
  },
  output: ({ summary }) => summary,
  publish: ({ report }, metrics) => {
    metrics.addDimensions({ Target: report.target });
    metrics.addMetric(DRILL_SUCCEEDED_METRIC, MetricUnit.Count, report.succeeded ? 1 : 0);
    if (report.rtoSeconds !== null)
      metrics.addMetric(DRILL_RTO_METRIC, MetricUnit.Seconds, report.rtoSeconds);
    if (report.rpoSeconds !== null)
      metrics.addMetric(DRILL_RPO_METRIC, MetricUnit.Seconds, report.rpoSeconds);
    if (report.objectives)
      metrics.addMetric(
        DRILL_OBJECTIVE_MISSED_METRIC,
        MetricUnit.Count,
        report.outcome === 'objective missed' ? 1 : 0,
      );
  },
};

export const handler = taskHandler(definition);
