import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { clientIn } from '../shared/aws/clients.js';
import type { JobEnvironment, ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { policyRds, vaultAccountFor } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { drVaultOf } from '../shared/manifest/dr-copy.js';
import { backupBucketName } from '../shared/naming/stack.js';
import {
  OBJECTIVES_MISSED_METRIC,
  RECOVERY_POINT_AGE_METRIC,
  VERIFIED_RESTORE_POINT_AGE_METRIC,
} from '../shared/observability/metric-names.js';
import { drillRegionOf } from '../shared/policy/regions.js';
import {
  type PostureJobDeps,
  type PostureJobResult,
  runPostureJob,
} from '../shared/posture/posture-job.js';
import { vaultBucketOf } from '../shared/vault-account/vault-account.js';

/** Where the posture page is copied: the DR region's bucket, and the vault account's. */
function postureCopies(env: JobEnvironment): NonNullable<PostureJobDeps['copies']> {
  const policy = env.policy();
  const dr = drVaultOf(env.vault(), clientIn(S3Client, policy.regions.dr));
  const reached = policy.vault?.bucket ? vaultAccountFor(env, 'lifeboat-posture') : undefined;
  const inVault =
    reached && policy.vault ? vaultBucketOf(policy.vault, env.account, reached) : undefined;
  return [dr, inVault].filter((site) => site !== undefined);
}

/** Measures every database against its objectives, enforces continuous backups, reports. */
export const definition: ScheduledJob<PostureJobDeps, PostureJobResult> = {
  kind: 'job',
  name: 'postureReport',
  description:
    'Measures each database against its recovery objectives, brings continuous backups up to its tier, publishes the posture and its report page',
  // Only a policy with objectives has anything to measure them against.
  schedule: (policy) => policy.objectives?.postureSchedule,
  runsIn: () => 'primary',
  wire: (env) => {
    const policy = env.policy();
    // Drills report to the stack's bucket in the region they run in.
    const drillRegion = drillRegionOf(policy);
    return {
      ...policyRds(env),
      reports: {
        s3: clientIn(S3Client, drillRegion),
        bucket: backupBucketName(policy.name, env.account, drillRegion),
      },
      store: { s3: clientIn(S3Client, policy.regions.primary), bucket: env.vault().bucket },
      copies: postureCopies(env),
      metrics: clientIn(CloudWatchClient, policy.regions.primary),
      drMetrics: clientIn(CloudWatchClient, policy.regions.dr),
      log: env.log,
    };
  },
  run: (deps, policy, scheduledTime) => runPostureJob(deps, policy, scheduledTime),
  publish: ({ posture, missed }, metrics) => {
    metrics.addMetric(OBJECTIVES_MISSED_METRIC, MetricUnit.Count, missed.length);
    for (const database of posture.databases) {
      if (database.verifiedAgeSeconds !== null) {
        const single = metrics.singleMetric();
        single.addDimensions({ Target: database.identifier });
        single.addMetric(
          VERIFIED_RESTORE_POINT_AGE_METRIC,
          MetricUnit.Seconds,
          database.verifiedAgeSeconds,
        );
      }
      for (const region of [database.primary, database.dr]) {
        if (region.rpoSeconds === null) continue;
        const single = metrics.singleMetric();
        single.addDimensions({ Target: database.identifier, Region: region.region });
        single.addMetric(RECOVERY_POINT_AGE_METRIC, MetricUnit.Seconds, region.rpoSeconds);
      }
    }
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
