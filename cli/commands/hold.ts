import { rdsIn } from '../../shared/aws/clients.js';
import { recorderFor } from '../../shared/jobs/job-wiring.js';
import { TAG } from '../../shared/naming/tags.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import { placeHold, readHolds, releaseHold } from '../../shared/retention/holds.js';
import { readInventory } from '../../shared/retention/retention-job.js';
import { type Io, line, printJson, table } from '../../terminal/output.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';

interface HoldOptions {
  policy?: string;
  snapshot?: string;
  reason?: string;
  bucket?: string;
  json?: boolean;
}

/** `lifeboat hold place|release --snapshot <id or ARN> --reason <text>`. */
export async function holdCommand(
  action: 'place' | 'release',
  options: HoldOptions,
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  if (!options.reason?.trim()) {
    throw new UsageError(`hold ${action} needs --reason: it is signed into the hold's record`);
  }
  const primary = rdsIn(policy.regions.primary);
  const dr = rdsIn(policy.regions.dr);
  const snapshot = findSnapshot(await readInventory({ primary, dr }), options.snapshot);
  const env = await cliJobEnvironment(policy, options);
  const recorder = recorderFor(env);
  const deps = {
    access: {
      ...recorder.access,
      dataKeyArn: recorder.dataKeyArn,
      dr: recorder.dr,
      vaultCopy: recorder.vaultCopy,
    },
    account: env.account,
    rds: snapshot.region === policy.regions.dr ? dr : primary,
  } as const;
  const now = new Date();
  const record =
    action === 'place'
      ? await placeHold(deps, policy.name, snapshot, options.reason, now)
      : await releaseHold(deps, policy.name, snapshot, options.reason, now);
  if (options.json) printJson(io, record);
  else {
    line(
      io.out,
      action === 'place'
        ? `Legal hold placed on ${snapshot.id} in ${snapshot.region}: tagged ${TAG.legalHold}, and a signed record that no tag edit lifts`
        : `Legal hold on ${snapshot.id} in ${snapshot.region} released: a signed release, and the ${TAG.legalHold} tag removed`,
    );
  }
  return EXIT.ok;
}

/** `lifeboat hold list`: every hold, by signed record or by tag, and every release. */
export async function holdListCommand(
  options: Pick<HoldOptions, 'policy' | 'bucket' | 'json'>,
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const recorder = recorderFor(await cliJobEnvironment(policy, options));
  const [holds, inventory] = await Promise.all([
    readHolds(recorder.access, policy.name),
    readInventory({ primary: rdsIn(policy.regions.primary), dr: rdsIn(policy.regions.dr) }),
  ]);
  const byArn = new Map(inventory.map((s) => [s.arn, s]));
  const rows = [
    ...[...holds.held.values()].map((h) => ({
      snapshot: h.snapshotArn,
      state: 'held',
      since: h.at,
      by: h.by,
      reason: h.reason,
      tag: byArn.get(h.snapshotArn)?.tags.get(TAG.legalHold) ?? null,
    })),
    ...inventory
      .filter((s) => s.legalHold && !holds.held.has(s.arn))
      .map((s) => ({
        snapshot: s.arn,
        state: 'held',
        since: null,
        by: 'tag',
        reason: `tagged ${TAG.legalHold} (recorded at the next retention run)`,
        tag: s.tags.get(TAG.legalHold) ?? null,
      })),
    ...[...holds.released.values()].map((h) => ({
      snapshot: h.snapshotArn,
      state: 'released',
      since: h.at,
      by: h.by,
      reason: h.reason,
      tag: byArn.get(h.snapshotArn)?.tags.get(TAG.legalHold) ?? null,
    })),
  ];
  if (options.json) printJson(io, { holds: rows, problems: holds.problems });
  else {
    line(
      io.out,
      table(
        ['SNAPSHOT', 'STATE', 'SINCE', 'BY', 'REASON'],
        rows.map((r) => [r.snapshot, r.state, r.since ?? '-', r.by, r.reason]),
      ),
    );
    for (const p of holds.problems) line(io.out, `not trusted: ${p.key}: ${p.reason}`);
  }
  return holds.problems.length > 0 ? EXIT.failed : EXIT.ok;
}

function findSnapshot(
  inventory: readonly SnapshotRecord[],
  wanted: string | undefined,
): SnapshotRecord {
  if (!wanted) throw new UsageError('give --snapshot <identifier or ARN>');
  const found = inventory.filter((s) => s.arn === wanted || s.id === wanted);
  if (found.length === 0) {
    throw new UsageError(
      `--snapshot ${wanted}: no manual snapshot of that identifier or ARN in the policy's regions`,
    );
  }
  if (found.length > 1) {
    throw new UsageError(
      `--snapshot ${wanted}: names ${found.length} snapshots (${found.map((s) => s.region).join(', ')}); give its ARN`,
    );
  }
  return found[0] as SnapshotRecord;
}
