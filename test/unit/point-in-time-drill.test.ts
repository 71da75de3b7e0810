import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import { NoRestorePointError } from '../../shared/drills/drill-errors.js';
import { planDrill } from '../../shared/drills/drill-plan.js';
import {
  drillReport,
  drillReportMarkdown,
  drillSummary,
} from '../../shared/drills/drill-report.js';
import { parsePolicyText } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { drillPlanFixture, SMOKE_PASSED, TEARDOWN_DONE } from '../support/machine-world.js';
import { fixturePolicy } from '../support/policy.js';

// moto restores to a point in time in the database's own region; it has no replication of
// automated backups, so the DR region's replicas are scripted here with aws-sdk-client-mock.
const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:lifeboat-alerts';
const NOW = new Date('2026-11-21T04:00:00Z');
const rdsMock = mockClient(RDSClient);
const base = fixturePolicy();
const policy: Policy = {
  ...base,
  drills: { ...(base.drills as NonNullable<Policy['drills']>), pick: 'point-in-time' },
};

beforeEach(() => rdsMock.reset());

function instance(retentionDays: number, latest?: Date) {
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-db',
        DBInstanceArn: 'arn:aws:rds:eu-central-1:123456789012:db:orders-db',
        Engine: 'postgres',
        BackupRetentionPeriod: retentionDays,
        InstanceCreateTime: new Date('2026-01-01T00:00:00Z'),
        ...(latest ? { LatestRestorableTime: latest } : {}),
      },
    ],
  });
}

