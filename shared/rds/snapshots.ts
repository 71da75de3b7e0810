import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  type DBClusterSnapshot,
  DBClusterSnapshotAlreadyExistsFault,
  DBClusterSnapshotNotFoundFault,
  type DBSnapshot,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
} from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';
import { parseSlotId } from '../naming/slot.js';
import { isLegalHold, TAG, type Tag, tagMap } from '../naming/tags.js';

export type SnapshotKind = 'instance' | 'cluster';

/** A manual DB snapshot or DB cluster snapshot, as Lifeboat reasons about it. */
export interface SnapshotRecord {
  readonly id: string;
  readonly arn: string;
  readonly region: string;
  readonly kind: SnapshotKind;
  /**
   * The database the snapshot belongs to: Lifeboat's `lifeboat:target` label where the snapshot
   * carries it, else the DB identifier. Retention takes it from the signed manifests instead.
   */
  readonly target: string;
  /** The DB instance or cluster identifier RDS keeps for the snapshot (a copy keeps its source's). */
  readonly database: string;
  /** For a copy, the snapshot it was copied from, as RDS reports it (real RDS does; moto does not). */
  readonly copiedFrom: string | undefined;
  /**
   * The restore point: the schedule slot for snapshots Lifeboat took (and their copies), the
   * original creation time otherwise. Undefined only while a snapshot has no time yet.
   */
  readonly time: Date | undefined;
  /** When the snapshot was taken (for a copy: when its source was). */
  readonly createdAt: Date | undefined;
  /** The schedule slot id (e.g. 202611210300) for snapshots Lifeboat took and their copies. */
  readonly slot: string | undefined;
  /** available, creating, copying, pending, failed, ... */
  readonly status: string;
  readonly engine: string | undefined;
  readonly encrypted: boolean;
  readonly kmsKeyId: string | undefined;
  /** The policy that created it, when Lifeboat did. */
  readonly managedBy: string | undefined;
  /** What it was made from: the database ARN, or for a DR copy the primary snapshot's ARN. */
  readonly source: string | undefined;
  readonly legalHold: boolean;
  readonly verifiedAt: Date | undefined;
  /** Every tag: labels for people, never trusted by a deletion. */
  readonly tags: ReadonlyMap<string, string>;
}

// Statuses in which a snapshot is done, one way or the other. Anything else is in progress.
const SETTLED = new Set(['available', 'failed', 'error', 'incompatible-restore', 'deleted']);

/** Whether a snapshot is still being created or copied. */
export function isInProgress(snapshot: Pick<SnapshotRecord, 'status'>): boolean {
  return !SETTLED.has(snapshot.status);
}

/**
 * Every manual snapshot of the given kinds in the region (both unless told), one describe call
 * per 100 snapshots.
 */
export async function listManualSnapshots(
  rds: RegionalRds,
  kinds: readonly SnapshotKind[] = ['instance', 'cluster'],
): Promise<SnapshotRecord[]> {
  return listSnapshots(rds, kinds, { SnapshotType: 'manual' });
}

/**
 * Every snapshot other accounts share with this one in the region, both kinds: one describe call
 * per 100 snapshots.
 */
export async function listSharedSnapshots(rds: RegionalRds): Promise<SnapshotRecord[]> {
  return listSnapshots(rds, ['instance', 'cluster'], {
    SnapshotType: 'shared',
    IncludeShared: true,
  });
}

// Identifiers per describe call: RDS documents no limit on a filter's values; this stays modest.
const IDS_PER_CALL = 50;

/**
 * The manual snapshots of one kind among the given identifiers that the region holds (the rest
 * do not exist): one describe call per 50 identifiers, whatever else the region holds.
 */
export async function describeSnapshotsById(
  rds: RegionalRds,
  kind: SnapshotKind,
  ids: readonly string[],
): Promise<SnapshotRecord[]> {
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))].sort();
  const records: SnapshotRecord[] = [];
  for (let i = 0; i < unique.length; i += IDS_PER_CALL) {
    const Values = unique.slice(i, i + IDS_PER_CALL);
    if (kind === 'instance') {
      for await (const page of paginateDescribeDBSnapshots(
        { client: rds.client, pageSize: 100 },
        { SnapshotType: 'manual', Filters: [{ Name: 'db-snapshot-id', Values }] },
      )) {
        for (const s of page.DBSnapshots ?? []) records.push(fromInstanceSnapshot(s, rds.region));
      }
    } else {
      for await (const page of paginateDescribeDBClusterSnapshots(
        { client: rds.client, pageSize: 100 },
        { SnapshotType: 'manual', Filters: [{ Name: 'db-cluster-snapshot-id', Values }] },
      )) {
        for (const s of page.DBClusterSnapshots ?? [])
          records.push(fromClusterSnapshot(s, rds.region));
      }
    }
  }
  return records;
}

