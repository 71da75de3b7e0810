import {
  CreateDBInstanceReadReplicaCommand,
  DBInstanceNotFoundFault,
  DescribeDBInstancesCommand,
} from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';
import { TAG } from '../naming/tags.js';
import type { Policy } from '../policy/schema.js';
import { failoverDatabaseOf } from './preflight.js';

/** Failback cannot start as asked; nothing was created. */
export class RebuildReplicaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RebuildReplicaError';
  }
}

export interface RebuildResult {
  readonly replicaId: string;
  readonly region: string;
  readonly source: string;
  readonly status: string;
}

/**
 * Starts failback after a failover: a new read replica of the promoted DR instance, created in
 * the old primary region. Creates only; the old primary, if it is still there, is left alone.
 */
export async function rebuildReplica(
  deps: { readonly primary: RegionalRds; readonly dr: RegionalRds },
  policy: Policy,
  options: { readonly target: string; readonly replicaId?: string; readonly kmsKeyId?: string },
): Promise<RebuildResult> {
  const { database } = failoverDatabaseOf(policy, options.target);
  if (database.replica === undefined) {
    throw new RebuildReplicaError(
      `${options.target} is an Aurora global database: once ${policy.regions.primary} recovers, Aurora rejoins the old primary cluster as a secondary itself; there is no replica to rebuild`,
    );
  }
  const source = await instance(deps.dr, database.replica);
  if (!source)
    throw new RebuildReplicaError(`no DB instance ${database.replica} in ${deps.dr.region}`);
  if (source.ReadReplicaSourceDBInstanceIdentifier) {
    throw new RebuildReplicaError(
      `${database.replica} in ${deps.dr.region} is still a read replica: fail over first, then rebuild the replica`,
    );
  }
  const replicaId = options.replicaId ?? `${options.target}-failback`;
  if (await instance(deps.primary, replicaId)) {
    throw new RebuildReplicaError(
      `a DB instance ${replicaId} already exists in ${deps.primary.region}; choose another name with --replica-id`,
    );
  }
  if (source.StorageEncrypted && !options.kmsKeyId) {
    throw new RebuildReplicaError(
      `${database.replica} is encrypted: give --kms-key, a KMS key in ${deps.primary.region} for the new replica`,
    );
  }
  // Called in the new replica's region; the SDK presigns for the source region in the ARN.
  const out = await deps.primary.client.send(
    new CreateDBInstanceReadReplicaCommand({
      DBInstanceIdentifier: replicaId,
      SourceDBInstanceIdentifier: source.DBInstanceArn,
      DBInstanceClass: source.DBInstanceClass,
      ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
      PubliclyAccessible: false,
      Tags: [
        { Key: TAG.policy, Value: policy.name },
        { Key: 'lifeboat:failback-of', Value: options.target },
      ],
    }),
  );
  return {
    replicaId,
    region: deps.primary.region,
    source: source.DBInstanceArn ?? database.replica,
    status: out.DBInstance?.DBInstanceStatus ?? 'creating',
  };
}

async function instance(rds: RegionalRds, id: string) {
  try {
    const out = await rds.client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return out.DBInstances?.[0];
  } catch (error) {
    if (error instanceof DBInstanceNotFoundFault) return undefined;
    throw error;
  }
}
