import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import { discoverTargets } from '../../shared/rds/targets.js';
import {
  cluster,
  emptyRegion,
  instance,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';

const REGION = 'eu-central-1';
let state: RegionState;
let rds: ReturnType<typeof simulateRegion>;

beforeEach(() => {
  state = emptyRegion();
  rds = simulateRegion(rdsIn(REGION).client, REGION, state);
});

describe('discoverTargets', () => {
  it('finds databases by identifier, case-insensitively, and by every tag given', async () => {
    // Prepare
    state.instances.push(
      instance('orders-db', REGION),
      instance('a', REGION, [
        { Key: 'backup', Value: 'lifeboat' },
        { Key: 'tier', Value: 'gold' },
      ]),
      instance('b', REGION, [{ Key: 'backup', Value: 'lifeboat' }]),
    );

    // Act
    const { targets, problems } = await discoverTargets(rdsIn(REGION), [
      { kind: 'rds-instance', identifier: 'ORDERS-DB' },
      { kind: 'rds-instance', tags: { backup: 'lifeboat', tier: 'gold' } },
    ]);

    // Assess
    expect(problems).toEqual([]);
    expect(targets.map((t) => t.identifier)).toEqual(['a', 'orders-db']);
  });

  it('names a database once, however many selectors match it', async () => {
    // Prepare
    state.instances.push(instance('orders-db', REGION, [{ Key: 'backup', Value: 'lifeboat' }]));

    // Act
    const { targets } = await discoverTargets(rdsIn(REGION), [
      { kind: 'rds-instance', identifier: 'orders-db' },
      { kind: 'rds-instance', tags: { backup: 'lifeboat' } },
    ]);

    // Assess
    expect(targets).toHaveLength(1);
  });

  it('refuses an Aurora member instance named directly, and skips it when tagged', async () => {
    // Prepare
    state.instances.push({
      ...instance('billing-1', REGION, [{ Key: 'backup', Value: 'lifeboat' }]),
      DBClusterIdentifier: 'billing',
    });

    // Act
    const { targets, problems } = await discoverTargets(rdsIn(REGION), [
      { kind: 'rds-instance', identifier: 'billing-1' },
      { kind: 'rds-instance', tags: { backup: 'lifeboat' } },
    ]);

    // Assess
    expect(targets).toEqual([]);
    expect(problems).toEqual([
      {
        kind: 'instance',
        identifier: 'billing-1',
        message:
          'billing-1 is an instance of the cluster billing: protect the cluster (kind: aurora-cluster)',
      },
      {
        kind: 'instance',
        byTags: true,
        identifier: 'tags backup=lifeboat',
        message:
          'no rds-instance in eu-central-1 carries the tags backup=lifeboat (allowEmpty: true on this target if that is expected)',
      },
    ]);
  });

  it('names tags that select no database, unless the policy expects that', async () => {
    // Act
    const strict = await discoverTargets(rdsIn(REGION), [
      { kind: 'aurora-cluster', tags: { tier: 'gold' } },
    ]);
    const expected = await discoverTargets(rdsIn(REGION), [
      { kind: 'aurora-cluster', tags: { tier: 'gold' }, allowEmpty: true },
    ]);

    // Assess
    expect(strict.problems).toEqual([
      {
        kind: 'cluster',
        byTags: true,
        identifier: 'tags tier=gold',
        message:
          'no aurora-cluster in eu-central-1 carries the tags tier=gold (allowEmpty: true on this target if that is expected)',
      },
    ]);
    expect(expected).toEqual({ targets: [], problems: [], unprotected: [] });
  });

  it('refuses clusters of other engines that share the RDS API', async () => {
    // Prepare
    state.clusters.push({ ...cluster('docs', REGION), Engine: 'docdb' });

    // Act
    const { problems } = await discoverTargets(rdsIn(REGION), [
      { kind: 'aurora-cluster', identifier: 'docs' },
    ]);

    // Assess
    expect(problems[0]?.message).toBe('docs runs docdb, which Lifeboat does not protect');
  });

  it('reads 250 instances in three describe calls and describes no clusters when none are asked for', async () => {
    // Prepare
    for (let i = 0; i < 250; i += 1)
      state.instances.push(instance(`db-${i}`, REGION, [{ Key: 'backup', Value: 'yes' }]));

    // Act
    const { targets } = await discoverTargets(rdsIn(REGION), [
      { kind: 'rds-instance', tags: { backup: 'yes' } },
    ]);

    // Assess
    expect(targets).toHaveLength(250);
    expect(rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 3);
    expect(rds.calls()).toHaveLength(3);
  });

  it('carries each database’s tier, its automated backups, and names the databases no target covers', async () => {
    // Prepare
    const restorable = new Date('2026-11-28T03:55:00Z');
    state.instances.push(
      {
        ...instance('orders-db', REGION),
        BackupRetentionPeriod: 7,
        LatestRestorableTime: restorable,
      },
      {
        ...instance('tagged', REGION, [{ Key: 'backup', Value: 'lifeboat' }]),
        BackupRetentionPeriod: 0,
      },
      instance('scratch-db', REGION),
    );
    state.clusters.push(cluster('billing', REGION));

    // Act
    const { targets, unprotected } = await discoverTargets(rdsIn(REGION), [
      { kind: 'rds-instance', identifier: 'orders-db', tier: 'critical' },
      { kind: 'rds-instance', tags: { backup: 'lifeboat' } },
    ]);

    // Assess
    expect(targets).toEqual([
      expect.objectContaining({
        identifier: 'orders-db',
        tier: 'critical',
        continuous: { retentionDays: 7, latestRestorableTime: restorable },
      }),
      expect.objectContaining({
        identifier: 'tagged',
        continuous: { retentionDays: 0, latestRestorableTime: undefined },
      }),
    ]);
    expect(targets[1]).not.toHaveProperty('tier');
    expect(unprotected).toEqual([{ kind: 'instance', identifier: 'scratch-db' }]);
  });
});
