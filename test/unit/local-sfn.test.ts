import {
  DBInstanceNotFoundFault,
  DescribeDBInstancesCommand,
  RDSClient,
  RDSServiceException,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  PriorRequestNotComplete,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  LocalDefinitionError,
  runLocally,
} from '../../local/step-functions/local-state-machine.js';
import { javaName, sdkIntegration } from '../../local/step-functions/sdk-integration.js';
import { loadDefinition } from '../../state-machines/definitions.js';

const rds = mockClient(RDSClient);
const route53 = mockClient(Route53Client);
const sdk = sdkIntegration((service) => (service === 'route53' ? 'us-east-1' : 'eu-central-1'));

beforeEach(() => {
  rds.reset();
  route53.reset();
});

describe('Step Functions names', () => {
  it('spells API members the way Step Functions does', () => {
    expect(javaName('DBInstanceIdentifier')).toBe('DbInstanceIdentifier');
    expect(javaName('DBInstances')).toBe('DbInstances');
    expect(javaName('TTL')).toBe('Ttl');
    expect(javaName('VpcSecurityGroupIds')).toBe('VpcSecurityGroupIds');
    expect(javaName('MultiAZ')).toBe('MultiAz');
    expect(javaName('ChangeInfo')).toBe('ChangeInfo');
  });
});

describe('the generic SDK adapter', () => {
  it('maps Step Functions parameters onto the API and answers with Step Functions names and ISO times', async () => {
    // Arrange
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'orders-db', InstanceCreateTime: new Date('2026-11-21T04:00:00Z') },
      ],
    });

    // Act
    const out = await sdk('rds', 'describeDBInstances', { DbInstanceIdentifier: 'orders-db' });

    // Assess
    expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
      DBInstanceIdentifier: 'orders-db',
    });
    expect(out).toEqual({
      DbInstances: [
        { DbInstanceIdentifier: 'orders-db', InstanceCreateTime: '2026-11-21T04:00:00.000Z' },
      ],
    });
  });

  it('maps nested structures and lists: a Route 53 change batch', async () => {
    // Arrange
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) } });

    // Act
    await sdk('route53', 'changeResourceRecordSets', {
      HostedZoneId: 'Z1',
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: 'db.example',
              Type: 'CNAME',
              Ttl: 60,
              ResourceRecords: [{ Value: 'x' }],
            },
          },
        ],
      },
    });

    // Assess
    expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: 'db.example',
              Type: 'CNAME',
              TTL: 60,
              ResourceRecords: [{ Value: 'x' }],
            },
          },
        ],
      },
    });
  });

  it('names errors as Step Functions does: modeled ones by name, unmodeled as the service exception', async () => {
    // Arrange
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'DBInstance x not found.', $metadata: {} }));
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(
      new RDSServiceException({
        name: 'Throttling',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: {},
      }),
    );
    route53
      .on(ChangeResourceRecordSetsCommand)
      .rejects(new PriorRequestNotComplete({ message: 'busy', $metadata: {} }));

    // Act + Assess
    await expect(
      sdk('rds', 'describeDBInstances', { DbInstanceIdentifier: 'x' }),
    ).rejects.toMatchObject({
      name: 'Rds.DbInstanceNotFoundException',
      message: 'DBInstance x not found.',
    });
    await expect(
      sdk('rds', 'restoreDBInstanceFromDBSnapshot', { DbInstanceIdentifier: 'x' }),
    ).rejects.toMatchObject({
      name: 'Rds.RdsException',
    });
    await expect(
      sdk('route53', 'changeResourceRecordSets', { HostedZoneId: 'Z1' }),
    ).rejects.toMatchObject({
      name: 'Route53.PriorRequestNotCompleteException',
    });
  });

  it('refuses a parameter the API does not have, and an unknown action, before calling AWS', async () => {
    await expect(sdk('rds', 'describeDBInstances', { DbInstanceId: 'x' })).rejects.toMatchObject({
      name: 'States.Runtime',
      message: 'DbInstanceId is not a parameter of this API',
    });
    await expect(sdk('rds', 'launchMissiles', {})).rejects.toThrow(
      'aws-sdk:rds:launchMissiles is not supported here',
    );
    expect(rds.calls()).toHaveLength(0);
  });
});

describe('local runs', () => {
  it('refuse a definition whose Lambda task names a function the run does not provide', async () => {
    await expect(
      runLocally(loadDefinition('restore-drill'), {}, { lambdas: {}, sdk, waits: 'instant' }),
    ).rejects.toThrow(
      new LocalDefinitionError('Plan calls function drillPlan, which this run does not provide'),
    );
  });
});

describe('a local run whose waits move a clock on', () => {
  it('moves the clock by each Wait state’s seconds (literal or from its input) and passes the input through', async () => {
    // Prepare
    const moved: number[] = [];
    const definition = {
      StartAt: 'First',
      States: {
        First: { Type: 'Wait', Seconds: 10, Next: 'Second' },
        Second: { Type: 'Wait', SecondsPath: '$.plan.pollSeconds', Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    } as unknown as Parameters<typeof runLocally>[0];

    // Act
    const run = await runLocally(
      definition,
      { plan: { pollSeconds: 60 }, keep: 'me' },
      {
        lambdas: {},
        sdk,
        waits: {
          clock: async (seconds) => {
            moved.push(seconds);
          },
        },
      },
    );

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(moved).toEqual([10, 60]);
    expect(run.path).toEqual(['First', 'Second', 'Done']);
    expect(run.output).toEqual({ plan: { pollSeconds: 60 }, keep: 'me' });
  });
});
