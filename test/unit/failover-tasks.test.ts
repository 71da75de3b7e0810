import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBInstanceReadReplicaCommand,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetHealthCheckStatusCommand,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import {
  FailoverPreconditionError,
  type Precondition,
} from '../../shared/failover/failover-contract.js';
import { failoverReport, failoverReportMarkdown } from '../../shared/failover/failover-report.js';
import {
  FailoverUnhealthyError,
  type HttpProbe,
  verifyHealth,
} from '../../shared/failover/health.js';
import {
  assessFailover,
  preflightFailover,
  startFailover,
} from '../../shared/failover/preflight.js';
import { checkPromotion } from '../../shared/failover/promotion.js';
import { RebuildReplicaError, rebuildReplica } from '../../shared/failover/rebuild-replica.js';
import { fixturePolicy } from '../support/policy.js';

const DR = 'eu-west-1';
const NOW = new Date('2026-11-21T04:00:00Z');
const CONFIRM = 'failover orders-db to eu-west-1';
const policy = fixturePolicy();
const rdsMock = mockClient(RDSClient);
const route53Mock = mockClient(Route53Client);
const cloudwatchMock = mockClient(CloudWatchClient);
const CLUSTER_ARN = 'arn:aws:rds:eu-west-1:123456789012:cluster:billing-dr';

let probes: string[];
const probeAnswering =
  (healthy: boolean): HttpProbe =>
  async (url) => {
    probes.push(url);
    return { healthy, detail: healthy ? 'HTTP 200' : 'HTTP 503' };
  };

const deps = (probe = probeAnswering(false)) => ({
  rds: rdsIn(DR),
  route53: clientIn(Route53Client, 'us-east-1'),
  cloudwatch: clientIn(CloudWatchClient, DR),
  probe,
  pause: async () => undefined,
});

function replica(fields: Record<string, unknown> = {}) {
  rdsMock.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-db-dr',
        DBInstanceStatus: 'available',
        ReadReplicaSourceDBInstanceIdentifier: 'arn:aws:rds:eu-central-1:123456789012:db:orders-db',
        Endpoint: { Address: 'orders-db-dr.abc.eu-west-1.rds.amazonaws.com', Port: 5432 },
        ...fields,
      },
    ],
  });
}

const lag = (value: number | undefined) =>
  cloudwatchMock.on(GetMetricStatisticsCommand).resolves({
    Datapoints:
      value === undefined
        ? []
        : [
            { Timestamp: new Date('2026-11-21T03:58:00Z'), Maximum: value },
            { Timestamp: new Date('2026-11-21T03:50:00Z'), Maximum: 1 },
          ],
  });

const record = (value: string | null, type = 'CNAME') =>
  route53Mock.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets:
      value === null
        ? []
        : [
            {
              Name: 'orders-db.db.example.internal.',
              Type: type as 'CNAME',
              TTL: 60,
              ResourceRecords: [{ Value: value }],
            },
          ],
  });

const byName = (preconditions: readonly Precondition[]) =>
  Object.fromEntries(preconditions.map((p) => [p.name, p.status]));

beforeEach(() => {
  rdsMock.reset();
  route53Mock.reset();
  cloudwatchMock.reset();
  probes = [];
  replica();
  lag(4);
  record('orders-db.abc.eu-central-1.rds.amazonaws.com');
});

