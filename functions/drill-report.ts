import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DrillPlan } from '../shared/drills/drill-contract.js';
import { reportDrill } from '../shared/drills/drill-report.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { vaultReportCopy } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { taskHandler } from '../shared/jobs/task-handler.js';
import {
  DRILL_OBJECTIVE_MISSED_METRIC,
  DRILL_RPO_METRIC,
  DRILL_RTO_METRIC,
  DRILL_SUCCEEDED_METRIC,
} from '../shared/observability/metric-names.js';
import { setSnapshotShared } from '../shared/rds/snapshots.js';
import { type ReportSink, reportSinkIn } from '../shared/reports/publish-report.js';
import { vaultAccountOf } from '../shared/vault-account/vault-account.js';

/** Restore drill, Report: the report in S3, the drill's metrics, one SNS summary. */
export const definition: StateMachineTask<ReportSink, Awaited<ReturnType<typeof reportDrill>>> = {
  kind: 'task',
  name: 'drillReport',
  machine: 'restore-drill',
  description:
    'Restore drill - stores the report, publishes RTO, RPO, the outcome and any objective missed',
  timeout: 60,
  writesReports: true,
  wire: (env) => reportSinkIn(env, vaultReportCopy(env, 'lifeboat-drill-report')),
  run: async (sink, event, env) => {
    // A drill of the vault's copy ends its share, as the vault's role that shared it.
    const endShare = async (copy: NonNullable<DrillPlan['vaultCopy']>) => {
      const vault = env.policy().vault;
      if (!vault) throw new Error('the policy names no vault account to end the share in');
      const reached = vaultAccountOf(vault, env.region, 'lifeboat-drill-report');
      await setSnapshotShared(reached.rds, copy.kind, copy.snapshotId, copy.sharedWith, false);
    };
    const reported = await reportDrill(sink, event, env.now(), endShare);
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

export const handler = taskHandler(definition, { policy: packagedPolicy });
