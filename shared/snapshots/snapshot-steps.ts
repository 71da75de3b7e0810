import type { RegionalRds } from '../aws/clients.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { OutOfTimeError } from '../aws/rate-limiter.js';
import type {
  DrCopyArtifact,
  RunFailure,
  SnapshotArtifact,
  VaultCopyArtifact,
} from '../manifest/manifest.js';
import { type Slot, snapshotArn } from '../naming/slot.js';
import { TAG, type Tag } from '../naming/tags.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { vaultRegionOf } from '../policy/regions.js';
import type { Policy } from '../policy/schema.js';
import { copySnapshot, createSnapshot, type SnapshotRecord } from '../rds/snapshots.js';
import type { Target } from '../rds/targets.js';
import { type CopyOutcome, ownSnapshot, type TargetOutcome } from './snapshot-planner.js';
import { vaultCopiesOf } from './vault-copies.js';

/**
 * The steps of a snapshot's way, as both faces of the pipeline take them (the slot's scheduled
 * run and the passes that follow RDS): take a snapshot, copy it to the DR region, and say what a
 * slot's record lists. Extended here when a step changes how it calls RDS or what it records.
 */

/** What the regions (and the vault account) hold of the snapshots a run looks at. */
export interface Holdings {
  readonly targets: readonly Target[];
  readonly primary: readonly SnapshotRecord[];
  readonly dr: readonly SnapshotRecord[];
  /** The vault account's snapshots (every source account's), when the policy has a vault. */
  readonly vault: readonly SnapshotRecord[];
}

export interface StepDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  readonly limiter: RateLimiter;
  readonly log: JobLog;
}

/**
 * Takes the slot's snapshot of each target, paced. A call whose turn would come past the run's
 * deadline is not made: the target is `deferred`, and the pipeline takes it within minutes.
 */
export async function createSnapshots(
  deps: StepDeps,
  policy: Policy,
  slot: Slot,
  creates: readonly { target: Target; snapshotId: string }[],
): Promise<{ outcome: TargetOutcome; snapshot?: SnapshotRecord }[]> {
  return Promise.all(
    creates.map(async ({ target, snapshotId }) => {
      const base = { kind: target.kind, target: target.identifier, snapshotId };
      try {
        const result = await deps.limiter.run(() =>
          createSnapshot(deps.primary, target.kind, target.identifier, snapshotId, [
            ...lifeboatTags(policy, slot.id, target.identifier),
            { Key: TAG.source, Value: target.arn },
          ]),
        );
        deps.log.info('snapshot', { ...base, outcome: result.outcome });
        return {
          outcome: { ...base, outcome: result.outcome },
          ...(result.outcome === 'created' ? { snapshot: result.snapshot } : {}),
        };
      } catch (error) {
        const outcome = error instanceof OutOfTimeError ? 'deferred' : 'failed';
        deps.log[outcome === 'deferred' ? 'warn' : 'error']('snapshot not taken', {
          ...base,
          error: errorSummary(error),
        });
        return { outcome: { ...base, outcome, error: errorSummary(error) } };
      }
    }),
  );
}

/** Starts the DR copies planned, paced; one refused never stops the others. */
export async function startCopies(
  deps: StepDeps,
  policy: Policy,
  sources: readonly SnapshotRecord[],
  targets: readonly Target[],
): Promise<{ outcome: CopyOutcome; copy?: SnapshotRecord }[]> {
  return Promise.all(
    sources.map(async (s) => {
      const own = ownSnapshot(s, targets);
      const target = own?.target ?? s.database;
      const base = { kind: s.kind, target, snapshotId: s.id };
      try {
        const result = await deps.limiter.run(() =>
          copySnapshot(deps.dr, s.kind, s, policy.snapshots.drKmsKeyArn, [
            ...lifeboatTags(policy, own?.slot.id ?? '', target),
            { Key: TAG.source, Value: s.arn },
          ]),
        );
        deps.log.info('copy', { ...base, outcome: result.outcome });
        return result.outcome === 'created'
          ? { outcome: { ...base, outcome: 'started' as const }, copy: result.copy }
          : { outcome: { ...base, outcome: result.outcome } };
      } catch (error) {
        const pending = error instanceof OutOfTimeError;
        deps.log[pending ? 'warn' : 'error']('copy not started', {
          ...base,
          error: errorSummary(error),
        });
        return {
          outcome: pending
            ? { ...base, outcome: 'pending' as const, detail: errorSummary(error) }
            : { ...base, outcome: 'failed' as const, error: errorSummary(error) },
        };
      }
    }),
  );
}