describe('point-in-time drills', () => {
  it('restores the latest restorable time in the database’s own region, named after it', async () => {
    // Arrange
    instance(7, new Date('2026-11-21T03:55:12.345Z'));

    // Act
    const plan = await planDrill(
      { rds: rdsIn('eu-central-1'), alertTopicArn: TOPIC },
      policy,
      { target: 'orders-db' },
      NOW,
    );

    // Assess
    expect(plan).toMatchObject({
      restore: 'point-in-time',
      kind: 'instance',
      engine: 'postgres',
      pointInTime: {
        time: '2026-11-21T03:55:12.000Z',
        sourceIdentifier: 'orders-db',
        sourceBackupsArn: null,
      },
      snapshot: { id: 'orders-db@2026-11-21T03:55:12.000Z', verifiedAt: null },
    });
    expect(plan.tags).toContainEqual({
      Key: 'lifeboat:restored-from',
      Value: 'orders-db@2026-11-21T03:55:12.000Z',
    });
  });

  it('restores no later than the drill’s start, whatever the backups reach', async () => {
    // Arrange: the backups reach past the start (the plan runs after the execution began)
    instance(7, new Date(NOW.getTime() + 1500));

    // Act
    const plan = await planDrill(
      { rds: rdsIn('eu-central-1'), alertTopicArn: TOPIC },
      policy,
      { target: 'orders-db' },
      NOW,
    );

    // Assess
    expect(plan.pointInTime?.time).toBe(NOW.toISOString());
  });

  it('picks an instant at random within the restore window when the policy says so', async () => {
    // Arrange
    instance(7, new Date('2026-11-21T03:55:00Z'));
    const random: Policy = {
      ...policy,
      drills: { ...(policy.drills as NonNullable<Policy['drills']>), pointInTime: 'random' },
    };

    // Act
    const plan = await planDrill(
      { rds: rdsIn('eu-central-1'), alertTopicArn: TOPIC, random: () => 0.5 },
      random,
      { target: 'orders-db' },
      NOW,
    );

    // Assess: halfway through seven days that end at the latest restorable time.
    expect(plan.pointInTime?.time).toBe('2026-11-17T15:55:00.000Z');
  });

  it('refuses a database without continuous backups, saying what to do, and changes nothing', async () => {
    // Arrange
    instance(0);

    // Act
    const act = planDrill(
      { rds: rdsIn('eu-central-1'), alertTopicArn: TOPIC },
      policy,
      { target: 'orders-db' },
      NOW,
    );

    // Assess
    await expect(act).rejects.toThrow(NoRestorePointError);
    await expect(act).rejects.toThrow(
      'orders-db in eu-central-1 has no continuous backups (automated backups are off)',
    );
    expect(rdsMock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeDBInstancesCommand',
    ]);
  });

  it('restores an Aurora cluster from its own restore window', async () => {
    // Arrange
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'billing' }).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'billing',
          DBClusterArn: 'arn:aws:rds:eu-central-1:123456789012:cluster:billing',
          Engine: 'aurora-postgresql',
          EarliestRestorableTime: new Date('2026-11-14T04:00:00Z'),
          LatestRestorableTime: new Date('2026-11-21T03:58:00Z'),
        },
      ],
    });

    // Act
    const plan = await planDrill(
      { rds: rdsIn('eu-central-1'), alertTopicArn: TOPIC },
      policy,
      { target: 'billing' },
      NOW,
    );

    // Assess
    expect(plan).toMatchObject({
      restore: 'point-in-time',
      kind: 'cluster',
      clusterId: 'lb-drill-billing-261121040000',
      instanceId: 'lb-drill-billing-261121040000-w',
      pointInTime: { time: '2026-11-21T03:58:00.000Z', sourceIdentifier: 'billing' },
    });
  });

  it('restores the replicated automated backups in the DR region, ignoring the region’s own', async () => {
    // Arrange
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [
        {
          DBInstanceIdentifier: 'orders-db',
          DBInstanceArn: 'arn:aws:rds:eu-west-1:123456789012:db:orders-db',
          Region: 'eu-west-1',
          DBInstanceAutomatedBackupsArn: 'arn:aws:rds:eu-west-1:123456789012:auto-backup:ab-own',
          RestoreWindow: {
            EarliestTime: new Date('2026-11-14T00:00:00Z'),
            LatestTime: new Date('2026-11-21T03:59:00Z'),
          },
        },
        {
          DBInstanceIdentifier: 'orders-db',
          DBInstanceArn: 'arn:aws:rds:eu-central-1:123456789012:db:orders-db',
          Region: 'eu-central-1',
          Engine: 'postgres',
          DBInstanceAutomatedBackupsArn:
            'arn:aws:rds:eu-west-1:123456789012:auto-backup:ab-replica',
          RestoreWindow: {
            EarliestTime: new Date('2026-11-14T04:00:00Z'),
            LatestTime: new Date('2026-11-21T03:50:00Z'),
          },
        },
      ],
    });

    // Act
    const plan = await planDrill(
      { rds: rdsIn('eu-west-1'), alertTopicArn: TOPIC },
      policy,
      { target: 'orders-db' },
      NOW,
    );

    // Assess
    expect(plan.pointInTime).toEqual({
      time: '2026-11-21T03:50:00.000Z',
      sourceIdentifier: null,
      sourceBackupsArn: 'arn:aws:rds:eu-west-1:123456789012:auto-backup:ab-replica',
    });
    expect(plan.region).toBe('eu-west-1');
  });

  it('refuses the DR region without replicated backups, and an Aurora cluster there', async () => {
    // Arrange
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [],
    });
    const dr = { rds: rdsIn('eu-west-1'), alertTopicArn: TOPIC };

    // Act & Assess
    await expect(planDrill(dr, policy, { target: 'orders-db' }, NOW)).rejects.toThrow(
      'no replicated automated backups of orders-db in eu-west-1 with a restore window',
    );
    await expect(planDrill(dr, policy, { target: 'billing' }, NOW)).rejects.toThrow(
      'billing is an Aurora cluster: RDS replicates no automated backups of clusters to eu-west-1',
    );
  });

  it('a named snapshot still restores that snapshot', async () => {
    // Arrange
    rdsMock.on(DescribeDBInstancesCommand).rejects(new Error('not asked'));
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rdsMock.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });

    // Act
    const act = planDrill(
      { rds: rdsIn('eu-central-1'), alertTopicArn: TOPIC },
      policy,
      { target: 'orders-db', snapshotId: 'lifeboat-orders-db-202611200300' },
      NOW,
    );

    // Assess: the snapshot pick is used (and there is no such snapshot here).
    await expect(act).rejects.toThrow('is not an available Lifeboat snapshot of orders-db');
  });
});

