import { type JobLog, silentLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import type { Vault } from '../vault/vault.js';
import type { JobEnvironment } from './job-definition.js';

/**
 * A scheduled job's environment outside Lambda (the CLI, the demo), for an account and vault
 * already known: the primary region, no alert topic (the caller reports failures), no deadline.
 */
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
