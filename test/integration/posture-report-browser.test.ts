import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../cli/main.js';
import { seedLifeboatSnapshot } from '../../local/demo/recovery-seed.js';
import { seedInstance, seedKey, seedVault } from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { slotOf } from '../../shared/naming/slot.js';
import {
  METRIC_NAMESPACE,
  RECOVERY_POINT_AGE_METRIC,
} from '../../shared/observability/metric-names.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { Vault } from '../../shared/vault/vault.js';
import { captureIo } from '../support/capture-io.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy, tieredObjectives } from '../support/policy.js';

// The posture report written by `lifeboat report` against moto (drill reports in the bucket,
// restore-point ages as CloudWatch metrics), opened in a real browser: Debian's Chromium,
// headless, driven by playwright-core, with every request that is not the file itself refused.

useLocalAws();
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CHROMIUM = process.env.LIFEBOAT_CHROMIUM ?? '/usr/bin/chromium';
// Screenshots stay after the run, beside the other test output.
const OUTPUT = resolve('test-output');
const now = new Date();
let policy: Policy;
let vault: Vault;
let browser: Browser;
let page: string;

// orders-db: three drills (the last failed before measuring), five days of ages per region.
const DRILLS = [
  { day: 20, succeeded: true, rtoSeconds: 2400, rpoSeconds: 600 },
  { day: 10, succeeded: true, rtoSeconds: 3000, rpoSeconds: 300 },
  { day: 2, succeeded: false, rtoSeconds: null, rpoSeconds: null },
];
const AGE_DAYS = 5;