describe('failover preflight', () => {
  it('passes an unplanned failover of a healthy replica when the primary is down and lag is low', async () => {
    // Act
    const plan = await preflightFailover(
      deps(),
      policy,
      { target: 'orders-db', confirm: CONFIRM },
      'fo-1',
      NOW,
    );

    // Assess
    expect(byName(plan.preconditions)).toEqual({
      confirmation: 'pass',
      region: 'pass',
      'replica-exists': 'pass',
      replicating: 'pass',
      lag: 'pass',
      'primary-unhealthy': 'pass',
      dns: 'pass',
    });
    expect(plan).toMatchObject({
      kind: 'replica',
      drDatabase: 'orders-db-dr',
      promotion: 'replica',
      endpoint: 'orders-db-dr.abc.eu-west-1.rds.amazonaws.com',
      dns: {
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        switched: false,
        current: 'orders-db.abc.eu-central-1.rds.amazonaws.com',
      },
      verify: { url: 'http://127.0.0.1:9/dr-health' },
      maxPolls: 120,
    });
    // The primary's health was checked the policy's number of times.
    expect(probes).toEqual([
      'http://127.0.0.1:9/health',
      'http://127.0.0.1:9/health',
      'http://127.0.0.1:9/health',
    ]);
    expect(cloudwatchMock).toHaveReceivedCommandWith(GetMetricStatisticsCommand, {
      Namespace: 'AWS/RDS',
      MetricName: 'ReplicaLag',
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-db-dr' }],
    });
  });

  it('names every failing precondition at once and changes nothing', async () => {
    // Arrange
    replica({
      StatusInfos: [
        {
          StatusType: 'read replication',
          Normal: false,
          Status: 'error',
          Message: 'replication stopped',
        },
      ],
    });
    lag(400);

    // Act
    const error = await preflightFailover(
      deps(probeAnswering(true)),
      policy,
      { target: 'orders-db', confirm: 'yes' },
      'fo-1',
      NOW,
    ).catch((e: Error) => e);

    // Assess
    expect(error).toBeInstanceOf(FailoverPreconditionError);
    const { message, preconditions } = error as FailoverPreconditionError;
    expect(byName(preconditions)).toMatchObject({
      confirmation: 'fail',
      replicating: 'fail',
      lag: 'fail',
      'primary-unhealthy': 'fail',
    });
    expect(message).toContain(
      'confirmation: the input must confirm with exactly "failover orders-db to eu-west-1"',
    );
    expect(message).toContain('replicating: read replication is error: replication stopped');
    expect(message).toContain(
      'lag: ReplicaLag 400s exceeds the maximum of 60s (force skips this check)',
    );
    expect(message).toContain(
      'primary-unhealthy: http://127.0.0.1:9/health answered (HTTP 200) after 0 failure(s)',
    );
    expect(rdsMock.calls().every((c) => c.args[0].constructor.name.startsWith('Describe'))).toBe(
      true,
    );
  });

  it('fails without lag data unless forced, and skips the primary check when planned', async () => {
    // Arrange
    lag(undefined);

    // Act
    const strict = await assessFailover(
      deps(probeAnswering(true)),
      policy,
      { target: 'orders-db', confirm: CONFIRM, planned: true, force: false },
      'fo',
      NOW,
    );
    const forced = await assessFailover(
      deps(probeAnswering(true)),
      policy,
      { target: 'orders-db', confirm: CONFIRM, planned: true, force: true },
      'fo',
      NOW,
    );

    // Assess
    expect(strict.preconditions.find((p) => p.name === 'lag')).toEqual({
      name: 'lag',
      status: 'fail',
      detail:
        'no ReplicaLag reported for orders-db-dr in the last 5 minutes (force skips this check)',
    });
    expect(byName(forced.preconditions)).toMatchObject({
      lag: 'skipped',
      'primary-unhealthy': 'skipped',
    });
    expect(probes).toEqual([]);
  });

  it('refuses to run anywhere but the DR region', async () => {
    const plan = await assessFailover(
      { ...deps(), rds: rdsIn('eu-central-1') },
      policy,
      { target: 'orders-db', confirm: CONFIRM, planned: false, force: false },
      'fo',
      NOW,
    );
    expect(plan.preconditions.find((p) => p.name === 'region')).toMatchObject({
      status: 'fail',
      detail: 'runs in eu-central-1; a failover runs in the DR region eu-west-1',
    });
  });

  it('reports a missing replica and a record that is not a CNAME', async () => {
    // Arrange
    rdsMock
      .on(DescribeDBInstancesCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'not found', $metadata: {} }));
    record('10.0.0.1', 'A');

    // Act
    const plan = await assessFailover(
      deps(),
      policy,
      { target: 'orders-db', planned: true, force: true },
      'fo',
      NOW,
    );

    // Assess
    expect(plan.preconditions).toEqual(
      expect.arrayContaining([
        {
          name: 'confirmation',
          status: 'skipped',
          detail: 'a failover must be confirmed with "failover orders-db to eu-west-1"',
        },
        {
          name: 'replica-exists',
          status: 'fail',
          detail: 'no DB instance orders-db-dr in eu-west-1',
        },
        {
          name: 'dns',
          status: 'fail',
          detail: 'orders-db.db.example.internal is a A record; Lifeboat switches CNAME records',
        },
      ]),
    );
  });

  it('reports a hosted zone it cannot read', async () => {
    route53Mock
      .on(ListResourceRecordSetsCommand)
      .rejects(new NoSuchHostedZone({ message: 'No hosted zone found', $metadata: {} }));
    const plan = await assessFailover(
      deps(),
      policy,
      { target: 'orders-db', planned: true, force: true },
      'fo',
      NOW,
    );
    expect(plan.preconditions.find((p) => p.name === 'dns')?.detail).toBe(
      'cannot read orders-db.db.example.internal in zone Z0123456789ABCDEFGHIJ: NoSuchHostedZone: No hosted zone found',
    );
  });

  it('sees what a previous run did: a promoted replica and a switched record', async () => {
    // Arrange
    replica({ ReadReplicaSourceDBInstanceIdentifier: undefined });
    record('orders-db-dr.abc.eu-west-1.rds.amazonaws.com.');

    // Act
    const state = await startFailover(
      deps(probeAnswering(true)),
      policy,
      {
        input: { target: 'orders-db', confirm: CONFIRM },
        failoverId: 'fo-2',
        startedAt: NOW.toISOString(),
      },
      NOW,
    );

    // Assess: no lag or primary checks needed any more.
    expect(state.preflight).toMatchObject({ promotion: 'promoted', dns: { switched: true } });
    expect(byName(state.preflight.preconditions)).toMatchObject({
      replicating: 'skipped',
      lag: 'skipped',
      'primary-unhealthy': 'skipped',
    });
    expect(state.promotion).toMatchObject({
      state: 'promoted',
      count: 0,
      endpoint: 'orders-db-dr.abc.eu-west-1.rds.amazonaws.com',
    });
  });

  describe('for an Aurora global database', () => {
    const billing = { target: 'billing', confirm: 'failover billing to eu-west-1' };

    beforeEach(() => {
      rdsMock.on(DescribeDBClustersCommand).resolves({
        DBClusters: [
          {
            DBClusterIdentifier: 'billing-dr',
            DBClusterArn: CLUSTER_ARN,
            Status: 'available',
            Endpoint: 'billing-dr.cluster-abc.eu-west-1.rds.amazonaws.com',
          },
        ],
      });
      rdsMock.on(DescribeGlobalClustersCommand).resolves({
        GlobalClusters: [
          {
            GlobalClusterMembers: [
              {
                DBClusterArn: 'arn:aws:rds:eu-central-1:123456789012:cluster:billing',
                IsWriter: true,
              },
              { DBClusterArn: CLUSTER_ARN, IsWriter: false },
            ],
          },
        ],
      });
      route53Mock.on(GetHealthCheckStatusCommand).resolves({
        HealthCheckObservations: [
          { StatusReport: { Status: 'Failure: HTTP Status Code 503' } },
          { StatusReport: { Status: 'Failure: Connection timed out' } },
          { StatusReport: { Status: 'Success: HTTP Status Code 200' } },
        ],
      });
      lag(20_000); // milliseconds
    });

    it('checks the secondary’s membership, its lag in milliseconds and the Route 53 health check', async () => {
      // Act
      const plan = await preflightFailover(deps(), policy, billing, 'fo', NOW);

      // Assess
      expect(plan).toMatchObject({
        kind: 'global',
        globalCluster: 'billing-global',
        drClusterArn: CLUSTER_ARN,
        dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ' },
      });
      expect(plan.preconditions.find((p) => p.name === 'lag')?.detail).toBe(
        'AuroraGlobalDBReplicationLag 20s within the maximum of 30s',
      );
      expect(plan.preconditions.find((p) => p.name === 'primary-unhealthy')?.detail).toBe(
        '1 of 3 Route 53 checkers report success: the primary is down',
      );
      expect(cloudwatchMock).toHaveReceivedCommandWith(GetMetricStatisticsCommand, {
        MetricName: 'AuroraGlobalDBReplicationLag',
        Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'billing-dr' }],
      });
    });

    it('treats a secondary that is already the writer as promoted, and an in-flight switchover as promoting', async () => {
      rdsMock.on(DescribeGlobalClustersCommand).resolves({
        GlobalClusters: [{ GlobalClusterMembers: [{ DBClusterArn: CLUSTER_ARN, IsWriter: true }] }],
      });
      expect(
        (
          await assessFailover(
            deps(),
            policy,
            { ...billing, planned: false, force: false },
            'fo',
            NOW,
          )
        ).promotion,
      ).toBe('promoted');
      rdsMock.on(DescribeGlobalClustersCommand).resolves({
        GlobalClusters: [
          {
            GlobalClusterMembers: [{ DBClusterArn: CLUSTER_ARN, IsWriter: false }],
            FailoverState: { Status: 'failing-over', ToDbClusterArn: CLUSTER_ARN },
          },
        ],
      });
      expect(
        (
          await assessFailover(
            deps(),
            policy,
            { ...billing, planned: false, force: false },
            'fo',
            NOW,
          )
        ).promotion,
      ).toBe('promoting');
    });

    it('fails when the secondary is not a member of the global database', async () => {
      rdsMock
        .on(DescribeGlobalClustersCommand)
        .resolves({ GlobalClusters: [{ GlobalClusterMembers: [] }] });
      await expect(preflightFailover(deps(), policy, billing, 'fo', NOW)).rejects.toThrow(
        'replicating: billing-dr is not a member of global database billing-global',
      );
    });
  });

  it('rejects an input without a confirmation, naming the field', async () => {
    await expect(
      preflightFailover(deps(), policy, { target: 'orders-db' }, 'fo', NOW),
    ).rejects.toThrow('invalid event: confirm: is required');
    expect(rdsMock.calls()).toHaveLength(0);
  });
});

