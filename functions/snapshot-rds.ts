import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { KMSClient } from '@aws-sdk/client-kms';
import { clientIn } from '../shared/aws/clients.js';
import type { ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { policyRds, recorderFor } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { slotOf } from '../shared/naming/slot.js';
import { QUOTA_METRIC } from '../shared/observability/metric-names.js';
import {
  runSnapshotJob,
  type SnapshotJobDeps,
  type SnapshotJobResult,
} from '../shared/snapshots/snapshot-job.js';

/**
 * Snapshots the policy's databases, once per slot. Their DR copies and vault copies follow as
 * soon as each snapshot is available: the pipeline's (advance-snapshots).
 */
export const definition: ScheduledJob<
  SnapshotJobDeps & { readonly now: () => Date },
  SnapshotJobResult
> = {
  kind: 'job',
  name: 'snapshotRds',
  description: "Snapshots the policy's databases once per schedule slot",
  // The snapshots it has no time for are the pipeline's to take, minutes later.
  timeout: 600,
  schedule: (policy) => policy.snapshots.schedule,
  runsIn: () => 'primary',
  wire: (env) => ({
    ...policyRds(env),
    kmsIn: (region) => clientIn(KMSClient, region),
    recorder: recorderFor(env),
    log: env.log,
    now: env.now,
  }),
  run: (deps, policy, scheduledTime) =>
    runSnapshotJob(deps, policy, slotOf(scheduledTime), deps.now()),
  publish: (result, metrics) => {
    const count = (outcome: string) => result.targets.filter((o) => o.outcome === outcome).length;
    metrics.addMetric('SnapshotsCreated', MetricUnit.Count, count('created'));
    metrics.addMetric('SnapshotsDeferred', MetricUnit.Count, count('deferred'));
    metrics.addMetric('SnapshotFailures', MetricUnit.Count, result.failures.length);
    for (const q of result.quotas) {
      const single = metrics.singleMetric();
      single.addDimensions({ Region: q.region, Kind: q.kind });
      single.addMetric(QUOTA_METRIC, MetricUnit.Percent, q.percent);
    }
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
