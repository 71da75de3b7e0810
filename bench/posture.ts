import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { seedInstance, seedKey, seedVault } from '../local/demo/seed.js';
import { clientIn, rdsIn } from '../shared/aws/clients.js';
import { parsePolicyText } from '../shared/policy/policy-file.js';
import type { DrillPoint } from '../shared/posture/drill-history.js';
import { type DatabasePosture, readPosture } from '../shared/posture/posture.js';
import { type PostureReportData, renderPostureReport } from '../shared/posture/report-page.js';
import { benchAws, countCalls, medianMs, verdict } from './measure.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const DATABASES = 1_000;
const REPORT_DATABASES = 100;
const DRILLS = 24;
const DAYS = 30;

/**
 * The posture of 1,000 databases against a local AWS (describe calls per 100 databases, and
 * time), and the posture page for 100 databases with 24 monthly drills each and 30 days of
 * restore-point age per region (time to render, and the page's size).
 */
export async function benchPosture(): Promise<string[]> {
  return [...(await postureOf1000()), '', ...(await reportOf100())];
}

async function postureOf1000(): Promise<string[]> {
  // moto refuses a region's 1,001st snapshot, as RDS's default quota would hold 100.
  process.env.MOTO_RDS_SNAPSHOT_LIMIT ??= '5000';
  const aws = await benchAws();
  try {
    const policy = parsePolicyText(
      `version: 1
name: bench
timeZone: UTC
regions: { primary: ${PRIMARY}, dr: ${DR} }
targets: [{ kind: rds-instance, tags: { bench: "yes" } }]
snapshots: { schedule: cron(0 3 * * ? *), drKmsKeyArn: ${await seedKey(DR)} }
retention: { schedule: cron(0 4 * * ? *), primary: { daily: 7 }, dr: { daily: 7 } }
objectives:
  default: standard
  tiers: { standard: { rpo: 1d, rto: 4h } }
`,
      'bench policy',
    );
    const vault = await seedVault(policy, '123456789012');
    const rds = rdsIn(PRIMARY).client;
    for (let i = 0; i < DATABASES; i += 1) {
      const id = `bench-${String(i).padStart(4, '0')}`;
      await seedInstance(rds, id, { bench: 'yes' });
      await rds.send(
        new CreateDBSnapshotCommand({ DBInstanceIdentifier: id, DBSnapshotIdentifier: `${id}-s` }),
      );
    }
    const deps = {
      primary: rdsIn(PRIMARY),
      dr: rdsIn(DR),
      reports: { s3: clientIn(S3Client, PRIMARY), bucket: vault.bucket },
      drMetrics: clientIn(CloudWatchClient, DR),
    };
    const calls = countCalls([
      clientIn(RDSClient, PRIMARY),
      clientIn(RDSClient, DR),
      clientIn(S3Client, PRIMARY),
      clientIn(CloudWatchClient, DR),
    ]);
    await readPosture(deps, policy, new Date());
    const counted = new Map(
      [
        'DescribeDBInstancesCommand',
        'DescribeDBClustersCommand',
        'DescribeDBSnapshotsCommand',
        'DescribeDBClusterSnapshotsCommand',
        'DescribeDBInstanceAutomatedBackupsCommand',
        'DescribeGlobalClustersCommand',
        'ListObjectsV2Command',
      ].map((name) => [name, calls.get(name)]),
    );
    const total = [...counted.values()].reduce((a, b) => a + b, 0);
    const ms = await medianMs(3, () => readPosture(deps, policy, new Date()));
    return [
      `Posture of ${DATABASES.toLocaleString('en')} databases, each with a snapshot (local AWS)`,
      `  wall time (median of 3)          ${ms.toFixed(0)} ms`,
      `  calls per 100 databases          ${verdict((total * 100) / DATABASES, 3, '', 1)} (floor: a page of 100 instances; on AWS a page of 100 snapshots too, where moto answers in one page)`,
      ...[...counted].map(([name, n]) => `    ${name.replace(/Command$/, '').padEnd(36)} ${n}`),
    ];
  } finally {
    await aws.stop();
  }
}

async function reportOf100(): Promise<string[]> {
  const now = Date.parse('2026-11-28T05:00:00Z');
  const day = 86_400_000;
  const databases: DatabasePosture[] = [];
  const drills: Record<string, DrillPoint[]> = {};
  const ages: PostureReportData['ages'][number][] = [];
  for (let i = 0; i < REPORT_DATABASES; i += 1) {
    const identifier = `db-${String(i).padStart(3, '0')}`;
    const region = (name: string, age: number) => ({
      region: name,
      latestRestorableTime: new Date(now - age * 1000).toISOString(),
      continuousDays: 7,
      newestSnapshot: {
        id: `lifeboat-${identifier}`,
        time: new Date(now - 3600_000).toISOString(),
      },
      newestVerified: null,
      rpoSeconds: age,
    });
    databases.push({
      kind: 'instance',
      identifier,
      objectives: {
        tier: 'critical',
        rpoSeconds: 900,
        rtoSeconds: 3600,
        retentionDays: 7,
        replicateToDr: true,
      },
      primary: region(PRIMARY, 300),
      dr: region(DR, 600),
      lastDrill: null,
      holds: { rpo: true, drRpo: true, rto: true, verified: true },
      verifiedAgeSeconds: 3600,
      verifiedLimitSeconds: 172_800,
      crossRegion: null,
      drCopyWaiting: null,
      gaps: [],
    });
    drills[identifier] = Array.from({ length: DRILLS }, (_, m) => ({
      drillId: `lb-drill-${identifier}-${m}`,
      at: new Date(now - (DRILLS - m) * 30 * day).toISOString(),
      succeeded: true,
      outcome: 'passed' as const,
      restore: 'point-in-time' as const,
      rtoSeconds: 1800 + ((i * 7 + m * 13) % 1200),
      rpoSeconds: 120 + ((i * 11 + m * 5) % 600),
    }));
    for (const name of [PRIMARY, DR]) {
      ages.push({
        target: identifier,
        region: name,
        points: Array.from({ length: DAYS }, (_, d) => [
          new Date(now - (DAYS - d) * day).toISOString(),
          300 + ((i + d * 17) % 900),
        ]),
      });
    }
  }
  const data: PostureReportData = {
    posture: {
      policy: 'bench',
      at: new Date(now).toISOString(),
      databases,
      copiesWaiting: {
        instance: 0,
        cluster: 0,
        inFlight: { instance: 0, cluster: 0 },
        caps: { instance: 20, cluster: 5 },
        oldestSeconds: null,
      },
      unprotected: [],
      problems: [],
    },
    drills,
    ages,
    ageDays: DAYS,
  };
  let page = '';
  const ms = await medianMs(3, () => {
    page = renderPostureReport(data);
  });
  const bytes = Buffer.byteLength(page);
  return [
    `Posture page: ${REPORT_DATABASES} databases x ${DRILLS} monthly drills, ${DAYS} days of age in 2 regions`,
    `  render time (median of 3)        ${ms.toFixed(0)} ms (${(ms / REPORT_DATABASES).toFixed(1)} ms per database, 2 charts each)`,
    `  page size                        ${(bytes / 1024 / 1024).toFixed(2)} MB (${Math.round(bytes / REPORT_DATABASES / 1024)} KB per database), no script`,
  ];
}
