import { PolicyError } from '../../shared/policy/errors.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import { type Io, line, printJson } from '../../terminal/output.js';
import { EXIT } from '../cli-errors.js';

/** `lifeboat validate`: checks the policy with the schema the stack and functions use. */
export async function validateCommand(
  options: { policy?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const path = policyPath(options.policy);
  try {
    const policy = loadPolicyFile(path);
    if (options.json) {
      printJson(io, { valid: true, file: path, policy });
      return EXIT.ok;
    }
    const kinds = policy.targets.map(
      (t) =>
        t.identifier ??
        `tagged ${Object.entries(t.tags ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}`,
    );
    line(io.out, `${path}: policy ${policy.name} is valid`);
    line(io.out, `  regions    ${policy.regions.primary} (primary) -> ${policy.regions.dr} (DR)`);
    line(io.out, `  targets    ${kinds.join('; ')}`);
    line(
      io.out,
      `  snapshots  ${policy.snapshots.schedule} (${policy.timeZone}), copies under ${policy.snapshots.drKmsKeyArn}`,
    );
    line(io.out, `  retention  ${policy.retention.schedule} (${policy.timeZone})`);
    const selection = policy.secrets;
    line(
      io.out,
      selection
        ? `  secrets    ${selection.schedule}: ${[...(selection.namePrefixes ?? []).map((p) => `${p}*`), ...Object.entries(selection.tags ?? {}).map(([k, v]) => `tag ${k}=${v}`)].join(', ')}`
        : '  secrets    none exported',
    );
    line(
      io.out,
      `  verify     ${policy.verification.schedule}, the last ${policy.verification.lookback} of runs`,
    );
    const drills = policy.drills;
    line(
      io.out,
      drills
        ? `  drills     ${drills.schedule} in the ${drills.site} region: ${Object.keys(drills.databases).join(', ')} (${drills.pick}, ${drills.instanceClass}, timeout ${drills.timeout})`
        : '  drills     none',
    );
    const failover = policy.failover;
    line(
      io.out,
      failover
        ? `  failover   to ${policy.regions.dr}: ${Object.entries(failover.databases)
            .map(([id, d]) => `${id} -> ${d.replica ?? d.drCluster} (${d.dns.recordName})`)
            .join(', ')}`
        : '  failover   none',
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof PolicyError) || !options.json) throw error;
    printJson(io, { valid: false, file: path, issues: error.issues });
    return EXIT.badInput;
  }
}
