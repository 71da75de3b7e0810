import type { JobFailure } from '../alerts/failure-alert.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { newManifest, runIdOf, type SnapshotArtifact } from '../manifest/manifest.js';
import type { WriteOutcome } from '../manifest/manifest-store.js';
import type { RunRecorder } from '../manifest/run-recorder.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import {
  copySnapshot,
  createSnapshot,
  isInProgress,
  listManualSnapshots,
  type RegionalRds,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import { discoverTargets, type Target } from '../rds/targets.js';
import { SnapshotConflictError, SnapshotQuotaError, TargetNotFoundError } from './errors.js';
import { type Slot, snapshotIdentifier } from './slot.js';
import { TAG, type Tag } from './tags.js';

export interface SnapshotJobDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  /** Paces the mutating RDS calls (RDS allows 12 requests/s per account and region). */
  readonly limiter: RateLimiter;
  /** Writes the run's signed manifest. */
  readonly recorder: RunRecorder;
  readonly log: JobLog;
}

export interface TargetOutcome {
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly snapshotId?: string;
  readonly outcome: 'created' | 'already-exists' | 'refused' | 'failed';
  readonly error?: string;
}

export interface CopyOutcome {
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly snapshotId: string;
  /** pending: waits for room under the in-flight cap; a later run starts it. */
  readonly outcome: 'started' | 'already-exists' | 'pending' | 'refused' | 'failed';
  readonly detail?: string;
  readonly error?: string;
}

export interface QuotaUsage {
  readonly region: string;
  readonly kind: SnapshotKind;
  readonly used: number;
  readonly quota: number;
  readonly percent: number;
}

export interface SnapshotJobResult {
  readonly runId: string;
  readonly slot: string;
  readonly targets: readonly TargetOutcome[];
  readonly copies: readonly CopyOutcome[];
  readonly quotas: readonly QuotaUsage[];
  /** The run's manifest: the slot's snapshots and the copies this run started. */
  readonly manifest: WriteOutcome | 'not-written';
  /** Targets and copies that failed or were refused; the run as a whole failed if any. */
  readonly failures: readonly JobFailure[];
}

const KINDS: readonly SnapshotKind[] = ['instance', 'cluster'];

/**
 * One scheduled run: a snapshot of every target for the slot, then cross-region copies of
 * Lifeboat's snapshots that the DR region lacks, within the in-flight caps. Safe to repeat for
 * the same slot: what exists already counts as done.
 */
export async function runSnapshotJob(
  deps: SnapshotJobDeps,
  policy: Policy,
  slot: Slot,
): Promise<SnapshotJobResult> {
  const { targets, problems } = await discoverTargets(deps.primary, policy.targets);
  const [primarySnapshots, drSnapshots] = await Promise.all([
    listManualSnapshots(deps.primary),
    listManualSnapshots(deps.dr),
  ]);

  const outcomes: TargetOutcome[] = problems.map((p) => ({
    kind: p.kind,
    target: p.identifier,
    outcome: 'failed',
    error: errorSummary(new TargetNotFoundError(p.message)),
  }));
  const { created, inSlot } = await snapshotTargets(
    deps,
    policy,
    slot,
    targets,
    primarySnapshots,
    outcomes,
  );
  const primaryAfter = [...primarySnapshots, ...created];
  const { outcomes: copies, started } = await startCopies(deps, policy, primaryAfter, drSnapshots);
  const failures = failuresOf(outcomes, copies);
  const manifest = await recordRun(deps, policy, slot, inSlot, started, failures);

  const quotas: QuotaUsage[] = KINDS.flatMap((kind) => [
    usage(deps.primary.region, kind, primaryAfter, policy),
    usage(
      deps.dr.region,
      kind,
      [...drSnapshots, ...copies.filter((c) => c.outcome === 'started' && c.kind === kind)],
      policy,
    ),
  ]);
  return {
    runId: runIdOf('snapshot-rds', slot),
    slot: slot.time.toISOString(),
    targets: outcomes,
    copies,
    quotas,
    manifest,
    failures,
  };
}

/** Signs and stores the run's manifest; a failure to do so is one more failure of the run. */
async function recordRun(
  deps: SnapshotJobDeps,
  policy: Policy,
  slot: Slot,
  inSlot: readonly SnapshotRecord[],
  started: readonly { copy: SnapshotRecord; source: SnapshotRecord }[],
  failures: JobFailure[],
): Promise<SnapshotJobResult['manifest']> {
  try {
    return await deps.recorder.record(
      newManifest('snapshot-rds', slot, policy, deps.recorder.account, {
        snapshots: inSlot.map(snapshotArtifact),
        drCopies: started.map(({ copy, source }) => ({
          arn: copy.arn,
          sourceArn: source.arn,
          region: copy.region,
          kind: copy.kind,
          target: source.target,
          kmsKeyId: copy.kmsKeyId ?? null,
          status: copy.status,
        })),
      }),
    );
  } catch (error) {
    failures.push({
      subject: `manifest of ${runIdOf('snapshot-rds', slot)}`,
      error: errorSummary(error),
    });
    return 'not-written';
  }
}

