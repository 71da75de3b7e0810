import type { RunRecord } from '../manifest/manifest-ledger.js';
import { CLOCK_SKEW_MS, parseSlotId, type Slot, snapshotIdentifier } from '../naming/slot.js';
import type { SnapshotKind, SnapshotRecord } from '../rds/snapshots.js';
import type { HoldBook } from './holds.js';

/** A snapshot or DR copy as a signed manifest records it. */
export interface RecordedSnapshot {
  readonly arn: string;
  readonly region: string;
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly slot: Slot;
  /** For a DR copy, the primary snapshot it copies. */
  readonly sourceArn: string | undefined;
  readonly encrypted: boolean;
  readonly kmsKeyId: string | null;
  readonly runId: string;
}

/** Every snapshot and copy the trustworthy revisions of the given runs record, by ARN. */
export function recordedSnapshots(runs: Iterable<RunRecord>): Map<string, RecordedSnapshot> {
  const recorded = new Map<string, RecordedSnapshot>();
  for (const run of runs) {
    // Snapshots and DR copies alike; a copy names its source and is always encrypted.
    const entries = [
      ...run.artifacts.snapshots.map((a) => ({ ...a, sourceArn: undefined })),
      ...run.artifacts.drCopies.map((c) => ({ ...c, encrypted: true })),
    ];
    for (const a of entries) {
      const slot = parseSlotId(a.slot);
      if (!slot) continue;
      recorded.set(a.arn, {
        arn: a.arn,
        region: a.region,
        kind: a.kind,
        target: a.target,
        slot,
        sourceArn: a.sourceArn,
        encrypted: a.encrypted,
        kmsKeyId: a.kmsKeyId,
        runId: run.runId,
      });
    }
  }
  return recorded;
}

/**
 * Why a snapshot's facts (what RDS keeps and no one can edit) contradict its record, or
 * undefined when they agree: its identifier, database, kind and region; not taken before its
 * slot; for a copy, the source RDS names.
 */
export function contradiction(s: SnapshotRecord, recorded: RecordedSnapshot): string | undefined {
  if (s.kind !== recorded.kind || s.region !== recorded.region) return 'its kind or region';
  if (s.id !== snapshotIdentifier(recorded.target, recorded.slot)) return 'its identifier';
  if (s.database.toLowerCase() !== recorded.target.toLowerCase()) {
    return `its database (${s.database}, recorded ${recorded.target})`;
  }
  if (
    recorded.sourceArn === undefined &&
    s.createdAt &&
    s.createdAt.getTime() < recorded.slot.time.getTime() - CLOCK_SKEW_MS
  ) {
    return `its creation time (${s.createdAt.toISOString()}, before its slot)`;
  }
  if (recorded.sourceArn && s.copiedFrom && s.copiedFrom !== recorded.sourceArn) {
    return `its source (${s.copiedFrom})`;
  }
  return undefined;
}

/**
 * The inventory as retention may reason about it: a snapshot is this policy's only if a signed
 * manifest records it and its facts agree; its target and time come from that record; it is
 * verified if it is still what was recorded (available, encrypted with the recorded key); it is
 * held if a tag says so now or a signed hold record does. Tags grant nothing else.
 */
export function attributeInventory(
  inventory: readonly SnapshotRecord[],
  recorded: ReadonlyMap<string, RecordedSnapshot>,
  holds: Pick<HoldBook, 'held'>,
  policyName: string,
): SnapshotRecord[] {
  return inventory.map((s) => {
    const legalHold = s.legalHold || holds.held.has(s.arn);
    const record = recorded.get(s.arn);
    if (!record || contradiction(s, record)) {
      return {
        ...s,
        target: s.database || s.target,
        time: s.createdAt,
        slot: undefined,
        managedBy: undefined,
        source: undefined,
        legalHold,
        verifiedAt: undefined,
      };
    }
    const intact =
      s.status === 'available' &&
      s.encrypted === record.encrypted &&
      (record.kmsKeyId === null || s.kmsKeyId === undefined || s.kmsKeyId === record.kmsKeyId);
    return {
      ...s,
      target: record.target,
      time: record.slot.time,
      slot: record.slot.id,
      managedBy: policyName,
      source: record.sourceArn,
      legalHold,
      verifiedAt: intact ? record.slot.time : undefined,
    };
  });
}
