import { CLOCK_SKEW_MS, type Slot, slotOfIdentifier, snapshotIdentifier } from '../naming/slot.js';
import { errorSummary } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import { isInProgress, type SnapshotKind, type SnapshotRecord } from '../rds/snapshots.js';
import type { Target, TargetProblem } from '../rds/targets.js';
import { planRetention } from '../retention/retention-planner.js';
import { SnapshotConflictError, SnapshotQuotaError, TargetNotFoundError } from './errors.js';

export interface TargetOutcome {
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly snapshotId?: string;
  /** deferred: its turn came past the run's deadline; the pipeline takes it within minutes. */
  readonly outcome: 'created' | 'already-exists' | 'refused' | 'failed' | 'deferred';
  readonly error?: string;
}

export interface CopyOutcome {
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly snapshotId: string;
  /** pending: waits for room under the in-flight cap; the pipeline starts it when one finishes. */
  readonly outcome: 'started' | 'already-exists' | 'pending' | 'refused' | 'failed';
  readonly detail?: string;
  readonly error?: string;
}

/** What a snapshot run knows before it acts: the slot, the targets, both regions' snapshots. */
export interface SnapshotPlanInput {
  readonly policy: Pick<Policy, 'name' | 'snapshots' | 'regions'>;
  readonly slot: Slot;
  readonly targets: readonly Target[];
  readonly problems: readonly TargetProblem[];
  readonly primary: readonly SnapshotRecord[];
  readonly dr: readonly SnapshotRecord[];
}

/** The snapshots a run will take, and what it decided without a call. */
export interface SnapshotPlan {
  readonly creates: readonly { readonly target: Target; readonly snapshotId: string }[];
  /** Targets decided without a call: already snapshotted, missing, clashing, over the quota. */
  readonly targets: readonly TargetOutcome[];
}

/** The DR copies a pass will start, and what it decided without a call. */
export interface CopyPlan {
  /** Primary snapshots to copy to the DR region now, the newest restore points first. */
  readonly copies: readonly SnapshotRecord[];
  /** Copies decided without a call: waiting under the cap, over the quota, clashing. */
  readonly decided: readonly CopyOutcome[];
}

const KINDS: readonly SnapshotKind[] = ['instance', 'cluster'];
const NONE = { id: '', kind: 'instance', database: '', createdAt: undefined } as const;

/**
 * Whether a snapshot is the one Lifeboat takes of one of the targets in the slot its identifier
 * names, by what RDS keeps and no one can edit: the identifier is the deterministic one, the
 * database is that target, and it was not taken before its slot. Tags play no part.
 */
export function ownSnapshot(
  s: Pick<SnapshotRecord, 'id' | 'kind' | 'database' | 'createdAt'>,
  targets: readonly Pick<Target, 'kind' | 'identifier'>[],
): { readonly target: string; readonly slot: Slot } | undefined {
  const slot = slotOfIdentifier(s.id);
  if (!slot) return undefined;
  const target = targets.find(
    (t) =>
      t.kind === s.kind &&
      t.identifier.toLowerCase() === s.database.toLowerCase() &&
      snapshotIdentifier(t.identifier, slot) === s.id,
  );
  if (!target) return undefined;
  if (s.createdAt && s.createdAt.getTime() < slot.time.getTime() - CLOCK_SKEW_MS) {
    return undefined;
  }
  return { target: target.identifier, slot };
}

/**
 * Plans a run's snapshots: one of every target for the slot unless it exists, within the quota.
 * Pure: the same inputs always give the same plan.
 */
