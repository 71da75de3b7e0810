import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { reportFailover } from '../shared/failover/failover-report.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { vaultReportCopy } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { taskHandler } from '../shared/jobs/task-handler.js';
import { FAILOVER_RTO_METRIC } from '../shared/observability/metric-names.js';
import { type ReportSink, reportSinkIn } from '../shared/reports/publish-report.js';

/** Regional failover, Report: the report in the DR region's bucket, FailoverRTO, one SNS summary. */
export const definition: StateMachineTask<
  ReportSink,
  Awaited<ReturnType<typeof reportFailover>>
> = {
  kind: 'task',
  name: 'failoverReport',
  machine: 'regional-failover',
  description: 'Failover - stores the report and publishes the measured RTO',
  timeout: 60,
  writesReports: true,
  wire: (env) => reportSinkIn(env, vaultReportCopy(env, 'lifeboat-failover-report')),
  run: async (sink, event, env) => {
    const reported = await reportFailover(sink, event, env.now());
    env.log.info('failover report', {
      failoverId: reported.report.failoverId,
      ...reported.summary,
    });
    return reported;
  },
  output: ({ summary }) => summary,
  publish: ({ report }, metrics) => {
    if (report.rtoSeconds === null) return;
    metrics.addDimensions({ Target: report.target });
    metrics.addMetric(FAILOVER_RTO_METRIC, MetricUnit.Seconds, report.rtoSeconds);
  },
};

export const handler = taskHandler(definition, { policy: packagedPolicy });
