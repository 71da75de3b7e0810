import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { preflightDeps } from '../../functions/failover-preflight.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { drillConnect } from '../../shared/drills/drill-connect.js';
import type { DrillInput, DrillPlan } from '../../shared/drills/drill-contract.js';
import { planDrill } from '../../shared/drills/drill-plan.js';
import {
  type DrillReport,
  drillOutcomeText,
  objectiveMissText,
} from '../../shared/drills/drill-report.js';
import { confirmationPhrase } from '../../shared/failover/failover-contract.js';
import type { FailoverReport } from '../../shared/failover/failover-report.js';
import { plannedSteps } from '../../shared/failover/failover-steps.js';
import { assessFailover } from '../../shared/failover/preflight.js';
import { backupBucketName } from '../../shared/naming/stack.js';
import type { Policy } from '../../shared/policy/schema.js';
import { duration } from '../../shared/reports/report-text.js';
import { type Io, line, table } from '../../terminal/output.js';
import type { LocalMariadb, MariadbEndpoint } from '../mariadb/local-mariadb.js';
import type { LocalPostgres, PgEndpoint } from '../postgres/local-postgres.js';
import { runRecoveryLocally } from '../step-functions/recovery-tasks.js';
import type { DemoContext } from './demo-context.js';
import type { HealthServer } from './health-server.js';
import {
  type DataEndpoint,
  endpointOf,
  pointRecord,
  recordValue,
  reportReplicaLag,
  restoredDataConnector,
  seedBucket,
  seedCredentials,
  seedReplica,
} from './recovery-seed.js';
import { seedTopic } from './seed.js';

const MINUTE = 60_000;
const TARGET = 'orders-db';
const SHOP = 'shop-db';

/** What the recovery demos need besides the account: a PostgreSQL, health endpoints, a zone. */
export interface RecoveryDemoContext extends DemoContext {
  readonly postgres: LocalPostgres;
  /** The MySQL-speaking server, where the machine has MariaDB. */
  readonly mariadb: LocalMariadb | undefined;
  /** Authorities the local servers' certificates come from, trusted beside RDS's. */
  readonly trustedAuthorities: readonly string[];
  readonly health: HealthServer;
  readonly zoneId: string;
}

async function readJson<T>(region: string, bucket: string, key: string): Promise<T> {
  const out = await clientIn(S3Client, region).send(
    new GetObjectCommand({ Bucket: bucket, Key: key }),
  );
  return JSON.parse(await (out.Body?.transformToString() ?? '{}')) as T;
}

/**
 * A restore drill with real smoke checks: orders-db's production data lives in a local
 * PostgreSQL; the restore point's data is a copy taken at the snapshot's time; orders written
 * after the snapshot exist only in production. The drill restores the snapshot in the local AWS,
 * checks the copy, and its RPO shows the orders it lost.
 */
export async function drillDemo(
  ctx: RecoveryDemoContext,
  now: Date,
): Promise<PgEndpoint | undefined> {
  const { policy, io, postgres } = ctx;
  const region = policy.regions.primary;
  const topic = await seedTopic(region, 'lifeboat-demo-alerts');
  await seedCredentials(region, 'demo/orders-db/master', postgres);
  const preview = await planDrill(
    { rds: rdsIn(region), alertTopicArn: topic },
    policy,
    { target: TARGET },
    now,
  );
  const snapshotTime = new Date(preview.snapshot.time);

  // Production: two weeks of orders up to the snapshot, then the orders written since.
  const production = await postgres.create('orders_production');
  await postgres.query(production, 'create table schema_migrations (version text primary key)');
  await postgres.query(production, "insert into schema_migrations values ('20261101')");
  await postgres.query(
    production,
    'create table orders (id bigserial primary key, customer text not null, created_at timestamptz not null)',
  );
  await postgres.query(
    production,
    `insert into orders (customer, created_at)
       select 'customer-' || (n % 97), $1::timestamptz - (n * interval '10 minutes') from generate_series(0, 2015) n`,
    [snapshotTime.toISOString()],
  );
  const atSnapshot = await postgres.snapshot(production, 'orders_at_snapshot');
  const later = Math.max(1, Math.floor((now.getTime() - snapshotTime.getTime()) / (10 * MINUTE)));
  await postgres.query(
    production,
    `insert into orders (customer, created_at)
       select 'customer-' || (n % 97), $1::timestamptz + (n * interval '10 minutes') from generate_series(1, $2::int) n`,
    [snapshotTime.toISOString(), later],
  );
  const count = async (at: PgEndpoint) =>
    (
      await postgres.query(at, 'select count(*)::int as n, max(created_at) as newest from orders')
    )[0] as { n: number; newest: Date };
  const live = await count(production);

  line(
    io.out,
    `Production orders-db (a local ${postgres.kind === 'postgresql' ? 'PostgreSQL 15 server' : 'PGlite database'}): ${live.n} orders, the newest at ${live.newest.toISOString()}`,
  );
  line(
    io.out,
    `Restore point: ${preview.snapshot.id}, taken ${preview.snapshot.time}, verified ${preview.snapshot.verifiedAt ?? 'never'}`,
  );
  line(io.out, `  ${later} orders were written after it: a restore cannot have them.`);
  line(io.out);

  const drilled = await runDemoDrill(ctx, TARGET, preview, atSnapshot, topic, now);
  if (!drilled) return production;
  const { report } = drilled;
  const restored = await count(atSnapshot);
  line(
    io.out,
    `Restored: ${restored.n} orders, the newest at ${restored.newest.toISOString()}; production has ${live.n - restored.n} more.`,
  );
  line(
    io.out,
    `  RPO ${duration(report.rpoSeconds)} (drill start minus the newest restored order): the ${later} orders since the snapshot are the loss a restore would mean.`,
  );
  printDrillEnd(ctx, drilled);
  return production;
}

