import { verificationDeps } from '../../functions/verify-manifest.js';
import { parseRunId } from '../../shared/naming/run-ids.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import { deepExportCheck } from '../../shared/verification/deep-export-check.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { type Io, printJson } from '../../terminal/output.js';
import { printVerification } from '../../terminal/verification.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';
import { cliLog } from '../cli-log.js';
import { siteOf } from './secrets.js';

/**
 * `lifeboat verify`: the verification job, now, for the runs in the policy's lookback or the runs
 * named. Downloads nothing unless --deep, which also decrypts each export with the chosen
 * region's key and compares its secrets with the manifest.
 */
export async function verifyCommand(
  options: {
    policy?: string;
    run?: string[];
    deep?: boolean;
    region?: string;
    bucket?: string;
    json?: boolean;
  },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const bad = (options.run ?? []).filter((id) => !parseRunId(id));
  if (bad.length > 0)
    throw new UsageError(
      `--run ${bad.join(', ')}: not a run id (snapshots-<slot>, secrets-<slot> or retention-<slot>)`,
    );
  const site = siteOf(policy, options.region);
  const env = await cliJobEnvironment(policy, { ...options, site, log: cliLog(io) });
  const result = await runVerificationJob(
    verificationDeps(env, { site, deep: options.deep ? deepExportCheck : undefined }),
    policy,
    new Date(),
    options.run?.length ? { runIds: options.run } : {},
  );
  if (options.json) printJson(io, result);
  else printVerification(io, result, policy);
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}
