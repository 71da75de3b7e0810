import { type ProducingJob, parseRunId, runIdOf } from '../naming/run-ids.js';
import { parseSlotId, slotOf } from '../naming/slot.js';
import { firesBetween, longestGapMs, parseSchedule } from '../policy/schedule-expression.js';
import type { Policy } from '../policy/schema.js';
import type { Manifest } from './manifest.js';
import { type Ledger, type RunRecord, runIdsOf } from './manifest-ledger.js';

/**
 * Checks of the records themselves, which verification and a restore share: each revision
 * genuine and stored as first written, each job's chain unbroken, every scheduled run present.
 */

export type CheckStatus = 'passed' | 'pending' | 'failed';

/** The verdict on one thing a record lists, or on the record itself. */
export interface ArtifactCheck {
  readonly kind:
    | 'manifest'
    | 'chain'
    | 'schedule'
    | 'snapshot'
    | 'dr-copy'
    | 'export'
    | 'secrets'
    | 'labels'
    | 'failure'
    | 'stray'
    | 'hold'
    | 'dr-vault'
    | 'vault-account';
  /** What was checked: an ARN, s3://bucket/key, or the run. */
  readonly artifact: string;
  readonly status: CheckStatus;
  readonly reason: string;
}

export function overall(checks: readonly ArtifactCheck[]): CheckStatus {
  if (checks.some((c) => c.status === 'failed')) return 'failed';
  return checks.some((c) => c.status === 'pending') ? 'pending' : 'passed';
}

// Two deliveries recorded within this long of each other may not have seen each other's record.
const CONCURRENT_MS = 5 * 60_000;

/** How long after its scheduled time a run may still be recording. */
export const RUN_GRACE_MS = 60 * 60_000;

/** The first revision of a run when it can be trusted. */
function firstOf(record: RunRecord | undefined): Manifest | undefined {
  const first = record?.revisions.find((r) => r.entry.revision === 1);
  return first?.signed && first.problems.length === 0 ? first.signed.manifest : undefined;
}

/**
 * The runs whose records a window's chain checks need besides the window's own: for each job,
 * the run before the oldest in the window, and every run a record in the window names as its
 * previous one.
 */
export function chainAnchors(
  ledger: Ledger,
  window: readonly string[],
  records: ReadonlyMap<string, RunRecord>,
): string[] {
  const wanted = new Set<string>();
  const inWindow = new Set(window);
  for (const job of new Set(window.map((id) => ledger.runs.get(id)?.[0]?.job))) {
    if (!job) continue;
    const all = runIdsOf(ledger, job);
    const oldest = all.findIndex((id) => inWindow.has(id));
    if (oldest > 0) wanted.add(all[oldest - 1] as string);
  }
  for (const id of window) {
    const previous = firstOf(records.get(id))?.previous;
    if (previous && ledger.runs.has(previous.runId)) wanted.add(previous.runId);
  }
  return [...wanted].filter((id) => !records.has(id));
}

/**
 * Walks each job's chain through the window: every run's first revision must follow the run
 * recorded before it (by the SHA-256 of that record's first version), and every later revision
 * the revision before it. A chain that skips a run recorded earlier, follows a record that is
 * gone or was replaced, or follows a later run, is named.
 */
export function chainChecks(
  ledger: Ledger,
  window: readonly string[],
  records: ReadonlyMap<string, RunRecord>,
): Map<string, ArtifactCheck[]> {
  const found = new Map<string, ArtifactCheck[]>();
  const fail = (runId: string, reason: string) => {
    const list = found.get(runId) ?? [];
    list.push({ kind: 'chain', artifact: runId, status: 'failed', reason });
    found.set(runId, list);
  };
  const createdAt = (id: string) => {
    const first = firstOf(records.get(id));
    return first ? Date.parse(first.createdAt) : undefined;
  };
  for (const runId of window) {
    const record = records.get(runId);
    const first = firstOf(record);
    if (!record || !first) continue;
    const job = record.job;
    const earlier = runIdsOf(ledger, job).filter((id) => id < runId);
    const recordedAt = Date.parse(first.createdAt);
    const recordedBefore = (id: string) => {
      const at = createdAt(id);
      return at !== undefined && at < recordedAt - CONCURRENT_MS;
    };
    const previous = first.previous;
    if (previous === null) {
      const before = earlier.filter(recordedBefore);
      if (before.length > 0) {
        fail(
          runId,
          `starts a new chain, but ${before.at(-1)} was recorded before it: the records between were hidden or removed when it was recorded`,
        );
      }
    } else if (!ledger.runs.has(previous.runId)) {
      fail(runId, `follows ${previous.runId}, of which no record is left (deleted)`);
    } else if (previous.runId >= runId || parseRunId(previous.runId)?.job !== job) {
      fail(runId, `reordered: follows ${previous.runId}, which is not an earlier run of its job`);
    } else {
      const stored = records
        .get(previous.runId)
        ?.revisions.find((r) => r.entry.revision === previous.revision);
      if (stored && stored.sha256 !== previous.sha256) {
        fail(
          runId,
          `follows ${previous.runId} as it was first recorded, but that record now holds other bytes (replaced)`,
        );
      }
      const skipped = earlier.filter((id) => id > previous.runId && recordedBefore(id));
      if (skipped.length > 0) {
        fail(
          runId,
          `skips ${skipped.join(', ')}, recorded before it: they were hidden or removed when it was recorded`,
        );
      }
    }
    for (const r of record.revisions) {
      if (r.entry.revision === 1 || !r.signed || r.problems.length > 0) continue;
      const link = r.signed.manifest.previous;
      const before = record.revisions.find((x) => x.entry.revision === r.entry.revision - 1);
      if (
        !link ||
        link.runId !== runId ||
        link.revision !== r.entry.revision - 1 ||
        (before?.sha256 !== undefined && before.sha256 !== link.sha256)
      ) {
        fail(
          runId,
          `revision ${r.entry.revision} does not follow revision ${r.entry.revision - 1} as it was first recorded`,
        );
      }
    }
  }
  return found;
}