describe('watching the promotion', () => {
  const input = {
    kind: 'replica',
    drDatabase: 'orders-db-dr',
    globalCluster: null,
    drClusterArn: null,
    count: 0,
    maxPolls: 2,
  };

  it('is promoted once the instance is available without a source', async () => {
    replica({ DBInstanceStatus: 'modifying' });
    expect(await checkPromotion(rdsIn(DR), input, NOW)).toMatchObject({
      state: 'waiting',
      status: 'modifying, still a replica',
      count: 1,
    });
    replica({ ReadReplicaSourceDBInstanceIdentifier: undefined });
    expect(await checkPromotion(rdsIn(DR), { ...input, count: 1 }, NOW)).toMatchObject({
      state: 'promoted',
      endpoint: 'orders-db-dr.abc.eu-west-1.rds.amazonaws.com',
    });
  });

  it('times out at the last poll', async () => {
    replica({ DBInstanceStatus: 'modifying' });
    expect((await checkPromotion(rdsIn(DR), { ...input, count: 1 }, NOW)).state).toBe('timed-out');
  });

  it('waits for an Aurora switchover to finish', async () => {
    rdsMock
      .on(DescribeDBClustersCommand)
      .resolves({ DBClusters: [{ Status: 'available', Endpoint: 'billing-dr.cluster-abc' }] });
    rdsMock
      .on(DescribeGlobalClustersCommand)
      .resolvesOnce({
        GlobalClusters: [
          {
            GlobalClusterMembers: [{ DBClusterArn: CLUSTER_ARN, IsWriter: true }],
            FailoverState: { Status: 'failing-over' },
          },
        ],
      })
      .resolves({
        GlobalClusters: [{ GlobalClusterMembers: [{ DBClusterArn: CLUSTER_ARN, IsWriter: true }] }],
      });
    const global = {
      ...input,
      kind: 'global',
      drDatabase: 'billing-dr',
      globalCluster: 'billing-global',
      drClusterArn: CLUSTER_ARN,
      maxPolls: 5,
    };
    expect(await checkPromotion(rdsIn(DR), global, NOW)).toMatchObject({
      state: 'waiting',
      status: 'switchover failing-over',
    });
    expect(await checkPromotion(rdsIn(DR), global, NOW)).toMatchObject({
      state: 'promoted',
      endpoint: 'billing-dr.cluster-abc',
    });
  });
});