async function listSnapshots(
  rds: RegionalRds,
  kinds: readonly SnapshotKind[],
  filter: { SnapshotType: 'manual' | 'shared'; IncludeShared?: boolean },
): Promise<SnapshotRecord[]> {
  const records: SnapshotRecord[] = [];
  if (kinds.includes('instance')) {
    for await (const page of paginateDescribeDBSnapshots(
      { client: rds.client, pageSize: 100 },
      filter,
    )) {
      for (const s of page.DBSnapshots ?? []) records.push(fromInstanceSnapshot(s, rds.region));
    }
  }
  if (kinds.includes('cluster')) {
    for await (const page of paginateDescribeDBClusterSnapshots(
      { client: rds.client, pageSize: 100 },
      filter,
    )) {
      for (const s of page.DBClusterSnapshots ?? [])
        records.push(fromClusterSnapshot(s, rds.region));
    }
  }
  return records;
}

function fromInstanceSnapshot(s: DBSnapshot, region: string): SnapshotRecord {
  const id = s.DBSnapshotIdentifier ?? '';
  return record(s.TagList, {
    id,
    arn: s.DBSnapshotArn ?? '',
    region,
    kind: 'instance',
    target: s.DBInstanceIdentifier ?? '',
    database: s.DBInstanceIdentifier ?? '',
    copiedFrom: s.SourceDBSnapshotIdentifier?.startsWith('arn:')
      ? s.SourceDBSnapshotIdentifier
      : undefined,
    created: s.OriginalSnapshotCreateTime ?? s.SnapshotCreateTime,
    status: s.Status ?? 'unknown',
    engine: s.Engine,
    encrypted: s.Encrypted === true,
    kmsKeyId: s.KmsKeyId,
  });
}

function fromClusterSnapshot(s: DBClusterSnapshot, region: string): SnapshotRecord {
  return record(s.TagList, {
    id: s.DBClusterSnapshotIdentifier ?? '',
    arn: s.DBClusterSnapshotArn ?? '',
    region,
    kind: 'cluster',
    target: s.DBClusterIdentifier ?? '',
    database: s.DBClusterIdentifier ?? '',
    copiedFrom: s.SourceDBClusterSnapshotArn,
    created: s.SnapshotCreateTime,
    status: s.Status ?? 'unknown',
    engine: s.Engine,
    encrypted: s.StorageEncrypted === true,
    kmsKeyId: s.KmsKeyId,
  });
}

function record(
  tagList: readonly { Key?: string; Value?: string }[] | undefined,
  base: Omit<
    SnapshotRecord,
    'time' | 'createdAt' | 'slot' | 'managedBy' | 'source' | 'legalHold' | 'verifiedAt' | 'tags'
  > & { created: Date | undefined },
): SnapshotRecord {
  const tags = tagMap(tagList);
  const managed = tags.get(TAG.managed) === 'true';
  const slot = managed ? parseSlotId(tags.get(TAG.slot) ?? '') : undefined;
  const verified = tags.get(TAG.verifiedAt);
  const verifiedAt = verified ? new Date(verified) : undefined;
  const { created, ...rest } = base;
  return {
    ...rest,
    target: (managed && tags.get(TAG.target)) || base.target,
    time: slot?.time ?? created,
    createdAt: created,
    slot: slot?.id,
    managedBy: managed ? (tags.get(TAG.policy) ?? '') : undefined,
    source: managed ? tags.get(TAG.source) : undefined,
    legalHold: isLegalHold(tags),
    verifiedAt: verifiedAt && !Number.isNaN(verifiedAt.getTime()) ? verifiedAt : undefined,
    tags,
  };
}

/**
 * Starts a manual snapshot. A snapshot already there under the same identifier (a repeated or
 * concurrent delivery of the same slot) counts as done.
 */
