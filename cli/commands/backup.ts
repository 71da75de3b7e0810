import { definition as snapshotRds } from '../../functions/snapshot-rds.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { SnapshotJobResult } from '../../shared/snapshots/snapshot-job.js';
import { type Io, line, printJson, table } from '../../terminal/output.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT } from '../cli-errors.js';
import { cliLog } from '../cli-log.js';
import { slotTime } from '../slot-option.js';

/**
 * `lifeboat backup run`: the scheduled snapshot job, now, against the account the AWS
 * environment points to. The slot defaults to the current minute.
 */
export async function backupRunCommand(
  options: { policy?: string; slot?: string; bucket?: string; json?: boolean; verbose?: boolean },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const at = slotTime(options.slot, policy);
  const env = await cliJobEnvironment(policy, {
    ...options,
    log: cliLog(io, options.verbose),
  });
  const result = await snapshotRds.run(snapshotRds.wire(env), policy, at);
  if (options.json) printJson(io, result);
  else printSnapshotResult(io, result, policy);
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}

export function printSnapshotResult(io: Io, result: SnapshotJobResult, policy: Policy): void {
  line(io.out, `Snapshots for slot ${result.slot} (policy ${policy.name}, run ${result.runId})`);
  line(
    io.out,
    table(
      ['KIND', 'TARGET', 'SNAPSHOT', 'OUTCOME'],
      result.targets.map((t) => [
        t.kind,
        t.target,
        t.snapshotId ?? '-',
        t.error ? `${t.outcome}: ${t.error}` : t.outcome,
      ]),
    ),
  );
  if (result.copies.length > 0) {
    line(io.out);
    line(io.out, `Copies to ${policy.regions.dr}`);
    line(
      io.out,
      table(
        ['KIND', 'SNAPSHOT', 'OUTCOME'],
        result.copies.map((c) => [
          c.kind,
          c.snapshotId,
          [c.outcome, c.detail ?? c.error].filter(Boolean).join(': '),
        ]),
      ),
    );
  }
  line(io.out);
  line(
    io.out,
    `Manual snapshot quota: ${result.quotas.map((q) => `${q.region} ${q.kind} ${q.used}/${q.quota}`).join(', ')}`,
  );
  line(io.out, `Manifest: ${result.manifest}`);
  if (result.failures.length > 0) line(io.out, `${result.failures.length} failed`);
}
