import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
} from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';
import { parseEvent } from '../validation/parse-event.js';
import { type RestorePoll, RestorePollInputSchema } from './drill-contract.js';

// Statuses from which a restoring database does not become available on its own.
const FAILED = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'inaccessible-encryption-credentials',
  'storage-full',
  'restore-error',
]);

/**
 * Looks at the restoring database once: available (with the endpoint to check), still waiting,
 * failed, or past the drill's timeout. For Aurora, the cluster and its instance must both be
 * available, and the endpoint is the cluster's.
 */
export async function pollRestore(
  rds: RegionalRds,
  event: unknown,
  now: Date,
): Promise<RestorePoll> {
  const input = parseEvent(RestorePollInputSchema, event);
  const count = input.count + 1;
  const base = { count, observedAt: now.toISOString() };
  let instance: { status: string; address: string | null; port: number | null };
  try {
    const out = await rds.client.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: input.instanceId }),
    );
    const db = out.DBInstances?.[0];
    instance = {
      status: db?.DBInstanceStatus ?? 'unknown',
      address: db?.Endpoint?.Address ?? null,
      port: db?.Endpoint?.Port ?? null,
    };
  } catch (error) {
    if (!(error instanceof DBInstanceNotFoundFault)) throw error;
    return { ...base, state: 'failed', status: 'not-found', address: null, port: null };
  }
  let current = instance;
  if (input.clusterId) {
    try {
      const out = await rds.client.send(
        new DescribeDBClustersCommand({ DBClusterIdentifier: input.clusterId }),
      );
      const cluster = out.DBClusters?.[0];
      const clusterStatus = cluster?.Status ?? 'unknown';
      current = {
        status: clusterStatus === 'available' ? instance.status : clusterStatus,
        address: cluster?.Endpoint ?? null,
        port: cluster?.Port ?? null,
      };
    } catch (error) {
      if (!(error instanceof DBClusterNotFoundFault)) throw error;
      return { ...base, state: 'failed', status: 'not-found', address: null, port: null };
    }
  }
  if (current.status === 'available' && current.address)
    return { ...base, state: 'available', ...current };
  if (FAILED.has(current.status)) return { ...base, state: 'failed', ...current };
  return { ...base, state: count >= input.maxPolls ? 'timed-out' : 'waiting', ...current };
}
