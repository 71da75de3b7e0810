import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { type HealthServer, startHealthServer } from '../../local/demo/health-server.js';
import {
  endpointOf,
  reportReplicaLag,
  seedBucket,
  seedReplica,
  seedZone,
} from '../../local/demo/recovery-seed.js';
import { seedDbNetwork, seedInstance, seedTopic } from '../../local/demo/seed.js';
import { clientIn, ROUTE53_REGION, rdsIn } from '../../shared/aws/clients.js';
import { backupBucketName } from '../../shared/naming/stack.js';
import { captureIo } from '../support/capture-io.js';
import { useLocalAws } from '../support/local-aws.js';
import { recoveryPolicyText } from '../support/recovery-policy.js';

// The drill and failover commands against moto: the deployed path (StartExecution and
// DescribeExecution on state machines moto holds) and the --local path (the ASL run here).

useLocalAws();
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const RECORD = 'orders-db.db.lifeboat.test';
let policyFile: string;
let health: HealthServer;
let drTopic: string;
let zone: string;

/** Runs lifeboat; every command but status takes the policy. */
async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv[1] === 'status' ? argv : [...argv, '--policy', policyFile], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function deployedMachine(region: string, name: string) {
  await clientIn(SFNClient, region).send(
    new CreateStateMachineCommand({
      name,
      roleArn: 'arn:aws:iam::123456789012:role/lifeboat-states',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
    }),
  );
}

beforeAll(async () => {
  health = await startHealthServer();
  const network = await seedDbNetwork(PRIMARY, 'drill-subnets');
  await seedInstance(rdsIn(PRIMARY).client, 'orders-db');
  await seedReplica(PRIMARY, DR, 'orders-db', 'orders-db-dr');
  zone = await seedZone('lifeboat.test', RECORD, await endpointOf(PRIMARY, 'orders-db'));
  drTopic = await seedTopic(DR);
  await seedBucket(DR, backupBucketName('recovery-test', '123456789012', DR));
  await reportReplicaLag(DR, 'orders-db-dr', 1, new Date(Date.now() - 30_000));
  await deployedMachine(PRIMARY, 'lifeboat-prod-restore-drill');
  await deployedMachine(DR, 'lifeboat-prod-regional-failover');
  policyFile = join(mkdtempSync(join(tmpdir(), 'lifeboat-cli-')), 'policy.yml');
  writeFileSync(
    policyFile,
    recoveryPolicyText({
      subnetGroup: network.subnetGroup,
      securityGroup: network.securityGroupId,
      zone,
      primaryHealthUrl: health.url('/primary'),
      drHealthUrl: health.url('/dr'),
    }),
  );
}, 120_000);

afterAll(async () => {
  await health?.stop();
});

describe('lifeboat drill', () => {
  it('starts the deployed restore-drill machine with the drill’s input and follows it by ARN', async () => {
    // Act
    const started = await cli(
      'drill',
      'start',
      '--target',
      'orders-db',
      '--pick',
      'random',
      '--json',
    );

    // Assess
    expect(started.code).toBe(0);
    const execution = JSON.parse(started.out) as { executionArn: string; status: string };
    expect(execution.executionArn).toMatch(
      /^arn:aws:states:eu-central-1:123456789012:execution:lifeboat-prod-restore-drill:drill-orders-db-\d{8}T\d{6}Z$/,
    );
    const described = await clientIn(SFNClient, PRIMARY).send(
      new DescribeExecutionCommand({ executionArn: execution.executionArn }),
    );
    expect(JSON.parse(described.input ?? '')).toEqual({ target: 'orders-db', pick: 'random' });
    const status = await cli('drill', 'status', execution.executionArn);
    expect(status.out).toContain(`${execution.executionArn}\n  status   `);
  });

  it('refuses bad arguments before calling AWS, naming what is wrong', async () => {
    expect(await cli('drill', 'start', '--target', 'scratch-db')).toMatchObject({
      code: 2,
      err: 'lifeboat: --target scratch-db: the policy drills orders-db, shop-db, billing\n',
    });
    expect(
      (await cli('drill', 'start', '--target', 'orders-db', '--pick', 'oldest')).err,
    ).toContain('--pick oldest: must be latest-verified, random or point-in-time');
    expect((await cli('drill', 'start', '--target', 'orders-db', '--local')).err).toContain(
      '--local needs --alert-topic <arn>',
    );
    expect(
      (
        await cli(
          'drill',
          'status',
          'arn:aws:states:eu-west-1:123456789012:execution:other-machine:x',
        )
      ).code,
    ).toBe(2);
  });
});