/**
 * A point-in-time drill of orders-db: its continuous backups restored to their latest
 * restorable time. The restored data is production as of that instant, so the RPO is the
 * minutes since the newest order, not the hours since the snapshot.
 */
export async function pointInTimeDrillDemo(
  ctx: RecoveryDemoContext,
  production: PgEndpoint,
  now: Date,
): Promise<void> {
  const { policy, io, postgres } = ctx;
  const region = policy.regions.primary;
  const topic = await seedTopic(region, 'lifeboat-demo-alerts');
  const input = { target: TARGET, pick: 'point-in-time' as const };
  const preview = await planDrill({ rds: rdsIn(region), alertTopicArn: topic }, policy, input, now);
  const instant = preview.pointInTime?.time ?? preview.snapshot.time;
  // The data at the instant restored: production's orders up to it.
  const atInstant = await postgres.snapshot(production, 'orders_at_instant');
  await postgres.query(atInstant, 'delete from orders where created_at > $1::timestamptz', [
    instant,
  ]);
  line(
    io.out,
    `Restore point: orders-db's continuous backups (${policy.objectives?.tiers.critical?.continuousBackups?.retentionDays} days kept), at their latest restorable time ${instant}`,
  );
  line(io.out);
  const drilled = await runDemoDrill(ctx, TARGET, preview, atInstant, topic, now, input);
  if (!drilled) return;
  const { report } = drilled;
  line(
    io.out,
    `  RPO ${duration(report.rpoSeconds)} (drill start minus the newest restored order): minutes, where the snapshot drill lost hours`,
  );
  printDrillEnd(ctx, drilled);
}

/**
 * A restore drill of a MySQL database: shop-db's data lives in a local MariaDB (which speaks
 * MySQL's protocol and SQL), the restore point's a copy taken at the snapshot's time. The drill
 * connects over TLS and verifies the server's certificate (verify-full), runs MySQL checks, and
 * measures RPO from the newest restored cart.
 */
