import { performance } from 'node:perf_hooks';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { definition as snapshotRds } from '../functions/snapshot-rds.js';
import { localPipeline } from '../local/aws/local-pipeline.js';
import {
  clientAs,
  seedInstance,
  seedKey,
  seedVault,
  seedVaultBucketAs,
} from '../local/demo/seed.js';
import { rdsIn } from '../shared/aws/clients.js';
import { RateLimiter } from '../shared/aws/rate-limiter.js';
import { localJobEnvironment } from '../shared/jobs/local-environment.js';
import { slotOf } from '../shared/naming/slot.js';
import { parsePolicyText } from '../shared/policy/policy-file.js';
import type { Policy } from '../shared/policy/schema.js';
import { isInProgress, type SnapshotRecord } from '../shared/rds/snapshots.js';
import type { Target } from '../shared/rds/targets.js';
import { planCopies } from '../shared/snapshots/snapshot-planner.js';
import { benchAws, countCalls, median } from './measure.js';

/**
 * The pipeline at AWS's pace, with time accelerated: the local AWS takes a snapshot in
 * SNAPSHOT_MINUTES and a copy in COPY_MINUTES of its clock (assumptions: an incremental snapshot
 * and copy of a modest database; a first full copy takes hours), RDS's caps refuse a copy past 20
 * in flight, and each invocation's paced calls are counted at the default 5 requests/s rather
 * than waited for; the clock is moved on by each invocation's modelled time. Then, for fleets
 * the local AWS is too slow to hold, a simulation of the same planner (planCopies) under the
 * same caps and durations.
 */

const ACCOUNT = '123456789012';
const VAULT = '444455556666';
const ROLE = `arn:aws:iam::${VAULT}:role/lifeboat-vault-writer`;
const VAULT_BUCKET = 'lifeboat-vault-bench-444455556666-eu-west-1';
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const SNAPSHOT_MINUTES = 10;
const COPY_MINUTES = 20;
const RATE = 5;
const BURST = 20;
const PASS_TIMEOUT = 300;

function policyFor(drKey: string, vaultKey?: string): Policy {
  const vault = vaultKey
    ? `vault:\n  account: "${VAULT}"\n  kmsKeyArn: ${vaultKey}\n  roleArn: ${ROLE}\n  bucket: ${VAULT_BUCKET}\n  quotas: { instanceSnapshots: 10000, clusterSnapshots: 1000 }\n`
    : '';
  return parsePolicyText(
    `version: 1
name: bench
timeZone: UTC
regions: { primary: ${PRIMARY}, dr: ${DR} }
targets:
  - kind: rds-instance
    tags: { fleet: bench }
snapshots:
  schedule: cron(0 3 * * ? *)
  drKmsKeyArn: ${drKey}
  quotas: { instanceSnapshots: 10000, clusterSnapshots: 1000 }
retention:
  schedule: cron(30 4 * * ? *)
  primary: { daily: 7 }
  dr: { daily: 3 }
${vault}`,
    'the bench policy',
  );
}

/**
 * A limiter that counts rather than waits: the first BURST calls go at once, the rest at RATE,
 * and `seconds` is how long the invocation would have paced them; past `deadlineSeconds` it
 * refuses, as the deployed limiter does at the invocation's deadline.
 */
class ModelledLimiter extends RateLimiter {
  calls = 0;
  constructor(deadlineSeconds: number) {
    super({
      perSecond: RATE,
      burst: BURST,
      now: () => 0,
      sleep: async () => {},
      deadline: deadlineSeconds * 1000,
    });
  }
  override async run<T>(call: () => Promise<T>): Promise<T> {
    const result = super.run(call);
    this.calls += 1;
    return result;
  }
  get seconds(): number {
    return Math.max(0, this.calls - BURST) / RATE;
  }
}

interface Measured {
  databases: number;
  drMinutes: number[];
  vaultMinutes: number[];
  callsPerDatabase: number;
  longestInvocationSeconds: number;
  passes: number;
}

