import { KMSClient } from '@aws-sdk/client-kms';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_PACE } from '../../local/aws/local-aws.js';
import {
  type DataEndpoint,
  restoredDataConnector,
  seedBucket,
  seedCredentials,
  seedLifeboatSnapshot,
} from '../../local/demo/recovery-seed.js';
import {
  seedCluster,
  seedDbNetwork,
  seedInstance,
  seedKeyAs,
  seedTopic,
} from '../../local/demo/seed.js';
import { type LocalMariadb, startLocalMariadb } from '../../local/mariadb/local-mariadb.js';
import {
  type LocalPostgres,
  type PgEndpoint,
  startLocalPostgres,
} from '../../local/postgres/local-postgres.js';
import {
  type RecoveryTaskDeps,
  runRecoveryLocally,
} from '../../local/step-functions/recovery-tasks.js';
import { createLocalAuthority, type LocalAuthority } from '../../local/tls/local-authority.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { keyBook } from '../../shared/aws/key-states.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { drillConnect } from '../../shared/drills/drill-connect.js';
import type { DrillReport } from '../../shared/drills/drill-report.js';
import { runJanitor } from '../../shared/drills/janitor.js';
import { slotOf } from '../../shared/naming/slot.js';
import { silentLog } from '../../shared/observability/job-log.js';
import { parsePolicyText } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { listManualSnapshots, listSharedSnapshots } from '../../shared/rds/snapshots.js';
import type { Target } from '../../shared/rds/targets.js';
import { sendToVault } from '../../shared/snapshots/vault-copies.js';
import { vaultAccountOf } from '../../shared/vault-account/vault-account.js';
import { useLocalAws } from '../support/local-aws.js';
import {
  type RecoverySeeds,
  recoveryPolicy,
  recoveryPolicyText,
} from '../support/recovery-policy.js';

// The restore-drill ASL file, run in-process against moto, with smoke checks against a real
// PostgreSQL and a real MariaDB that hold each snapshot's data, over TLS verified against a
// certificate authority made for the run (as a deployed drill verifies RDS's).

// At AWS's pace: the seeded snapshots take their time to become available, restores take
// theirs, and the machine's Wait states move the local AWS's clock on.
const aws = useLocalAws();
const waits = { clock: (seconds: number) => aws.aws.clock.advance(seconds) };
const REGION = 'eu-central-1';
const BUCKET = 'lb-recovery-test-reports';
const HOUR = 3_600_000;
let local: LocalPostgres;
let mariadb: LocalMariadb;
let authority: LocalAuthority;
let production: PgEndpoint;
const dataBySnapshot = new Map<string, DataEndpoint>();
let seeds: RecoverySeeds;
let topic: string;
let snapshotTime: Date;

// PGlite (where the machine has no PostgreSQL server) has no TLS.
const tls = () => (local.kind === 'postgresql' ? 'verify-full' : 'disable');
const policyWith = (minOrders: number, shopChecksEngine = 'mysql'): Policy =>
  recoveryPolicy({ ...seeds, minOrders, tls: tls(), shopChecksEngine });

const deps = (policy: Policy): RecoveryTaskDeps => ({
  policy,
  region: REGION,
  alertTopicArn: topic,
  reportBucket: BUCKET,
  connect: restoredDataConnector(REGION, dataBySnapshot, drillConnect([authority.caPem])),
  probe: async () => ({ healthy: true, detail: 'HTTP 200' }),
});

async function report(key: string): Promise<DrillReport> {
  const out = await clientIn(S3Client, REGION).send(
    new GetObjectCommand({ Bucket: BUCKET, Key: key }),
  );
  return JSON.parse(await (out.Body?.transformToString() ?? '')) as DrillReport;
}

const drillDatabases = async () => {
  const instances = await rdsIn(REGION).client.send(new DescribeDBInstancesCommand({}));
  const clusters = await rdsIn(REGION).client.send(new DescribeDBClustersCommand({}));
  return [
    ...(instances.DBInstances ?? []).map((d) => `${d.DBInstanceIdentifier}:${d.DBInstanceStatus}`),
    ...(clusters.DBClusters ?? []).map((c) => `${c.DBClusterIdentifier}:${c.Status}`),
  ].filter((id) => id.startsWith('lb-drill-'));
};