describe('verifying the DR endpoint', () => {
  const check = (probe: HttpProbe, verify: unknown) =>
    verifyHealth({ route53: clientIn(Route53Client, 'us-east-1'), probe }, { verify }, () => NOW);

  it('passes a healthy URL and raises FailoverUnhealthyError otherwise', async () => {
    await expect(check(probeAnswering(true), { url: 'http://dr/health' })).resolves.toEqual({
      healthy: true,
      detail: 'http://dr/health: HTTP 200',
      checkedAt: NOW.toISOString(),
    });
    await expect(check(probeAnswering(false), { url: 'http://dr/health' })).rejects.toThrow(
      new FailoverUnhealthyError('the DR endpoint is not healthy: http://dr/health: HTTP 503'),
    );
  });

  it('reads a Route 53 health check: healthy when most checkers see success', async () => {
    route53Mock.on(GetHealthCheckStatusCommand).resolves({
      HealthCheckObservations: [
        { StatusReport: { Status: 'Success: HTTP Status Code 200' } },
        { StatusReport: { Status: 'Success: HTTP Status Code 200' } },
      ],
    });
    await expect(
      check(probeAnswering(false), { route53HealthCheckId: 'hc-1' }),
    ).resolves.toMatchObject({
      detail: 'health check hc-1: 2 of 2 Route 53 checkers report success',
    });
  });
});

