import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { clientIn, type RegionalRds, rdsIn } from '../aws/clients.js';
import { type RateLimiter, rdsLimiter } from '../aws/rate-limiter.js';
import { drVaultOf } from '../manifest/dr-copy.js';
import { type RunRecorder, runRecorder } from '../manifest/run-recorder.js';
import type { JobEnvironment } from './job-definition.js';

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
 * The recorder of a job's runs: the vault's bucket and keys in the primary region, and every
 * revision copied to the DR region's bucket.
 */
export function recorderFor(env: JobEnvironment): RunRecorder {
  const { primary, dr } = env.policy().regions;
  const vault = env.vault();
  const drVault = drVaultOf(vault, clientIn(S3Client, dr));
  return runRecorder({
    s3: clientIn(S3Client, primary),
    kms: clientIn(KMSClient, primary),
    vault,
    account: env.account,
    ...(drVault ? { dr: drVault } : {}),
  });
}