async function measure(databases: number): Promise<Measured> {
  process.env.MOTO_RDS_SNAPSHOT_LIMIT = '10000';
  const aws = await benchAws(PRIMARY, {
    snapshot: SNAPSHOT_MINUTES * 60,
    copy: COPY_MINUTES * 60,
  });
  try {
    const vaultKms = await clientAs(`arn:aws:iam::${VAULT}:role/admin`, KMSClient, DR);
    const vaultKey =
      (await vaultKms.send(new CreateKeyCommand({ Description: 'bench vault key' }))).KeyMetadata
        ?.Arn ?? '';
    const policy = policyFor(await seedKey(DR), vaultKey);
    await seedVaultBucketAs(ROLE, DR, VAULT_BUCKET);
    const vault = await seedVault(policy, ACCOUNT);
    const primary = rdsIn(PRIMARY);
    for (let i = 0; i < databases; i += 1) {
      await seedInstance(primary.client, `db-${String(i).padStart(4, '0')}`, { fleet: 'bench' });
    }
    const vaultRds = await clientAs(`arn:aws:iam::${VAULT}:role/admin`, RDSClient, DR);
    const calls = countCalls([primary.client, rdsIn(DR).client, vaultRds]);
    const slot = slotOf(new Date(Date.UTC(2026, 10, 2, 3)));
    const clockAtSlot = Date.parse((await aws.clock.read()).now);
    const env = localJobEnvironment(policy, ACCOUNT, vault, undefined, () => slot.time);

    // Each invocation: its paced calls counted by its limiter, its own work timed; the clock is
    // moved on by the paced time, as if the invocation had waited for it.
    let longest = 0;
    let limiter = new ModelledLimiter((snapshotRds.timeout ?? 600) - 20);
    let startedAt = performance.now();
    const ended = async () => {
      longest = Math.max(longest, limiter.seconds + (performance.now() - startedAt) / 1000);
      if (limiter.seconds > 0) await aws.clock.advance(limiter.seconds);
    };
    const pipeline = await localPipeline(aws, env, {
      start: slot.time,
      limiter: () => {
        limiter = new ModelledLimiter(PASS_TIMEOUT - 20);
        startedAt = performance.now();
        return limiter;
      },
      afterPass: ended,
    });
    const run = await snapshotRds.run({ ...snapshotRds.wire(env), limiter }, policy, slot.time);
    if (run.failures.length > 0)
      throw new Error(`the slot's run failed: ${run.failures[0]?.error}`);
    await ended();
    await pipeline.settle({ maxSeconds: 7 * 86_400 });

    // When each copy became available: RDS's events, dated on the local clock.
    const events = await aws.events();
    const minutesOf = (account: string) =>
      events
        .filter(
          (e) =>
            e.region === DR &&
            e.account === account &&
            e.detail.SourceIdentifier.endsWith(slot.id) &&
            e.detail.Message.startsWith('Finished the copy'),
        )
        .map((e) => (Date.parse(e.detail.Date) - clockAtSlot) / 60_000);
    return {
      databases,
      drMinutes: minutesOf(ACCOUNT),
      vaultMinutes: minutesOf(VAULT),
      callsPerDatabase: calls.total() / databases,
      longestInvocationSeconds: longest,
      passes: pipeline.history.length + 1,
    };
  } finally {
    await aws.stop();
  }
}

interface Simulated {
  databases: number;
  days: number;
  /** Minutes from the first slot to each of its DR copies being available. */
  firstSlotMinutes: number[];
  copiesPerDay: number;
  ageHours: number[];
  snapshotCallSeconds: number;
  deferred: number;
}

/**
 * The DR region's recovery point for `databases` instances over `days` daily slots: each slot's
 * snapshots paced at RATE (the run's deadline leaving the rest to the pipeline's passes), each
 * available SNAPSHOT_MINUTES later; passes at each sweep and after each batch of copies finishes,
 * each starting what planCopies (the pipeline's own planner) starts, under RDS's cap of 20; each
 * copy available COPY_MINUTES later. Measured just before the last slot: each database's age of
 * its newest DR copy.
 */
