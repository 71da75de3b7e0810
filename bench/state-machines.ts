import { type HealthServer, startHealthServer } from '../local/demo/health-server.js';
import {
  type DataEndpoint,
  endpointOf,
  pointRecord,
  reportReplicaLag,
  restoredDataConnector,
  seedBucket,
  seedCredentials,
  seedLifeboatSnapshot,
  seedReplica,
  seedZone,
} from '../local/demo/recovery-seed.js';
import { seedDbNetwork, seedInstance, seedTopic } from '../local/demo/seed.js';
import { type LocalMariadb, startLocalMariadb } from '../local/mariadb/local-mariadb.js';
import { type LocalPostgres, startLocalPostgres } from '../local/postgres/local-postgres.js';
import type { LambdaTask, LocalExecution } from '../local/step-functions/local-state-machine.js';
import {
  type RecoveryTaskDeps,
  recoveryTasks,
  runRecoveryLocally,
} from '../local/step-functions/recovery-tasks.js';
import { createLocalAuthority } from '../local/tls/local-authority.js';
import { rdsIn } from '../shared/aws/clients.js';
import { drillConnect } from '../shared/drills/drill-connect.js';
import { slotOf } from '../shared/naming/slot.js';
import { parsePolicyText } from '../shared/policy/policy-file.js';
import type { Policy } from '../shared/policy/schema.js';
import { benchAws, median, verdict } from './measure.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const RUNS = 5;
const SLOW_POLLS = 10;

function benchPolicy(
  securityGroup: string,
  zone: string,
  health: HealthServer,
  tls: 'verify-full' | 'disable',
): Policy {
  return parsePolicyText(
    `version: 1
name: bench
timeZone: UTC
regions: { primary: ${PRIMARY}, dr: ${DR} }
targets:
  - { kind: rds-instance, identifier: orders-db }
  - { kind: rds-instance, identifier: shop-db, engine: mysql }
snapshots:
  schedule: cron(0 3 * * ? *)
  drKmsKeyArn: arn:aws:kms:${DR}:123456789012:key/11111111-2222-3333-4444-555555555555
retention: { schedule: cron(30 4 * * ? *), primary: { daily: 7 }, dr: { daily: 7 } }
drills:
  pollSeconds: 30
  timeout: 1h
  tls: ${tls}
  network: { subnetGroup: bench-private, securityGroupIds: [${securityGroup}] }
  databases:
    orders-db:
      database: orders
      credentialsSecret: bench/orders-db
      checks:
        - { name: orders exist, sql: select count(*) from orders, atLeast: 1000 }
        - { name: no orphans, sql: select count(*) = 0 from orders where customer is null, isTrue: true }
        - { name: migrated, sql: "select exists (select 1 from schema_migrations)", isTrue: true }
      freshness: select max(created_at) from orders
    shop-db:
      database: shop
      credentialsSecret: bench/shop-db
      engine: mysql
      checks:
        - { name: orders exist, sql: select count(*) from orders, atLeast: 1000 }
        - { name: no orphans, sql: select count(*) = 0 from orders where customer is null, isTrue: true }
        - { name: migrated, sql: "select exists (select 1 from schema_migrations)", isTrue: true }
      freshness: select max(created_at) from orders
failover:
  pollSeconds: 30
  databases:
    orders-db:
      replica: orders-db-dr
      dns: { hostedZoneId: ${zone}, recordName: orders-db.db.bench.internal }
      primaryHealth: { url: "${health.url('/primary')}" }
      verify: { url: "${health.url('/dr')}" }
`,
    'bench policy',
  );
}

/** A task that answers `waiting` the first `n` times, then does what the real task does. */
function slowFirst(n: number, real: LambdaTask, waiting: (input: unknown) => unknown): LambdaTask {
  let calls = 0;
  return async (input) => {
    calls++;
    return calls <= n ? waiting(input) : real(input);
  };
}

/** Milliseconds from entering `state` (its last time) to entering the final state. */
function after(execution: LocalExecution, state: string): number {
  const i = execution.path.lastIndexOf(state);
  return (execution.enteredAt.at(-1) ?? 0) - (execution.enteredAt[i] ?? 0);
}

/**
 * Both state machines from their ASL files against moto, with smoke checks on a local
 * PostgreSQL and waits time-accelerated: state transitions per run and per poll, the
 * orchestration overhead once the database is ready, and the largest state payload.
 */