beforeAll(async () => {
  const base = fixturePolicy();
  policy = {
    ...base,
    snapshots: { ...base.snapshots, drKmsKeyArn: await seedKey(DR) },
    targets: [
      { kind: 'rds-instance', identifier: 'orders-db', tier: 'critical' },
      { kind: 'rds-instance', identifier: 'reports-db' },
    ],
    // Drills of orders-db only: the report reads their reports, it does not run any.
    drills: base.drills && {
      ...base.drills,
      databases: Object.fromEntries(
        Object.entries(base.drills.databases).filter(([id]) => id === 'orders-db'),
      ),
    },
    objectives: tieredObjectives({ replicateToDr: false }),
  };
  vault = await seedVault(policy, ACCOUNT);
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await rds.send(
    new ModifyDBInstanceCommand({
      DBInstanceIdentifier: 'orders-db',
      BackupRetentionPeriod: 7,
      ApplyImmediately: true,
    }),
  );
  await seedInstance(rds, 'reports-db');
  await rds.send(
    new ModifyDBInstanceCommand({
      DBInstanceIdentifier: 'reports-db',
      BackupRetentionPeriod: 0,
      ApplyImmediately: true,
    }),
  );
  await seedLifeboatSnapshot(
    PRIMARY,
    policy.name,
    'instance',
    'orders-db',
    slotOf(new Date(now.getTime() - 2 * HOUR)),
    new Date(),
  );
  // reports-db's newest restore point is 30 hours old: its day's RPO is missed.
  await seedLifeboatSnapshot(
    PRIMARY,
    policy.name,
    'instance',
    'reports-db',
    slotOf(new Date(now.getTime() - 30 * HOUR)),
    new Date(),
  );
  const s3 = clientIn(S3Client, PRIMARY);
  for (const drill of DRILLS) {
    const at = new Date(now.getTime() - drill.day * DAY);
    const stamp = at.toISOString().slice(2, 19).replace(/[-T:]/g, '');
    const drillId = `lb-drill-orders-db-${stamp}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: vault.bucket,
        Key: `drills/${policy.name}/${drillId}/report.json`,
        Body: JSON.stringify({
          drillId,
          target: 'orders-db',
          startedAt: at.toISOString(),
          succeeded: drill.succeeded,
          outcome: drill.succeeded ? 'passed' : 'failed',
          restore: 'snapshot',
          rtoSeconds: drill.rtoSeconds,
          rpoSeconds: drill.rpoSeconds,
        }),
      }),
    );
  }
  // What earlier posture runs published: each day's restore-point age, per region.
  const cloudwatch = clientIn(CloudWatchClient, PRIMARY);
  for (let day = 1; day <= AGE_DAYS; day++) {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: METRIC_NAMESPACE,
        MetricData: [PRIMARY, DR].map((region, i) => ({
          MetricName: RECOVERY_POINT_AGE_METRIC,
          Dimensions: [
            { Name: 'service', Value: 'posture-report' },
            { Name: 'Target', Value: 'orders-db' },
            { Name: 'Region', Value: region },
          ],
          Timestamp: new Date(now.getTime() - day * DAY),
          Value: (day * 10 + i * 60) * 60,
          Unit: 'Seconds',
        })),
      }),
    );
  }
  const policyFile = join(tmpdir(), 'report.policy.yml');
  writeFileSync(policyFile, stringify(policy));
  page = join(tmpdir(), 'posture.html');
  const io = captureIo();
  const code = await runCli(
    ['report', '--policy', policyFile, '--bucket', vault.bucket, '--out', page],
    io,
  );
  // reports-db misses its RPO: the report is written, and the exit code says so.
  expect(io.stderr()).toBe('');
  expect(code).toBe(1);
  expect(io.stdout()).toContain(`Posture report: ${page}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
});

describe('the posture report in a browser', () => {
  it('opens offline with no console errors, shows every database, and draws each chart’s points', async () => {
    // Arrange
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const tab = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    tab.on('pageerror', (e) => errors.push(e.message));
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });

    // Act
    await tab.goto(pathToFileURL(page).href);
    const rows = await tab.$$eval('#status tbody tr', (trs) =>
      trs.map((tr) => ({
        database: tr.getAttribute('data-database'),
        missed: tr.classList.contains('missed'),
        text: tr.textContent ?? '',
      })),
    );
    const charts = await tab.$$eval('figure[data-chart]', (figures) =>
      figures.map((f) => {
        // A point is an element ECharts drew for one datum: its series and its index.
        const drawn = new Set(
          [...f.querySelectorAll('[ecmeta_ssr_type="chart"][ecmeta_data_index]')].map(
            (e) =>
              `${e.getAttribute('ecmeta_series_index')}:${e.getAttribute('ecmeta_data_index')}`,
          ),
        );
        return {
          target: f.getAttribute('data-target'),
          chart: f.getAttribute('data-chart'),
          declared: Number(f.getAttribute('data-points')),
          drawn: drawn.size,
          svg: f.querySelectorAll('svg').length,
        };
      }),
    );
    mkdirSync(OUTPUT, { recursive: true });
    await tab.screenshot({ path: join(OUTPUT, 'posture-report.png'), fullPage: true });
    await context.close();

    // Assess
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(rows.map((r) => r.database)).toEqual(['orders-db', 'reports-db']);
    expect(rows.find((r) => r.database === 'reports-db')).toMatchObject({ missed: true });
    expect(rows.find((r) => r.database === 'reports-db')?.text).toContain('RPO MISSED');
    expect(rows.find((r) => r.database === 'orders-db')?.text).toMatch(/critical15m/);
    const drawn = (target: string, chart: string) =>
      charts.find((c) => c.target === target && c.chart === chart);
    // Two measured drills, an RTO and an RPO each; the failed one measured neither.
    expect(drawn('orders-db', 'drills')).toMatchObject({ drawn: 4, declared: 4, svg: 1 });
    // Five days in each region.
    expect(drawn('orders-db', 'age')).toMatchObject({
      drawn: 2 * AGE_DAYS,
      declared: 2 * AGE_DAYS,
      svg: 1,
    });
    expect(drawn('reports-db', 'drills')).toMatchObject({ drawn: 0, declared: 0, svg: 1 });
    expect(readFileSync(page, 'utf8')).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});