function simulate(databases: number, days: number): Simulated {
  const policy = policyFor('arn:aws:kms:eu-west-1:123456789012:key/bench');
  const targets: Target[] = Array.from({ length: databases }, (_, i) => {
    const identifier = `db-${String(i).padStart(4, '0')}`;
    return {
      kind: 'instance',
      identifier,
      arn: `arn:aws:rds:${PRIMARY}:${ACCOUNT}:db:${identifier}`,
      engine: 'postgres',
      status: 'available',
      continuous: { retentionDays: 0, latestRestorableTime: undefined },
    };
  });
  const start = Date.UTC(2026, 10, 2, 3);
  const day = 86_400_000;
  const runSeconds = (snapshotRds.timeout ?? 600) - 20;
  const inRun = BURST + runSeconds * RATE;
  const record = (
    id: string,
    region: string,
    target: Target,
    slotTime: number,
    status: string,
  ): SnapshotRecord => ({
    id,
    arn: `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`,
    region,
    kind: 'instance',
    target: target.identifier,
    database: target.identifier,
    copiedFrom: undefined,
    time: new Date(slotTime),
    createdAt: new Date(slotTime),
    slot: slotOf(new Date(slotTime)).id,
    status,
    engine: 'postgres',
    encrypted: true,
    kmsKeyId: undefined,
    managedBy: policy.name,
    source: undefined,
    legalHold: false,
    verifiedAt: undefined,
    tags: new Map(),
  });

  // Things that happen at a time: a snapshot or copy becoming available, a pass.
  const primary: { s: SnapshotRecord; at: number }[] = [];
  const dr: { s: SnapshotRecord; at: number }[] = [];
  const passes = new Set<number>();
  for (let t = start; t < start + days * day; t += PASS_TIMEOUT * 1000) passes.add(t);
  for (let d = 0; d < days; d += 1) {
    const slotTime = start + d * day;
    const slot = slotOf(new Date(slotTime));
    for (const [i, target] of targets.entries()) {
      const at = slotTime + (Math.max(0, i - BURST) / RATE) * 1000 + SNAPSHOT_MINUTES * 60_000;
      primary.push({
        s: record(
          `lifeboat-${target.identifier}-${slot.id}`,
          PRIMARY,
          target,
          slotTime,
          'available',
        ),
        at,
      });
      // Lambda gathers the events of a batch for 20 s: one pass per window.
      passes.add(Math.ceil((at + 1) / 20_000) * 20_000);
    }
  }
  let copied = 0;
  const firstSlot: number[] = [];
  const end = start + (days - 1) * day - 60_000;
  const queue = [...passes].sort((a, b) => a - b);
  while (queue.length > 0) {
    const now = queue.shift() ?? 0;
    if (now > end) break;
    const lookback = now - 2 * day;
    const open = primary.filter((x) => x.s.time && x.s.time.getTime() >= lookback && x.at <= now);
    const held = dr
      .filter((x) => (x.s.time?.getTime() ?? 0) >= now - 3 * day)
      .map((x) => statusAt(x, now));
    // A pass with the cap full starts nothing (planCopies gives no room): skipped, for speed.
    if (held.filter(isInProgress).length >= policy.snapshots.copyCaps.instance) continue;
    const plan = planCopies({
      policy,
      targets,
      primary: open.map((x) => x.s),
      dr: held,
      drCount: { instance: held.length, cluster: 0 },
      now: new Date(now),
    });
    for (const s of plan.copies) {
      const at = now + COPY_MINUTES * 60_000;
      dr.push({ s: { ...s, region: DR, arn: s.arn.replace(PRIMARY, DR) }, at });
      copied += 1;
      if ((s.time?.getTime() ?? 0) === start) firstSlot.push((at - start) / 60_000);
      const next = Math.ceil((at + 1) / 20_000) * 20_000;
      if (!queue.includes(next)) {
        const i = queue.findIndex((t) => t > next);
        queue.splice(i < 0 ? queue.length : i, 0, next);
      }
    }
  }
  // Just before the last slot: the age of each database's newest DR copy.
  const newest = new Map<string, number>();
  for (const x of dr) {
    if (x.at > end || isInProgress(statusAt(x, end))) continue;
    const t = x.s.time?.getTime() ?? 0;
    if (t > (newest.get(x.s.target) ?? 0)) newest.set(x.s.target, t);
  }
  const ageHours = targets.map((t) => {
    const at = newest.get(t.identifier);
    return at === undefined ? Number.POSITIVE_INFINITY : (end - at) / 3_600_000;
  });
  return {
    databases,
    days,
    firstSlotMinutes: firstSlot,
    copiesPerDay: copied / (days - 1),
    ageHours,
    snapshotCallSeconds: Math.min(databases, inRun) / RATE,
    deferred: Math.max(0, databases - inRun),
  };
}