export async function benchStateMachines(): Promise<string[]> {
  const aws = await benchAws(PRIMARY);
  let postgres: LocalPostgres | undefined;
  let mariadb: LocalMariadb | undefined;
  const authority = createLocalAuthority();
  const health = await startHealthServer();
  try {
    postgres = await startLocalPostgres({ tls: authority });
    mariadb = await startLocalMariadb({ tls: authority });
    const network = await seedDbNetwork(PRIMARY, 'bench-private');
    const zone = await seedZone('db.bench.internal');
    // Both engines over TLS that proves the server (PGlite, without server binaries, has none).
    const tls = postgres.kind === 'postgresql' ? 'verify-full' : 'disable';
    const policy = benchPolicy(network.securityGroupId, zone, health, tls);
    const rds = rdsIn(PRIMARY).client;
    await seedInstance(rds, 'orders-db');
    const production = await postgres.create('orders');
    await postgres.query(
      production,
      'create table schema_migrations (version text); insert into schema_migrations values (1)',
    );
    await postgres.query(
      production,
      'create table orders (id serial, customer text, created_at timestamptz)',
    );
    await postgres.query(
      production,
      "insert into orders (customer, created_at) select 'c', now() - n * interval '1 minute' from generate_series(1, 5000) n",
    );
    const snapshot = await seedLifeboatSnapshot(
      PRIMARY,
      'bench',
      'instance',
      'orders-db',
      slotOf(new Date()),
      new Date(),
    );
    const data = new Map<string, DataEndpoint>([
      [snapshot, await postgres.snapshot(production, 'orders_snapshot')],
    ]);
    await seedCredentials(PRIMARY, 'bench/orders-db', postgres);

    // The same data in MariaDB, behind a MySQL instance.
    await seedInstance(rds, 'shop-db', {}, 'mysql');
    const shop = await mariadb.create('shop');
    await mariadb.query(shop, 'create table schema_migrations (version int)');
    await mariadb.query(shop, 'insert into schema_migrations values (1)');
    await mariadb.query(
      shop,
      'create table orders (id int auto_increment primary key, customer text, created_at datetime(3))',
    );
    await mariadb.query(
      shop,
      "insert into orders (customer, created_at) select 'c', utc_timestamp(3) - interval seq minute from seq_1_to_5000",
    );
    const shopSnapshot = await seedLifeboatSnapshot(
      PRIMARY,
      'bench',
      'instance',
      'shop-db',
      slotOf(new Date()),
      new Date(),
    );
    data.set(shopSnapshot, await mariadb.snapshot(shop, 'shop_snapshot'));
    await seedCredentials(PRIMARY, 'bench/shop-db', mariadb);

    const drillDeps: RecoveryTaskDeps = {
      policy,
      region: PRIMARY,
      alertTopicArn: await seedTopic(PRIMARY),
      reportBucket: 'bench-reports-primary',
      connect: restoredDataConnector(PRIMARY, data, drillConnect([authority.caPem])),
    };
    await seedBucket(PRIMARY, drillDeps.reportBucket);

    const drills: LocalExecution[] = [];
    for (let i = 0; i < RUNS; i++) {
      drills.push(
        await runRecoveryLocally('restore-drill', { target: 'orders-db' }, drillDeps, {
          waits: 'instant',
          executionName: `bench-${i}`,
        }),
      );
    }
    const mysqlDrills: LocalExecution[] = [];
    for (let i = 0; i < RUNS; i++) {
      mysqlDrills.push(
        await runRecoveryLocally('restore-drill', { target: 'shop-db' }, drillDeps, {
          waits: 'instant',
          executionName: `bench-shop-${i}`,
        }),
      );
    }
    const realPoll = (await recoveryTasks('restore-drill', drillDeps)).drillPoll as LambdaTask;
    const slow = await runRecoveryLocally('restore-drill', { target: 'orders-db' }, drillDeps, {
      waits: 'instant',
      executionName: 'bench-slow',
      lambdas: {
        drillPoll: slowFirst(SLOW_POLLS - 1, realPoll, (input) => ({
          count: (input as { count: number }).count + 1,
          state: 'waiting',
          status: 'creating',
          address: null,
          port: null,
          observedAt: new Date().toISOString(),
        })),
      },
    });

    // Failover: the replica, its record, its lag, and healthy endpoints.
    await seedReplica(PRIMARY, DR, 'orders-db', 'orders-db-dr');
    const failoverDeps: RecoveryTaskDeps = {
      ...drillDeps,
      region: DR,
      alertTopicArn: await seedTopic(DR),
      reportBucket: 'bench-reports-dr',
    };
    await seedBucket(DR, failoverDeps.reportBucket);
    const failovers: LocalExecution[] = [];
    const primaryEndpoint = await endpointOf(PRIMARY, 'orders-db');
    for (let i = 0; i < RUNS; i++) {
      // Each run starts from a replica: a fresh one, its record back on the primary.
      const replica = `orders-db-dr${i === 0 ? '' : `-${i}`}`;
      if (i > 0) await seedReplica(PRIMARY, DR, 'orders-db', replica);
      await pointRecord(zone, 'orders-db.db.bench.internal', primaryEndpoint);
      await reportReplicaLag(DR, replica, 2, new Date(Date.now() - 30_000));
      const runPolicy = structuredClone(policy);
      const entry = runPolicy.failover?.databases['orders-db'];
      if (entry) entry.replica = replica;
      failovers.push(
        await runRecoveryLocally(
          'regional-failover',
          { target: 'orders-db', confirm: `failover orders-db to ${DR}`, planned: true },
          { ...failoverDeps, policy: runPolicy },
          { waits: 'instant', executionName: `bench-failover-${i}` },
        ),
      );
    }

    const drill = drills[0] as LocalExecution;
    const failover = failovers[0] as LocalExecution;
    const polls = (e: LocalExecution, state: string) => e.path.filter((s) => s === state).length;
    const budget = (base: number, e: LocalExecution, state: string) => base + 3 * polls(e, state);
    const overhead = median(drills.map((e) => after(e, 'RestoreState')));
    const mysqlOverhead = median(mysqlDrills.map((e) => after(e, 'RestoreState')));
    const failoverOverhead = median(failovers.map((e) => after(e, 'PromotionState')));
    const pollMs = policy.drills?.pollSeconds ?? 30;
    const failed = [...drills, ...mysqlDrills, slow, ...failovers].filter(
      (e) => e.status !== 'SUCCEEDED',
    );
    return [
      `State machines (ASL files run in-process against moto; smoke checks on ${postgres.kind === 'postgresql' ? 'PostgreSQL 15' : 'PGlite'} and MariaDB ${mariadb.version.split('-')[0]}, TLS ${tls}; waits time-accelerated)`,
      `  restore-drill:     ${drill.transitions} transitions with ${polls(drill, 'PollRestore')} poll: ${verdict(drill.transitions, budget(60, drill, 'PollRestore'), '', 0)}`,
      `  restore-drill:     ${slow.transitions} transitions with ${polls(slow, 'PollRestore')} polls: ${verdict(slow.transitions, budget(60, slow, 'PollRestore'), '', 0)}`,
      `  regional-failover: ${failover.transitions} transitions with ${polls(failover, 'CheckPromotion')} poll: ${verdict(failover.transitions, budget(40, failover, 'CheckPromotion'), '', 0)}`,
      `  drill overhead once available (smoke checks, teardown, report; median of ${RUNS}), per engine:`,
      `    PostgreSQL     ${verdict(overhead / 1000, pollMs, ' s', 3)} (one poll interval)`,
      `    MySQL/MariaDB  ${verdict(mysqlOverhead / 1000, pollMs, ' s', 3)} (one poll interval)`,
      `  failover overhead once promoted (DNS switch, health, report; median of ${RUNS}): ${verdict(failoverOverhead / 1000, policy.failover?.pollSeconds ?? 30, ' s', 3)} (one poll interval)`,
      `  largest state payload: drill ${slow.largestPayloadBytes} B, failover ${failover.largestPayloadBytes} B: ${verdict(Math.max(slow.largestPayloadBytes, failover.largestPayloadBytes) / 1024, 32, ' KB', 1)} (Step Functions allows 256 KB)`,
      ...(failed.length > 0
        ? [
            `  NOTE: ${failed.length} run(s) did not succeed: ${failed.map((e) => `${e.error}: ${e.cause}`).join('; ')}`,
          ]
        : []),
    ];
  } finally {
    await health.stop();
    await postgres?.stop();
    await mariadb?.stop();
    await aws.stop();
    authority.remove();
  }
}