describe('the failover report', () => {
  const preflight = {
    failoverId: 'fo-1',
    policy: 'test-policy',
    target: 'orders-db',
    region: DR,
    kind: 'replica',
    planned: false,
    force: false,
    startedAt: NOW.toISOString(),
    drDatabase: 'orders-db-dr',
    promotion: 'replica',
    endpoint: 'orders-db-dr.abc',
    dns: { recordName: 'orders-db.db.example.internal', switched: false, current: 'orders-db.abc' },
    preconditions: [
      { name: 'lag', status: 'pass', detail: 'ReplicaLag 4s within the maximum of 60s' },
    ],
  };

  it('measures the RTO from the start to a healthy DR endpoint, step by step', () => {
    // Act
    const report = failoverReport(
      {
        preflight,
        promoteCall: { action: 'PromoteReadReplica' },
        promotion: {
          state: 'promoted',
          status: 'available',
          endpoint: 'orders-db-dr.abc',
          count: 4,
          observedAt: '2026-11-21T04:02:00.000Z',
        },
        dns: { changeId: 'C1' },
        dnsStatus: { status: 'INSYNC' },
        health: { healthy: true, detail: 'HTTP 200', checkedAt: '2026-11-21T04:03:30.000Z' },
      },
      new Date('2026-11-21T04:04:00Z'),
    );

    // Assess
    expect(report).toMatchObject({
      succeeded: true,
      rtoSeconds: 210,
      promotedAt: '2026-11-21T04:02:00.000Z',
    });
    expect(report.steps.map((s) => `${s.step}: ${s.outcome}`)).toEqual([
      'promote: done',
      'dns: done',
      'verify: done',
    ]);
    expect(failoverReportMarkdown(report)).toContain(
      '| promote | done | PromoteReadReplica of orders-db-dr: available after 4 poll(s) |',
    );
  });

  it('says how far a failed failover got', () => {
    const report = failoverReport(
      {
        preflight,
        promoteCall: { action: 'PromoteReadReplica' },
        promotion: {
          state: 'promoted',
          status: 'available',
          endpoint: 'orders-db-dr.abc',
          count: 1,
          observedAt: '2026-11-21T04:01:00.000Z',
        },
        error: {
          Error: 'Route53.InvalidChangeBatchException',
          Cause: 'RRSet of type CNAME conflicts',
        },
      },
      NOW,
    );
    expect(report).toMatchObject({
      succeeded: false,
      rtoSeconds: null,
      failure: 'Route53.InvalidChangeBatchException: RRSet of type CNAME conflicts',
    });
    expect(report.steps.map((s) => `${s.step}: ${s.outcome}`)).toEqual([
      'promote: done',
      'dns: failed',
      'verify: not reached',
    ]);
  });
});

