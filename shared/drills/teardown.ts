import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  InvalidDBClusterStateFault,
  InvalidDBInstanceStateFault,
} from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';
import { DRILL_PREFIX, DRILL_TAG, tagMap } from '../naming/tags.js';
import { parseEvent } from '../validation/parse-event.js';
import { TeardownInputSchema, type TeardownResult } from './drill-contract.js';

/** A database carries another drill's tag, or none: teardown deletes only its own drill's. */
export class NotThisDrillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotThisDrillError';
  }
}

type Outcome = 'deleted' | 'gone' | 'pending';

/**
 * Deleting a drill instance keeps nothing: no final snapshot and, for a standalone instance,
 * no automated backups (an Aurora instance has none of its own).
 */
export function deleteInstanceInput(id: string, inCluster: boolean) {
  return {
    DBInstanceIdentifier: id,
    SkipFinalSnapshot: true,
    ...(inCluster ? {} : { DeleteAutomatedBackups: true }),
  };
}

/**
 * Deletes the drill's temporary database: the instance, then (Aurora) the cluster, skipping
 * final snapshots. Idempotent: what is gone or being deleted counts as done, and a database in
 * a state RDS will not delete from yet is left for the next attempt. Refuses to touch anything
 * not tagged with this drill's id.
 */
export async function tearDownDrill(rds: RegionalRds, event: unknown): Promise<TeardownResult> {
  const input = parseEvent(TeardownInputSchema, event);
  const outcomes: [string, Outcome][] = [
    [input.instanceId, await deleteInstance(rds, input.instanceId, input.drillId)],
  ];
  if (input.clusterId) {
    outcomes.push([input.clusterId, await deleteCluster(rds, input.clusterId, input.drillId)]);
  }
  const named = (outcome: Outcome) => outcomes.filter(([, o]) => o === outcome).map(([id]) => id);
  return {
    done: named('pending').length === 0,
    deleted: named('deleted'),
    gone: named('gone'),
    pending: named('pending'),
    attempts: input.attempts + 1,
  };
}

function ensureOwnDrill(
  kind: string,
  id: string,
  tags: readonly { Key?: string; Value?: string }[] | undefined,
  drillId: string,
): void {
  if (!id.startsWith(`${DRILL_PREFIX}-`)) {
    throw new NotThisDrillError(
      `${kind} ${id} is not named as a drill database (${DRILL_PREFIX}-*); left alone`,
    );
  }
  const tag = tagMap(tags).get(DRILL_TAG);
  if (tag !== drillId) {
    throw new NotThisDrillError(
      `${kind} ${id} is not drill ${drillId}'s (its ${DRILL_TAG} tag is ${tag === undefined ? 'missing' : `"${tag}"`}); left alone`,
    );
  }
}

async function deleteInstance(rds: RegionalRds, id: string, drillId: string): Promise<Outcome> {
  try {
    const out = await rds.client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const db = out.DBInstances?.[0];
    ensureOwnDrill('DB instance', id, db?.TagList, drillId);
    if (db?.DBInstanceStatus === 'deleting') return 'gone';
    await rds.client.send(
      new DeleteDBInstanceCommand(deleteInstanceInput(id, db?.DBClusterIdentifier !== undefined)),
    );
    return 'deleted';
  } catch (error) {
    if (error instanceof DBInstanceNotFoundFault) return 'gone';
    if (error instanceof InvalidDBInstanceStateFault) return 'pending';
    throw error;
  }
}

async function deleteCluster(rds: RegionalRds, id: string, drillId: string): Promise<Outcome> {
  try {
    const out = await rds.client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
    const cluster = out.DBClusters?.[0];
    ensureOwnDrill('DB cluster', id, cluster?.TagList, drillId);
    if (cluster?.Status === 'deleting') return 'gone';
    await rds.client.send(
      new DeleteDBClusterCommand({ DBClusterIdentifier: id, SkipFinalSnapshot: true }),
    );
    return 'deleted';
  } catch (error) {
    if (error instanceof DBClusterNotFoundFault) return 'gone';
    // RDS will not delete a cluster whose instance is not yet being deleted.
    if (error instanceof InvalidDBClusterStateFault) return 'pending';
    throw error;
  }
}