function snapshotArtifact(s: SnapshotRecord): SnapshotArtifact {
  return {
    arn: s.arn,
    region: s.region,
    kind: s.kind,
    target: s.target,
    engine: s.engine ?? null,
    encrypted: s.encrypted,
    kmsKeyId: s.kmsKeyId ?? null,
    createdAt: s.createdAt?.toISOString() ?? null,
  };
}

async function snapshotTargets(
  deps: SnapshotJobDeps,
  policy: Policy,
  slot: Slot,
  targets: readonly Target[],
  existing: readonly SnapshotRecord[],
  outcomes: TargetOutcome[],
): Promise<{ created: SnapshotRecord[]; inSlot: SnapshotRecord[] }> {
  const byId = new Map(existing.map((s) => [`${s.kind}/${s.id}`, s]));
  const toCreate: { target: Target; snapshotId: string }[] = [];
  const inSlot: SnapshotRecord[] = [];
  for (const target of targets) {
    const snapshotId = snapshotIdentifier(target.identifier, slot);
    const found = byId.get(`${target.kind}/${snapshotId}`);
    if (!found) toCreate.push({ target, snapshotId });
    else if (found.managedBy === policy.name) {
      inSlot.push(found);
      outcomes.push({
        kind: target.kind,
        target: target.identifier,
        snapshotId,
        outcome: 'already-exists',
      });
    } else {
      const error = new SnapshotConflictError(
        `${snapshotId} exists in ${deps.primary.region} but was not created by policy ${policy.name}`,
      );
      outcomes.push({
        kind: target.kind,
        target: target.identifier,
        snapshotId,
        outcome: 'failed',
        error: errorSummary(error),
      });
    }
  }

  const refusals = new Map(
    KINDS.map((kind) => {
      const adding = toCreate.filter((c) => c.target.kind === kind).length;
      return [kind, quotaRefusal(deps.primary.region, kind, existing, adding, policy)] as const;
    }),
  );
  const allowed = toCreate.filter(({ target, snapshotId }) => {
    const refusal = refusals.get(target.kind);
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

  const created: SnapshotRecord[] = [];
  await Promise.all(
    allowed.map(async ({ target, snapshotId }) => {
      try {
        const result = await deps.limiter.run(() =>
          createSnapshot(deps.primary, target.kind, target.identifier, snapshotId, [
            ...lifeboatTags(policy, slot.id, target.identifier),
            { Key: TAG.source, Value: target.arn },
          ]),
        );
        if (result.outcome === 'created') created.push(result.snapshot);
        outcomes.push({
          kind: target.kind,
          target: target.identifier,
          snapshotId,
          outcome: result.outcome,
        });
        deps.log.info('snapshot', {
          target: target.identifier,
          snapshotId,
          outcome: result.outcome,
        });
      } catch (error) {
        outcomes.push({
          kind: target.kind,
          target: target.identifier,
          snapshotId,
          outcome: 'failed',
          error: errorSummary(error),
        });
        deps.log.error('snapshot failed', {
          target: target.identifier,
          snapshotId,
          error: errorSummary(error),
        });
      }
    }),
  );
  outcomes.sort((a, b) => `${a.kind}/${a.target}`.localeCompare(`${b.kind}/${b.target}`));
  return { created, inSlot: [...inSlot, ...created] };
}

async function startCopies(
  deps: SnapshotJobDeps,
  policy: Policy,
  primary: readonly SnapshotRecord[],
  dr: readonly SnapshotRecord[],
): Promise<{
  outcomes: CopyOutcome[];
  started: { copy: SnapshotRecord; source: SnapshotRecord }[];
}> {
  const ours = dr.filter((s) => s.managedBy === policy.name);
  const copiedSources = new Set(ours.map((s) => s.source));
  const drIds = new Map(dr.map((s) => [`${s.kind}/${s.id}`, s]));
  const newestCopy = new Map<string, number>();
  for (const s of ours) {
    if (s.status === 'failed' || !s.time) continue;
    const key = `${s.kind}/${s.target}`;
    newestCopy.set(key, Math.max(newestCopy.get(key) ?? 0, s.time.getTime()));
  }
  // A copy for every snapshot newer than the target's newest copy, oldest first: DR gets every
  // restore point in order, and retention deleting an old copy never causes a second copy.
  const candidates = primary
    .filter(
      (s) =>
        s.managedBy === policy.name &&
        s.status === 'available' &&
        s.time !== undefined &&
        !copiedSources.has(s.arn) &&
        s.time.getTime() > (newestCopy.get(`${s.kind}/${s.target}`) ?? 0),
    )
    .sort(
      (a, b) => (a.time?.getTime() ?? 0) - (b.time?.getTime() ?? 0) || a.id.localeCompare(b.id),
    );

  const outcomes: CopyOutcome[] = [];
  const started: { copy: SnapshotRecord; source: SnapshotRecord }[] = [];
  const toStart: SnapshotRecord[] = [];
  for (const kind of KINDS) {
    const ofKind = candidates.filter((s) => s.kind === kind);
    if (ofKind.length === 0) continue;
    const cap = policy.snapshots.copyCaps[kind];
    const inFlight = dr.filter((s) => s.kind === kind && isInProgress(s)).length;
    const room = Math.max(0, cap - inFlight);
    const now = ofKind.slice(0, room);
    for (const s of ofKind.slice(room)) {
      outcomes.push({
        kind,
        target: s.target,
        snapshotId: s.id,
        outcome: 'pending',
        detail: `${inFlight + now.length} ${kind} copies in flight to ${deps.dr.region} (cap ${cap}); a later run starts it`,
      });
    }
    const refusal = quotaRefusal(deps.dr.region, kind, dr, now.length, policy);
    for (const s of now) {
      const clash = drIds.get(`${s.kind}/${s.id}`);
      if (refusal) {
        outcomes.push({
          kind,
          target: s.target,
          snapshotId: s.id,
          outcome: 'refused',
          error: errorSummary(refusal),
        });
      } else if (clash) {
        const error = new SnapshotConflictError(
          `${s.id} exists in ${deps.dr.region} but is not a copy made by policy ${policy.name}`,
        );
        outcomes.push({
          kind,
          target: s.target,
          snapshotId: s.id,
          outcome: 'failed',
          error: errorSummary(error),
        });
      } else toStart.push(s);
    }
  }

  await Promise.all(
    toStart.map(async (s) => {
      try {
        const result = await deps.limiter.run(() =>
          copySnapshot(deps.dr, s.kind, s, policy.snapshots.drKmsKeyArn, [
            ...lifeboatTags(policy, s.slot ?? '', s.target),
            { Key: TAG.source, Value: s.arn },
          ]),
        );
        if (result.outcome === 'created') started.push({ copy: result.copy, source: s });
        outcomes.push({
          kind: s.kind,
          target: s.target,
          snapshotId: s.id,
          outcome: result.outcome === 'created' ? 'started' : result.outcome,
        });
        deps.log.info('copy', { target: s.target, snapshotId: s.id, outcome: result.outcome });
      } catch (error) {
        outcomes.push({
          kind: s.kind,
          target: s.target,
          snapshotId: s.id,
          outcome: 'failed',
          error: errorSummary(error),
        });
        deps.log.error('copy failed', {
          target: s.target,
          snapshotId: s.id,
          error: errorSummary(error),
        });
      }
    }),
  );
  outcomes.sort((a, b) => `${a.kind}/${a.snapshotId}`.localeCompare(`${b.kind}/${b.snapshotId}`));
  return { outcomes, started };
}

function lifeboatTags(policy: Policy, slotId: string, target: string): Tag[] {
  return [
    { Key: TAG.managed, Value: 'true' },
    { Key: TAG.policy, Value: policy.name },
    { Key: TAG.slot, Value: slotId },
    { Key: TAG.target, Value: target },
  ];
}

function quotaRefusal(
  region: string,
  kind: SnapshotKind,
  existing: readonly { kind: SnapshotKind }[],
  adding: number,
  policy: Policy,
): SnapshotQuotaError | undefined {
  const quota = quotaOf(kind, policy);
  const used = existing.filter((s) => s.kind === kind).length;
  if (adding === 0 || used + adding <= quota) return undefined;
  return new SnapshotQuotaError(
    `refused before creating anything: ${adding} more manual ${kind} snapshots would take ${region} to ${used + adding}, past its quota of ${quota} (snapshots.quotas.${kind}Snapshots); delete old snapshots or raise the quota`,
  );
}

function quotaOf(kind: SnapshotKind, policy: Policy): number {
  return kind === 'instance'
    ? policy.snapshots.quotas.instanceSnapshots
    : policy.snapshots.quotas.clusterSnapshots;
}

function usage(
  region: string,
  kind: SnapshotKind,
  snapshots: readonly { kind: SnapshotKind }[],
  policy: Policy,
): QuotaUsage {
  const quota = quotaOf(kind, policy);
  const used = snapshots.filter((s) => s.kind === kind).length;
  return { region, kind, used, quota, percent: Math.round((used / quota) * 1000) / 10 };
}

function failuresOf(
  targets: readonly TargetOutcome[],
  copies: readonly CopyOutcome[],
): JobFailure[] {
  const failed = (o: { outcome: string }) => o.outcome === 'failed' || o.outcome === 'refused';
  return [
    ...targets
      .filter(failed)
      .map((t) => ({ subject: `${t.kind} ${t.target}`, error: t.error ?? t.outcome })),
    ...copies.filter(failed).map((c) => ({
      subject: `copy of ${c.snapshotId} (${c.kind} ${c.target})`,
      error: c.error ?? c.outcome,
    })),
  ];
}