export async function mysqlDrillDemo(ctx: RecoveryDemoContext, now: Date): Promise<void> {
  const { policy, io, mariadb } = ctx;
  if (!mariadb) {
    line(
      io.out,
      'Skipped: no MariaDB server on this machine (apt-get install mariadb-server); the drill needs one to check MySQL data.',
    );
    return;
  }
  const region = policy.regions.primary;
  const topic = await seedTopic(region, 'lifeboat-demo-alerts');
  await seedCredentials(region, 'demo/shop-db/master', mariadb);
  const preview = await planDrill(
    { rds: rdsIn(region), alertTopicArn: topic },
    policy,
    { target: SHOP },
    now,
  );
  const snapshotTime = new Date(preview.snapshot.time);
  const production = await mariadb.create('shop_production');
  await mariadb.query(
    production,
    'create table carts (id bigint auto_increment primary key, updated_at datetime(3) not null)',
  );
  await mariadb.query(
    production,
    'create table features (name varchar(64) primary key, enabled boolean)',
  );
  await mariadb.query(production, "insert into features values ('checkout', true)");
  // A cart every 5 minutes for the day before the snapshot, then the carts since.
  const cartsAt = (from: Date, count: number, step: number) =>
    Array.from({ length: count }, (_, n) => [new Date(from.getTime() + n * step * MINUTE)]);
  await mariadb.query(production, 'insert into carts (updated_at) values ?', [
    cartsAt(new Date(snapshotTime.getTime() - 288 * 5 * MINUTE), 288, 5),
  ]);
  const atSnapshot = await mariadb.snapshot(production, 'shop_at_snapshot');
  const later = Math.max(1, Math.floor((now.getTime() - snapshotTime.getTime()) / (5 * MINUTE)));
  await mariadb.query(production, 'insert into carts (updated_at) values ?', [
    cartsAt(new Date(snapshotTime.getTime() + 5 * MINUTE), later, 5),
  ]);
  const count = async (at: MariadbEndpoint) =>
    (await mariadb.query(at, 'select count(*) as n, max(updated_at) as newest from carts'))[0] as {
      n: number;
      newest: Date;
    };
  const live = await count(production);
  line(
    io.out,
    `Production shop-db (MySQL; here MariaDB ${mariadb.version}): ${live.n} carts, the newest updated at ${live.newest.toISOString()}`,
  );
  line(
    io.out,
    `Restore point: ${preview.snapshot.id} (engine ${preview.engine}), taken ${preview.snapshot.time}; TLS ${policy.drills?.tls}`,
  );
  line(io.out);
  const drilled = await runDemoDrill(ctx, SHOP, preview, atSnapshot, topic, now);
  if (!drilled) return;
  const { report } = drilled;
  const restored = await count(atSnapshot);
  line(
    io.out,
    `Restored: ${restored.n} carts, the newest at ${restored.newest.toISOString()}; production has ${live.n - restored.n} more.`,
  );
  line(io.out, `  RPO ${duration(report.rpoSeconds)} (drill start minus the newest restored cart)`);
  printDrillEnd(ctx, drilled);
}

/**
 * Runs the restore-drill machine for a target whose restore point's data is at `data`, and
 * prints its path and checks; the report and where its Markdown is, or undefined (having
 * printed why) when there is none.
 */
export async function runDemoDrill(
  ctx: RecoveryDemoContext,
  target: string,
  plan: DrillPlan,
  data: DataEndpoint,
  topic: string,
  now: Date,
  input: DrillInput = { target },
  /** Where the drill runs: the primary region's stack (default), or the DR region's. */
  site: { readonly policy: Policy; readonly region: string; readonly bucket: string } = {
    policy: ctx.policy,
    region: ctx.policy.regions.primary,
    bucket: ctx.vault.bucket,
  },
): Promise<{ readonly report: DrillReport; readonly markdown: string } | undefined> {
  const { io } = ctx;
  const { policy, region, bucket } = site;
  const run = await runRecoveryLocally(
    'restore-drill',
    input,
    {
      policy,
      region,
      alertTopicArn: topic,
      reportBucket: bucket,
      ...(ctx.vault.drBucket && region === policy.regions.primary
        ? { reportCopy: { region: policy.regions.dr, bucket: ctx.vault.drBucket } }
        : {}),
      connect: restoredDataConnector(
        region,
        new Map([[plan.snapshot.id, data]]),
        drillConnect(ctx.trustedAuthorities),
      ),
    },
    {
      waits: { clock: ctx.clock },
      executionName: `drill-${target}-${plan.restore}-demo`,
      startTime: now,
      onStateEntered: (state) => ctx.progress.state(state),
    },
  );
  line(
    io.out,
    `restore-drill (state-machines/restore-drill.asl.yml, waits on the local AWS's clock): ${run.status} in ${run.transitions} state transitions`,
  );
  line(io.out, `  ${run.path.join(' > ')}`);
  // A drill that missed its objective fails its execution; its report is written all the same.
  const key = `drills/${policy.name}/${plan.drillId}/report`;
  const report = await readJson<DrillReport>(region, bucket, `${key}.json`).catch(() => undefined);
  if (!report) {
    line(io.out, `  ${run.error}: ${run.cause}`);
    return undefined;
  }
  line(
    io.out,
    table(
      ['CHECK', 'EXPECTED', 'VALUE', 'RESULT'],
      report.checks.map((c) => [
        c.name,
        c.expected,
        String(c.value ?? c.error),
        c.passed ? 'pass' : 'FAIL',
      ]),
    ),
  );
  const o = report.objectives;
  if (o) {
    line(
      io.out,
      `Outcome: ${drillOutcomeText(report)} against tier ${o.tier} (RTO ${duration(o.rtoSeconds)}: ${o.rtoMet === false ? 'missed' : 'met'}; RPO ${duration(o.rpoSeconds)}: ${o.rpoMet === false ? 'missed' : 'met'})`,
    );
    if (report.outcome === 'objective missed') line(io.out, `  ${objectiveMissText(report)}`);
  }
  return { report, markdown: `${key}.md` };
}