export function planSnapshots(input: SnapshotPlanInput): SnapshotPlan {
  const { policy, slot, targets } = input;
  const outcomes: TargetOutcome[] = input.problems.map((p) => ({
    kind: p.kind,
    target: p.identifier,
    ...(p.byTags ? {} : { snapshotId: snapshotIdentifier(p.identifier, slot) }),
    outcome: 'failed',
    error: errorSummary(new TargetNotFoundError(p.message)),
  }));
  const byId = new Map(input.primary.map((s) => [`${s.kind}/${s.id}`, s]));
  const toCreate: { target: Target; snapshotId: string }[] = [];
  for (const target of targets) {
    const snapshotId = snapshotIdentifier(target.identifier, slot);
    const found = byId.get(`${target.kind}/${snapshotId}`);
    const base = { kind: target.kind, target: target.identifier, snapshotId };
    if (!found) toCreate.push({ target, snapshotId });
    else if (ownSnapshot(found, [target])) outcomes.push({ ...base, outcome: 'already-exists' });
    else {
      const error = new SnapshotConflictError(
        `${snapshotId} exists in ${policy.regions.primary} but is not ${target.identifier}'s snapshot of this slot (it holds ${found.database || 'another database'}${found.createdAt ? `, taken ${found.createdAt.toISOString()}` : ''})`,
      );
      outcomes.push({ ...base, outcome: 'failed', error: errorSummary(error) });
    }
  }

  const creates = toCreate.filter(({ target, snapshotId }) => {
    const adding = toCreate.filter((c) => c.target.kind === target.kind).length;
    const refusal = quotaRefusal(
      policy,
      policy.regions.primary,
      target.kind,
      input.primary.filter((s) => s.kind === target.kind).length,
      adding,
    );
    if (!refusal) return true;
    outcomes.push({
      kind: target.kind,
      target: target.identifier,
      snapshotId,
      outcome: 'refused',
      error: errorSummary(refusal),
    });
    return false;
  });

  return { creates, targets: outcomes };
}

/** What a pass knows before it starts DR copies: the targets and both regions' snapshots. */
export interface CopyPlanInput {
  readonly policy: Pick<Policy, 'name' | 'snapshots' | 'regions' | 'retention' | 'timeZone'>;
  readonly targets: readonly Target[];
  /** Lifeboat's snapshots that may need a copy (those of the slots still in the pipeline). */
  readonly primary: readonly SnapshotRecord[];
  /** The DR region's snapshots: every copy of those above, and what is in flight there. */
  readonly dr: readonly SnapshotRecord[];
  /** Manual snapshots of each kind the DR region holds (its quota's use). */
  readonly drCount: Readonly<Record<SnapshotKind, number>>;
  readonly now: Date;
}

/**
 * Plans DR copies: of every available Lifeboat snapshot the DR region lacks, the newest restore
 * point first (the DR region's recovery point is what matters; within a slot, the databases whose
 * DR recovery point is oldest), and an older one only where the
 * DR region's retention would keep it, once copied, beside what it holds; never more in flight
 * than the caps, never past the DR quota. Pure.
 */
