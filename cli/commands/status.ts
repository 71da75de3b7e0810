import { definition as postureReport } from '../../functions/posture-report.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import { missesObjective, readPosture } from '../../shared/posture/posture.js';
import { type Io, printJson } from '../../terminal/output.js';
import { printPosture } from '../../terminal/posture.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT } from '../cli-errors.js';

/**
 * `lifeboat status`: every database of the policy against its objectives, now: the restore
 * points each region has and how old they are, continuous backups, the newest verified restore
 * point, the last drill, and whether each objective holds. Exit 1 when one is missed.
 */
export async function statusCommand(
  options: { policy?: string; bucket?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const env = await cliJobEnvironment(policy, options);
  const posture = await readPosture(postureReport.wire(env), policy, env.now());
  if (options.json) printJson(io, posture);
  else printPosture(io, posture);
  return posture.databases.some(missesObjective) ? EXIT.failed : EXIT.ok;
}
