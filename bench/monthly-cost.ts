import { Client } from '@smithy/core/client';
import { definition as enforceRetention } from '../functions/enforce-retention.js';
import { definition as exportSecrets } from '../functions/export-secrets.js';
import { definition as postureReport } from '../functions/posture-report.js';
import { definition as snapshotRds } from '../functions/snapshot-rds.js';
import { definition as verifyManifest } from '../functions/verify-manifest.js';
import { seedInstance, seedKey, seedSecret, seedVault } from '../local/demo/seed.js';
import { rdsIn } from '../shared/aws/clients.js';
import { localJobEnvironment } from '../shared/jobs/local-environment.js';
import { loadPolicyFile } from '../shared/policy/policy-file.js';
import { firesBetween, parseSchedule } from '../shared/policy/schedule-expression.js';
import type { Policy } from '../shared/policy/schema.js';
import { benchAws } from './measure.js';

/**
 * What Lifeboat costs a month for 10 and 100 databases: the AWS calls each scheduled job makes,
 * counted in one run against a local AWS with that many databases, times the runs its schedule
 * makes in 30 days, priced at public list prices (eu-central-1, as published when this was
 * written; change PRICES for your region). Snapshot storage, which depends on your data, is
 * priced per GB apart.
 */
export const PRICES = {
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  stepFunctionsTransition: 0.025 / 1000,
  schedulerInvocation: 1 / 1e6,
  kmsKeyMonth: 1,
  kmsRequest: 0.03 / 10_000,
  s3Write: 0.0054 / 1000,
  s3Read: 0.00043 / 1000,
  s3GbMonth: 0.0245,
  secretsManagerCall: 0.05 / 10_000,
  snsPublish: 0.5 / 1e6,
  cloudwatchAlarmMonth: 0.1,
  cloudwatchMetricMonth: 0.3,
  cloudwatchGetMetric: 0.01 / 1000,
  drillInstanceHour: 0.078, // db.t4g.medium, PostgreSQL, single-AZ, on demand
  snapshotGbMonth: 0.095,
  crossRegionGb: 0.02,
} as const;

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const DAY = 86_400_000;
const MEMORY_GB = 0.5;
// A drill's temporary database: restore, checks and teardown, about an hour on AWS.
const DRILL_HOURS = 1;
// A restore of a small database takes about 20 minutes: 20 polls a minute apart.
const DRILL_POLLS = 20;
const SECRETS = 20;

type Counts = Map<string, number>;

