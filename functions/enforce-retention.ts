import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { policyRds, recorderFor } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import {
  type RetentionJobDeps,
  type RetentionJobResult,
  runRetentionJob,
} from '../shared/retention/retention-job.js';

/**
 * Records, then deletes, the snapshots the retention policy no longer keeps. The scheduled time
 * is the clock retention reasons with: a redelivered event plans the same.
 */
export const definition: ScheduledJob<RetentionJobDeps, RetentionJobResult> = {
  kind: 'job',
  name: 'enforceRetention',
  description: 'Deletes the snapshots the retention policy no longer keeps',
  schedule: (policy) => policy.retention.schedule,
  runsIn: () => 'primary',
  wire: (env) => ({ ...policyRds(env), recorder: recorderFor(env), log: env.log }),
  run: (deps, policy, scheduledTime) => runRetentionJob(deps, policy, scheduledTime),
  publish: (result, metrics) => {
    metrics.addMetric('SnapshotsKept', MetricUnit.Count, result.plan.keep);
    metrics.addMetric(
      'SnapshotsDeleted',
      MetricUnit.Count,
      result.deletions.filter((d) => d.outcome !== 'failed').length,
    );
    metrics.addMetric('DeletionFailures', MetricUnit.Count, result.failures.length);
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