describe('lifeboat failover', () => {
  it('plans: every precondition’s status and every step, changing nothing', async () => {
    // Arrange: the primary answers, so an unplanned failover is not called for.
    health.answer('/primary', 200);

    // Act
    const unplanned = await cli('failover', 'plan', '--target', 'orders-db');
    const planned = await cli('failover', 'plan', '--target', 'orders-db', '--planned');

    // Assess
    expect(unplanned.code).toBe(1);
    expect(unplanned.out).toMatch(/primary-unhealthy\s+FAIL/);
    expect(unplanned.out).toContain('Not ready');
    expect(planned.code).toBe(0);
    expect(planned.out).toMatch(/lag\s+PASS\s+ReplicaLag 1s within the maximum of 60s/);
    expect(planned.out).toContain('2. Promote: PromoteReadReplica orders-db-dr in eu-west-1');
    expect(planned.out).toContain(`4. DNS: UPSERT CNAME ${RECORD} -> orders-db-dr.`);
    expect(planned.out).toContain(
      'lifeboat failover start --target orders-db --confirm "failover orders-db to eu-west-1" --planned',
    );
    const replica = await rdsIn(DR).client.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db-dr' }),
    );
    expect(replica.DBInstances?.[0]?.ReadReplicaSourceDBInstanceIdentifier).toBeDefined();
  });

  it('will not start without the exact confirmation', async () => {
    expect(await cli('failover', 'start', '--target', 'orders-db')).toMatchObject({
      code: 2,
      err: 'lifeboat: a failover must be confirmed: add --confirm "failover orders-db to eu-west-1"\n',
    });
    expect(
      (
        await cli(
          'failover',
          'start',
          '--target',
          'orders-db',
          '--confirm',
          'failover orders-db to us-east-1',
        )
      ).code,
    ).toBe(2);
  });

  it('starts the deployed regional-failover machine in the DR region with the confirmed input', async () => {
    // Act
    const started = await cli(
      'failover',
      'start',
      '--target',
      'orders-db',
      '--confirm',
      'failover orders-db to eu-west-1',
      '--planned',
      '--json',
    );

    // Assess
    expect(started.code).toBe(0);
    const { executionArn } = JSON.parse(started.out) as { executionArn: string };
    expect(executionArn).toContain(
      ':states:eu-west-1:123456789012:execution:lifeboat-prod-regional-failover:failover-orders-db-',
    );
    const described = await clientIn(SFNClient, DR).send(
      new DescribeExecutionCommand({ executionArn }),
    );
    expect(JSON.parse(described.input ?? '')).toEqual({
      target: 'orders-db',
      confirm: 'failover orders-db to eu-west-1',
      planned: true,
      force: false,
    });
  });

  it('runs the failover here with --local: promotes, switches DNS, reports', async () => {
    // Act
    const run = await cli(
      'failover',
      'start',
      '--target',
      'orders-db',
      '--confirm',
      'failover orders-db to eu-west-1',
      '--planned',
      '--local',
      '--instant-waits',
      '--alert-topic',
      drTopic,
    );

    // Assess
    expect(run.code).toBe(0);
    expect(run.out).toContain('status   SUCCEEDED');
    const records = await clientIn(Route53Client, ROUTE53_REGION).send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zone }),
    );
    expect(
      records.ResourceRecordSets?.find((r) => r.Name === `${RECORD}.`)?.ResourceRecords?.[0]?.Value,
    ).toBe(await endpointOf(DR, 'orders-db-dr'));
  });

  it('rebuilds a replica in the old primary region for failback, and refuses twice', async () => {
    const first = await cli(
      'failover',
      'rebuild-replica',
      '--target',
      'orders-db',
      '--kms-key',
      'alias/aws/rds',
    );
    expect(first.code).toBe(0);
    expect(first.out).toContain('Creating orders-db-failback in eu-central-1');
    const again = await cli(
      'failover',
      'rebuild-replica',
      '--target',
      'orders-db',
      '--kms-key',
      'alias/aws/rds',
    );
    expect(again).toMatchObject({ code: 2 });
    expect(again.err).toContain('a DB instance orders-db-failback already exists in eu-central-1');
  });
});
