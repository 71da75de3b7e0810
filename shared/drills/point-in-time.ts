import { DescribeDBClustersCommand, DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';
import { replicatedBackups } from '../rds/replicated-backups.js';
import type { SnapshotKind } from '../rds/snapshots.js';
import { NoRestorePointError } from './drill-errors.js';

/** A point-in-time restore the drill can make: the instant, its window, and where it comes from. */
export interface PointInTime {
  readonly kind: SnapshotKind;
  readonly engine: string;
  /** The database's ARN, or its replicated automated backups' ARN in the DR region. */
  readonly arn: string;
  readonly time: Date;
  readonly earliest: Date;
  readonly latest: Date;
  /** The database restored from, in its own region; null in the DR region. */
  readonly sourceIdentifier: string | null;
  /** The replicated automated backups restored from, in the DR region; null in the primary. */
  readonly sourceBackupsArn: string | null;
}

const DAY_MS = 86_400_000;

/**
 * The instant a point-in-time drill restores, and its source: in the database's own region, its
 * continuous backups (instance or Aurora cluster); in the DR region, the automated backups RDS
 * replicates there (instances only). `at` picks the latest restorable time or an instant at
 * random within the restore window, to the second.
 */
export async function pickPointInTime(
  rds: RegionalRds,
  target: { readonly identifier: string; readonly kind: SnapshotKind },
  site: { readonly primaryRegion: string },
  at: 'latest' | 'random',
  random: () => number,
): Promise<PointInTime> {
  const window =
    rds.region === site.primaryRegion
      ? await ownWindow(rds, target)
      : await replicatedWindow(rds, target);
  const span = Math.max(0, window.latest.getTime() - window.earliest.getTime());
  const offset = at === 'random' ? Math.floor(random() * span) : span;
  const time = new Date(Math.floor((window.earliest.getTime() + offset) / 1000) * 1000);
  return { ...window, time };
}

type Window = Omit<PointInTime, 'time'>;

async function ownWindow(
  rds: RegionalRds,
  target: { readonly identifier: string; readonly kind: SnapshotKind },
): Promise<Window> {
  const where = `${target.identifier} in ${rds.region}`;
  if (target.kind === 'cluster') {
    const out = await rds.client.send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: target.identifier }),
    );
    const cluster = out.DBClusters?.[0];
    if (!cluster?.LatestRestorableTime || !cluster.EarliestRestorableTime) {
      throw new NoRestorePointError(
        `${where} has no restore window for a point-in-time restore yet: drill a snapshot instead`,
      );
    }
    return {
      kind: 'cluster',
      engine: cluster.Engine ?? 'aurora-postgresql',
      arn: cluster.DBClusterArn ?? '',
      earliest: cluster.EarliestRestorableTime,
      latest: cluster.LatestRestorableTime,
      sourceIdentifier: target.identifier,
      sourceBackupsArn: null,
    };
  }
  const out = await rds.client.send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: target.identifier }),
  );
  const instance = out.DBInstances?.[0];
  const days = instance?.BackupRetentionPeriod ?? 0;
  if (!instance || days === 0 || !instance.LatestRestorableTime) {
    throw new NoRestorePointError(
      `${where} has no continuous backups (automated backups are off): a point-in-time drill needs them; turn them on (objectives.tiers.<tier>.continuousBackups with enforceContinuousBackups), or drill a snapshot`,
    );
  }
  const latest = instance.LatestRestorableTime;
  const created = instance.InstanceCreateTime?.getTime() ?? 0;
  return {
    kind: 'instance',
    engine: instance.Engine ?? 'postgres',
    arn: instance.DBInstanceArn ?? '',
    earliest: new Date(
      Math.min(latest.getTime(), Math.max(created, latest.getTime() - days * DAY_MS)),
    ),
    latest,
    sourceIdentifier: target.identifier,
    sourceBackupsArn: null,
  };
}

async function replicatedWindow(
  rds: RegionalRds,
  target: { readonly identifier: string; readonly kind: SnapshotKind },
): Promise<Window> {
  if (target.kind === 'cluster') {
    throw new NoRestorePointError(
      `${target.identifier} is an Aurora cluster: RDS replicates no automated backups of clusters to ${rds.region}; drill it in its own region, or pick a snapshot`,
    );
  }
  const replica = [...(await replicatedBackups(rds)).values()].find(
    (b) => b.identifier === target.identifier && b.earliestTime && b.latestTime && b.arn,
  );
  if (replica?.earliestTime && replica.latestTime) {
    return {
      kind: 'instance',
      engine: replica.engine ?? 'postgres',
      arn: replica.arn,
      earliest: replica.earliestTime,
      latest: replica.latestTime,
      sourceIdentifier: null,
      sourceBackupsArn: replica.arn,
    };
  }
  throw new NoRestorePointError(
    `no replicated automated backups of ${target.identifier} in ${rds.region} with a restore window: replicate them (a tier with continuousBackups.replicateToDr), or drill a snapshot`,
  );
}