function printDrillEnd(
  ctx: RecoveryDemoContext,
  { report, markdown }: { readonly report: DrillReport; readonly markdown: string },
): void {
  const { io } = ctx;
  line(
    io.out,
    `  RTO ${duration(report.rtoSeconds)} here (the local AWS restores in seconds, its waits on its own clock; on AWS it is the restore's real time)`,
  );
  line(
    io.out,
    `  teardown: ${report.teardown.done ? `deleted ${report.teardown.deleted.join(', ')}` : `NOT done (${report.teardown.left.join(', ')})`}`,
  );
  line(
    io.out,
    `  report: s3://${ctx.vault.bucket}/${markdown}; DrillRTO, DrillRPO, DrillSucceeded${report.objectives ? ', DrillObjectiveMissed' : ''} metrics; one SNS summary`,
  );
}

/**
 * A planned failover: orders-db's read replica in the DR region is promoted, its record is
 * switched to the replica, and the DR health endpoint is checked. Then run again: everything is
 * already done, so it only verifies.
 */
export async function failoverDemo(ctx: RecoveryDemoContext): Promise<void> {
  const { policy, io, health, zoneId } = ctx;
  const dr = policy.regions.dr;
  const database = policy.failover?.databases[TARGET];
  if (!database) return;
  const record = database.dns.recordName;
  const primaryEndpoint = await endpointOf(policy.regions.primary, TARGET);
  await seedReplica(policy.regions.primary, dr, TARGET, database.replica ?? '');
  await pointRecord(zoneId, record, primaryEndpoint);
  await reportReplicaLag(dr, database.replica ?? '', 3, new Date(Date.now() - MINUTE / 2));
  const topic = await seedTopic(dr, 'lifeboat-demo-alerts');
  const bucket = backupBucketName(policy.name, ctx.account, dr);
  await seedBucket(dr, bucket);

  const deps = {
    policy,
    region: dr,
    alertTopicArn: topic,
    reportBucket: bucket,
  };
  const plan = await assessFailover(
    preflightDeps({ region: dr, standIns: {} }),
    policy,
    { target: TARGET, planned: true, force: false },
    'plan',
    new Date(),
  );
  line(io.out, `lifeboat failover plan --target ${TARGET} --planned:`);
  line(
    io.out,
    table(
      ['PRECONDITION', 'STATUS', 'DETAIL'],
      plan.preconditions.map((p) => [p.name, p.status.toUpperCase(), p.detail]),
    ),
  );
  for (const [i, step] of plannedSteps(plan).entries()) line(io.out, `  ${i + 1}. ${step}`);
  line(io.out);

  const input = { target: TARGET, confirm: confirmationPhrase(TARGET, dr), planned: true };
  line(io.out, `${record} -> ${await recordValue(zoneId, record)} before`);
  const run = await runRecoveryLocally('regional-failover', input, deps, {
    waits: { clock: ctx.clock },
    executionName: `failover-${TARGET}-demo`,
    onStateEntered: (state) => ctx.progress.state(state),
  });
  printFailover(io, run.status, run.transitions, run.path);
  const location = run.output as { json?: string; markdown?: string } | undefined;
  if (!location?.json) {
    line(io.out, `  ${run.error}: ${run.cause}`);
    return;
  }
  const report = await readJson<FailoverReport>(dr, bucket, location.json);
  line(io.out, `${record} -> ${await recordValue(zoneId, record)} after`);
  for (const step of report.steps) line(io.out, `  ${step.step}: ${step.outcome} (${step.detail})`);
  line(
    io.out,
    `  RTO ${duration(report.rtoSeconds)} here; report s3://${bucket}/${location.markdown}; FailoverRTO metric; one SNS summary`,
  );
  line(
    io.out,
    `  health checks: ${health.hits('/orders-dr/health')} request(s) to the DR endpoint`,
  );
  line(io.out);

  const again = await runRecoveryLocally('regional-failover', input, deps, {
    waits: { clock: ctx.clock },
    executionName: `failover-${TARGET}-demo-again`,
  });
  line(io.out, 'The same failover started again (as after a partial failure): nothing is redone');
  printFailover(io, again.status, again.transitions, again.path);
}

function printFailover(io: Io, status: string, transitions: number, path: readonly string[]) {
  line(
    io.out,
    `regional-failover (state-machines/regional-failover.asl.yml, waits on the local AWS's clock): ${status} in ${transitions} state transitions`,
  );
  line(io.out, `  ${path.join(' > ')}`);
}
