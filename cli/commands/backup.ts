import { definition as advanceSnapshots } from '../../functions/advance-snapshots.js';
import { definition as snapshotRds } from '../../functions/snapshot-rds.js';
import { objectiveText } from '../../shared/policy/objective.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { PassResult } from '../../shared/snapshots/pipeline-pass.js';
import type { SnapshotJobResult } from '../../shared/snapshots/snapshot-job.js';
import { type Io, line, printJson, table } from '../../terminal/output.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT } from '../cli-errors.js';
import { cliLog } from '../cli-log.js';
import { slotTime } from '../slot-option.js';

interface BackupOptions {
  policy?: string;
  bucket?: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `lifeboat backup run`: the scheduled snapshot job, now, against the account the AWS
 * environment points to. The slot defaults to the current minute.
 */
export async function backupRunCommand(
  options: BackupOptions & { slot?: string },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const at = slotTime(options.slot, policy);
  const env = await cliJobEnvironment(policy, { ...options, log: cliLog(io, options.verbose) });
  const result = await snapshotRds.run(snapshotRds.wire(env), policy, at);
  if (options.json) printJson(io, result);
  else printSnapshotResult(io, result, policy);
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * `lifeboat backup advance`: one pass of the pipeline, now (what the sweep does): every step
 * that is due for the slots still in the pipeline. The deployed pipeline does this by itself,
 * one pass at a time; run it here against a stack without it, or a local AWS.
 */
export async function backupAdvanceCommand(options: BackupOptions, io: Io): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const env = await cliJobEnvironment(policy, { ...options, log: cliLog(io, options.verbose) });
  const result = await advanceSnapshots.run(advanceSnapshots.wire(env), policy, env.now());
  if (options.json) printJson(io, result);
  else printPassResult(io, result, policy);
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
  line(io.out);
  line(
    io.out,
    `Manual snapshot quota: ${result.quotas.map((q) => `${q.region} ${q.kind} ${q.used}/${q.quota}`).join(', ')}`,
  );
  line(io.out, `Manifest: ${result.manifest}`);
  line(
    io.out,
    `DR and vault copies follow as each snapshot becomes available (lifeboat backup advance, or the deployed pipeline).`,
  );
  if (result.failures.length > 0) line(io.out, `${result.failures.length} failed`);
}

export function printPassResult(io: Io, result: PassResult, policy: Policy): void {
  line(
    io.out,
    result.open.length === 0
      ? 'Nothing in the pipeline: every recorded slot is settled.'
      : `Slots in the pipeline: ${result.open.join(', ')}`,
  );
  const rows = [
    ...result.created.map((t) => [
      'snapshot',
      t.snapshotId ?? t.target,
      [t.outcome, t.error].filter(Boolean).join(': '),
    ]),
    ...result.copies.map((c) => [
      `copy to ${policy.regions.dr}`,
      c.snapshotId,
      [c.outcome, c.detail ?? c.error].filter(Boolean).join(': '),
    ]),
    ...result.vault.map((v) => [
      'copy to the vault',
      v.vaultSnapshotId,
      [v.outcome, v.detail ?? v.error].filter(Boolean).join(': '),
    ]),
  ];
  if (rows.length > 0) line(io.out, table(['STEP', 'SNAPSHOT', 'OUTCOME'], rows));
  for (const w of result.waiting) {
    line(
      io.out,
      `waiting: ${w.snapshotId} for a copy to ${w.to === 'dr' ? policy.regions.dr : 'the vault'}, ${objectiveText(w.waitingSeconds)} after its slot`,
    );
  }
  if (result.settled.length > 0) line(io.out, `Settled: ${result.settled.join(', ')}`);
  if (result.failures.length > 0) {
    for (const f of result.failures) line(io.out, `FAILED ${f.subject}: ${f.error}`);
  }
}