beforeAll(async () => {
  authority = createLocalAuthority();
  local = await startLocalPostgres({ tls: authority });
  mariadb = await startLocalMariadb({ tls: authority });
  const network = await seedDbNetwork(REGION, 'drill-subnets');
  seeds = { subnetGroup: network.subnetGroup, securityGroup: network.securityGroupId };
  const rds = rdsIn(REGION).client;
  await seedInstance(rds, 'orders-db');
  await seedCluster(rds, 'billing');
  topic = await seedTopic(REGION);
  await seedBucket(REGION, BUCKET);
  await seedCredentials(REGION, 'prod/orders-db/master', local);
  await seedCredentials(REGION, 'prod/billing/master', local);

  // Production data: 1,200 orders up to an hour ago; the snapshot is taken now.
  production = await local.create('orders_live');
  await local.query(
    production,
    'create table orders (id serial primary key, created_at timestamptz not null)',
  );
  await local.query(production, 'create table schema_migrations (version text primary key)');
  await local.query(production, "insert into schema_migrations values ('20261101')");
  await local.query(
    production,
    "insert into orders (created_at) select now() - interval '1 hour' - (n || ' minutes')::interval from generate_series(0, 1199) n",
  );
  snapshotTime = new Date();
  const orders = await seedLifeboatSnapshot(
    REGION,
    'recovery-test',
    'instance',
    'orders-db',
    slotOf(new Date(snapshotTime.getTime() - HOUR)),
    snapshotTime,
  );
  dataBySnapshot.set(orders, await local.snapshot(production, 'orders_snapshot'));
  // Orders that arrive after the snapshot: the drill must not find them.
  await local.query(
    production,
    'insert into orders (created_at) select now() from generate_series(1, 25)',
  );

  const billing = await local.create('billing_live');
  await local.query(billing, 'create table invoices (id serial primary key)');
  await local.query(billing, 'insert into invoices default values');
  const billingSnapshot = await seedLifeboatSnapshot(
    REGION,
    'recovery-test',
    'cluster',
    'billing',
    slotOf(new Date(snapshotTime.getTime() - HOUR)),
    snapshotTime,
  );
  dataBySnapshot.set(billingSnapshot, await local.snapshot(billing, 'billing_snapshot'));

  // A MySQL database: 40 carts, the newest updated two hours before the snapshot.
  await seedInstance(rds, 'shop-db', {}, 'mysql');
  await seedCredentials(REGION, 'prod/shop-db/master', mariadb);
  const shop = await mariadb.create('shop_live');
  await mariadb.query(
    shop,
    'create table carts (id int auto_increment primary key, updated_at datetime(3) not null)',
  );
  await mariadb.query(
    shop,
    'create table features (name varchar(64) primary key, enabled boolean)',
  );
  await mariadb.query(shop, "insert into features values ('checkout', true)");
  for (let n = 0; n < 40; n++) {
    await mariadb.query(shop, 'insert into carts (updated_at) values (?)', [
      new Date(snapshotTime.getTime() - 2 * HOUR - n * 60_000),
    ]);
  }
  const shopSnapshot = await seedLifeboatSnapshot(
    REGION,
    'recovery-test',
    'instance',
    'shop-db',
    slotOf(new Date(snapshotTime.getTime() - HOUR)),
    snapshotTime,
  );
  dataBySnapshot.set(shopSnapshot, await mariadb.snapshot(shop, 'shop_snapshot'));
  await mariadb.query(shop, 'insert into carts (updated_at) values (?)', [new Date()]);
  // The seeded snapshots become available (as a snapshot job's would, minutes later on AWS).
  await aws.aws.clock.advance(AWS_PACE.snapshot);
}, 120_000);

afterAll(async () => {
  await local?.stop();
  await mariadb?.stop();
  authority?.remove();
});

