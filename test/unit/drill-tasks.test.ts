import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBClusterStateFault,
  InvalidDBInstanceStateFault,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import { DrillConfigError, NoRestorePointError } from '../../shared/drills/drill-errors.js';
import { planDrill, startDrill } from '../../shared/drills/drill-plan.js';
import { runJanitor } from '../../shared/drills/janitor.js';
import { pollRestore } from '../../shared/drills/restore-poll.js';
import { NotThisDrillError, tearDownDrill } from '../../shared/drills/teardown.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { InvalidEventError } from '../../shared/validation/parse-event.js';
import { fixturePolicy } from '../support/policy.js';
import { instanceSnapshot, lifeboatTags } from '../support/rds-world.js';

const REGION = 'eu-central-1';
const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:lifeboat-alerts';
const NOW = new Date('2026-11-21T04:00:00Z');
const policy = fixturePolicy();
const rdsMock = mockClient(RDSClient);
const rds = rdsIn(REGION);

const fault = <E>(Fault: new (o: { message: string; $metadata: object }) => E) =>
  new Fault({ message: 'scripted', $metadata: {} });

beforeEach(() => {
  rdsMock.reset();
  rdsMock.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
});

function snapshots(...days: [day: number, verified: boolean][]) {
  rdsMock.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: days.map(([day, verified]) => {
      const slot = `202611${String(day).padStart(2, '0')}0300`;
      const tags = lifeboatTags('orders-db', slot);
      if (verified)
        tags.push({
          Key: 'lifeboat:verified-at',
          Value: `2026-11-${String(day).padStart(2, '0')}T06:00:00Z`,
        });
      return instanceSnapshot(`lifeboat-orders-db-${slot}`, REGION, 'orders-db', { TagList: tags });
    }),
  });
}

