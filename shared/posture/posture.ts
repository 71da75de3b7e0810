import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { paginateDescribeGlobalClusters } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RegionalRds } from '../aws/clients.js';
import { objectiveText } from '../policy/objective.js';
import type { Policy } from '../policy/schema.js';
import { type Objectives, objectivesOf, verifiedRestorePointLimits } from '../policy/tiers.js';
import { replicatedBackups } from '../rds/replicated-backups.js';
import { newestLagSeconds } from '../rds/replication-lag.js';
import {
  isInProgress,
  listManualSnapshots,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import {
  discoverTargets,
  type Target,
  type TargetProblem,
  type Unprotected,
} from '../rds/targets.js';
import { type DrillPoint, lastDrills, lastOf } from './drill-history.js';

/** A restore point: a snapshot (or copy), named, with its time. */
export interface RestorePoint {
  readonly id: string;
  readonly time: string;
}

/** Where a database stands in one region. */
export interface RegionPosture {
  readonly region: string;
  /** The newest point-in-time restore reaches (automated backups, or their DR replica). */
  readonly latestRestorableTime: string | null;
  /** Days of automated backups kept here (0 or null: none). */
  readonly continuousDays: number | null;
  readonly newestSnapshot: RestorePoint | null;
  readonly newestVerified: (RestorePoint & { readonly verifiedAt: string }) | null;
  /** How much data a restore here would lose now: the age of the newest restore point. */
  readonly rpoSeconds: number | null;
}

/** A database's protection, against its objectives. */
export interface DatabasePosture {
  readonly kind: SnapshotKind;
  readonly identifier: string;
  readonly objectives: Objectives | null;
  readonly primary: RegionPosture;
  readonly dr: RegionPosture;
  readonly lastDrill: DrillPoint | null;
  /** Each objective: met, missed, or unknown (no objective, or nothing measured yet). */
  readonly holds: {
    readonly rpo: boolean | null;
    readonly drRpo: boolean | null;
    readonly rto: boolean | null;
    /** The newest verified restore point is as fresh as snapshots and verification allow. */
    readonly verified: boolean | null;
  };
  /** Age of the newest verified restore point in either region; null when there is none. */
  readonly verifiedAgeSeconds: number | null;
  /** How old that may be (verifiedRestorePointLimit). */
  readonly verifiedLimitSeconds: number | null;
  /**
   * For an Aurora cluster, how it reaches the DR region continuously: a global database (its
   * secondary cluster there, and its replication lag), or nothing but snapshot copies. Null for
   * instances, whose path is automated-backup replication (continuousDays in the DR region).
   */
  readonly crossRegion: CrossRegionPath | null;
  /**
   * The newest snapshot the DR region has no copy of, not even one in flight: its copy waits
   * (for a cap, or for the pipeline), and how long since the snapshot was taken.
   */
  readonly drCopyWaiting: { readonly snapshot: string; readonly waitingSeconds: number } | null;
  /** What falls short of the tier, in words. */
  readonly gaps: readonly string[];
}

/** The DR copies that wait, of each kind, against RDS's caps on copies in flight. */
export interface CopiesWaiting {
  readonly instance: number;
  readonly cluster: number;
  /** Lifeboat's copies in flight to the DR region now, of each kind, and RDS's caps on them. */
  readonly inFlight: Readonly<Record<SnapshotKind, number>>;
  readonly caps: Readonly<Record<SnapshotKind, number>>;
  /** The longest wait, since its snapshot was taken; null when none waits. */
  readonly oldestSeconds: number | null;
}

export type CrossRegionPath =
  | {
      readonly path: 'global-database';
      readonly globalCluster: string;
      readonly drCluster: string | null;
      /** Seconds, as last reported; null when none was reported in five minutes. */
      readonly lagSeconds: number | null;
    }
  | { readonly path: 'none' };

export interface Posture {
  readonly policy: string;
  readonly at: string;
  readonly databases: readonly DatabasePosture[];
  readonly unprotected: readonly Unprotected[];
  readonly problems: readonly TargetProblem[];
  readonly copiesWaiting: CopiesWaiting;
}

export interface PostureDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  /** The bucket the drills report to, and its client. */
  readonly reports: { readonly s3: S3Client; readonly bucket: string };
  /** CloudWatch in the DR region, where Aurora global secondaries report their lag. */
  readonly drMetrics: CloudWatchClient;
}

