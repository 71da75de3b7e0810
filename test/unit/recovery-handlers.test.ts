import {
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../support/lambda-context.js';
import { drillPlanFixture, SMOKE_PASSED, TEARDOWN_DONE } from '../support/machine-world.js';
import { packagedPolicyFile } from '../support/policy.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);
let handlers: Record<'report' | 'janitor' | 'teardown', Handler>;

beforeAll(async () => {
  vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile());
  vi.stubEnv('REPORT_BUCKET', 'lb-test-policy-123456789012-eu-central-1');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  const load = async (path: string) => ((await import(path)) as { handler: Handler }).handler;
  handlers = {
    report: await load('../../functions/drill-report.js'),
    janitor: await load('../../functions/drill-janitor.js'),
    teardown: await load('../../functions/drill-teardown.js'),
  };
});

afterAll(() => {
  vi.unstubAllEnvs();
});

beforeEach(() => {
  rds.reset();
  s3.reset();
  sns.reset();
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({});
});

/** Runs a handler and returns what it printed as EMF metrics. */
async function metricsOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('drill-report handler', () => {
  it('stores the report in the report bucket, sends one summary and publishes RTO, RPO and success per target', async () => {
    // Arrange
    const state = {
      input: { target: 'orders-db' },
      plan: drillPlanFixture(),
      poll: {
        count: 2,
        state: 'available',
        status: 'available',
        address: 'h',
        port: 5432,
        observedAt: '2026-11-21T04:12:00.000Z',
      },
      checks: SMOKE_PASSED,
      teardown: TEARDOWN_DONE,
    };

    // Act
    let result: unknown;
    const metrics = await metricsOf(async () => {
      result = await handlers.report(state, lambdaContext('drillReport'));
    });

    // Assess
    expect(result).toMatchObject({ succeeded: true, rtoSeconds: 1200, rpoSeconds: 7200 });
    expect(
      s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Bucket, c.args[0].input.Key]),
    ).toEqual([
      [
        'lb-test-policy-123456789012-eu-central-1',
        'drills/test-policy/lb-drill-orders-db-261121040000/report.json',
      ],
      [
        'lb-test-policy-123456789012-eu-central-1',
        'drills/test-policy/lb-drill-orders-db-261121040000/report.md',
      ],
    ]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: 'Lifeboat drill of orders-db: succeeded',
    });
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({
      Target: 'orders-db',
      DrillRTO: 1200,
      DrillRPO: 7200,
      DrillSucceeded: 1,
    });
  });

  it('publishes DrillSucceeded 0, and no RTO, for a failed drill', async () => {
    // Arrange
    const state = {
      input: {},
      plan: drillPlanFixture(),
      error: { Error: 'DrillTimeout', Cause: 'still creating' },
      teardown: TEARDOWN_DONE,
    };

    // Act
    const metrics = await metricsOf(() => handlers.report(state, lambdaContext('drillReport')));

    // Assess
    expect(metrics[0]).toMatchObject({ Target: 'orders-db', DrillSucceeded: 0 });
    expect(metrics[0]).not.toHaveProperty('DrillRTO');
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: 'Lifeboat drill of orders-db: FAILED',
    });
  });
});

describe('drill-teardown handler', () => {
  it('fails with the error’s own name, which the state machine catches', async () => {
    // Arrange
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceStatus: 'available', TagList: [] }] });

    // Act
    const error = await handlers
      .teardown(
        { drillId: 'lb-drill-x', instanceId: 'lb-drill-x', clusterId: null, attempts: 0 },
        lambdaContext('drillTeardown'),
      )
      .catch((e: Error) => e);

    // Assess
    expect((error as Error).name).toBe('NotThisDrillError');
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });
});

describe('drill-janitor handler', () => {
  it('deletes old leftovers and alerts once when one cannot be deleted', async () => {
    // Arrange
    const tags = (id: string) => [
      { Key: 'lifeboat:drill', Value: id },
      { Key: 'lifeboat:policy', Value: 'test-policy' },
      { Key: 'lifeboat:drill-started', Value: '2026-11-01T00:00:00Z' },
    ];
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'lb-drill-a', DBInstanceStatus: 'available', TagList: tags('a') },
        { DBInstanceIdentifier: 'lb-drill-b', DBInstanceStatus: 'available', TagList: tags('b') },
      ],
    });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    rds.on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'lb-drill-a' }).resolves({});
    rds
      .on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'lb-drill-b' })
      .rejects(new Error('AccessDenied'));

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-21T04:00:30Z'));

    // Act
    let failure: unknown;
    const metrics = await metricsOf(() =>
      handlers
        .janitor({ scheduledTime: '2026-11-21T04:00:00Z' }, lambdaContext('drillJanitor'))
        .catch((error: unknown) => {
          failure = error;
        }),
    );

    // Assess
    expect(String(failure)).toContain('drill-janitor: 1 failed: instance lb-drill-b');
    expect(metrics).toEqual([expect.objectContaining({ DrillLeftoversDeleted: 1 })]);
    vi.useRealTimers();
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 2);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('rejects a malformed event and changes nothing', async () => {
    await expect(
      handlers.janitor({ scheduledTime: 'yesterday' }, lambdaContext('drillJanitor')),
    ).rejects.toThrow('scheduledTime: must be an ISO-8601 date-time');
    expect(rds.calls()).toHaveLength(0);
  });
});