describe('planning a drill', () => {
  it('picks the newest verified restore point and names the drill database after the target and time', async () => {
    // Arrange
    snapshots([18, true], [19, true], [20, false]);

    // Act
    const plan = await planDrill(
      { rds, alertTopicArn: TOPIC },
      policy,
      { target: 'orders-db' },
      NOW,
    );

    // Assess
    expect(plan).toMatchObject({
      drillId: 'lb-drill-orders-db-261121040000',
      instanceId: 'lb-drill-orders-db-261121040000',
      clusterId: null,
      kind: 'instance',
      snapshot: { id: 'lifeboat-orders-db-202611190300', verifiedAt: '2026-11-19T06:00:00.000Z' },
      instanceClass: 'db.t4g.medium',
      network: { subnetGroup: 'private-db', securityGroupIds: ['sg-0a1b2c3d4e5f60718'] },
      pollSeconds: 60,
      maxPolls: 120,
      alertTopicArn: TOPIC,
      check: { database: 'orders', credentialsSecret: 'prod/orders-db/master', tls: 'verify-full' },
    });
    expect(plan.tags).toEqual(
      expect.arrayContaining([
        { Key: 'lifeboat:drill', Value: 'lb-drill-orders-db-261121040000' },
        { Key: 'lifeboat:policy', Value: 'test-policy' },
        { Key: 'lifeboat:drill-started', Value: NOW.toISOString() },
        { Key: 'lifeboat:restored-from', Value: 'lifeboat-orders-db-202611190300' },
      ]),
    );
  });

  it('picks a random restore point within the window when asked', async () => {
    // Arrange
    snapshots([1, false], [18, false], [20, false]);

    // Act
    const first = await planDrill(
      { rds, alertTopicArn: TOPIC, random: () => 0 },
      policy,
      { target: 'orders-db', pick: 'random' },
      NOW,
    );
    const last = await planDrill(
      { rds, alertTopicArn: TOPIC, random: () => 0.999 },
      policy,
      { target: 'orders-db', pick: 'random' },
      NOW,
    );

    // Assess
    expect(first.snapshot.id).toBe('lifeboat-orders-db-202611200300');
    // Within the default 30 days: November 1st qualifies, the oldest.
    expect(last.snapshot.id).toBe('lifeboat-orders-db-202611010300');
  });

  it('uses the snapshot named in the input', async () => {
    // Arrange
    snapshots([18, false], [20, true]);

    // Act
    const plan = await planDrill(
      { rds, alertTopicArn: TOPIC },
      policy,
      { target: 'orders-db', snapshotId: 'lifeboat-orders-db-202611180300' },
      NOW,
    );

    // Assess
    expect(plan.snapshot.id).toBe('lifeboat-orders-db-202611180300');
  });

  it('refuses without a verified restore point, saying what to do', async () => {
    // Arrange
    snapshots([20, false]);

    // Act
    const act = planDrill({ rds, alertTopicArn: TOPIC }, policy, { target: 'orders-db' }, NOW);

    // Assess
    await expect(act).rejects.toThrow(NoRestorePointError);
    await expect(act).rejects.toThrow(
      /no verified restore point of orders-db in eu-central-1: run lifeboat verify first, or drill with pick random/,
    );
  });

  it('refuses a snapshot that is not one of the target’s Lifeboat snapshots', async () => {
    snapshots([20, true]);
    await expect(
      planDrill(
        { rds, alertTopicArn: TOPIC },
        policy,
        { target: 'orders-db', snapshotId: 'someone-elses' },
        NOW,
      ),
    ).rejects.toThrow(
      'someone-elses is not an available Lifeboat snapshot of orders-db in eu-central-1',
    );
  });

  it('refuses a target the policy does not drill, and a policy without drills', async () => {
    await expect(
      planDrill({ rds, alertTopicArn: TOPIC }, policy, { target: 'scratch-db' }, NOW),
    ).rejects.toThrow(
      new DrillConfigError(
        'no drill is configured for scratch-db; the policy drills orders-db, billing',
      ),
    );
    const bare = { ...policy, drills: undefined } as Policy;
    await expect(
      planDrill({ rds, alertTopicArn: TOPIC }, bare, { target: 'orders-db' }, NOW),
    ).rejects.toThrow('policy test-policy has no drills section');
  });

  it('rejects a malformed input, naming the field, before calling AWS', async () => {
    // Act
    const act = startDrill({ rds, alertTopicArn: TOPIC }, policy, {
      input: { target: 'orders-db', pick: 'oldest' },
      startedAt: NOW.toISOString(),
    });

    // Assess
    await expect(act).rejects.toThrow(InvalidEventError);
    await expect(act).rejects.toThrow('pick: must be latest-verified, random or point-in-time');
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('starts the drill’s state with nothing torn down yet', async () => {
    // Arrange
    snapshots([20, true]);

    // Act
    const state = await startDrill({ rds, alertTopicArn: TOPIC }, policy, {
      input: { target: 'orders-db' },
      startedAt: NOW.toISOString(),
    });

    // Assess
    expect(state.input).toEqual({ target: 'orders-db' });
    expect(state.teardown).toEqual({
      done: false,
      deleted: [],
      gone: [],
      pending: [],
      attempts: 0,
    });
  });
});

describe('polling the restore', () => {
  const input = { instanceId: 'lb-drill-x', clusterId: null, count: 0, maxPolls: 3 };

  it('is available once the instance is, with its endpoint', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceStatus: 'available',
          Endpoint: { Address: 'lb-drill-x.abc.rds.amazonaws.com', Port: 5432 },
        },
      ],
    });
    await expect(pollRestore(rds, input, NOW)).resolves.toEqual({
      count: 1,
      state: 'available',
      status: 'available',
      address: 'lb-drill-x.abc.rds.amazonaws.com',
      port: 5432,
      observedAt: NOW.toISOString(),
    });
  });

  it('waits, then times out at the last poll', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceStatus: 'creating' }] });
    expect((await pollRestore(rds, input, NOW)).state).toBe('waiting');
    expect((await pollRestore(rds, { ...input, count: 2 }, NOW)).state).toBe('timed-out');
  });

  it('fails on statuses that never become available, and on a vanished database', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'incompatible-restore' }] })
      .rejects(fault(DBInstanceNotFoundFault));
    expect(await pollRestore(rds, input, NOW)).toMatchObject({
      state: 'failed',
      status: 'incompatible-restore',
    });
    expect(await pollRestore(rds, input, NOW)).toMatchObject({
      state: 'failed',
      status: 'not-found',
    });
  });

  it('needs both the Aurora cluster and its instance, and answers with the cluster endpoint', async () => {
    // Arrange
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    rdsMock
      .on(DescribeDBClustersCommand)
      .resolvesOnce({ DBClusters: [{ Status: 'creating' }] })
      .resolves({
        DBClusters: [
          { Status: 'available', Endpoint: 'lb-drill-c.cluster-abc.rds.amazonaws.com', Port: 5432 },
        ],
      });
    const clusterInput = { ...input, clusterId: 'lb-drill-c' };

    // Act + Assess
    expect(await pollRestore(rds, clusterInput, NOW)).toMatchObject({
      state: 'waiting',
      status: 'creating',
    });
    expect(await pollRestore(rds, clusterInput, NOW)).toMatchObject({
      state: 'available',
      address: 'lb-drill-c.cluster-abc.rds.amazonaws.com',
    });
  });

  it('lets other errors through, for the state machine to catch', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(new Error('AccessDenied'));
    await expect(pollRestore(rds, input, NOW)).rejects.toThrow('AccessDenied');
  });
});

