import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HealthServer, startHealthServer } from '../../local/demo/health-server.js';
import {
  endpointOf,
  reportReplicaLag,
  seedBucket,
  seedReplica,
  seedZone,
} from '../../local/demo/recovery-seed.js';
import { seedDbNetwork, seedInstance, seedTopic } from '../../local/demo/seed.js';
import {
  type RecoveryTaskDeps,
  runRecoveryLocally,
} from '../../local/step-functions/recovery-tasks.js';
import { clientIn, ROUTE53_REGION, rdsIn } from '../../shared/aws/clients.js';
import type { FailoverReport } from '../../shared/failover/failover-report.js';
import { rebuildReplica } from '../../shared/failover/rebuild-replica.js';
import type { Policy } from '../../shared/policy/schema.js';
import { useLocalAws } from '../support/local-aws.js';
import { recoveryPolicy } from '../support/recovery-policy.js';

// The regional-failover ASL file, run in-process against moto, with real HTTP health checks.

// The machine's Wait states move the local AWS's clock on, at its pace.
const local = useLocalAws();
const clock = { clock: (seconds: number) => local.aws.clock.advance(seconds) };
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const BUCKET = 'lb-recovery-test-dr-reports';
const RECORD = 'orders-db.db.lifeboat.test';
const CONFIRM = 'failover orders-db to eu-west-1';
let health: HealthServer;
let policy: Policy;
let zone: string;
let topic: string;
let primaryEndpoint: string;
let drEndpoint: string;

const deps = (): RecoveryTaskDeps => ({
  policy,
  region: DR,
  alertTopicArn: topic,
  reportBucket: BUCKET,
  pause: async () => undefined,
});

const record = async () => {
  const out = await clientIn(Route53Client, ROUTE53_REGION).send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zone }),
  );
  return out.ResourceRecordSets?.find((r) => r.Name === `${RECORD}.`)?.ResourceRecords?.[0]?.Value;
};

const replicaSource = async () => {
  const out = await rdsIn(DR).client.send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db-dr' }),
  );
  return out.DBInstances?.[0]?.ReadReplicaSourceDBInstanceIdentifier;
};

beforeAll(async () => {
  health = await startHealthServer();
  const network = await seedDbNetwork(PRIMARY, 'drill-subnets');
  await seedInstance(rdsIn(PRIMARY).client, 'orders-db');
  primaryEndpoint = await endpointOf(PRIMARY, 'orders-db');
  drEndpoint = await seedReplica(PRIMARY, DR, 'orders-db', 'orders-db-dr');
  zone = await seedZone('lifeboat.test', RECORD, primaryEndpoint);
  topic = await seedTopic(DR);
  await seedBucket(DR, BUCKET);
  policy = recoveryPolicy({
    subnetGroup: network.subnetGroup,
    securityGroup: network.securityGroupId,
    zone,
    primaryHealthUrl: health.url('/primary'),
    drHealthUrl: health.url('/dr'),
  });
}, 120_000);

afterAll(async () => {
  await health?.stop();
});

describe('regional failover against the local AWS', () => {
  it('stops before changing anything when the replica lags too far behind, naming why', async () => {
    // Arrange: the primary is down, but at the last reading the replica was five minutes behind.
    health.answer('/primary', 503);
    await reportReplicaLag(DR, 'orders-db-dr', 300, new Date(Date.now() - 150_000));

    // Act
    const run = await runRecoveryLocally(
      'regional-failover',
      { target: 'orders-db', confirm: CONFIRM },
      deps(),
      { waits: clock, executionName: 'lagging' },
    );

    // Assess
    expect(run.path).toEqual(['Preflight', 'PreconditionsFailed']);
    expect(run.error).toBe('FailoverPreconditionError');
    expect(run.cause).toContain('lag: ReplicaLag 300s exceeds the maximum of 60s');
    expect(await replicaSource()).toBeDefined();
    expect(await record()).toBe(primaryEndpoint);
  });

  it('refuses an input without the exact confirmation', async () => {
    const run = await runRecoveryLocally(
      'regional-failover',
      { target: 'orders-db', confirm: 'yes', planned: true },
      deps(),
      { waits: clock, executionName: 'unconfirmed' },
    );
    expect(run.cause).toContain(
      'confirmation: the input must confirm with exactly "failover orders-db to eu-west-1"',
    );
    expect(await replicaSource()).toBeDefined();
  });

  it('fails over when the primary is down: promotes, switches the record, verifies health, reports RTO', async () => {
    // Arrange: the primary failed its checks; the replica is caught up.
    health.answer('/primary', 503);
    await reportReplicaLag(DR, 'orders-db-dr', 2, new Date(Date.now() - 30_000));

    // Act
    const run = await runRecoveryLocally(
      'regional-failover',
      { target: 'orders-db', confirm: CONFIRM },
      deps(),
      { waits: clock, executionName: 'unplanned' },
    );

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toContain('PromoteReadReplica');
    expect(await replicaSource()).toBeUndefined();
    expect(await record()).toBe(drEndpoint);
    expect(health.hits('/primary')).toBeGreaterThanOrEqual(2);
    expect(health.hits('/dr')).toBeGreaterThanOrEqual(1);
    const out = await clientIn(S3Client, DR).send(
      new GetObjectCommand({ Bucket: BUCKET, Key: (run.output as { json: string }).json }),
    );
    const report = JSON.parse(await (out.Body?.transformToString() ?? '')) as FailoverReport;
    expect(report).toMatchObject({ succeeded: true, planned: false, endpoint: drEndpoint });
    expect(report.rtoSeconds).not.toBeNull();
    expect(report.steps.map((s) => s.outcome)).toEqual(['done', 'done', 'done']);
  });

  it('resumes as a no-op for what is done: verifies and reports only', async () => {
    // Act
    const run = await runRecoveryLocally(
      'regional-failover',
      { target: 'orders-db', confirm: CONFIRM },
      deps(),
      { waits: clock, executionName: 'resumed' },
    );

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual([
      'Preflight',
      'PromotionNeeded',
      'DnsNeeded',
      'VerifyHealth',
      'Report',
      'Outcome',
      'FailoverSucceeded',
    ]);
  });

  it('reports a DR endpoint that stays unhealthy as a failed failover', async () => {
    // Arrange
    health.answer('/dr', 503);

    // Act
    const run = await runRecoveryLocally(
      'regional-failover',
      { target: 'orders-db', confirm: CONFIRM },
      deps(),
      { waits: clock, executionName: 'unhealthy' },
    );

    // Assess
    expect(run).toMatchObject({ status: 'FAILED', error: 'FailoverFailed' });
    expect(run.cause).toContain('FailoverUnhealthyError: the DR endpoint is not healthy');
    expect(run.retried.filter((s) => s === 'VerifyHealth')).toHaveLength(8);
    health.answer('/dr', 200);
  });

  it('starts failback with a new replica of the promoted instance in the old primary region', async () => {
    // Act
    const result = await rebuildReplica({ primary: rdsIn(PRIMARY), dr: rdsIn(DR) }, policy, {
      target: 'orders-db',
      kmsKeyId: 'alias/aws/rds',
    });

    // Assess
    expect(result).toMatchObject({ replicaId: 'orders-db-failback', region: PRIMARY });
    const out = await rdsIn(PRIMARY).client.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db-failback' }),
    );
    expect(out.DBInstances?.[0]?.ReadReplicaSourceDBInstanceIdentifier).toContain('orders-db-dr');
  });
});