export function planCopies(input: CopyPlanInput): CopyPlan {
  const { policy, targets } = input;
  const drById = new Map(input.dr.map((s) => [`${s.kind}/${s.id}`, s]));
  const candidates = input.primary
    .flatMap((s) => {
      const own = ownSnapshot(s, targets);
      return own && s.status === 'available' ? [{ s, own }] : [];
    })
    .filter(({ s }) => !ownSnapshot(drById.get(`${s.kind}/${s.id}`) ?? NONE, targets));
  const kept = keptByDrRetention(input, candidates);
  // Within a slot, the target whose DR recovery point is oldest goes first: when the caps let
  // fewer copies through than a slot needs, the same databases are not left behind every day.
  const drPoint = new Map<string, number>();
  for (const c of input.dr) {
    const own = ownSnapshot(c, targets);
    if (!own || c.status !== 'available') continue;
    const key = `${c.kind}/${own.target}`;
    drPoint.set(key, Math.max(drPoint.get(key) ?? 0, own.slot.time.getTime()));
  }
  const pointOf = (x: { s: SnapshotRecord; own: { target: string } }) =>
    drPoint.get(`${x.s.kind}/${x.own.target}`) ?? 0;
  const wanted = candidates
    .filter(({ s }) => kept.has(s.arn) || drById.has(`${s.kind}/${s.id}`))
    .sort(
      (a, b) =>
        b.own.slot.time.getTime() - a.own.slot.time.getTime() ||
        pointOf(a) - pointOf(b) ||
        a.s.id.localeCompare(b.s.id),
    );

  const copies: SnapshotRecord[] = [];
  const decided: CopyOutcome[] = [];
  for (const kind of KINDS) {
    const ofKind = wanted.filter(({ s }) => s.kind === kind);
    if (ofKind.length === 0) continue;
    const cap = policy.snapshots.copyCaps[kind];
    const inFlight = input.dr.filter((s) => s.kind === kind && isInProgress(s)).length;
    const room = Math.max(0, cap - inFlight);
    const starting = ofKind.slice(0, room);
    for (const { s, own } of ofKind.slice(room)) {
      decided.push({
        kind,
        target: own.target,
        snapshotId: s.id,
        outcome: 'pending',
        detail: `${inFlight + starting.length} ${kind} copies in flight to ${policy.regions.dr} (cap ${cap}); it starts when one finishes`,
      });
    }
    const refusal = quotaRefusal(
      policy,
      policy.regions.dr,
      kind,
      input.drCount[kind],
      starting.length,
    );
    for (const { s, own } of starting) {
      const clash = drById.get(`${s.kind}/${s.id}`);
      if (clash) {
        const error = new SnapshotConflictError(
          `${s.id} exists in ${policy.regions.dr} but is not a copy of ${own.target}'s snapshot (it holds ${clash.database || 'another database'})`,
        );
        decided.push({
          kind,
          target: own.target,
          snapshotId: s.id,
          outcome: 'failed',
          error: errorSummary(error),
        });
      } else if (refusal) {
        decided.push({
          kind,
          target: own.target,
          snapshotId: s.id,
          outcome: 'refused',
          error: errorSummary(refusal),
        });
      } else copies.push(s);
    }
  }
  return { copies, decided };
}

/**
 * The candidates the DR region's retention would keep once copied: each as a copy beside the DR
 * region's own copies of its target, planned with the policy's DR rules at `now`. The newest of
 * each target is always kept by them; an older one only by a rule (or the minimum age).
 */
function keptByDrRetention(
  input: CopyPlanInput,
  candidates: readonly { s: SnapshotRecord; own: { target: string; slot: Slot } }[],
): Set<string> {
  const { policy, targets, now } = input;
  if (candidates.length === 0) return new Set();
  const asCopies = candidates.map(
    ({ s, own }): SnapshotRecord => ({
      ...s,
      arn: `candidate:${s.arn}`,
      region: policy.regions.dr,
      target: own.target,
      time: own.slot.time,
      slot: own.slot.id,
      managedBy: policy.name,
      source: s.arn,
      legalHold: false,
      verifiedAt: undefined,
    }),
  );
  const held = input.dr.flatMap((s): SnapshotRecord[] => {
    const own = ownSnapshot(s, targets);
    if (!own || s.status === 'failed') return [];
    return [{ ...s, target: own.target, time: own.slot.time, managedBy: policy.name }];
  });
  // Only the DR side is planned: the primary rules do not decide what the DR region keeps.
  const plan = planRetention([...held, ...asCopies], policy, now);
  return new Set(
    plan.decisions
      .filter((d) => d.action === 'keep' && d.snapshot.arn.startsWith('candidate:'))
      .map((d) => d.snapshot.arn.slice('candidate:'.length)),
  );
}

function quotaRefusal(
  policy: Pick<Policy, 'snapshots'>,
  region: string,
  kind: SnapshotKind,
  used: number,
  adding: number,
): SnapshotQuotaError | undefined {
  const quota = quotaOf(kind, policy);
  if (adding === 0 || used + adding <= quota) return undefined;
  return new SnapshotQuotaError(
    `refused before creating anything: ${adding} more manual ${kind} snapshots would take ${region} to ${used + adding}, past its quota of ${quota} (snapshots.quotas.${kind}Snapshots); delete old snapshots or raise the quota`,
  );
}

export function quotaOf(kind: SnapshotKind, policy: Pick<Policy, 'snapshots'>): number {
  return kind === 'instance'
    ? policy.snapshots.quotas.instanceSnapshots
    : policy.snapshots.quotas.clusterSnapshots;
}
