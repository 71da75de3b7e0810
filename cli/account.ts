import { KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientIn } from '../shared/aws/clients.js';
import type { JobEnvironment } from '../shared/jobs/job-definition.js';
import type { JobLog } from '../shared/observability/job-log.js';
import { silentLog } from '../shared/observability/job-log.js';
import type { Policy } from '../shared/policy/schema.js';
import { resolveVault, type Vault } from '../shared/vault/vault.js';

/** The account the AWS environment points to. */
export async function callerAccount(region: string): Promise<string> {
  const out = await clientIn(STSClient, region).send(new GetCallerIdentityCommand({}));
  return out.Account ?? '';
}

/**
 * Where a job runs when the CLI runs it: the account the AWS environment points to, the policy's
 * deployed vault (found by its names, or the bucket given), the primary region, no deadline.
 * The job is then wired and run by its own definition, as its Lambda function is.
 */
export async function cliJobEnvironment(
  policy: Policy,
  options: { readonly bucket?: string | undefined; readonly log?: JobLog } = {},
): Promise<JobEnvironment> {
  const account = await callerAccount(policy.regions.primary);
  const vault = await resolveVault(
    policy,
    account,
    (region) => clientIn(KMSClient, region),
    options.bucket,
  );
  return localJobEnvironment(policy, account, vault, options.log);
}

/** A job's environment outside Lambda, for an account and vault already known. */
export function localJobEnvironment(
  policy: Policy,
  account: string,
  vault: Vault,
  log: JobLog = silentLog,
  now: () => Date = () => new Date(),
): JobEnvironment {
  return {
    region: policy.regions.primary,
    alertTopicArn: '',
    reportBucket: '',
    policy: () => policy,
    log,
    now,
    standIns: {},
    account,
    vault: () => vault,
    deadline: undefined,
  };
}