describe('tearing a drill down', () => {
  const mine = [{ Key: 'lifeboat:drill', Value: 'lb-drill-x' }];
  const input = { drillId: 'lb-drill-x', instanceId: 'lb-drill-x', clusterId: null, attempts: 0 };

  it('deletes its own instance without a final snapshot or automated backups', async () => {
    // Arrange
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceStatus: 'available', TagList: mine }] });
    rdsMock.on(DeleteDBInstanceCommand).resolves({});

    // Act
    const result = await tearDownDrill(rds, input);

    // Assess
    expect(result).toEqual({
      done: true,
      deleted: ['lb-drill-x'],
      gone: [],
      pending: [],
      attempts: 1,
    });
    expect(rdsMock).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: 'lb-drill-x',
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });

  it('refuses to delete a database without this drill’s tag', async () => {
    // Arrange
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceStatus: 'available',
          TagList: [{ Key: 'lifeboat:drill', Value: 'lb-drill-other' }],
        },
      ],
    });

    // Act
    const act = tearDownDrill(rds, input);

    // Assess
    await expect(act).rejects.toThrow(NotThisDrillError);
    await expect(act).rejects.toThrow(
      'DB instance lb-drill-x is not drill lb-drill-x\'s (its lifeboat:drill tag is "lb-drill-other"); left alone',
    );
    expect(rdsMock).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('refuses to delete a database not named as a drill’s, whatever its tags', async () => {
    // Arrange: an input that names a production database, tagged to look like the drill's
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceStatus: 'available',
          TagList: [{ Key: 'lifeboat:drill', Value: 'lb-drill-x' }],
        },
      ],
    });

    // Act
    const act = tearDownDrill(rds, { ...input, instanceId: 'orders-db' });

    // Assess
    await expect(act).rejects.toThrow(
      'DB instance orders-db is not named as a drill database (lb-drill-*); left alone',
    );
    expect(rdsMock).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('counts what is gone or already deleting as done, and tries again what cannot be deleted yet', async () => {
    // Arrange
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'modifying', TagList: mine }] })
      .rejects(fault(DBInstanceNotFoundFault));
    rdsMock.on(DeleteDBInstanceCommand).rejects(fault(InvalidDBInstanceStateFault));

    // Act
    const first = await tearDownDrill(rds, input);
    const second = await tearDownDrill(rds, { ...input, attempts: 1 });

    // Assess
    expect(first).toMatchObject({ done: false, pending: ['lb-drill-x'], attempts: 1 });
    expect(second).toMatchObject({ done: true, gone: ['lb-drill-x'], attempts: 2 });
  });

  it('deletes an Aurora drill’s instance, then its cluster, keeping no backups', async () => {
    // Arrange
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceStatus: 'available', DBClusterIdentifier: 'lb-drill-x', TagList: mine },
      ],
    });
    rdsMock
      .on(DescribeDBClustersCommand)
      .resolves({ DBClusters: [{ Status: 'available', TagList: mine }] });
    rdsMock.on(DeleteDBInstanceCommand).resolves({});
    rdsMock.on(DeleteDBClusterCommand).resolves({});

    // Act
    const result = await tearDownDrill(rds, {
      ...input,
      instanceId: 'lb-drill-x-w',
      clusterId: 'lb-drill-x',
    });

    // Assess
    expect(result).toMatchObject({ done: true, deleted: ['lb-drill-x-w', 'lb-drill-x'] });
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'lb-drill-x-w',
      SkipFinalSnapshot: true,
    });
    expect(rdsMock).toHaveReceivedCommandWith(DeleteDBClusterCommand, {
      DBClusterIdentifier: 'lb-drill-x',
      SkipFinalSnapshot: true,
    });
  });

  it('leaves the cluster for the next attempt while RDS refuses to delete it yet', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(fault(DBInstanceNotFoundFault));
    rdsMock
      .on(DescribeDBClustersCommand)
      .resolves({ DBClusters: [{ Status: 'available', TagList: mine }] });
    rdsMock.on(DeleteDBClusterCommand).rejects(fault(InvalidDBClusterStateFault));
    expect(await tearDownDrill(rds, { ...input, clusterId: 'lb-drill-x' })).toMatchObject({
      done: false,
      gone: ['lb-drill-x'],
      pending: ['lb-drill-x'],
    });
    rdsMock.on(DescribeDBClustersCommand).rejects(fault(DBClusterNotFoundFault));
    expect(await tearDownDrill(rds, { ...input, clusterId: 'lb-drill-x' })).toMatchObject({
      done: true,
    });
  });
});