/** Counts every SDK call this process sends, by `Service.Operation`. */
function countingCalls(): { counts: Counts; stop(): void } {
  const prototype = Client.prototype as unknown as { send: (...args: unknown[]) => unknown };
  const original = prototype.send;
  const counts: Counts = new Map();
  prototype.send = function (this: { config: { serviceId?: string } }, ...args: unknown[]) {
    const [command] = args as [{ constructor: { name: string } }];
    const name = `${this.config.serviceId}.${command.constructor.name.replace(/Command$/, '')}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return original.apply(this, args);
  };
  return {
    counts,
    stop: () => {
      prototype.send = original;
    },
  };
}

const sum = (counts: Counts, match: (name: string) => boolean) =>
  [...counts].filter(([name]) => match(name)).reduce((n, [, c]) => n + c, 0);

/** Runs of a schedule in 30 days. */
function runsPerMonth(policy: Policy, expression: string | undefined): number {
  if (!expression) return 0;
  const schedule = parseSchedule(expression, policy.timeZone);
  const from = new Date(Date.UTC(2026, 10, 1));
  const fires = firesBetween(schedule, from, new Date(from.getTime() + 30 * DAY));
  if (fires.length > 0) return fires.length;
  // A rate: Scheduler starts it when the schedule is made, then every period.
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  const unit = { minute: 60_000, hour: 3_600_000, day: DAY }[rate?.[2] ?? 'day'] ?? DAY;
  return Math.floor((30 * DAY) / (Number(rate?.[1] ?? 1) * unit));
}

interface JobCost {
  readonly job: string;
  readonly runs: number;
  readonly calls: Counts;
}

/** One run of each scheduled job against a local AWS holding `databases` databases. */
async function measureJobs(policy: Policy, databases: number): Promise<JobCost[]> {
  const aws = await benchAws(PRIMARY);
  try {
    const drKey = await seedKey(DR);
    // The vault account's costs are its own (its key, its copies' storage, two daily runs).
    const { vault: _vaultAccount, ...production } = policy;
    const measured: Policy = {
      ...production,
      targets: [{ kind: 'rds-instance', tags: { backup: 'lifeboat' } }],
      snapshots: { ...policy.snapshots, drKmsKeyArn: drKey },
      secrets: {
        ...policy.secrets,
        schedule: 'cron(0 2 * * ? *)',
        namePrefixes: ['prod/'],
        allowEmpty: false,
      },
    };
    const vault = await seedVault(measured, ACCOUNT);
    for (let i = 0; i < databases; i++) {
      await seedInstance(rdsIn(PRIMARY).client, `db-${i}`, { backup: 'lifeboat' });
    }
    for (let i = 0; i < SECRETS; i++) await seedSecret(PRIMARY, `prod/app-${i}`, `value-${i}`);
    const env = localJobEnvironment(measured, ACCOUNT, vault);
    const now = new Date();
    const jobs: [string, string | undefined, () => Promise<unknown>][] = [
      [
        'snapshot-rds',
        measured.snapshots.schedule,
        () => snapshotRds.run(snapshotRds.wire(env), measured, now),
      ],
      [
        'export-secrets',
        measured.secrets?.schedule,
        () => exportSecrets.run(exportSecrets.wire(env), measured, now),
      ],
      [
        'verify-manifest',
        measured.verification.schedule,
        () =>
          verifyManifest.run(verifyManifest.wire(env), measured, new Date(now.getTime() + 60_000)),
      ],
      [
        'enforce-retention',
        measured.retention.schedule,
        () =>
          enforceRetention.run(
            enforceRetention.wire(env),
            measured,
            new Date(now.getTime() + 120_000),
          ),
      ],
      [
        'posture-report',
        measured.objectives?.postureSchedule,
        () =>
          postureReport.run(postureReport.wire(env), measured, new Date(now.getTime() + 180_000)),
      ],
    ];
    const results: JobCost[] = [];
    for (const [job, schedule, run] of jobs) {
      const counting = countingCalls();
      try {
        await run();
      } finally {
        counting.stop();
      }
      results.push({ job, runs: runsPerMonth(measured, schedule), calls: counting.counts });
    }
    return results;
  } finally {
    await aws.stop();
  }
}

/** Seconds a run takes on AWS: its calls at about 50 ms each, or its paced calls at the policy's rate. */
function runSeconds(calls: Counts, rate: number): number {
  const total = sum(calls, () => true);
  const paced = sum(calls, (n) => /^RDS\.(Create|Copy|Delete|AddTags)/.test(n));
  return Math.max(total * 0.05, paced / rate) + 1;
}

function monthly(policy: Policy, jobs: readonly JobCost[], databases: number) {
  const rows: [string, number][] = [];
  let invocations = 0;
  let gbSeconds = 0;
  let kms = 0;
  let s3Writes = 0;
  let s3Reads = 0;
  let secrets = 0;
  let rdsCalls = 0;
  for (const { runs, calls } of jobs) {
    invocations += runs;
    gbSeconds += runs * runSeconds(calls, policy.rdsRequestsPerSecond) * MEMORY_GB;
    kms += runs * sum(calls, (n) => n.startsWith('KMS.'));
    s3Writes += runs * sum(calls, (n) => /^S3\.(Put|Copy|List|Post)/.test(n));
    s3Reads += runs * sum(calls, (n) => /^S3\.(Get|Head)/.test(n));
    secrets += runs * sum(calls, (n) => n.startsWith('Secrets Manager.'));
    rdsCalls += runs * sum(calls, (n) => n.startsWith('RDS.'));
  }
  // The janitor: two describe calls an hour.
  const janitorRuns = runsPerMonth(policy, policy.drills?.janitorSchedule ?? 'rate(1 hour)');
  invocations += janitorRuns;
  gbSeconds += janitorRuns * 1 * MEMORY_GB;
  // Drills: every database once a month (the default schedule), ~20 polls, five tasks.
  const drills = databases;
  const drillTransitions = 12 + 3 * (DRILL_POLLS - 1);
  invocations += drills * (4 + DRILL_POLLS);
  gbSeconds += drills * (4 + DRILL_POLLS) * 1 * MEMORY_GB;
  const schedulerInvocations = jobs.reduce((n, j) => n + j.runs, 0) + janitorRuns + drills;
  // Custom metrics: each job's own and its heartbeat, a restore point age per database and
  // region and a verified one per database, four per drilled database, the objectives missed,
  // the quota per region and kind.
  const metrics = 4 + 3 + 2 + 2 + 1 + 4 + 5 + 3 * databases + 4 * drills + 1;
  // A function error alarm each, quota, machine alarms, replication, a heartbeat per job, the
  // objectives missed (databases selected by tag have no alarms of their own).
  const alarms = 15 + 4 + 4 + 1 + 5 + 1;
  // The posture page reads each database's age in both regions, every run.
  const postureRuns = jobs.find((j) => j.job === 'posture-report')?.runs ?? 0;
  const metricsRead = postureRuns * 2 * databases;
  rows.push([
    'Lambda (requests and GB-seconds, 512 MB arm64)',
    invocations * PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecondArm,
  ]);
  rows.push([
    'Step Functions (drills, state transitions)',
    drills * drillTransitions * PRICES.stepFunctionsTransition,
  ]);
  rows.push([
    'EventBridge Scheduler (invocations; 14 M a month are free)',
    Math.max(0, schedulerInvocations - 14e6) * PRICES.schedulerInvocation,
  ]);
  rows.push([
    'KMS (6 keys: data, manifest, alerts, per region)',
    6 * PRICES.kmsKeyMonth + kms * PRICES.kmsRequest,
  ]);
  rows.push([
    'S3 (requests; records and exports are a few MB)',
    s3Writes * PRICES.s3Write + s3Reads * PRICES.s3Read + 0.1 * PRICES.s3GbMonth,
  ]);
  rows.push(['Secrets Manager (API calls of the export)', secrets * PRICES.secretsManagerCall]);
  rows.push([
    'CloudWatch (custom metrics, alarms, posture reads)',
    metrics * PRICES.cloudwatchMetricMonth +
      alarms * PRICES.cloudwatchAlarmMonth +
      metricsRead * PRICES.cloudwatchGetMetric,
  ]);
  rows.push([
    `Drill databases (db.t4g.medium, ~${DRILL_HOURS} h each)`,
    drills * DRILL_HOURS * PRICES.drillInstanceHour,
  ]);
  return { rows, total: rows.reduce((n, [, v]) => n + v, 0), rdsCalls, invocations, metrics };
}

export async function benchMonthlyCost(): Promise<string[]> {
  const policy = loadPolicyFile('lifeboat.policy.yml');
  const sizes = [10, 100];
  const results = [];
  for (const n of sizes) results.push(monthly(policy, await measureJobs(policy, n), n));
  const money = (v: number) => `$${v.toFixed(2)}`.padStart(10);
  const lines = [
    "Monthly cost, the shipped policy's schedules (its vault account apart), every database drilled monthly (calls counted in one run of each job against a local AWS; eu-central-1 list prices; snapshot storage apart)",
    `  ${'component'.padEnd(60)} ${sizes.map((n) => `${n} databases`.padStart(14)).join('')}`,
  ];
  for (const [i, [label]] of (results[0]?.rows ?? []).entries()) {
    lines.push(
      `  ${label.padEnd(60)} ${results.map((r) => money(r.rows[i]?.[1] ?? 0).padStart(14)).join('')}`,
    );
  }
  lines.push(`  ${'total'.padEnd(60)} ${results.map((r) => money(r.total).padStart(14)).join('')}`);
  lines.push(
    `  (${results.map((r, i) => `${sizes[i]}: ${r.invocations} invocations, ${r.rdsCalls} RDS calls (free), ${r.metrics} custom metrics`).join('; ')})`,
    `  Snapshot storage, per GB of database: ${money(PRICES.snapshotGbMonth).trim()} a month in each region kept (beyond the free backup storage), plus ${money(PRICES.crossRegionGb).trim()} per GB copied to the DR region.`,
  );
  return lines;
}