describe('restore drill against the local AWS and PostgreSQL', () => {
  it('restores the verified snapshot, proves the data, measures RPO from the newest restored row and tears down', async () => {
    // Act
    const run = await runRecoveryLocally(
      'restore-drill',
      { target: 'orders-db' },
      deps(policyWith(1000)),
      { waits },
    );

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    const output = run.output as { json: string; rpoSeconds: number };
    const stored = await report(output.json);
    expect(stored.checks).toEqual([
      { name: 'orders exist', passed: true, expected: 'at least 1000', value: '1200' },
      { name: 'schema migrated', passed: true, expected: 'true', value: true },
      expect.objectContaining({ name: 'freshness', passed: true }),
    ]);
    // The newest restored order is an hour old: the 25 orders after the snapshot are missing.
    expect(stored.rpoBasis).toBe('newest-row');
    expect(stored.rpoSeconds).toBeGreaterThanOrEqual(3600);
    expect(stored.rpoSeconds).toBeLessThan(3600 + 120);
    expect(stored.rtoSeconds).not.toBeNull();
    expect(stored.teardown).toMatchObject({ done: true });
    expect(await drillDatabases()).toEqual([]);
  });

  it('fails the drill when the data falls short, and still tears down', async () => {
    // Act
    const run = await runRecoveryLocally(
      'restore-drill',
      { target: 'orders-db' },
      deps(policyWith(5000)),
      { waits },
    );

    // Assess
    expect(run).toMatchObject({
      status: 'FAILED',
      error: 'DrillFailed',
      cause: 'smoke checks failed: orders exist',
    });
    expect(run.path).toContain('Teardown');
    expect(await drillDatabases()).toEqual([]);
  });

  it('restores an Aurora cluster snapshot, adds the instance, checks and deletes both', async () => {
    // Act
    const run = await runRecoveryLocally(
      'restore-drill',
      { target: 'billing' },
      deps(policyWith(1000)),
      { waits },
    );

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(
      expect.arrayContaining(['RestoreCluster', 'CreateClusterInstance', 'SmokeChecks']),
    );
    const stored = await report((run.output as { json: string }).json);
    expect(stored).toMatchObject({
      kind: 'cluster',
      rpoBasis: 'snapshot-time',
      teardown: { done: true },
    });
    expect(stored.teardown.deleted).toHaveLength(2);
    expect(await drillDatabases()).toEqual([]);
  });

  it('drills a MySQL database over verified TLS: its checks, and RPO from its newest row', async () => {
    // Act
    const run = await runRecoveryLocally(
      'restore-drill',
      { target: 'shop-db' },
      deps(policyWith(1)),
      { waits },
    );

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    const stored = await report((run.output as { json: string }).json);
    expect(stored.checks).toEqual([
      { name: 'carts exist', passed: true, expected: 'at least 10', value: 40 },
      { name: 'checkout enabled', passed: true, expected: 'true', value: 1 },
      expect.objectContaining({ name: 'freshness', passed: true }),
    ]);
    // The newest restored cart is two hours older than the snapshot.
    expect(stored.rpoBasis).toBe('newest-row');
    expect(stored.rpoSeconds).toBeGreaterThanOrEqual(2 * 3600);
    expect(stored.rpoSeconds).toBeLessThan(2 * 3600 + 300);
    expect(stored.teardown).toMatchObject({ done: true });
    expect(await drillDatabases()).toEqual([]);
  });

  it('fails a drill whose checks are written for another engine than the restored database runs, and tears down', async () => {
    // Act
    const run = await runRecoveryLocally(
      'restore-drill',
      { target: 'shop-db' },
      // The policy does not say which engine shop-db runs: only the drill can find out.
      deps(
        parsePolicyText(
          recoveryPolicyText({ ...seeds, tls: tls(), shopChecksEngine: 'postgres' }).replace(
            '    identifier: shop-db\n    engine: mysql\n',
            '    identifier: shop-db\n',
          ),
          'recovery.policy.yml',
        ),
      ),
      { waits },
    );

    // Assess
    expect(run).toMatchObject({ status: 'FAILED' });
    expect(run.path).toEqual(expect.arrayContaining(['SmokeChecks', 'Teardown', 'Report']));
    const cause = JSON.stringify(run);
    expect(cause).toContain(
      'the checks are written for postgres (PostgreSQL), but the restored database runs mysql (MySQL/MariaDB)',
    );
    expect(await drillDatabases()).toEqual([]);
  });

  it('fails before creating anything when there is no restore point', async () => {
    // Act
    const run = await runRecoveryLocally(
      'restore-drill',
      { target: 'orders-db', snapshotId: 'no-such-snapshot' },
      deps(policyWith(1)),
      { waits },
    );

    // Assess
    expect(run).toMatchObject({
      status: 'FAILED',
      error: 'NoRestorePointError',
      path: ['Plan', 'NotStarted'],
    });
  });
});