function statusAt(x: { s: SnapshotRecord; at: number }, now: number): SnapshotRecord {
  return x.at <= now ? x.s : { ...x.s, status: 'creating' };
}

const hours = (h: number) => (Number.isFinite(h) ? `${h.toFixed(1)} h` : 'never copied');
const minutes = (m: number) => `${m.toFixed(0)} min`;

/** The fleet sizes to run: the defaults, or a comma-separated list in the environment variable. */
function sizes(variable: string, defaults: readonly number[]): number[] {
  const given = process.env[variable];
  if (given === undefined) return [...defaults];
  return given
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

export async function benchPipeline(): Promise<string[]> {
  const lines = [
    `Pipeline at AWS's pace (assumed: a snapshot takes ${SNAPSHOT_MINUTES} min, a copy ${COPY_MINUTES} min; RDS copies 20 at once into a region; ${RATE} requests/s; daily slots)`,
  ];
  for (const n of sizes('BENCH_PIPELINE_MEASURED', [10, 100, 300])) {
    const wall = performance.now();
    const m = await measure(n);
    const worst = (list: number[]) => Math.max(...list);
    lines.push(
      `  ${String(n).padStart(5)} databases: slot -> DR copy available median ${minutes(median(m.drMinutes))}, worst ${minutes(worst(m.drMinutes))}; -> vault copy median ${minutes(median(m.vaultMinutes))}, worst ${minutes(worst(m.vaultMinutes))}; ${m.callsPerDatabase.toFixed(1)} RDS calls per database; longest invocation ${m.longestInvocationSeconds.toFixed(1)} s (a pass may take ${PASS_TIMEOUT} s, the slot's run 600 s); ${m.passes} invocations (${((performance.now() - wall) / 1000).toFixed(0)} s here)`,
    );
    if (m.drMinutes.length !== n || m.vaultMinutes.length !== n) {
      lines.push(
        `    INCOMPLETE: ${m.drMinutes.length} DR copies, ${m.vaultMinutes.length} vault copies of ${n}`,
      );
    }
  }
  lines.push(
    "  Simulated with the pipeline's planner (moto's describes grow with what a region holds: 1,000 databases there take about 35 minutes, BENCH_PIPELINE_MEASURED=1000), 4 daily slots, the DR recovery point's age just before the 4th against the 24 h period:",
  );
  for (const n of sizes('BENCH_PIPELINE_SIMULATED', [1000, 2000, 5000])) {
    const s = simulate(n, 4);
    const over = s.ageHours.filter((h) => h > 24).length;
    lines.push(
      `  ${String(n).padStart(5)} databases: the slot's run makes ${n - s.deferred} snapshot calls in ${s.snapshotCallSeconds.toFixed(0)} s${s.deferred ? `, leaving ${s.deferred} to the pipeline's next passes` : ''}; the first slot's DR copies available median ${minutes(median(s.firstSlotMinutes))}, worst ${minutes(Math.max(...s.firstSlotMinutes))}; ${s.copiesPerDay.toFixed(0)} copies a day reach the DR region; recovery point age median ${hours(median(s.ageHours))}, worst ${hours(Math.max(...s.ageHours))}; ${over} databases (${((over / n) * 100).toFixed(0)}%) older than one period${over ? ": the caps let no more copies through; for these only automated-backup replication (or an Aurora global database) reaches a day's RPO" : ''}`,
    );
  }
  return lines;
}
