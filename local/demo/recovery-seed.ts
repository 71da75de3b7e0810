import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceReadReplicaCommand,
  CreateDBSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { type BucketLocationConstraint, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientIn, ROUTE53_REGION, rdsIn } from '../../shared/aws/clients.js';
import type { Connect } from '../../shared/drills/database-session.js';
import { drillConnect } from '../../shared/drills/drill-connect.js';
import { type Slot, snapshotIdentifier } from '../../shared/naming/slot.js';
import { DRILL_RESTORED_FROM_TAG, TAG, tagMap } from '../../shared/naming/tags.js';
import type { SnapshotKind } from '../../shared/rds/snapshots.js';

/** A bucket in the region, for reports (the stack creates one per region); kept if it exists. */
export async function seedBucket(region: string, name: string): Promise<void> {
  try {
    await clientIn(S3Client, region).send(
      new CreateBucketCommand({
        Bucket: name,
        CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
  }
}

/** The source database's login, as the drill's smoke checks read it. */
export async function seedCredentials(
  region: string,
  name: string,
  local: { readonly user: string; readonly password: string },
): Promise<void> {
  await clientIn(SecretsManagerClient, region).send(
    new CreateSecretCommand({
      Name: name,
      SecretString: JSON.stringify({ username: local.user, password: local.password }),
    }),
  );
}

/**
 * A snapshot exactly as snapshot-rds takes it (identifier and tags of the slot), optionally
 * already verified. Returns its identifier.
 */
export async function seedLifeboatSnapshot(
  region: string,
  policyName: string,
  kind: SnapshotKind,
  target: string,
  slot: Slot,
  verifiedAt?: Date,
): Promise<string> {
  const id = snapshotIdentifier(target, slot);
  const tags = [
    { Key: TAG.managed, Value: 'true' },
    { Key: TAG.policy, Value: policyName },
    { Key: TAG.slot, Value: slot.id },
    { Key: TAG.target, Value: target },
    ...(verifiedAt ? [{ Key: TAG.verifiedAt, Value: verifiedAt.toISOString() }] : []),
  ];
  const rds = rdsIn(region).client;
  if (kind === 'instance') {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: target,
        DBSnapshotIdentifier: id,
        Tags: tags,
      }),
    );
  } else {
    await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterIdentifier: target,
        DBClusterSnapshotIdentifier: id,
        Tags: tags,
      }),
    );
  }
  return id;
}

/** Where a local database answers. */
export interface DataEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/**
 * Smoke checks for databases the local AWS restores: the local AWS has no database server, so
 * a drill database's connection goes to the local PostgreSQL or MariaDB database that holds the
 * data of the snapshot it was restored from (named by its lifeboat:restored-from tag), opened as
 * a deployed drill opens it (`connect`: the engine's driver, TLS as the policy says).
 */
export function restoredDataConnector(
  region: string,
  dataBySnapshot: ReadonlyMap<string, DataEndpoint>,
  connect: Connect = drillConnect(),
): Connect {
  return async (login) => {
    const id = login.host.split('.')[0] ?? '';
    const rds = rdsIn(region).client;
    const instance = await rds
      .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
      .then((out) => out.DBInstances?.[0]?.TagList)
      .catch(() => undefined);
    const tags =
      instance ??
      (await rds
        .send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))
        .then((out) => out.DBClusters?.[0]?.TagList));
    const snapshot = tagMap(tags).get(DRILL_RESTORED_FROM_TAG) ?? '';
    const data = dataBySnapshot.get(snapshot);
    if (!data)
      throw Object.assign(new Error(`no data for ${snapshot} behind ${login.host}`), {
        code: 'ENOTFOUND',
      });
    return connect({ ...login, host: data.host, port: data.port, database: data.database });
  };
}

/** A cross-region read replica of a primary instance, in the DR region. */
export async function seedReplica(
  primaryRegion: string,
  drRegion: string,
  source: string,
  replica: string,
): Promise<string> {
  const out = await rdsIn(primaryRegion).client.send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: source }),
  );
  const created = await rdsIn(drRegion).client.send(
    new CreateDBInstanceReadReplicaCommand({
      DBInstanceIdentifier: replica,
      SourceDBInstanceIdentifier: out.DBInstances?.[0]?.DBInstanceArn,
      DBInstanceClass: 'db.t4g.micro',
    }),
  );
  return (
    created.DBInstance?.Endpoint?.Address ?? `${replica}.aaaaaaaaaa.${drRegion}.rds.amazonaws.com`
  );
}

/** The endpoint of an instance. */
export async function endpointOf(region: string, id: string): Promise<string> {
  const out = await rdsIn(region).client.send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }),
  );
  return out.DBInstances?.[0]?.Endpoint?.Address ?? '';
}

/** A hosted zone, with a CNAME pointing a record at a target if given. Returns the zone id. */
export async function seedZone(
  zoneName: string,
  record?: string,
  target?: string,
): Promise<string> {
  const zone = await clientIn(Route53Client, ROUTE53_REGION).send(
    new CreateHostedZoneCommand({
      Name: zoneName,
      CallerReference: `lifeboat-${zoneName}-${Date.now()}`,
    }),
  );
  const id = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  if (record && target) await pointRecord(id, record, target);
  return id;
}

/** Points a CNAME at a target, creating it if need be. */
export async function pointRecord(zoneId: string, record: string, target: string): Promise<void> {
  await clientIn(Route53Client, ROUTE53_REGION).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: record,
              Type: 'CNAME',
              TTL: 60,
              ResourceRecords: [{ Value: target }],
            },
          },
        ],
      },
    }),
  );
}

/** The value a CNAME points at now. */
export async function recordValue(zoneId: string, record: string): Promise<string | undefined> {
  const out = await clientIn(Route53Client, ROUTE53_REGION).send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }),
  );
  const name = `${record.replace(/\.$/, '')}.`;
  return out.ResourceRecordSets?.find((r) => r.Name === name)?.ResourceRecords?.[0]?.Value;
}

/** What RDS publishes every minute for a read replica: its lag, in seconds. */
export async function reportReplicaLag(
  region: string,
  replica: string,
  seconds: number,
  at = new Date(),
): Promise<void> {
  await clientIn(CloudWatchClient, region).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/RDS',
      MetricData: [
        {
          MetricName: 'ReplicaLag',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: replica }],
          Value: seconds,
          Unit: 'Seconds',
          Timestamp: at,
        },
      ],
    }),
  );
}
