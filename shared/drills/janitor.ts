import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  InvalidDBClusterStateFault,
  InvalidDBInstanceStateFault,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
} from '@aws-sdk/client-rds';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import { DRILL_PREFIX, DRILL_STARTED_TAG, DRILL_TAG, TAG, tagMap } from '../naming/tags.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { parseDuration, subtractDuration } from '../policy/duration.js';
import type { Policy } from '../policy/schema.js';
import { drillPolicyOf } from './drill-plan.js';
import { deleteInstanceInput } from './teardown.js';

/** A drill database the janitor found. */
export interface Leftover {
  readonly kind: 'instance' | 'cluster';
  readonly id: string;
  readonly drillId: string;
  readonly startedAt: string;
}

export interface JanitorResult {
  readonly region: string;
  /** Leftovers past the policy's age that the janitor asked RDS to delete. */
  readonly deleted: readonly Leftover[];
  /** Drill databases younger than the limit (a drill may still be using them), or already deleting. */
  readonly spared: readonly Leftover[];
  /** A leftover that cannot be deleted right now (e.g. still modifying) waits for the next run. */
  readonly postponed: readonly Leftover[];
  readonly failures: readonly JobFailure[];
}

interface Candidate extends Leftover {
  readonly status: string;
  /** For an instance: whether it belongs to a cluster (Aurora instances keep no backups of their own). */
  readonly inCluster: boolean;
}

/**
 * Deletes the databases failed drills left behind in one region: instances and clusters that
 * carry the drill tag and this policy's tag and were started longer ago than the policy's
 * leftoverAge. Chooses by name and tag, as IAM does: nothing else is ever touched.
 */
export async function runJanitor(
  deps: { readonly rds: RegionalRds; readonly log: JobLog },
  policy: Policy,
  now: Date,
): Promise<JanitorResult> {
  const drills = drillPolicyOf(policy);
  const limit = parseDuration(drills.leftoverAge);
  const cutoff = limit ? subtractDuration(now, limit) : now;
  const candidates = [
    ...(await drillInstances(deps.rds, policy.name)),
    ...(await drillClusters(deps.rds, policy.name)),
  ];
  const deleted: Leftover[] = [];
  const spared: Leftover[] = [];
  const postponed: Leftover[] = [];
  const failures: JobFailure[] = [];
  // Instances first: RDS deletes a cluster only once its instances are being deleted.
  for (const candidate of candidates) {
    const { status, inCluster, ...leftover } = candidate;
    if (status === 'deleting' || !(new Date(candidate.startedAt) < cutoff)) {
      spared.push(leftover);
      continue;
    }
    try {
      const outcome = await deleteLeftover(deps.rds, candidate);
      (outcome === 'deleted' ? deleted : postponed).push(leftover);
      deps.log.info('drill leftover', { ...leftover, outcome });
    } catch (error) {
      failures.push({ subject: `${candidate.kind} ${candidate.id}`, error: errorSummary(error) });
    }
  }
  return { region: deps.rds.region, deleted, spared, postponed, failures };
}

function leftoverOf(
  kind: Leftover['kind'],
  id: string,
  tags: readonly { Key?: string; Value?: string }[] | undefined,
  createdAt: Date | undefined,
  status: string,
  policyName: string,
  inCluster = false,
): Candidate | undefined {
  // Named as a drill database and tagged as one of this policy's drills, as IAM requires too.
  if (!id.startsWith(`${DRILL_PREFIX}-`)) return undefined;
  const map = tagMap(tags);
  const drillId = map.get(DRILL_TAG);
  if (!drillId || map.get(TAG.policy) !== policyName) return undefined;
  const tagged = new Date(map.get(DRILL_STARTED_TAG) ?? '');
  const started = Number.isNaN(tagged.getTime()) ? createdAt : tagged;
  // Without any time the database's age is unknown: treat it as new, never as old.
  return {
    kind,
    id,
    drillId,
    startedAt: (started ?? new Date(8.64e15)).toISOString(),
    status,
    inCluster,
  };
}

async function drillInstances(rds: RegionalRds, policyName: string): Promise<Candidate[]> {
  const found: Candidate[] = [];
  for await (const page of paginateDescribeDBInstances({ client: rds.client, pageSize: 100 }, {})) {
    for (const db of page.DBInstances ?? []) {
      const c = leftoverOf(
        'instance',
        db.DBInstanceIdentifier ?? '',
        db.TagList,
        db.InstanceCreateTime,
        db.DBInstanceStatus ?? 'unknown',
        policyName,
        db.DBClusterIdentifier !== undefined,
      );
      if (c) found.push(c);
    }
  }
  return found;
}

async function drillClusters(rds: RegionalRds, policyName: string): Promise<Candidate[]> {
  const found: Candidate[] = [];
  for await (const page of paginateDescribeDBClusters({ client: rds.client, pageSize: 100 }, {})) {
    for (const cluster of page.DBClusters ?? []) {
      const c = leftoverOf(
        'cluster',
        cluster.DBClusterIdentifier ?? '',
        cluster.TagList,
        cluster.ClusterCreateTime,
        cluster.Status ?? 'unknown',
        policyName,
      );
      if (c) found.push(c);
    }
  }
  return found;
}

async function deleteLeftover(
  rds: RegionalRds,
  leftover: Candidate,
): Promise<'deleted' | 'postponed'> {
  try {
    if (leftover.kind === 'instance') {
      await rds.client.send(
        new DeleteDBInstanceCommand(deleteInstanceInput(leftover.id, leftover.inCluster)),
      );
    } else {
      await rds.client.send(
        new DeleteDBClusterCommand({ DBClusterIdentifier: leftover.id, SkipFinalSnapshot: true }),
      );
    }
    return 'deleted';
  } catch (error) {
    if (error instanceof DBInstanceNotFoundFault || error instanceof DBClusterNotFoundFault)
      return 'deleted';
    if (error instanceof InvalidDBInstanceStateFault || error instanceof InvalidDBClusterStateFault)
      return 'postponed';
    throw error;
  }
}
