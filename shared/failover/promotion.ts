import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
} from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';
import { parseEvent } from '../validation/parse-event.js';
import { type PromotionCheck, PromotionCheckInputSchema } from './failover-contract.js';

/**
 * Whether the DR database now takes writes: a promoted replica is available with no source; an
 * Aurora secondary is the global database's writer with no switchover in flight.
 */
export async function checkPromotion(
  rds: RegionalRds,
  event: unknown,
  now: Date,
): Promise<PromotionCheck> {
  const input = parseEvent(PromotionCheckInputSchema, event);
  const count = input.count + 1;
  const base = { count, observedAt: now.toISOString() };
  const settle = (promoted: boolean, status: string, endpoint: string | null): PromotionCheck => ({
    ...base,
    state: promoted ? 'promoted' : count >= input.maxPolls ? 'timed-out' : 'waiting',
    status,
    endpoint,
  });
  if (input.kind === 'replica') {
    const out = await rds.client.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: input.drDatabase }),
    );
    const db = out.DBInstances?.[0];
    const status = db?.DBInstanceStatus ?? 'unknown';
    const promoted = status === 'available' && !db?.ReadReplicaSourceDBInstanceIdentifier;
    return settle(
      promoted,
      promoted
        ? status
        : `${status}${db?.ReadReplicaSourceDBInstanceIdentifier ? ', still a replica' : ''}`,
      db?.Endpoint?.Address ?? null,
    );
  }
  const clusters = await rds.client.send(
    new DescribeDBClustersCommand({ DBClusterIdentifier: input.drDatabase }),
  );
  const cluster = clusters.DBClusters?.[0];
  const globals = await rds.client.send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: input.globalCluster ?? '' }),
  );
  const global = globals.GlobalClusters?.[0];
  const writer =
    global?.GlobalClusterMembers?.find((m) => m.DBClusterArn === input.drClusterArn)?.IsWriter ===
    true;
  const inFlight = global?.FailoverState?.Status;
  const status = cluster?.Status ?? 'unknown';
  const promoted = writer && !inFlight && status === 'available';
  return settle(
    promoted,
    inFlight ? `switchover ${inFlight}` : writer ? status : `${status}, not yet the writer`,
    cluster?.Endpoint ?? null,
  );
}
