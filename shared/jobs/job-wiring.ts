import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { callerAccount } from '../aws/account.js';
import { clientIn, type RegionalRds, rdsIn } from '../aws/clients.js';
import { type RateLimiter, rdsLimiter } from '../aws/rate-limiter.js';
import { drVaultOf } from '../manifest/dr-copy.js';
import { type RunRecorder, runRecorder } from '../manifest/run-recorder.js';
import { vaultRegionOf } from '../policy/regions.js';
import type { ReportSink } from '../reports/publish-report.js';
import {
  type VaultAccount,
  vaultAccountOf,
  vaultBucketOf,
} from '../vault-account/vault-account.js';
import type { JobEnvironment, TaskEnvironment } from './job-definition.js';

/**
 * The RDS clients of the policy's two regions, and the limiter that paces a run's mutating calls
 * (the policy's rate, and no call started past the run's deadline).
 */
export function policyRds(env: JobEnvironment): {
  primary: RegionalRds;
  dr: RegionalRds;
  limiter: RateLimiter;
} {
  const policy = env.policy();
  return {
    primary: rdsIn(policy.regions.primary),
    dr: rdsIn(policy.regions.dr),
    limiter: rdsLimiter(policy.rdsRequestsPerSecond, env.deadline),
  };
}

/**
 * The isolated vault account a job sends to, reached through the policy's vault role (assumed on
 * first use, as `session` in the vault's CloudTrail). Undefined without a vault in the policy.
 */
export function vaultAccountFor(env: JobEnvironment, session: string): VaultAccount | undefined {
  const policy = env.policy();
  if (!policy.vault) return undefined;
  return vaultAccountOf(policy.vault, vaultRegionOf(policy), session);
}

/**
 * Where a report task copies its reports in the vault account, when the policy names a vault
 * bucket: the bucket, reached as the vault's role, below this account's prefix (the account is
 * asked of STS when the first report is published).
 */
export function vaultReportCopy(
  env: TaskEnvironment,
  session: string,
): ReportSink['vaultCopy'] | undefined {
  const vault = env.policy().vault;
  if (!vault?.bucket) return undefined;
  const bucket = vault.bucket;
  const reached = vaultAccountOf(vault, env.region, session);
  return async () => ({
    s3: reached.s3,
    bucket,
    prefix: `sources/${await callerAccount(env.region)}/`,
  });
}

/**
 * The recorder of a job's runs: the vault's bucket and keys in the primary region, and every
 * revision copied to the DR region's bucket and, when the policy names one, the vault account's
 * (reached through `reached`, or a session of its own).
 */
export function recorderFor(env: JobEnvironment, reached?: VaultAccount): RunRecorder {
  const policy = env.policy();
  const { primary, dr } = policy.regions;
  const vault = env.vault();
  const drVault = drVaultOf(vault, clientIn(S3Client, dr));
  const inVault = policy.vault?.bucket
    ? (reached ?? vaultAccountFor(env, 'lifeboat-records'))
    : undefined;
  const vaultCopy =
    inVault && policy.vault ? vaultBucketOf(policy.vault, env.account, inVault) : undefined;
  return runRecorder({
    s3: clientIn(S3Client, primary),
    kms: clientIn(KMSClient, primary),
    vault,
    account: env.account,
    ...(drVault ? { dr: drVault } : {}),
    ...(vaultCopy ? { vaultCopy } : {}),
  });
}