/**
 * Where every database of the policy stands now: its objectives, the newest point each region
 * could restore (automated backups and their DR replicas, snapshots and copies), what that
 * would lose, its newest verified restore point, its last drill, and whether each objective
 * holds. Reads only: one describe per 100 databases or snapshots, one read per drill report.
 */
export async function readPosture(
  deps: PostureDeps,
  policy: Policy,
  now: Date,
  /** Every drill of each database, when already read: the last of each is taken from it. */
  history?: ReadonlyMap<string, readonly DrillPoint[]>,
): Promise<Posture> {
  const [
    { targets, problems, unprotected },
    primarySnapshots,
    drSnapshots,
    replicated,
    drills,
    globals,
  ] = await Promise.all([
    discoverTargets(deps.primary, policy.targets, { everyKind: true }),
    listManualSnapshots(deps.primary),
    listManualSnapshots(deps.dr),
    replicatedBackups(deps.dr),
    history ? lastOf(history) : lastDrills(deps.reports, policy.name),
    globalDatabases(deps.primary, deps.dr.region),
  ]);
  const verifiedLimit = verifiedRestorePointLimits(policy, now);
  const paths = new Map<string, CrossRegionPath>();
  for (const target of targets) {
    if (target.kind !== 'cluster') continue;
    const global = globals.get(target.arn);
    if (!global) {
      paths.set(target.arn, { path: 'none' });
      continue;
    }
    const lag = global.drCluster
      ? await newestLagSeconds(
          deps.drMetrics,
          { kind: 'global-secondary', identifier: global.drCluster },
          now,
        )
      : undefined;
    paths.set(target.arn, { path: 'global-database', ...global, lagSeconds: lag ?? null });
  }
  const copying = new Set(drSnapshots.map((s) => `${s.kind}/${s.id}`));
  const waitingOf = (target: Target): DatabasePosture['drCopyWaiting'] => {
    const newestCopy = Math.max(
      0,
      ...drSnapshots
        .filter((s) => s.kind === target.kind && s.target === target.identifier)
        .map((s) => s.time?.getTime() ?? 0),
    );
    const waiting = primarySnapshots
      .filter(
        (s) =>
          s.kind === target.kind &&
          s.target === target.identifier &&
          s.status === 'available' &&
          s.managedBy === policy.name &&
          (s.time?.getTime() ?? 0) > newestCopy &&
          !copying.has(`${s.kind}/${s.id}`),
      )
      .sort((a, b) => (b.time?.getTime() ?? 0) - (a.time?.getTime() ?? 0))[0];
    return waiting?.time
      ? {
          snapshot: waiting.id,
          waitingSeconds: Math.max(0, Math.round((now.getTime() - waiting.time.getTime()) / 1000)),
        }
      : null;
  };
  const databases = targets.map((target): DatabasePosture => {
    const objectives = objectivesOf(policy, target);
    const mine = (s: SnapshotRecord) =>
      s.kind === target.kind && s.target === target.identifier && s.status === 'available';
    const primary = regionPosture(
      deps.primary.region,
      // Without automated backups there is no point in time to restore, whatever RDS reports.
      target.continuous.retentionDays > 0 ? target.continuous.latestRestorableTime : undefined,
      target.continuous.retentionDays,
      primarySnapshots.filter(mine),
      now,
    );
    const replica = replicated.get(target.arn);
    const crossRegion = paths.get(target.arn) ?? null;
    // A global secondary is a restore point as old as its lag.
    const replicaTime =
      crossRegion?.path === 'global-database' && crossRegion.lagSeconds !== null
        ? new Date(now.getTime() - crossRegion.lagSeconds * 1000)
        : replica?.latestTime;
    const dr = regionPosture(
      deps.dr.region,
      replicaTime,
      replica?.retentionDays ?? null,
      drSnapshots.filter(mine),
      now,
    );
    const drill = drills.get(target.identifier) ?? null;
    // No restore point at all, where an objective applies, misses it: nothing to restore is the
    // worst a restore point can be.
    const within = (seconds: number | null, limit: number | undefined) =>
      limit === undefined ? null : seconds !== null && seconds <= limit;
    const verifiedTimes = [primary.newestVerified, dr.newestVerified].flatMap((v) =>
      v ? [Date.parse(v.time)] : [],
    );
    const verifiedAgeSeconds =
      verifiedTimes.length > 0
        ? Math.max(0, Math.round((now.getTime() - Math.max(...verifiedTimes)) / 1000))
        : null;
    const verifiedLimitSeconds = objectives ? verifiedLimit(objectives.rpoSeconds) : null;
    return {
      kind: target.kind,
      identifier: target.identifier,
      objectives,
      primary,
      dr,
      lastDrill: drill,
      holds: {
        rpo: within(primary.rpoSeconds, objectives?.rpoSeconds),
        // A tier with continuous backups kept in the primary only asks nothing finer of the DR
        // region than its copies; one that replicates them, or has none, is held to its RPO there.
        drRpo:
          objectives?.retentionDays && !objectives.replicateToDr
            ? null
            : within(dr.rpoSeconds, objectives?.rpoSeconds),
        // An RTO is known once a drill measured one.
        rto:
          drill?.rtoSeconds === undefined || drill.rtoSeconds === null
            ? null
            : within(drill.rtoSeconds, objectives?.rtoSeconds),
        // No verified restore point at all misses the objective, once there is one to meet.
        verified:
          verifiedLimitSeconds === null
            ? null
            : verifiedAgeSeconds !== null && verifiedAgeSeconds <= verifiedLimitSeconds,
      },
      verifiedAgeSeconds,
      verifiedLimitSeconds,
      crossRegion,
      drCopyWaiting: waitingOf(target),
      gaps: gapsOf(target, objectives, replica !== undefined, crossRegion),
    };
  });
  const inFlight = (kind: SnapshotKind) =>
    drSnapshots.filter((s) => s.kind === kind && s.managedBy === policy.name && isInProgress(s))
      .length;
  const copiesWaiting = {
    ...waitingCopies(databases),
    inFlight: { instance: inFlight('instance'), cluster: inFlight('cluster') },
    caps: policy.snapshots.copyCaps,
  };
  return {
    policy: policy.name,
    at: now.toISOString(),
    databases: databases.map((d) => withCopyGap(d, copiesWaiting, policy)),
    unprotected,
    problems,
    copiesWaiting,
  };
}