export function lifeboatTags(policy: Policy, slotId: string, target: string): Tag[] {
  return [
    { Key: TAG.managed, Value: 'true' },
    { Key: TAG.policy, Value: policy.name },
    { Key: TAG.slot, Value: slotId },
    { Key: TAG.target, Value: target },
  ];
}

/**
 * Whether a DR snapshot with Lifeboat's name is Lifeboat's copy of its primary snapshot: real
 * RDS names a copy's source, and one copied from elsewhere is not Lifeboat's copy.
 */
export function copiedByLifeboat(s: SnapshotRecord, policy: Policy, account: string): boolean {
  return (
    s.copiedFrom === undefined ||
    s.copiedFrom === snapshotArn(policy.regions.primary, account, s.kind, s.id)
  );
}

/** The slot's snapshots, their DR copies and their vault copies, as the regions hold them. */
export function artifactsOf(
  policy: Policy,
  account: string,
  slot: Slot,
  held: Holdings,
): {
  snapshots: SnapshotArtifact[];
  drCopies: DrCopyArtifact[];
  vaultCopies: VaultCopyArtifact[];
} {
  const ofSlot = (s: SnapshotRecord) => {
    const own = ownSnapshot(s, held.targets);
    return own?.slot.id === slot.id ? own : undefined;
  };
  const snapshots = held.primary.flatMap((s): SnapshotArtifact[] => {
    const own = ofSlot(s);
    if (!own) return [];
    return [
      {
        arn: s.arn,
        region: s.region,
        kind: s.kind,
        target: own.target,
        slot: slot.id,
        engine: s.engine ?? null,
        encrypted: s.encrypted,
        kmsKeyId: s.kmsKeyId ?? null,
        createdAt: s.createdAt?.toISOString() ?? null,
      },
    ];
  });
  const drCopies = held.dr.flatMap((s): DrCopyArtifact[] => {
    const own = ofSlot(s);
    if (!own || !copiedByLifeboat(s, policy, account)) return [];
    const sourceArn = snapshotArn(policy.regions.primary, account, s.kind, s.id);
    return [
      {
        arn: s.arn,
        sourceArn,
        region: s.region,
        kind: s.kind,
        target: own.target,
        slot: slot.id,
        kmsKeyId: s.kmsKeyId ?? null,
        status: s.status,
      },
    ];
  });
  const vaultCopies = policy.vault
    ? vaultCopiesOf(
        account,
        policy.vault.account,
        held.targets,
        slot,
        vaultRegionOf(policy),
        held.vault,
      )
    : [];
  return { snapshots, drCopies, vaultCopies };
}

/**
 * The run's target failures, each resolved by the snapshot a later delivery (or the pipeline,
 * for one deferred) may still take.
 */
export function runFailures(
  policy: Policy,
  account: string,
  outcomes: readonly TargetOutcome[],
): RunFailure[] {
  return outcomes
    .filter((o) => o.outcome === 'failed' || o.outcome === 'refused' || o.outcome === 'deferred')
    .map((o) => ({
      subject: `${o.kind} ${o.target}`,
      error: o.error ?? o.outcome,
      resolvedBy: o.snapshotId
        ? snapshotArn(policy.regions.primary, account, o.kind, o.snapshotId)
        : null,
    }));
}