/** The schedule each recording job runs on, where the policy schedules it. */
function schedules(policy: Policy): [ProducingJob, string][] {
  return [
    ['snapshot-rds', policy.snapshots.schedule],
    ['enforce-retention', policy.retention.schedule],
    ...(policy.secrets
      ? [['export-secrets', policy.secrets.schedule] as [ProducingJob, string]]
      : []),
  ];
}

/**
 * The runs the schedules say must have happened in [since, now - grace], from each job's first
 * recorded run on: a cron run missing is named by its run id; for a rate, a gap longer than the
 * rate is named. A job with no run recorded at all is pending: nothing says it has started.
 */
export function scheduleChecks(
  policy: Policy,
  ledger: Ledger,
  since: Date,
  now: Date,
): { missing: Map<string, ArtifactCheck>; ledger: ArtifactCheck[] } {
  const missing = new Map<string, ArtifactCheck>();
  const checks: ArtifactCheck[] = [];
  const until = new Date(now.getTime() - RUN_GRACE_MS);
  for (const [job, expression] of schedules(policy)) {
    const schedule = parseSchedule(expression, policy.timeZone);
    const runs = runIdsOf(ledger, job);
    const genesis = parseSlotId(runs[0]?.slice(runs[0].indexOf('-') + 1) ?? '');
    if (!genesis) {
      checks.push({
        kind: 'schedule',
        artifact: job,
        status: 'pending',
        reason: `no run of ${job} is recorded yet (${expression})`,
      });
      continue;
    }
    const from = genesis.time > since ? genesis.time : since;
    if (schedule.kind === 'cron') {
      const present = new Set(runs);
      for (const at of firesBetween(schedule, from, until)) {
        const runId = runIdOf(job, slotOf(at));
        if (present.has(runId)) continue;
        missing.set(runId, {
          kind: 'schedule',
          artifact: runId,
          status: 'failed',
          reason: `missing: ${expression} ran ${job} at ${at.toISOString()}, and there is no record of that run (deleted, or it never ran)`,
        });
      }
      continue;
    }
    const gap = longestGapMs(schedule, now) + RUN_GRACE_MS;
    const times = runs
      .map((id) => parseSlotId(id.slice(id.indexOf('-') + 1))?.time.getTime() ?? 0)
      .filter((t) => t >= from.getTime() - gap);
    times.push(now.getTime());
    for (let i = 1; i < times.length; i += 1) {
      const [a, b] = [times[i - 1] as number, times[i] as number];
      if (b - a > gap) {
        checks.push({
          kind: 'schedule',
          artifact: job,
          status: 'failed',
          reason: `missing: no run of ${job} recorded between ${new Date(a).toISOString()} and ${new Date(b).toISOString()}, though it runs ${expression}`,
        });
      }
    }
  }
  return { missing, ledger: checks };
}

/**
 * The checks of a run's stored record: each revision genuine (its MAC verifies, its content is the
 * record its key names), none overwritten or hidden, none missing.
 */
export function recordChecks(record: RunRecord): ArtifactCheck[] {
  const checks: ArtifactCheck[] = [];
  for (const r of record.revisions) {
    const name =
      r.entry.revision === 1 ? record.runId : `${record.runId} revision ${r.entry.revision}`;
    for (const reason of [...r.problems, ...r.tampering]) {
      checks.push({ kind: 'manifest', artifact: name, status: 'failed', reason });
    }
    if (r.problems.length === 0 && r.tampering.length === 0) {
      checks.push({ kind: 'manifest', artifact: name, status: 'passed', reason: 'MAC verifies' });
    }
  }
  for (const n of record.gaps) {
    checks.push({
      kind: 'manifest',
      artifact: `${record.runId} revision ${n}`,
      status: 'failed',
      reason: `missing: revision ${n} is gone while later ones remain`,
    });
  }
  return checks;
}