function waitingCopies(
  databases: readonly DatabasePosture[],
): Omit<CopiesWaiting, 'inFlight' | 'caps'> {
  const waits = databases.flatMap((d) => (d.drCopyWaiting ? [d.drCopyWaiting.waitingSeconds] : []));
  const count = (kind: SnapshotKind) =>
    databases.filter((d) => d.kind === kind && d.drCopyWaiting).length;
  return {
    instance: count('instance'),
    cluster: count('cluster'),
    oldestSeconds: waits.length > 0 ? Math.max(...waits) : null,
  };
}

/**
 * Where the DR region's recovery point misses the tier because its copy waits: the caps on
 * copies in flight let no more through, so the copies alone cannot keep the tier's RPO there.
 * Names what would reach it without copies: automated-backup replication for an instance, an
 * Aurora global database for a cluster.
 */
function withCopyGap(d: DatabasePosture, waiting: CopiesWaiting, policy: Policy): DatabasePosture {
  if (d.holds.drRpo !== false || !d.drCopyWaiting || !d.objectives) return d;
  const cap = policy.snapshots.copyCaps[d.kind];
  const others = waiting[d.kind];
  const waited = `its newest snapshot ${d.drCopyWaiting.snapshot} has waited ${objectiveText(d.drCopyWaiting.waitingSeconds)} for a DR copy`;
  if (waiting.inFlight[d.kind] < cap) {
    const gap = `${waited} with ${waiting.inFlight[d.kind]} of RDS's ${cap} ${d.kind} copies in flight to ${policy.regions.dr}: the pipeline is not starting it (its alerts say why)`;
    return { ...d, gaps: [...d.gaps, gap] };
  }
  const reach =
    d.kind === 'instance'
      ? 'replicating its automated backups to the DR region would (a tier with continuousBackups.replicateToDr)'
      : 'an Aurora global database would (a secondary cluster in the DR region)';
  const gap = `${waited}, one of ${others} ${d.kind} copies waiting for room under RDS's cap of ${cap} in flight to ${policy.regions.dr}: copies alone cannot keep tier ${d.objectives.tier}'s DR RPO of ${objectiveText(d.objectives.rpoSeconds)}; ${reach}`;
  return { ...d, gaps: [...d.gaps, gap] };
}