describe('the policy refuses point-in-time drills it cannot run', () => {
  const text = (site: string, tiers: string, aurora = '') =>
    `
version: 1
name: pitr
timeZone: UTC
regions: { primary: eu-central-1, dr: eu-west-1 }
targets:
  - { kind: rds-instance, identifier: orders-db, tier: gold }
  - { kind: aurora-cluster, identifier: billing, tier: gold }
snapshots:
  schedule: cron(0 3 * * ? *)
  drKmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555
retention:
  schedule: cron(30 4 * * ? *)
  primary: { daily: 7 }
  dr: { daily: 7 }
objectives:
  default: gold
  tiers:
    gold: { rpo: 1d, rto: 1h${tiers} }
drills:
  site: ${site}
  pick: point-in-time
  network: { subnetGroup: private-db, securityGroupIds: [sg-0a1b2c3d4e5f60718] }
  databases:
    orders-db:
      database: orders
      credentialsSecret: orders/master
      checks: [{ name: one, sql: select 1, atLeast: 1 }]
${aurora}`;

  it('refuses the DR site for backups not replicated there, and for Aurora', () => {
    expect(() => parsePolicyText(text('dr', ''), 'p.yml')).toThrow(
      "drills.pick: is point-in-time at site dr, but orders-db's automated backups are not replicated there: give its tier (gold) continuousBackups with replicateToDr: true",
    );
    const billing =
      '    billing:\n      database: billing\n      credentialsSecret: billing/master\n      checks: [{ name: one, sql: select 1, atLeast: 1 }]\n';
    expect(() =>
      parsePolicyText(
        text('dr', ', continuousBackups: { retentionDays: 7, replicateToDr: true }', billing),
        'p.yml',
      ),
    ).toThrow(
      'drills.pick: is point-in-time at site dr, but billing is an Aurora cluster: RDS replicates the automated backups of instances only',
    );
  });

  it('accepts the DR site when the tier replicates, and the primary site without', () => {
    expect(
      parsePolicyText(
        text('dr', ', continuousBackups: { retentionDays: 7, replicateToDr: true }'),
        'p.yml',
      ).drills?.pick,
    ).toBe('point-in-time');
    expect(parsePolicyText(text('primary', ''), 'p.yml').drills?.pointInTime).toBe('latest');
  });
});

describe('drills against their objectives', () => {
  const finished = new Date('2026-11-21T04:30:00Z');
  const state = (objectives: { rtoSeconds: number; rpoSeconds: number }) => ({
    plan: { ...drillPlanFixture(), objectives: { tier: 'critical', ...objectives } },
    poll: { count: 3, state: 'available', status: 'available', observedAt: '2026-11-21T04:15:00Z' },
    checks: SMOKE_PASSED,
    teardown: TEARDOWN_DONE,
  });

  it('passes a drill within both objectives', () => {
    const report = drillReport(state({ rtoSeconds: 3600, rpoSeconds: 86_400 }), finished);
    expect(report).toMatchObject({
      succeeded: true,
      outcome: 'passed',
      objectives: { tier: 'critical', rtoMet: true, rpoMet: true },
    });
    expect(drillReportMarkdown(report)).toContain('objective 1h 0m 0s (tier critical): met');
  });

  it('reports proven data restored too slowly as objective missed, and says by how much', () => {
    // Act
    const report = drillReport(state({ rtoSeconds: 600, rpoSeconds: 86_400 }), finished);
    const summary = drillSummary(report, { json: 'r.json', markdown: 'r.md' });

    // Assess
    expect(report).toMatchObject({
      succeeded: true,
      outcome: 'objective missed',
      objectives: { rtoMet: false, rpoMet: true },
    });
    expect(summary.failure).toBe(
      'the data was proven, but RTO 20m 0s is over the 10m 0s objective of tier critical',
    );
    expect(drillReportMarkdown(report)).toMatch(/^# Restore drill .*: OBJECTIVE MISSED/);
  });

  it('a failed drill is failed, whatever its objectives', () => {
    const failed = { ...state({ rtoSeconds: 1, rpoSeconds: 1 }), checks: undefined };
    expect(drillReport(failed, finished).outcome).toBe('failed');
  });
});