describe('rebuilding the replica for failback', () => {
  const primary = rdsIn('eu-central-1');
  const dr = rdsIn(DR);
  const promoted = {
    DBInstanceIdentifier: 'orders-db-dr',
    DBInstanceArn: 'arn:aws:rds:eu-west-1:123456789012:db:orders-db-dr',
    DBInstanceClass: 'db.r6g.large',
    StorageEncrypted: true,
  };

  beforeEach(() => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-dr' })
      .resolves({ DBInstances: [promoted] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-failback' })
      .rejects(new DBInstanceNotFoundFault({ message: 'nf', $metadata: {} }));
    rdsMock
      .on(CreateDBInstanceReadReplicaCommand)
      .resolves({ DBInstance: { DBInstanceStatus: 'creating' } });
  });

  it('creates a read replica of the promoted instance in the old primary region', async () => {
    // Act
    const result = await rebuildReplica({ primary, dr }, policy, {
      target: 'orders-db',
      kmsKeyId: 'alias/rds-primary',
    });

    // Assess
    expect(result).toEqual({
      replicaId: 'orders-db-failback',
      region: 'eu-central-1',
      source: promoted.DBInstanceArn,
      status: 'creating',
    });
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBInstanceReadReplicaCommand, {
      DBInstanceIdentifier: 'orders-db-failback',
      SourceDBInstanceIdentifier: promoted.DBInstanceArn,
      DBInstanceClass: 'db.r6g.large',
      KmsKeyId: 'alias/rds-primary',
      PubliclyAccessible: false,
    });
  });

  it('refuses, creating nothing, when it cannot be done as asked', async () => {
    await expect(rebuildReplica({ primary, dr }, policy, { target: 'orders-db' })).rejects.toThrow(
      'orders-db-dr is encrypted: give --kms-key, a KMS key in eu-central-1 for the new replica',
    );
    await expect(rebuildReplica({ primary, dr }, policy, { target: 'billing' })).rejects.toThrow(
      RebuildReplicaError,
    );
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-dr' }).resolves({
      DBInstances: [{ ...promoted, ReadReplicaSourceDBInstanceIdentifier: 'orders-db' }],
    });
    await expect(
      rebuildReplica({ primary, dr }, policy, { target: 'orders-db', kmsKeyId: 'k' }),
    ).rejects.toThrow(
      'orders-db-dr in eu-west-1 is still a read replica: fail over first, then rebuild the replica',
    );
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-dr' })
      .resolves({ DBInstances: [promoted] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-failback' })
      .resolves({ DBInstances: [{}] });
    await expect(
      rebuildReplica({ primary, dr }, policy, { target: 'orders-db', kmsKeyId: 'k' }),
    ).rejects.toThrow(
      'a DB instance orders-db-failback already exists in eu-central-1; choose another name with --replica-id',
    );
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBInstanceReadReplicaCommand);
  });
});