function regionPosture(
  region: string,
  latestRestorable: Date | undefined,
  continuousDays: number | null,
  snapshots: readonly SnapshotRecord[],
  now: Date,
): RegionPosture {
  const newest = (list: readonly SnapshotRecord[]) =>
    list
      .filter((s) => s.time)
      .sort((a, b) => (b.time?.getTime() ?? 0) - (a.time?.getTime() ?? 0))[0];
  const snapshot = newest(snapshots);
  const verified = newest(snapshots.filter((s) => s.verifiedAt));
  const times = [latestRestorable?.getTime(), snapshot?.time?.getTime()].filter(
    (t): t is number => t !== undefined,
  );
  const best = times.length > 0 ? Math.max(...times) : undefined;
  return {
    region,
    latestRestorableTime: latestRestorable?.toISOString() ?? null,
    continuousDays,
    newestSnapshot: snapshot?.time ? { id: snapshot.id, time: snapshot.time.toISOString() } : null,
    newestVerified:
      verified?.time && verified.verifiedAt
        ? {
            id: verified.id,
            time: verified.time.toISOString(),
            verifiedAt: verified.verifiedAt.toISOString(),
          }
        : null,
    rpoSeconds: best === undefined ? null : Math.max(0, Math.round((now.getTime() - best) / 1000)),
  };
}

const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;

/** What a database's protection lacks against its tier. */
function gapsOf(
  target: Target,
  objectives: Objectives | null,
  replicated: boolean,
  crossRegion: CrossRegionPath | null,
): string[] {
  const gaps: string[] = [];
  if (!objectives?.retentionDays) return gaps;
  if (target.continuous.retentionDays < objectives.retentionDays) {
    gaps.push(
      target.continuous.retentionDays === 0
        ? `automated backups are off; tier ${objectives.tier} needs ${objectives.retentionDays} days`
        : `automated backups are kept ${days(target.continuous.retentionDays)}; tier ${objectives.tier} needs ${days(objectives.retentionDays)}`,
    );
  }
  if (objectives.replicateToDr && target.kind === 'instance' && !replicated) {
    gaps.push(
      `automated backups are not replicated to the DR region; tier ${objectives.tier} replicates them`,
    );
  }
  if (objectives.replicateToDr && crossRegion?.path === 'none') {
    gaps.push(
      `no continuous path to the DR region (RDS replicates no automated backups of Aurora clusters): only snapshot copies reach it; an Aurora global database would, as tier ${objectives.tier} asks`,
    );
  }
  return gaps;
}

/**
 * The Aurora global databases whose writer is in the primary region, by the writer cluster's
 * ARN: the global database and its secondary cluster in the DR region, if any.
 */
