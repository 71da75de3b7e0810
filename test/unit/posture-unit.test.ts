import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { readPosture } from '../../shared/posture/posture.js';
import { type PostureJobDeps, runPostureJob } from '../../shared/posture/posture-job.js';
import { fixturePolicy } from '../support/policy.js';

// What moto cannot show: Aurora global databases outside us-east-1 and their lag, and the
// posture job's answers to failures of CloudWatch and S3. Mocked with aws-sdk-client-mock.

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const NOW = new Date('2026-11-28T05:00:00Z');
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const cloudwatch = mockClient(CloudWatchClient);

const policy: Policy = {
  ...fixturePolicy(),
  targets: [{ kind: 'aurora-cluster', identifier: 'billing', tier: 'critical' }],
  objectives: {
    default: 'critical',
    tiers: {
      critical: {
        rpo: '15min',
        rto: '1h',
        continuousBackups: { retentionDays: 7, replicateToDr: true },
      },
    },
    enforceContinuousBackups: false,
    postureSchedule: 'rate(1 hour)',
  },
};

function deps(): PostureJobDeps {
  return {
    primary: { region: PRIMARY, client: new RDSClient({ region: PRIMARY }) },
    dr: { region: DR, client: new RDSClient({ region: DR }) },
    limiter: new RateLimiter({ perSecond: 100 }),
    reports: { s3: new S3Client({ region: PRIMARY }), bucket: 'reports' },
    store: { s3: new S3Client({ region: PRIMARY }), bucket: 'reports' },
    metrics: new CloudWatchClient({ region: PRIMARY }),
    drMetrics: new CloudWatchClient({ region: DR }),
    log: silentLog,
  };
}

const billingArn = `arn:aws:rds:${PRIMARY}:${ACCOUNT}:cluster:billing`;

beforeEach(() => {
  rds.reset();
  s3.reset();
  cloudwatch.reset();
  const regionOf = async (client: unknown) =>
    (client as RDSClient).config.region() as Promise<string>;
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
  rds.on(DescribeDBClustersCommand).callsFake(async (_, client) =>
    (await regionOf(client())) === PRIMARY
      ? {
          DBClusters: [
            {
              DBClusterIdentifier: 'billing',
              DBClusterArn: billingArn,
              Engine: 'aurora-postgresql',
              BackupRetentionPeriod: 7,
              LatestRestorableTime: new Date(NOW.getTime() - 120_000),
              TagList: [],
            },
          ],
        }
      : { DBClusters: [] },
  );
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [] });
  rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [] });
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(PutObjectCommand).resolves({});
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
});

describe('an Aurora cluster’s path to the DR region', () => {
  it('is none without a global database: only snapshot copies reach the DR region', async () => {
    // Act
    const posture = await readPosture(deps(), policy, NOW);

    // Assess
    const [billing] = posture.databases;
    expect(billing?.crossRegion).toEqual({ path: 'none' });
    expect(billing?.primary.rpoSeconds).toBe(120);
    expect(billing?.holds).toMatchObject({ rpo: true, drRpo: false });
    expect(billing?.gaps).toContain(
      'no continuous path to the DR region (RDS replicates no automated backups of Aurora clusters): only snapshot copies reach it; an Aurora global database would, as tier critical asks',
    );
  });

  it('is its global database, whose secondary in the DR region is as old as its lag', async () => {
    // Arrange
    rds.on(DescribeGlobalClustersCommand).resolves({
      GlobalClusters: [
        {
          GlobalClusterIdentifier: 'billing-global',
          GlobalClusterMembers: [
            { DBClusterArn: billingArn, IsWriter: true },
            { DBClusterArn: `arn:aws:rds:${DR}:${ACCOUNT}:cluster:billing-dr`, IsWriter: false },
          ],
        },
      ],
    });
    cloudwatch.on(GetMetricStatisticsCommand).resolves({
      Datapoints: [{ Timestamp: new Date(NOW.getTime() - 60_000), Maximum: 850 }],
    });

    // Act
    const posture = await readPosture(deps(), policy, NOW);

    // Assess
    const [billing] = posture.databases;
    expect(billing?.crossRegion).toEqual({
      path: 'global-database',
      globalCluster: 'billing-global',
      drCluster: 'billing-dr',
      lagSeconds: 0.85,
    });
    expect(billing?.dr.rpoSeconds).toBe(1);
    expect(billing?.holds.drRpo).toBe(true);
    expect(billing?.gaps).toEqual([]);
    expect(cloudwatch.commandCalls(GetMetricStatisticsCommand)[0]?.args[0].input).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'AuroraGlobalDBReplicationLag',
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'billing-dr' }],
    });
  });

  it('says so when the secondary reported no lag', async () => {
    rds.on(DescribeGlobalClustersCommand).resolves({
      GlobalClusters: [
        {
          GlobalClusterIdentifier: 'billing-global',
          GlobalClusterMembers: [
            { DBClusterArn: billingArn, IsWriter: true },
            { DBClusterArn: `arn:aws:rds:${DR}:${ACCOUNT}:cluster:billing-dr`, IsWriter: false },
          ],
        },
      ],
    });
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
    const [billing] = (await readPosture(deps(), policy, NOW)).databases;
    expect(billing?.crossRegion).toMatchObject({ path: 'global-database', lagSeconds: null });
    // Without a lag, the DR region has only its copies: none here.
    expect(billing?.dr.rpoSeconds).toBeNull();
  });
});

describe('the posture job when a part fails', () => {
  it('publishes the posture without its history when CloudWatch refuses, and says so', async () => {
    // Arrange
    cloudwatch.on(GetMetricDataCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
        name: 'AccessDenied',
      }),
    );

    // Act
    const result = await runPostureJob(deps(), policy, NOW);

    // Assess
    expect(result.failures).toEqual([
      { subject: 'the posture history', error: expect.stringContaining('AccessDenied') },
    ]);
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual([
      `reports/${policy.name}/posture.json`,
      `reports/${policy.name}/posture.html`,
    ]);
    const html = String(s3.commandCalls(PutObjectCommand)[1]?.args[0].input.Body);
    expect(html).toContain('data-database="billing"');
  });

  it('counts each page the bucket refused as a failure of the run', async () => {
    // Arrange
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message: 'denied',
      }),
    );

    // Act
    const result = await runPostureJob(deps(), policy, NOW);

    // Assess
    expect(result.failures.map((f) => f.subject)).toEqual([
      `the posture report reports/${policy.name}/posture.json`,
      `the posture report reports/${policy.name}/posture.html`,
    ]);
    // The databases that miss an objective are still counted, for the alarm.
    expect(result.missed).toEqual(['billing']);
  });
});
