import { describe, expect, it } from 'vitest';
import {
  drillPlanFixture,
  failure,
  happyDrill,
  pollAnswer,
  pollsUntilAvailable,
  runScripted,
  SMOKE_PASSED,
  TEARDOWN_DONE,
} from '../support/machine-world.js';

// The restore-drill ASL file run by the local engine with scripted tasks: every Choice, Retry
// and Catch path, and the transitions each takes.

const HAPPY_PATH = [
  'Plan',
  'RestoreKind',
  'RestoreInstance',
  'WaitForRestore',
  'PollRestore',
  'RestoreState',
  'SmokeChecks',
  'Teardown',
  'TeardownState',
  'Report',
  'Outcome',
  'DrillSucceeded',
];

const tail = (path: readonly string[], from: string) => path.slice(path.lastIndexOf(from));

describe('restore-drill state machine', () => {
  it('restores an instance, checks it, tears it down and reports RTO and RPO in 12 transitions', async () => {
    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, happyDrill());

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(HAPPY_PATH);
    expect(run.transitions).toBe(12);
    expect(run.output).toMatchObject({ succeeded: true, rtoSeconds: 1200, rpoSeconds: 7200 });
    expect(run.callsOf('rds:restoreDBInstanceFromDBSnapshot')).toEqual([
      {
        DbInstanceIdentifier: 'lb-drill-orders-db-261121040000',
        DbSnapshotIdentifier:
          'arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-202611200300',
        DbInstanceClass: 'db.t4g.medium',
        DbSubnetGroupName: 'private-db',
        VpcSecurityGroupIds: ['sg-0a1b2c3d4e5f60718'],
        PubliclyAccessible: false,
        MultiAZ: false,
        DeletionProtection: false,
        CopyTagsToSnapshot: false,
        Tags: [{ Key: 'lifeboat:drill', Value: 'lb-drill-orders-db-261121040000' }],
      },
    ]);
    expect(run.callsOf('drillSmoke')).toEqual([
      expect.objectContaining({ address: 'lb-drill.example.internal', port: 5432 }),
    ]);
  });

  it('restores an Aurora cluster, then adds its instance', async () => {
    // Act
    const run = await runScripted('restore-drill', { target: 'billing' }, happyDrill('cluster'));

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.slice(0, 5)).toEqual([
      'Plan',
      'RestoreKind',
      'RestoreCluster',
      'CreateClusterInstance',
      'WaitForRestore',
    ]);
    expect(run.callsOf('rds:restoreDBClusterFromSnapshot')).toEqual([
      expect.objectContaining({
        DbClusterIdentifier: 'lb-drill-billing-261121040000',
        Engine: 'aurora-postgresql',
        DeletionProtection: false,
      }),
    ]);
    expect(run.callsOf('rds:createDBInstance')).toEqual([
      expect.objectContaining({
        DbInstanceIdentifier: 'lb-drill-billing-261121040000-w',
        DbClusterIdentifier: 'lb-drill-billing-261121040000',
        PubliclyAccessible: false,
      }),
    ]);
    expect(run.callsOf('drillTeardown')).toEqual([
      {
        drillId: 'lb-drill-billing-261121040000',
        instanceId: 'lb-drill-billing-261121040000-w',
        clusterId: 'lb-drill-billing-261121040000',
        attempts: 0,
      },
    ]);
  });

  it('waits between polls until the database is available: three transitions per poll', async () => {
    // Arrange
    const script = { ...happyDrill(), drillPoll: pollsUntilAvailable(4) };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.transitions).toBe(12 + 4 * 3);
    expect(run.callsOf('drillPoll').map((p) => (p as { count: number }).count)).toEqual([
      0, 1, 2, 3, 4,
    ]);
  });

  it('gives up when the restore times out, and still tears down', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillPoll: [pollAnswer('waiting', 1), pollAnswer('timed-out', 2)],
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DrillFailed');
    expect(tail(run.path, 'RestoreState')).toEqual([
      'RestoreState',
      'RestoreTimedOut',
      'Teardown',
      'TeardownState',
      'Report',
      'Outcome',
      'DrillFailed',
    ]);
    expect(run.cause).toContain(
      'DrillTimeout: the restored database was still creating after 2 polls',
    );
    expect(run.callsOf('drillSmoke')).toEqual([]);
  });

  it('stops polling a restore that failed, and tears down', async () => {
    // Arrange
    const script = { ...happyDrill(), drillPoll: pollAnswer('failed', 1, 'incompatible-restore') };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.path).toContain('RestoreFailed');
    expect(run.path.at(-1)).toBe('DrillFailed');
    expect(run.cause).toContain('RestoreFailed: the restored database is incompatible-restore');
    expect(run.callsOf('drillTeardown')).toHaveLength(1);
  });

  it('retries RDS throttling on the restore call, then carries on', async () => {
    // Arrange
    const throttled = failure('Rds.RdsException', 'Rate exceeded');
    const script = {
      ...happyDrill(),
      'rds:restoreDBInstanceFromDBSnapshot': [throttled, throttled, { DbInstance: {} }],
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.retried).toEqual(['RestoreInstance', 'RestoreInstance']);
    expect(run.transitions).toBe(12 + 2);
  });

  it('gives up on throttling after four retries, and tears down', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      'rds:restoreDBInstanceFromDBSnapshot': failure('Rds.RdsException', 'Rate exceeded'),
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.retried).toHaveLength(4);
    expect(run.caught).toEqual(['RestoreInstance: Rds.RdsException']);
    expect(tail(run.path, 'RestoreInstance')).toEqual([
      'RestoreInstance',
      'Teardown',
      'TeardownState',
      'Report',
      'Outcome',
      'DrillFailed',
    ]);
  });

  it('reaches teardown from every failure after planning', async () => {
    // Arrange: each state that can fail, failing for good.
    const cases: [string, string, Record<string, unknown>][] = [
      [
        'RestoreInstance',
        'instance',
        { 'rds:restoreDBInstanceFromDBSnapshot': failure('Rds.DbSnapshotNotFoundException') },
      ],
      [
        'RestoreCluster',
        'cluster',
        {
          'rds:restoreDBClusterFromSnapshot': failure('Rds.InsufficientDbClusterCapacityException'),
        },
      ],
      [
        'CreateClusterInstance',
        'cluster',
        { 'rds:createDBInstance': failure('Rds.DbInstanceAlreadyExistsException') },
      ],
      ['PollRestore', 'instance', { drillPoll: failure('AccessDeniedException') }],
      ['SmokeChecks', 'instance', { drillSmoke: failure('SmokeConfigError') }],
    ];

    for (const [state, kind, broken] of cases) {
      // Act
      const run = await runScripted(
        'restore-drill',
        { target: 'orders-db' },
        { ...happyDrill(kind as 'instance'), ...broken },
      );

      // Assess
      expect(run.caught, state).toEqual([expect.stringMatching(new RegExp(`^${state}: `))]);
      expect(tail(run.path, state), state).toEqual([
        state,
        'Teardown',
        'TeardownState',
        'Report',
        'Outcome',
        'DrillFailed',
      ]);
      expect(run.status, state).toBe('FAILED');
    }
  });

  it('fails the drill when a smoke check fails, after tearing down', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillSmoke: {
        ...SMOKE_PASSED,
        passed: false,
        checks: [{ name: 'orders exist', passed: false, expected: 'at least 1000', value: '3' }],
      },
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.cause).toBe('smoke checks failed: orders exist');
    expect(tail(run.path, 'SmokeChecks')).toEqual([
      'SmokeChecks',
      'Teardown',
      'TeardownState',
      'Report',
      'Outcome',
      'DrillFailed',
    ]);
  });

  it('retries a database that does not accept connections yet', async () => {
    // Arrange
    const refused = failure('SmokeConnectionError', 'connect ECONNREFUSED');
    const script = { ...happyDrill(), drillSmoke: [refused, refused, SMOKE_PASSED] };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.retried).toEqual(['SmokeChecks', 'SmokeChecks']);
  });

  it('retries Lambda’s own transient errors', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillPoll: [failure('Lambda.TooManyRequestsException'), pollAnswer('available', 1)],
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.retried).toEqual(['PollRestore']);
  });

  it('tries teardown again while the database cannot be deleted yet', async () => {
    // Arrange
    const pending = (attempts: number) => ({
      done: false,
      deleted: [],
      gone: [],
      pending: ['lb-drill-orders-db-261121040000'],
      attempts,
    });
    const script = {
      ...happyDrill(),
      drillTeardown: [pending(1), pending(2), { ...TEARDOWN_DONE, attempts: 3 }],
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.callsOf('drillTeardown').map((c) => (c as { attempts: number }).attempts)).toEqual([
      0, 1, 2,
    ]);
    expect(run.transitions).toBe(12 + 2 * 3);
  });

  it('alerts when teardown gives up, and reports the drill failed with what is left', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillTeardown: (input: unknown) => ({
        done: false,
        deleted: [],
        gone: [],
        pending: ['lb-drill-orders-db-261121040000'],
        attempts: (input as { attempts: number }).attempts + 1,
      }),
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.callsOf('drillTeardown')).toHaveLength(10);
    expect(tail(run.path, 'TeardownState')).toEqual([
      'TeardownState',
      'AlertTeardownFailed',
      'Report',
      'Outcome',
      'DrillFailed',
    ]);
    expect(run.callsOf('sns:publish')).toEqual([
      expect.objectContaining({
        TopicArn: 'arn:aws:sns:eu-central-1:123456789012:lifeboat-alerts',
        Subject: 'Lifeboat drill lb-drill-orders-db-261121040000: teardown failed',
      }),
    ]);
    expect(run.cause).toBe('teardown did not finish: the janitor deletes what is left');
  });

  it('alerts when the teardown task itself fails', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillTeardown: failure('NotThisDrillError', 'lb-drill-x is not drill y’s'),
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.caught).toEqual(['Teardown: NotThisDrillError']);
    expect(tail(run.path, 'Teardown')).toEqual([
      'Teardown',
      'AlertTeardownFailed',
      'Report',
      'Outcome',
      'DrillFailed',
    ]);
    expect(run.cause).toContain('teardown did not finish');
  });

  it('still reports when the teardown alert cannot be sent', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillTeardown: failure('NotThisDrillError'),
      'sns:publish': failure('Sns.AuthorizationErrorException'),
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.retried).toEqual([
      'AlertTeardownFailed',
      'AlertTeardownFailed',
      'AlertTeardownFailed',
    ]);
    expect(tail(run.path, 'AlertTeardownFailed')).toEqual([
      'AlertTeardownFailed',
      'Report',
      'Outcome',
      'DrillFailed',
    ]);
  });

  it('creates nothing and tears nothing down when planning fails', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillPlan: failure('NoRestorePointError', 'no verified restore point of orders-db'),
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(run.path).toEqual(['Plan', 'NotStarted']);
    expect(run).toMatchObject({
      status: 'FAILED',
      error: 'NoRestorePointError',
      cause: 'no verified restore point of orders-db',
    });
    expect(run.calls.map((c) => c.task)).toEqual(['drillPlan']);
  });

  it('fails the execution when the report cannot be written, after teardown', async () => {
    // Arrange
    const script = {
      ...happyDrill(),
      drillReport: failure('AccessDenied', 'cannot write the report'),
    };

    // Act
    const run = await runScripted('restore-drill', { target: 'orders-db' }, script);

    // Assess
    expect(tail(run.path, 'Teardown')).toEqual([
      'Teardown',
      'TeardownState',
      'Report',
      'ReportFailed',
    ]);
    expect(run).toMatchObject({ status: 'FAILED', error: 'AccessDenied' });
  });

  it('keeps the state small: the largest payload stays far under 32 KB', async () => {
    // Act
    const run = await runScripted(
      'restore-drill',
      { target: 'orders-db' },
      { ...happyDrill(), drillPoll: pollsUntilAvailable(20) },
    );

    // Assess
    expect(run.largestPayloadBytes).toBeGreaterThan(1000);
    expect(run.largestPayloadBytes).toBeLessThan(32 * 1024);
  });

  describe('point in time', () => {
    const pitr = (
      kind: 'instance' | 'cluster',
      source: { sourceIdentifier: string | null; sourceBackupsArn: string | null },
    ) => {
      const script = happyDrill(kind);
      const plan = {
        ...drillPlanFixture(kind),
        restore: 'point-in-time' as const,
        pointInTime: { time: '2026-11-21T03:55:00.000Z', ...source },
      };
      return {
        ...script,
        drillPlan: (event: unknown) => ({
          input: (event as { input: unknown }).input,
          plan,
          teardown: { done: false, deleted: [], gone: [], pending: [], attempts: 0 },
        }),
        'rds:restoreDBInstanceToPointInTime': { DbInstance: { DbInstanceStatus: 'creating' } },
        'rds:restoreDBClusterToPointInTime': { DbCluster: { Status: 'creating' } },
      };
    };

    it('restores an instance’s own continuous backups to the planned instant', async () => {
      // Act
      const run = await runScripted(
        'restore-drill',
        { target: 'orders-db', pick: 'point-in-time' },
        pitr('instance', { sourceIdentifier: 'orders-db', sourceBackupsArn: null }),
      );

      // Assess
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path.slice(0, 4)).toEqual([
        'Plan',
        'RestoreKind',
        'RestoreInstanceToPointInTime',
        'WaitForRestore',
      ]);
      expect(run.callsOf('rds:restoreDBInstanceToPointInTime')).toEqual([
        expect.objectContaining({
          SourceDbInstanceIdentifier: 'orders-db',
          TargetDbInstanceIdentifier: 'lb-drill-orders-db-261121040000',
          RestoreTime: '2026-11-21T03:55:00.000Z',
          PubliclyAccessible: false,
          DeletionProtection: false,
        }),
      ]);
      expect(run.callsOf('rds:restoreDBInstanceFromDBSnapshot')).toEqual([]);
    });

    it('restores the replicated automated backups by their ARN in the DR region', async () => {
      const arn = 'arn:aws:rds:eu-west-1:123456789012:auto-backup:ab-replica';
      const run = await runScripted(
        'restore-drill',
        { target: 'orders-db', pick: 'point-in-time' },
        pitr('instance', { sourceIdentifier: null, sourceBackupsArn: arn }),
      );
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path[2]).toBe('RestoreReplicaToPointInTime');
      const [call] = run.callsOf('rds:restoreDBInstanceToPointInTime');
      expect(call).toMatchObject({ SourceDbInstanceAutomatedBackupsArn: arn });
      expect(call).not.toHaveProperty('SourceDbInstanceIdentifier');
    });

    it('restores an Aurora cluster to the instant, then adds its instance', async () => {
      const run = await runScripted(
        'restore-drill',
        { target: 'billing', pick: 'point-in-time' },
        pitr('cluster', { sourceIdentifier: 'billing', sourceBackupsArn: null }),
      );
      expect(run.status).toBe('SUCCEEDED');
      expect(run.path.slice(2, 4)).toEqual([
        'RestoreClusterToPointInTime',
        'CreateClusterInstance',
      ]);
      expect(run.callsOf('rds:restoreDBClusterToPointInTime')).toEqual([
        expect.objectContaining({
          DbClusterIdentifier: 'lb-drill-billing-261121040000',
          SourceDbClusterIdentifier: 'billing',
          RestoreToTime: '2026-11-21T03:55:00.000Z',
          RestoreType: 'full-copy',
        }),
      ]);
    });

    it('tears down when the point-in-time restore is refused', async () => {
      const run = await runScripted(
        'restore-drill',
        { target: 'orders-db', pick: 'point-in-time' },
        {
          ...pitr('instance', { sourceIdentifier: 'orders-db', sourceBackupsArn: null }),
          'rds:restoreDBInstanceToPointInTime': failure(
            'Rds.PointInTimeRestoreNotEnabledException',
          ),
        },
      );
      expect(run.status).toBe('FAILED');
      expect(tail(run.path, 'RestoreInstanceToPointInTime').slice(0, 2)).toEqual([
        'RestoreInstanceToPointInTime',
        'Teardown',
      ]);
    });
  });

  it('fails the execution as ObjectiveMissed when proven data took longer than the tier allows', async () => {
    // Arrange: the drill takes 20 minutes; the tier allows 10.
    const script = happyDrill();
    const plan = {
      ...drillPlanFixture(),
      objectives: { tier: 'critical', rtoSeconds: 600, rpoSeconds: 86_400 },
    };

    // Act
    const run = await runScripted(
      'restore-drill',
      { target: 'orders-db' },
      {
        ...script,
        drillPlan: (event: unknown) => ({
          input: (event as { input: unknown }).input,
          plan,
          teardown: { done: false, deleted: [], gone: [], pending: [], attempts: 0 },
        }),
      },
    );

    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.path.slice(-2)).toEqual(['Outcome', 'ObjectiveMissed']);
    expect(run.error).toBe('ObjectiveMissed');
    expect(run.cause).toBe(
      'the data was proven, but RTO 20m 0s is over the 10m 0s objective of tier critical',
    );
  });
});
