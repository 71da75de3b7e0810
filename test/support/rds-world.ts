import {
  AddTagsToResourceCommand,
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  type DBCluster,
  type DBClusterSnapshot,
  DBClusterSnapshotAlreadyExistsFault,
  DBClusterSnapshotNotFoundFault,
  type DBInstance,
  type DBSnapshot,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';

export const ACCOUNT = '123456789012';

/** The RDS state of one region as the mocks see it; commands change it. */
export interface RegionState {
  instances: DBInstance[];
  clusters: DBCluster[];
  snapshots: DBSnapshot[];
  clusterSnapshots: DBClusterSnapshot[];
}

export function emptyRegion(): RegionState {
  return { instances: [], clusters: [], snapshots: [], clusterSnapshots: [] };
}

export function instance(id: string, region: string, tags: Tag[] = []): DBInstance {
  return {
    DBInstanceIdentifier: id,
    DBInstanceArn: `arn:aws:rds:${region}:${ACCOUNT}:db:${id}`,
    Engine: 'postgres',
    DBInstanceStatus: 'available',
    TagList: tags,
  };
}

export function cluster(id: string, region: string, tags: Tag[] = []): DBCluster {
  return {
    DBClusterIdentifier: id,
    DBClusterArn: `arn:aws:rds:${region}:${ACCOUNT}:cluster:${id}`,
    Engine: 'aurora-postgresql',
    Status: 'available',
    TagList: tags,
  };
}

export function instanceSnapshot(
  id: string,
  region: string,
  db: string,
  overrides: Partial<DBSnapshot> = {},
): DBSnapshot {
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`,
    DBInstanceIdentifier: db,
    SnapshotType: 'manual',
    Status: 'available',
    Engine: 'postgres',
    Encrypted: true,
    SnapshotCreateTime: new Date('2026-11-01T03:00:00Z'),
    TagList: [],
    ...overrides,
  };
}

export function clusterSnapshot(
  id: string,
  region: string,
  db: string,
  overrides: Partial<DBClusterSnapshot> = {},
): DBClusterSnapshot {
  return {
    DBClusterSnapshotIdentifier: id,
    DBClusterSnapshotArn: `arn:aws:rds:${region}:${ACCOUNT}:cluster-snapshot:${id}`,
    DBClusterIdentifier: db,
    SnapshotType: 'manual',
    Status: 'available',
    Engine: 'aurora-postgresql',
    StorageEncrypted: true,
    SnapshotCreateTime: new Date('2026-11-01T03:00:00Z'),
    TagList: [],
    ...overrides,
  };
}

function page<T>(items: T[], input: { MaxRecords?: number; Marker?: string }) {
  const size = input.MaxRecords ?? 100;
  const start = Number(input.Marker ?? 0);
  const next = start + size;
  return {
    items: items.slice(start, next),
    Marker: next < items.length ? String(next) : undefined,
  };
}

/**
 * Runs a simulated call's effect: a test may delay it (to interleave concurrent callers), or run
 * it and then lose the answer, as a dropped connection does.
 */
export type Around = <T>(operation: string, effect: () => T) => Promise<T> | T;

const directly: Around = (_operation, effect) => effect();

/** The database of a Lifeboat snapshot, from its ARN or identifier (`lifeboat-<db>-<slot>`). */
function databaseOf(source: string | undefined): string {
  const id = (source ?? '').split(':').pop() ?? '';
  return id.replace(/^lifeboat-/, '').replace(/-\d{12}$/, '');
}

/**
 * Backs an RDS client with an in-memory region: describes page through the state (MaxRecords,
 * Marker), creates, copies and deletes change it, duplicates raise AlreadyExists. Returns the
 * stub so tests can override single commands and assert calls.
 */
export function simulateRegion(
  client: RDSClient,
  region: string,
  state: RegionState,
  options: { createdStatus?: string; around?: Around } = {},
) {
  const stub = mockClient(client);
  const created = options.createdStatus ?? 'creating';
  const around = options.around ?? directly;

  stub.on(DescribeDBInstancesCommand).callsFake((input) =>
    around('DescribeDBInstances', () => {
      const p = page(state.instances, input);
      return { DBInstances: p.items, Marker: p.Marker };
    }),
  );
  stub.on(DescribeDBClustersCommand).callsFake((input) =>
    around('DescribeDBClusters', () => {
      const p = page(state.clusters, input);
      return { DBClusters: p.items, Marker: p.Marker };
    }),
  );
  stub.on(DescribeDBSnapshotsCommand).callsFake((input) =>
    around('DescribeDBSnapshots', () => {
      const p = page(state.snapshots, input);
      return { DBSnapshots: p.items, Marker: p.Marker };
    }),
  );
  stub.on(DescribeDBClusterSnapshotsCommand).callsFake((input) =>
    around('DescribeDBClusterSnapshots', () => {
      const p = page(state.clusterSnapshots, input);
      return { DBClusterSnapshots: p.items, Marker: p.Marker };
    }),
  );
  stub.on(CreateDBSnapshotCommand).callsFake((input) =>
    around('CreateDBSnapshot', () => {
      if (state.snapshots.some((s) => s.DBSnapshotIdentifier === input.DBSnapshotIdentifier)) {
        throw new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} });
      }
      // A snapshot is encrypted with its database's key.
      const key = state.instances.find(
        (i) => i.DBInstanceIdentifier === input.DBInstanceIdentifier,
      )?.KmsKeyId;
      const s = instanceSnapshot(input.DBSnapshotIdentifier, region, input.DBInstanceIdentifier, {
        Status: created,
        SnapshotCreateTime: new Date(),
        TagList: input.Tags,
        ...(key ? { KmsKeyId: key } : {}),
      });
      state.snapshots.push(s);
      return { DBSnapshot: s };
    }),
  );
  stub.on(CreateDBClusterSnapshotCommand).callsFake((input) =>
    around('CreateDBClusterSnapshot', () => {
      if (
        state.clusterSnapshots.some(
          (s) => s.DBClusterSnapshotIdentifier === input.DBClusterSnapshotIdentifier,
        )
      ) {
        throw new DBClusterSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} });
      }
      const s = clusterSnapshot(
        input.DBClusterSnapshotIdentifier,
        region,
        input.DBClusterIdentifier,
        {
          Status: created,
          SnapshotCreateTime: new Date(),
          TagList: input.Tags,
        },
      );
      state.clusterSnapshots.push(s);
      return { DBClusterSnapshot: s };
    }),
  );
  stub.on(CopyDBSnapshotCommand).callsFake((input) =>
    around('CopyDBSnapshot', () => {
      if (
        state.snapshots.some((s) => s.DBSnapshotIdentifier === input.TargetDBSnapshotIdentifier)
      ) {
        throw new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} });
      }
      // A copy keeps its source's database and names its source, as RDS does.
      const s = instanceSnapshot(
        input.TargetDBSnapshotIdentifier,
        region,
        databaseOf(input.SourceDBSnapshotIdentifier),
        {
          Status: 'copying',
          SnapshotCreateTime: new Date(),
          KmsKeyId: input.KmsKeyId,
          SourceDBSnapshotIdentifier: input.SourceDBSnapshotIdentifier,
          TagList: input.Tags,
        },
      );
      state.snapshots.push(s);
      return { DBSnapshot: s };
    }),
  );
  stub.on(CopyDBClusterSnapshotCommand).callsFake((input) =>
    around('CopyDBClusterSnapshot', () => {
      if (
        state.clusterSnapshots.some(
          (s) => s.DBClusterSnapshotIdentifier === input.TargetDBClusterSnapshotIdentifier,
        )
      ) {
        throw new DBClusterSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} });
      }
      const s = clusterSnapshot(
        input.TargetDBClusterSnapshotIdentifier,
        region,
        databaseOf(input.SourceDBClusterSnapshotIdentifier),
        {
          Status: 'copying',
          SnapshotCreateTime: new Date(),
          KmsKeyId: input.KmsKeyId,
          SourceDBClusterSnapshotArn: input.SourceDBClusterSnapshotIdentifier,
          TagList: input.Tags,
        },
      );
      state.clusterSnapshots.push(s);
      return { DBClusterSnapshot: s };
    }),
  );
  stub.on(AddTagsToResourceCommand).callsFake((input) =>
    around('AddTagsToResource', () => {
      const target =
        state.snapshots.find((s) => s.DBSnapshotArn === input.ResourceName) ??
        state.clusterSnapshots.find((s) => s.DBClusterSnapshotArn === input.ResourceName);
      if (!target) throw new DBSnapshotNotFoundFault({ message: 'not found', $metadata: {} });
      const keys = new Set((input.Tags ?? []).map((t: Tag) => t.Key));
      target.TagList = [
        ...(target.TagList ?? []).filter((t) => !keys.has(t.Key)),
        ...(input.Tags ?? []),
      ];
      return {};
    }),
  );
  stub.on(DeleteDBSnapshotCommand).callsFake((input) =>
    around('DeleteDBSnapshot', () => {
      const at = state.snapshots.findIndex(
        (s) => s.DBSnapshotIdentifier === input.DBSnapshotIdentifier,
      );
      if (at < 0) throw new DBSnapshotNotFoundFault({ message: 'not found', $metadata: {} });
      const [gone] = state.snapshots.splice(at, 1);
      return { DBSnapshot: gone };
    }),
  );
  stub.on(DeleteDBClusterSnapshotCommand).callsFake((input) =>
    around('DeleteDBClusterSnapshot', () => {
      const at = state.clusterSnapshots.findIndex(
        (s) => s.DBClusterSnapshotIdentifier === input.DBClusterSnapshotIdentifier,
      );
      if (at < 0) throw new DBClusterSnapshotNotFoundFault({ message: 'not found', $metadata: {} });
      const [gone] = state.clusterSnapshots.splice(at, 1);
      return { DBClusterSnapshot: gone };
    }),
  );
  return stub;
}

/** Lifeboat's tags, as snapshot-rds writes them. */
export function lifeboatTags(
  target: string,
  slot: string,
  policy = 'test-policy',
  source?: string,
): Tag[] {
  return [
    { Key: 'lifeboat:managed', Value: 'true' },
    { Key: 'lifeboat:policy', Value: policy },
    { Key: 'lifeboat:slot', Value: slot },
    { Key: 'lifeboat:target', Value: target },
    ...(source ? [{ Key: 'lifeboat:source', Value: source }] : []),
  ];
}
