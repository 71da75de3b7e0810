import { KMSClient } from '@aws-sdk/client-kms';
import { callerAccount } from '../shared/aws/account.js';
import { clientIn } from '../shared/aws/clients.js';
import type { JobEnvironment } from '../shared/jobs/job-definition.js';
import { localJobEnvironment } from '../shared/jobs/local-environment.js';
import type { JobLog } from '../shared/observability/job-log.js';
import type { Policy } from '../shared/policy/schema.js';
import { resolveVault, type Site } from '../shared/vault/vault.js';

/**
 * Where a job runs when the CLI runs it: the account the AWS environment points to, the policy's
 * deployed vault (found by its names, or the bucket given), the primary region, no deadline.
 * The job is then wired and run by its own definition, as its Lambda function is.
 */
export async function cliJobEnvironment(
  policy: Policy,
  options: {
    readonly bucket?: string | undefined;
    readonly log?: JobLog;
    /** dr: ask only the DR region (the primary region may be gone). */
    readonly site?: Site;
  } = {},
): Promise<JobEnvironment> {
  const site = options.site ?? 'primary';
  const account = await callerAccount(policy.regions[site]);
  const vault = await resolveVault(
    policy,
    account,
    (region) => clientIn(KMSClient, region),
    options.bucket,
    site === 'dr' ? 'dr' : 'both',
  );
  return localJobEnvironment(policy, account, vault, options.log);
}
