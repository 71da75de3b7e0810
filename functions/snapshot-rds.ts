import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { KMSClient } from '@aws-sdk/client-kms';
import { clientIn } from '../shared/aws/clients.js';
import type { ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { policyRds, recorderFor, vaultAccountFor } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { slotOf } from '../shared/naming/slot.js';
import { QUOTA_METRIC } from '../shared/observability/metric-names.js';
import {
  runSnapshotJob,
  type SnapshotJobDeps,
  type SnapshotJobResult,
} from '../shared/snapshots/snapshot-job.js';

/** Snapshots the policy's databases and copies the snapshots to the DR region. */
export const definition: ScheduledJob<
  SnapshotJobDeps & { readonly now: () => Date },
  SnapshotJobResult
> = {
  kind: 'job',
  name: 'snapshotRds',
  description: "Snapshots the policy's databases and copies the snapshots to the DR region",
  schedule: (policy) => policy.snapshots.schedule,
  runsIn: () => 'primary',
  wire: (env) => {
    const vault = vaultAccountFor(env, 'lifeboat-snapshot-rds');
    return {
      ...policyRds(env),
      kmsIn: (region) => clientIn(KMSClient, region),
      recorder: recorderFor(env, vault),
      log: env.log,
      now: env.now,
      ...(vault ? { vault } : {}),
    };
  },
  run: (deps, policy, scheduledTime) =>
    runSnapshotJob(deps, policy, slotOf(scheduledTime), deps.now()),
  publish: (result, metrics) => {
    const count = (outcome: string) =>
      [...result.targets, ...result.copies].filter((o) => o.outcome === outcome).length;
    metrics.addMetric('SnapshotsCreated', MetricUnit.Count, count('created'));
    metrics.addMetric('CopiesStarted', MetricUnit.Count, count('started'));
    metrics.addMetric('CopiesPending', MetricUnit.Count, count('pending'));
    metrics.addMetric('SnapshotFailures', MetricUnit.Count, result.failures.length);
    if (result.vault.length > 0) {
      const sent = (outcome: string) => result.vault.filter((o) => o.outcome === outcome).length;
      metrics.addMetric('VaultCopiesStarted', MetricUnit.Count, sent('started'));
      metrics.addMetric('VaultCopiesPending', MetricUnit.Count, sent('pending'));
    }
    for (const q of result.quotas) {
      const single = metrics.singleMetric();
      single.addDimensions({ Region: q.region, Kind: q.kind });
      single.addMetric(QUOTA_METRIC, MetricUnit.Percent, q.percent);
    }
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
