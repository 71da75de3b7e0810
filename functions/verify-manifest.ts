import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { clientIn } from '../shared/aws/clients.js';
import type { JobEnvironment, ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { policyRds, vaultAccountFor } from '../shared/jobs/job-wiring.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { drVaultOf } from '../shared/manifest/dr-copy.js';
import { RESTORE_POINT_AGE_METRIC } from '../shared/observability/metric-names.js';
import { listManualSnapshots, type SnapshotRecord } from '../shared/rds/snapshots.js';
import { type Site, vaultAt } from '../shared/vault/vault.js';
import { vaultBucketOf } from '../shared/vault-account/vault-account.js';
import type { deepExportCheck } from '../shared/verification/deep-export-check.js';
import {
  runVerificationJob,
  type VerificationJobDeps,
  type VerificationJobResult,
} from '../shared/verification/verification-job.js';

/**
 * Verification's dependencies: the scheduled job's (the primary region's keys, downloading
 * nothing), and `lifeboat verify`'s (either region's keys, and with --deep the deep check, passed
 * in so that the scheduled function never bundles the decryption it does not do).
 */
export function verificationDeps(
  env: JobEnvironment,
  options: { readonly site?: Site; readonly deep?: typeof deepExportCheck | undefined } = {},
): VerificationJobDeps {
  const site = options.site ?? 'primary';
  const { regions } = env.policy();
  // Each site verifies its own copy of the vault, with its own keys: the DR region needs nothing
  // from the primary region's.
  const s3 = clientIn(S3Client, regions[site]);
  const vault = vaultAt(env.vault(), site);
  const drVault = drVaultOf(env.vault(), clientIn(S3Client, regions.dr));
  const vaultAccount = site === 'primary' ? vaultAccountChecked(env) : undefined;
  return {
    s3,
    kms: clientIn(KMSClient, regions[site]),
    site,
    ...policyRds(env),
    vault,
    log: env.log,
    ...(options.deep ? { deep: options.deep(s3, vault.dataKeys[site], vault.bucket) } : {}),
    // From the primary site, each run is also checked for its copy in the DR region, and in the
    // vault account.
    ...(site === 'primary' && drVault ? { drVault } : {}),
    ...(vaultAccount ? { vaultAccount } : {}),
  };
}

/** The vault account as verification reads it: its bucket, and its snapshots listed once. */
function vaultAccountChecked(env: JobEnvironment): VerificationJobDeps['vaultAccount'] {
  const policy = env.policy();
  const reached = vaultAccountFor(env, 'lifeboat-verify');
  if (!reached || !policy.vault) return undefined;
  let listed: Promise<SnapshotRecord[]> | undefined;
  return {
    bucket: vaultBucketOf(policy.vault, env.account, reached),
    snapshots: () => {
      listed ??= listManualSnapshots(reached.rds);
      return listed;
    },
  };
}

/** Verifies recent runs against their signed records, downloading nothing. */
export const definition: ScheduledJob<VerificationJobDeps, VerificationJobResult> = {
  kind: 'job',
  name: 'verifyManifest',
  description: 'Verifies recent runs against their signed manifests, downloading nothing',
  schedule: (policy) => policy.verification.schedule,
  runsIn: () => 'primary',
  wire: (env) => verificationDeps(env),
  run: (deps, policy, scheduledTime) => runVerificationJob(deps, policy, scheduledTime),
  publish: (result, metrics) => {
    metrics.addMetric('RunsVerified', MetricUnit.Count, result.runs.length);
    metrics.addMetric('VerificationFailures', MetricUnit.Count, result.failures.length);
    for (const age of result.restorePoints) {
      const single = metrics.singleMetric();
      single.addDimensions({ Region: age.region, Target: age.target });
      single.addMetric(RESTORE_POINT_AGE_METRIC, MetricUnit.Seconds, age.ageSeconds);
    }
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