describe('the janitor against the local AWS', () => {
  it('deletes what a failed drill left behind, and nothing without the drill tag', async () => {
    // Arrange
    const rds = rdsIn(REGION).client;
    const leftover = (id: string, tags: Record<string, string>) => seedInstance(rds, id, tags);
    const old = new Date(Date.now() - 3 * 24 * HOUR).toISOString();
    await leftover('lb-drill-orders-db-old', {
      'lifeboat:drill': 'lb-drill-orders-db-old',
      'lifeboat:policy': 'recovery-test',
      'lifeboat:drill-started': old,
    });
    await leftover('lb-drill-orders-db-now', {
      'lifeboat:drill': 'lb-drill-orders-db-now',
      'lifeboat:policy': 'recovery-test',
      'lifeboat:drill-started': new Date().toISOString(),
    });
    await leftover('lb-drill-lookalike', { 'lifeboat:policy': 'recovery-test' });

    // Act
    const result = await runJanitor(
      { rds: rdsIn(REGION), log: silentLog },
      policyWith(1),
      new Date(),
    );

    // Assess
    expect(result.deleted.map((l) => l.id)).toEqual(['lb-drill-orders-db-old']);
    expect(result.spared.map((l) => l.id)).toEqual(['lb-drill-orders-db-now']);
    const left = (await rds.send(new DescribeDBInstancesCommand({}))).DBInstances?.map(
      (d) => d.DBInstanceIdentifier,
    );
    expect(left).toEqual(
      expect.arrayContaining(['orders-db', 'lb-drill-orders-db-now', 'lb-drill-lookalike']),
    );
    expect(left).not.toContain('lb-drill-orders-db-old');
  });
});

describe('restore drill of the vault account’s copy, against the local AWS', () => {
  it('shares the copy for the drill, restores it here by its ARN, proves it, then unshares it', async () => {
    // Prepare: orders-db's snapshot sent to a vault account, with the same data
    const vaultRole = 'arn:aws:iam::444455556666:role/lifeboat-vault-123456789012-test';
    const vaultPolicy = {
      account: '444455556666',
      region: REGION,
      kmsKeyArn: await seedKeyAs(vaultRole, REGION),
      roleArn: vaultRole,
      copyCaps: { instance: 20, cluster: 5 },
      quotas: { instanceSnapshots: 100, clusterSnapshots: 100 },
    };
    const vault = vaultAccountOf(vaultPolicy, REGION, 'test');
    const sources = (await listManualSnapshots(rdsIn(REGION))).filter(
      (s) => s.database === 'orders-db',
    );
    const sent = await sendToVault(
      {
        source: rdsIn(REGION),
        keys: keyBook((region) => clientIn(KMSClient, region), REGION, silentLog),
        vault,
        limiter: new RateLimiter({ perSecond: 100, burst: 10 }),
        log: silentLog,
      },
      { name: 'recovery-test', vault: vaultPolicy },
      '123456789012',
      [{ kind: 'instance', identifier: 'orders-db', arn: '', engine: 'postgres' } as Target],
      sources,
    );
    expect(sent.failures).toEqual([]);
    // The vault's copy takes its time; the vault account's own runs would end the share after.
    await aws.aws.clock.advance(AWS_PACE.copy);
    const copy = sent.outcomes[0]?.vaultSnapshotId ?? '';
    dataBySnapshot.set(copy, dataBySnapshot.get(sources[0]?.id ?? '') as DataEndpoint);
    const base = policyWith(1000);
    const policy: Policy = {
      ...base,
      vault: vaultPolicy,
      drills: { ...(base.drills as NonNullable<Policy['drills']>), site: 'vault' },
    };

    const before = await drillDatabases();

    // Act
    const run = await runRecoveryLocally('restore-drill', { target: 'orders-db' }, deps(policy), {
      waits,
    });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    const stored = await report((run.output as { json: string }).json);
    expect(stored.snapshot.id).toBe(copy);
    expect(stored.vaultCopy).toEqual({
      account: '444455556666',
      snapshotId: copy,
      shareEnded: true,
      error: null,
    });
    expect(stored.checks.every((c) => c.passed)).toBe(true);
    expect(await listSharedSnapshots(rdsIn(REGION))).toEqual([]);
    expect(await drillDatabases()).toEqual(before);
  });
});