export async function createSnapshot(
  rds: RegionalRds,
  kind: SnapshotKind,
  target: string,
  snapshotId: string,
  tags: readonly Tag[],
): Promise<{ outcome: 'created'; snapshot: SnapshotRecord } | { outcome: 'already-exists' }> {
  try {
    if (kind === 'instance') {
      const out = await rds.client.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: target,
          DBSnapshotIdentifier: snapshotId,
          Tags: [...tags],
        }),
      );
      // The tags are the ones just set; the response need not echo them.
      const snapshot = fromInstanceSnapshot({ ...out.DBSnapshot, TagList: [...tags] }, rds.region);
      return { outcome: 'created', snapshot };
    }
    const out = await rds.client.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterIdentifier: target,
        DBClusterSnapshotIdentifier: snapshotId,
        Tags: [...tags],
      }),
    );
    return {
      outcome: 'created',
      snapshot: fromClusterSnapshot({ ...out.DBClusterSnapshot, TagList: [...tags] }, rds.region),
    };
  } catch (error) {
    if (isAlreadyExists(error)) return { outcome: 'already-exists' };
    throw error;
  }
}

/**
 * Starts an encrypted copy, called on the destination's client: across regions (the SDK presigns
 * the request to the source region named in the source ARN), or into another account from a
 * snapshot shared with it. The copy is named `targetId` (default: the source's identifier).
 */
export async function copySnapshot(
  destination: RegionalRds,
  kind: SnapshotKind,
  source: { arn: string; id: string },
  kmsKeyId: string | undefined,
  tags: readonly Tag[],
  targetId = source.id,
): Promise<{ outcome: 'created'; copy: SnapshotRecord } | { outcome: 'already-exists' }> {
  try {
    if (kind === 'instance') {
      const out = await destination.client.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: source.arn,
          TargetDBSnapshotIdentifier: targetId,
          KmsKeyId: kmsKeyId,
          CopyTags: false,
          Tags: [...tags],
        }),
      );
      const copy = fromInstanceSnapshot(
        { ...out.DBSnapshot, TagList: [...tags] },
        destination.region,
      );
      return { outcome: 'created', copy };
    }
    const out = await destination.client.send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: source.arn,
        TargetDBClusterSnapshotIdentifier: targetId,
        KmsKeyId: kmsKeyId,
        CopyTags: false,
        Tags: [...tags],
      }),
    );
    const copy = fromClusterSnapshot(
      { ...out.DBClusterSnapshot, TagList: [...tags] },
      destination.region,
    );
    return { outcome: 'created', copy };
  } catch (error) {
    if (isAlreadyExists(error)) return { outcome: 'already-exists' };
    throw error;
  }
}

/**
 * Lets another account restore and copy a manual snapshot (`share`), or stops letting it. The
 * `restore` attribute is the one RDS shares by.
 */
export async function setSnapshotShared(
  rds: RegionalRds,
  kind: SnapshotKind,
  snapshotId: string,
  account: string,
  share: boolean,
): Promise<void> {
  const change = share ? { ValuesToAdd: [account] } : { ValuesToRemove: [account] };
  if (kind === 'instance') {
    await rds.client.send(
      new ModifyDBSnapshotAttributeCommand({
        DBSnapshotIdentifier: snapshotId,
        AttributeName: 'restore',
        ...change,
      }),
    );
  } else {
    await rds.client.send(
      new ModifyDBClusterSnapshotAttributeCommand({
        DBClusterSnapshotIdentifier: snapshotId,
        AttributeName: 'restore',
        ...change,
      }),
    );
  }
}

/** Deletes a manual snapshot. One already gone counts as deleted. */
export async function deleteSnapshot(
  rds: RegionalRds,
  kind: SnapshotKind,
  snapshotId: string,
): Promise<'deleted' | 'already-gone'> {
  try {
    if (kind === 'instance') {
      await rds.client.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshotId }));
    } else {
      await rds.client.send(
        new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshotId }),
      );
    }
    return 'deleted';
  } catch (error) {
    if (
      error instanceof DBSnapshotNotFoundFault ||
      error instanceof DBClusterSnapshotNotFoundFault
    ) {
      return 'already-gone';
    }
    throw error;
  }
}

function isAlreadyExists(error: unknown): boolean {
  return (
    error instanceof DBSnapshotAlreadyExistsFault ||
    error instanceof DBClusterSnapshotAlreadyExistsFault
  );
}