describe('the janitor', () => {
  const tags = (drillId: string, started: string, policyName = 'test-policy') => [
    { Key: 'lifeboat:drill', Value: drillId },
    { Key: 'lifeboat:policy', Value: policyName },
    { Key: 'lifeboat:drill-started', Value: started },
  ];

  it('deletes drill databases older than the limit, chosen by their drill name and tags only', async () => {
    // Arrange
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'lb-drill-old',
          DBInstanceStatus: 'available',
          TagList: tags('lb-drill-old', '2026-11-19T04:00:00Z'),
        },
        {
          DBInstanceIdentifier: 'lb-drill-running',
          DBInstanceStatus: 'available',
          TagList: tags('lb-drill-running', '2026-11-21T03:00:00Z'),
        },
        {
          DBInstanceIdentifier: 'lb-drill-theirs',
          DBInstanceStatus: 'available',
          TagList: tags('lb-drill-theirs', '2026-11-01T00:00:00Z', 'other-policy'),
        },
        {
          DBInstanceIdentifier: 'orders-db',
          DBInstanceStatus: 'available',
          InstanceCreateTime: new Date('2020-01-01'),
          TagList: [{ Key: 'lifeboat:policy', Value: 'test-policy' }],
        },
        {
          DBInstanceIdentifier: 'lb-drill-going',
          DBInstanceStatus: 'deleting',
          TagList: tags('lb-drill-going', '2026-11-01T00:00:00Z'),
        },
        {
          // Someone tagged a production database as a drill's: its name says otherwise.
          DBInstanceIdentifier: 'billing-replica',
          DBInstanceStatus: 'available',
          TagList: tags('billing-replica', '2026-11-01T00:00:00Z'),
        },
      ],
    });
    rdsMock.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'lb-drill-c',
          Status: 'available',
          TagList: tags('lb-drill-c', '2026-11-18T00:00:00Z'),
        },
      ],
    });
    rdsMock.on(DeleteDBInstanceCommand).resolves({});
    rdsMock.on(DeleteDBClusterCommand).resolves({});

    // Act
    const result = await runJanitor({ rds, log: silentLog }, policy, NOW);

    // Assess
    expect(result.deleted.map((l) => l.id)).toEqual(['lb-drill-old', 'lb-drill-c']);
    expect(result.spared.map((l) => l.id).sort()).toEqual(['lb-drill-going', 'lb-drill-running']);
    expect(
      rdsMock
        .commandCalls(DeleteDBInstanceCommand)
        .map((c) => c.args[0].input.DBInstanceIdentifier),
    ).toEqual(['lb-drill-old']);
    expect(result.failures).toEqual([]);
  });

  it('postpones what cannot be deleted yet and reports what fails, going on with the rest', async () => {
    // Arrange
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'lb-drill-a',
          DBInstanceStatus: 'modifying',
          TagList: tags('a', '2026-11-01T00:00:00Z'),
        },
        {
          DBInstanceIdentifier: 'lb-drill-b',
          DBInstanceStatus: 'available',
          TagList: tags('b', '2026-11-01T00:00:00Z'),
        },
        {
          DBInstanceIdentifier: 'lb-drill-c',
          DBInstanceStatus: 'available',
          TagList: tags('c', '2026-11-01T00:00:00Z'),
        },
      ],
    });
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    rdsMock
      .on(DeleteDBInstanceCommand)
      .rejectsOnce(fault(InvalidDBInstanceStateFault))
      .rejectsOnce(new Error('AccessDenied: not allowed'))
      .resolves({});

    // Act
    const result = await runJanitor({ rds, log: silentLog }, policy, NOW);

    // Assess
    expect(result.postponed.map((l) => l.id)).toEqual(['lb-drill-a']);
    expect(result.failures).toEqual([
      { subject: 'instance lb-drill-b', error: 'Error: AccessDenied: not allowed' },
    ]);
    expect(result.deleted.map((l) => l.id)).toEqual(['lb-drill-c']);
  });
});
