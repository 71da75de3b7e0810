import {
  DescribeDBClustersCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RDSServiceException,
  StartDBInstanceAutomatedBackupsReplicationCommand,
  StopDBInstanceAutomatedBackupsReplicationCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import type { Policy } from '../../shared/policy/schema.js';
import { enforceContinuousProtection } from '../../shared/posture/continuous-protection.js';
import { fixturePolicy, tieredObjectives } from '../support/policy.js';

// moto keeps automated backups but cannot replicate them to another region: the RDS API is
// mocked here (aws-sdk-client-mock), region by region.

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const rds = mockClient(RDSClient);
const arn = (id: string) => `arn:aws:rds:${PRIMARY}:123456789012:db:${id}`;

function policy(enforce = true): Policy {
  const base = fixturePolicy();
  return {
    ...base,
    targets: [
      { kind: 'rds-instance', identifier: 'orders-db', tier: 'critical' },
      { kind: 'rds-instance', identifier: 'reports-db', tier: 'standard' },
      { kind: 'aurora-cluster', identifier: 'billing', tier: 'critical' },
    ],
    objectives: tieredObjectives({ enforce }),
  };
}

/** The world: orders-db keeps 1 day and is not replicated; reports-db is replicated by Lifeboat. */
function world(replicas: { source: string; key: string }[]) {
  const regionOf = async (client: unknown) =>
    (client as RDSClient).config.region() as Promise<string>;
  rds.on(DescribeDBInstancesCommand).callsFake(async (_, client) =>
    (await regionOf(client())) === PRIMARY
      ? {
          DBInstances: [
            {
              DBInstanceIdentifier: 'orders-db',
              DBInstanceArn: arn('orders-db'),
              BackupRetentionPeriod: 1,
            },
            {
              DBInstanceIdentifier: 'reports-db',
              DBInstanceArn: arn('reports-db'),
              BackupRetentionPeriod: 7,
            },
          ],
        }
      : { DBInstances: [] },
  );
  rds.on(DescribeDBClustersCommand).callsFake(async (_, client) =>
    (await regionOf(client())) === PRIMARY
      ? {
          DBClusters: [
            {
              DBClusterIdentifier: 'billing',
              DBClusterArn: `arn:aws:rds:${PRIMARY}:123456789012:cluster:billing`,
              Engine: 'aurora-postgresql',
              BackupRetentionPeriod: 3,
            },
          ],
        }
      : { DBClusters: [] },
  );
  rds.on(DescribeDBInstanceAutomatedBackupsCommand).callsFake(async (_, client) =>
    (await regionOf(client())) === DR
      ? {
          DBInstanceAutomatedBackups: replicas.map((r) => ({
            DBInstanceArn: arn(r.source),
            Region: PRIMARY,
            KmsKeyId: r.key,
            BackupRetentionPeriod: 7,
            DBInstanceAutomatedBackupsArn: `arn:aws:rds:${DR}:123456789012:auto-backup:ab-${r.source}`,
          })),
        }
      : { DBInstanceAutomatedBackups: [] },
  );
}

const deps = () => ({
  primary: rdsIn(PRIMARY),
  dr: rdsIn(DR),
  limiter: new RateLimiter({ perSecond: 100 }),
});

beforeEach(() => {
  rds.reset();
});

describe('continuous backups brought up to each tier', () => {
  it('raises short retention, starts replication with the DR key, and stops what a tier dropped', async () => {
    // Prepare: reports-db (standard: no replication) is replicated under the policy's DR key
    const p = policy();
    world([{ source: 'reports-db', key: p.snapshots.drKmsKeyArn }]);
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(ModifyDBClusterCommand).resolves({});
    rds.on(StartDBInstanceAutomatedBackupsReplicationCommand).resolves({});
    rds.on(StopDBInstanceAutomatedBackupsReplicationCommand).resolves({});

    // Act
    const { changes, failures } = await enforceContinuousProtection(deps(), p);

    // Assess
    expect(failures).toEqual([]);
    expect(changes).toEqual([
      {
        database: 'billing',
        change: 'retention-raised',
        detail: 'automated backups kept 7 days (were 3)',
      },
      {
        database: 'orders-db',
        change: 'retention-raised',
        detail: 'automated backups kept 7 days (were 1)',
      },
      {
        database: 'orders-db',
        change: 'replication-started',
        detail: 'automated backups replicated to eu-west-1 for 7 days',
      },
      {
        database: 'reports-db',
        change: 'replication-stopped',
        detail: 'its tier no longer replicates automated backups to eu-west-1',
      },
    ]);
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: 'orders-db',
      BackupRetentionPeriod: 7,
      ApplyImmediately: true,
    });
    expect(rds).toHaveReceivedCommandWith(StartDBInstanceAutomatedBackupsReplicationCommand, {
      SourceDBInstanceArn: arn('orders-db'),
      BackupRetentionPeriod: 7,
      KmsKeyId: p.snapshots.drKmsKeyArn,
    });
    // Aurora has no automated-backup replication.
    expect(rds).toHaveReceivedCommandTimes(StartDBInstanceAutomatedBackupsReplicationCommand, 1);
  });

  it('changes nothing when the policy only reports', async () => {
    // Prepare
    world([]);

    // Act
    const result = await enforceContinuousProtection(deps(), policy(false));

    // Assess
    expect(result).toEqual({ changes: [], failures: [] });
    expect(rds.calls()).toHaveLength(0);
  });

  it('leaves alone a replication someone else started under another key', async () => {
    // Prepare
    world([{ source: 'reports-db', key: 'arn:aws:kms:eu-west-1:123456789012:key/theirs' }]);
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(ModifyDBClusterCommand).resolves({});
    rds.on(StartDBInstanceAutomatedBackupsReplicationCommand).resolves({});

    // Act
    await enforceContinuousProtection(deps(), policy());

    // Assess
    expect(rds).not.toHaveReceivedCommand(StopDBInstanceAutomatedBackupsReplicationCommand);
  });

  it('names each change RDS refused, and makes the others', async () => {
    // Prepare
    world([]);
    rds.on(ModifyDBInstanceCommand).rejects(
      new RDSServiceException({
        name: 'InvalidDBInstanceStateFault',
        $fault: 'client',
        $metadata: {},
        message: 'Database instance is not in available state.',
      }),
    );
    rds.on(ModifyDBClusterCommand).resolves({});
    rds.on(StartDBInstanceAutomatedBackupsReplicationCommand).resolves({});

    // Act
    const { changes, failures } = await enforceContinuousProtection(deps(), policy());

    // Assess
    expect(failures).toEqual([
      {
        subject: 'instance orders-db',
        error: 'InvalidDBInstanceStateFault: Database instance is not in available state.',
      },
    ]);
    expect(changes.map((c) => `${c.database} ${c.change}`)).toEqual([
      'billing retention-raised',
      'orders-db replication-started',
    ]);
  });
});
