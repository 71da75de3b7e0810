import { describe, expect, it } from 'vitest';
import {
  FAILOVER_INPUT,
  failure,
  happyFailover,
  promotionAnswer,
  runScripted,
} from '../support/machine-world.js';

// The regional-failover ASL file run by the local engine with scripted tasks.

const REPLICA_PATH = [
  'Preflight',
  'PromotionNeeded',
  'PromoteReadReplica',
  'WaitForPromotion',
  'CheckPromotion',
  'PromotionState',
  'DnsNeeded',
  'SwitchDns',
  'WaitForDns',
  'CheckDns',
  'DnsState',
  'VerifyHealth',
  'Report',
  'Outcome',
  'FailoverSucceeded',
];

const tail = (path: readonly string[], from: string) => path.slice(path.lastIndexOf(from));

describe('regional-failover state machine', () => {
  it('promotes the replica, switches the record, verifies health and reports RTO in 15 transitions', async () => {
    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, happyFailover());

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(REPLICA_PATH);
    expect(run.transitions).toBe(15);
    expect(run.output).toMatchObject({ succeeded: true, rtoSeconds: 180 });
    expect(run.callsOf('rds:promoteReadReplica')).toEqual([
      { DbInstanceIdentifier: 'orders-db-dr' },
    ]);
    expect(run.callsOf('route53:changeResourceRecordSets')).toEqual([
      {
        HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        ChangeBatch: {
          Comment: 'Lifeboat failover scripted',
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'orders-db.db.example.internal',
                Type: 'CNAME',
                Ttl: 60,
                ResourceRecords: [{ Value: 'orders-db-dr.example.eu-west-1.rds.amazonaws.com' }],
              },
            },
          ],
        },
      },
    ]);
    // GetChange takes the bare change id.
    expect(run.callsOf('route53:getChange')).toEqual([{ Id: 'C0123456789' }]);
  });

  it('switches an Aurora global database over when planned, without data loss', async () => {
    // Arrange
    const script = happyFailover({
      kind: 'global',
      drDatabase: 'billing-dr',
      globalCluster: 'billing-global',
      drClusterArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:billing-dr',
    });

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.path.slice(0, 3)).toEqual([
      'Preflight',
      'PromotionNeeded',
      'SwitchoverGlobalCluster',
    ]);
    expect(run.callsOf('rds:switchoverGlobalCluster')).toEqual([
      {
        GlobalClusterIdentifier: 'billing-global',
        TargetDbClusterIdentifier: 'arn:aws:rds:eu-west-1:123456789012:cluster:billing-dr',
      },
    ]);
    expect(run.status).toBe('SUCCEEDED');
  });

  it('fails an Aurora global database over, allowing data loss, when the primary is down', async () => {
    // Arrange
    const script = happyFailover({
      kind: 'global',
      planned: false,
      drDatabase: 'billing-dr',
      globalCluster: 'billing-global',
      drClusterArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:billing-dr',
    });

    // Act
    const run = await runScripted(
      'regional-failover',
      { ...FAILOVER_INPUT, planned: false },
      script,
    );

    // Assess
    expect(run.path.slice(0, 3)).toEqual(['Preflight', 'PromotionNeeded', 'FailoverGlobalCluster']);
    expect(run.callsOf('rds:failoverGlobalCluster')).toEqual([
      expect.objectContaining({ AllowDataLoss: true }),
    ]);
  });

  it('stops before changing anything when a precondition fails, naming it', async () => {
    // Arrange
    const script = {
      ...happyFailover(),
      failoverPreflight: failure(
        'FailoverPreconditionError',
        'failover of orders-db stopped before changing anything: lag: ReplicaLag 400s exceeds the maximum of 60s',
      ),
    };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.path).toEqual(['Preflight', 'PreconditionsFailed']);
    expect(run).toMatchObject({ status: 'FAILED', error: 'FailoverPreconditionError' });
    expect(run.cause).toContain('lag: ReplicaLag 400s exceeds the maximum of 60s');
    expect(run.calls.map((c) => c.task)).toEqual(['failoverPreflight']);
  });

  it('polls the promotion until it is done: three transitions per poll', async () => {
    // Arrange
    const script = {
      ...happyFailover(),
      failoverStatus: [
        promotionAnswer('waiting', 1),
        promotionAnswer('waiting', 2),
        promotionAnswer('promoted', 3),
      ],
    };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.transitions).toBe(15 + 2 * 3);
  });

  it('reports a promotion that takes too long as failed, without touching DNS', async () => {
    // Arrange
    const script = {
      ...happyFailover(),
      failoverStatus: [promotionAnswer('waiting', 1), promotionAnswer('timed-out', 2)],
    };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(tail(run.path, 'PromotionState')).toEqual([
      'PromotionState',
      'PromotionTimedOut',
      'Report',
      'Outcome',
      'FailoverFailed',
    ]);
    expect(run.callsOf('route53:changeResourceRecordSets')).toEqual([]);
    expect(run.cause).toContain(
      'PromotionTimeout: orders-db-dr was still modifying, still a replica after 2 polls',
    );
  });

  it('retries PriorRequestNotComplete and throttling on the DNS change', async () => {
    // Arrange
    const script = {
      ...happyFailover(),
      'route53:changeResourceRecordSets': [
        failure(
          'Route53.PriorRequestNotCompleteException',
          'The request was rejected because Route 53 was still processing a prior request.',
        ),
        failure('Route53.Route53Exception', 'Rate exceeded'),
        {
          ChangeInfo: {
            Id: '/change/C0123456789',
            Status: 'PENDING',
            SubmittedAt: '2026-11-21T04:02:00.000Z',
          },
        },
      ],
    };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.retried).toEqual(['SwitchDns', 'SwitchDns']);
    expect(run.transitions).toBe(15 + 2);
  });

  it('waits until the change is in sync', async () => {
    // Arrange
    const pending = { ChangeInfo: { Id: '/change/C0123456789', Status: 'PENDING' } };
    const script = {
      ...happyFailover(),
      'route53:getChange': [pending, pending, { ChangeInfo: { Status: 'INSYNC' } }],
    };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.callsOf('route53:getChange')).toHaveLength(3);
    expect(run.transitions).toBe(15 + 2 * 3);
  });

  it('retries the health check while the DR endpoint comes up', async () => {
    // Arrange
    const unhealthy = failure('FailoverUnhealthyError', 'the DR endpoint is not healthy: HTTP 503');
    const script = {
      ...happyFailover(),
      failoverVerify: [
        unhealthy,
        unhealthy,
        { healthy: true, detail: 'HTTP 200', checkedAt: '2026-11-21T04:04:00.000Z' },
      ],
    };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.retried).toEqual(['VerifyHealth', 'VerifyHealth']);
    expect(run.output).toMatchObject({ rtoSeconds: 240 });
  });

  it('reports the failover failed when the DR endpoint never becomes healthy', async () => {
    // Arrange
    const script = {
      ...happyFailover(),
      failoverVerify: failure('FailoverUnhealthyError', 'the DR endpoint is not healthy: HTTP 503'),
    };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.retried).toHaveLength(8);
    expect(tail(run.path, 'VerifyHealth')).toEqual([
      'VerifyHealth',
      'Report',
      'Outcome',
      'FailoverFailed',
    ]);
    expect(run.cause).toBe('FailoverUnhealthyError: the DR endpoint is not healthy: HTTP 503');
  });

  it('goes to the report from every failure after preflight', async () => {
    // Arrange
    const cases: [string, Record<string, unknown>][] = [
      [
        'PromoteReadReplica',
        { 'rds:promoteReadReplica': failure('Rds.InvalidDbInstanceStateException') },
      ],
      ['CheckPromotion', { failoverStatus: failure('AccessDeniedException') }],
      [
        'SwitchDns',
        { 'route53:changeResourceRecordSets': failure('Route53.InvalidChangeBatchException') },
      ],
      ['CheckDns', { 'route53:getChange': failure('Route53.NoSuchChangeException') }],
      ['VerifyHealth', { failoverVerify: failure('InvalidEventError') }],
    ];

    for (const [state, broken] of cases) {
      // Act
      const run = await runScripted('regional-failover', FAILOVER_INPUT, {
        ...happyFailover(),
        ...broken,
      });

      // Assess
      expect(run.caught, state).toEqual([expect.stringMatching(new RegExp(`^${state}: `))]);
      expect(tail(run.path, state), state).toEqual([state, 'Report', 'Outcome', 'FailoverFailed']);
    }
  });

  it('resumes after a partial failure: an already promoted replica is not promoted again', async () => {
    // Act
    const run = await runScripted(
      'regional-failover',
      FAILOVER_INPUT,
      happyFailover({ promotion: 'promoted' }),
    );

    // Assess
    expect(run.path.slice(0, 4)).toEqual([
      'Preflight',
      'PromotionNeeded',
      'DnsNeeded',
      'SwitchDns',
    ]);
    expect(run.callsOf('rds:promoteReadReplica')).toEqual([]);
    expect(run.status).toBe('SUCCEEDED');
  });

  it('resumes a promotion already in flight by watching it', async () => {
    // Act
    const run = await runScripted(
      'regional-failover',
      FAILOVER_INPUT,
      happyFailover({ promotion: 'promoting' }),
    );

    // Assess
    expect(run.path.slice(0, 3)).toEqual(['Preflight', 'PromotionNeeded', 'WaitForPromotion']);
    expect(run.callsOf('rds:promoteReadReplica')).toEqual([]);
  });

  it('resumes with promotion and DNS done: only verifies and reports', async () => {
    // Arrange
    const script = happyFailover({
      promotion: 'promoted',
      dns: {
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        recordName: 'orders-db.db.example.internal',
        ttl: 60,
        current: 'orders-db-dr.example.eu-west-1.rds.amazonaws.com',
        switched: true,
      },
    });

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(run.path).toEqual([
      'Preflight',
      'PromotionNeeded',
      'DnsNeeded',
      'VerifyHealth',
      'Report',
      'Outcome',
      'FailoverSucceeded',
    ]);
    expect(run.calls.map((c) => c.task)).toEqual([
      'failoverPreflight',
      'failoverVerify',
      'failoverReport',
    ]);
  });

  it('fails the execution when the report cannot be written', async () => {
    // Arrange
    const script = { ...happyFailover(), failoverReport: failure('AccessDenied') };

    // Act
    const run = await runScripted('regional-failover', FAILOVER_INPUT, script);

    // Assess
    expect(tail(run.path, 'Report')).toEqual(['Report', 'ReportFailed']);
    expect(run.error).toBe('AccessDenied');
  });
});