async function globalDatabases(
  primary: RegionalRds,
  drRegion: string,
): Promise<Map<string, { globalCluster: string; drCluster: string | null }>> {
  const found = new Map<string, { globalCluster: string; drCluster: string | null }>();
  for await (const page of paginateDescribeGlobalClusters(
    { client: primary.client, pageSize: 100 },
    {},
  )) {
    for (const g of page.GlobalClusters ?? []) {
      const writer = g.GlobalClusterMembers?.find((m) => m.IsWriter)?.DBClusterArn;
      if (!writer || !g.GlobalClusterIdentifier) continue;
      const secondary = g.GlobalClusterMembers?.find(
        (m) => !m.IsWriter && m.DBClusterArn?.split(':')[3] === drRegion,
      )?.DBClusterArn;
      found.set(writer, {
        globalCluster: g.GlobalClusterIdentifier,
        drCluster: secondary?.split(':').at(-1) ?? null,
      });
    }
  }
  return found;
}

/**
 * Whether a database misses an objective now: its RPO (in the DR region too, where the tier asks
 * it), its last drill's RTO, its newest verified restore point.
 */
export function missesObjective(database: DatabasePosture): boolean {
  const { rpo, drRpo, rto, verified } = database.holds;
  return rpo === false || drRpo === false || rto === false || verified === false;
}

/**
 * Why a database misses its objectives, one reason per objective missed (none when it meets
 * them all): its RPO here and in the DR region, its last drill's RTO, its verified restore point.
 */
export function missedReasons(d: DatabasePosture): string[] {
  const why: string[] = [];
  const rpo = d.objectives ? objectiveText(d.objectives.rpoSeconds) : '';
  const point = (region: RegionPosture, where: string) =>
    region.rpoSeconds === null
      ? `no restore point ${where}at all`
      : `newest restore point ${where}${objectiveText(region.rpoSeconds)} old, over ${rpo}`;
  if (d.holds.rpo === false) why.push(point(d.primary, ''));
  if (d.holds.drRpo === false) why.push(point(d.dr, `in ${d.dr.region} `));
  if (d.holds.rto === false) {
    why.push(
      `its last drill took ${objectiveText(d.lastDrill?.rtoSeconds ?? 0)}, over its RTO of ${objectiveText(d.objectives?.rtoSeconds ?? 0)}`,
    );
  }
  if (d.holds.verified === false) {
    why.push(
      d.verifiedAgeSeconds === null
        ? 'no verified restore point'
        : `newest verified restore point ${objectiveText(d.verifiedAgeSeconds)} old`,
    );
  }
  return why;
}

/**
 * A database's continuous backups in words: how long each region keeps them, and for Aurora how
 * the DR region is reached (a global database and its lag, or copies only).
 */
export function continuousText(d: DatabasePosture, days: (n: number) => string): string {
  const primary = d.primary.continuousDays ?? 0;
  const parts = [primary === 0 ? 'off' : days(primary)];
  if (d.dr.continuousDays) parts.push(`DR ${days(d.dr.continuousDays)}`);
  if (d.crossRegion?.path === 'global-database') {
    parts.push(
      `global database ${d.crossRegion.globalCluster}, lag ${d.crossRegion.lagSeconds === null ? 'unknown' : `${d.crossRegion.lagSeconds}s`}`,
    );
  } else if (d.crossRegion?.path === 'none') parts.push('DR: copies only');
  return parts.join(', ');
}

/** The DR copies that wait, in words; undefined when none does. */
export function copiesWaitingText(posture: Posture): string | undefined {
  const w = posture.copiesWaiting;
  if (w.instance + w.cluster === 0) return undefined;
  return `DR copies waiting: ${w.instance} instance, ${w.cluster} cluster (in flight ${w.inFlight.instance}/${w.caps.instance} instance, ${w.inFlight.cluster}/${w.caps.cluster} cluster); the oldest snapshot waiting was taken ${objectiveText(w.oldestSeconds ?? 0)} ago`;
}
