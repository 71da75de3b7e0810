import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaLogicalIdOf, roleOf } from '../../deploy/function-settings.js';
import {
  endpointOf,
  pointRecord,
  reportReplicaLag,
  seedBucket,
  seedLifeboatSnapshot,
  seedReplica,
  seedZone,
} from '../../local/demo/recovery-seed.js';
import { seedDbNetwork, seedInstance, seedSecret, seedTopic } from '../../local/demo/seed.js';
import type { LambdaTask, LocalExecution } from '../../local/step-functions/local-state-machine.js';
import {
  type RecoveryTaskDeps,
  recoveryTasks,
  runRecoveryLocally,
} from '../../local/step-functions/recovery-tasks.js';
import { rdsIn } from '../../shared/aws/clients.js';
import type { Connect } from '../../shared/drills/database-session.js';
import { confirmationPhrase } from '../../shared/failover/failover-contract.js';
import { slotOf } from '../../shared/naming/slot.js';
import { backupBucketName, type StateMachineName } from '../../shared/naming/stack.js';
import { loadPolicyFile } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { lambdaTasksOf, loadDefinition } from '../../state-machines/definitions.js';
import { type RecordedCall, recordAwsCalls } from '../support/aws-calls.js';
import { type CallWorld, type IamRequest, iamRequestsOf } from '../support/iam-requests.js';
import {
  DR_TEMPLATE,
  grantedActions,
  keyPolicy,
  PRIMARY_TEMPLATE,
  type RolePolicies,
  simulate,
  templateRoles,
  VAULT_TEMPLATE,
} from '../support/iam-roles.js';
import { useLocalAws } from '../support/local-aws.js';

/**
 * Both state machines run from their ASL files against a local AWS shaped like the shipped
 * policy (the one `npm test` packages): each Lambda task as its function's role, each SDK task
 * as the machine's role. Every AWS call is evaluated with an IAM simulator against that role in
 * the packaged template (the drill's in the primary stack, the failover's in the DR stack), as is
 * the machine's invocation of each task. Roles must allow every call, grant nothing no call uses
 * (unless said why), and deny what they must never do.
 */
// At AWS's pace: the machines' Wait states move the local AWS's clock on.
const local = useLocalAws();
const recorder = recordAwsCalls();
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const MACHINE_ROLE: Record<StateMachineName, string> = {
  'restore-drill': 'RestoreDrillStateMachineRole',
  'regional-failover': 'RegionalFailoverStateMachineRole',
};

let policy: Policy;
const tags = new Map<string, Record<string, string>>();
const secretArns = new Map<string, string>();
let zoneId = '';
let shippedZone = '';
const invoked: RecordedCall[] = [];
const executions: Record<string, LocalExecution> = {};
let rolesOf: Record<'primary' | 'dr', Map<string, RolePolicies>>;
let keyPolicies: Record<'primary' | 'dr', { data: unknown; alert: unknown }>;

// A smoke-check session that answers every check: the database is beyond AWS, and not the point.
const answering: Connect = async () => ({
  async query(sql) {
    if (sql.includes('max(')) return [[new Date(Date.now() - 300_000)]];
    return sql.includes('exists') ? [[true]] : [[5000]];
  },
  async end() {},
});

/** Runs a machine with each Lambda task as its function's role, the rest as the machine's. */
async function runAs(machine: StateMachineName, input: unknown, deps: RecoveryTaskDeps) {
  const tasks = await recoveryTasks(machine, deps);
  const lambdas: Record<string, LambdaTask> = {};
  for (const [name, task] of Object.entries(tasks)) {
    lambdas[name] = (event) => {
      // The machine invokes the function; the function makes its own calls as its own role.
      invoked.push({
        role: MACHINE_ROLE[machine],
        service: 'Lambda',
        operation: 'Invoke',
        region: deps.region,
        input: { FunctionName: name },
        accessKeyId: '',
      });
      return recorder.as(roleOf(name), () => task(event));
    };
  }
  return recorder.as(MACHINE_ROLE[machine], () =>
    runRecoveryLocally(machine, input, deps, {
      waits: { clock: (seconds) => local.aws.clock.advance(seconds) },
      lambdas,
    }),
  );
}

// The alert topic's key in each region (moto's topics are not encrypted; SNS would use it).
const alertKeyIn = (region: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/0a1b2c3d-alert-key`;

const functionArn = (region: string, name: string) =>
  `arn:aws:lambda:${region}:${ACCOUNT}:function:lifeboat-prod-${name}`;

function values(region: string, topic: string, machine: StateMachineName) {
  const bucket = backupBucketName(policy.name, ACCOUNT, region);
  const key = `arn:aws:kms:${region}:${ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef`;
  return {
    account: ACCOUNT,
    region,
    refs: { AlertTopic: topic, BackupBucket: bucket, DataKey: key.split('/')[1] ?? '' },
    arns: {
      BackupBucket: `arn:aws:s3:::${bucket}`,
      DataKey: key,
      ManifestKey: key,
      AlertKey: alertKeyIn(region),
      ...Object.fromEntries(
        lambdaTasksOf(loadDefinition(machine)).map((name) => [
          lambdaLogicalIdOf(name),
          functionArn(region, name),
        ]),
      ),
    },
  };
}

beforeAll(async () => {
  // The shipped policy, with what the local AWS made in place of its network ids.
  const shipped = loadPolicyFile('lifeboat.policy.yml');
  const network = await seedDbNetwork(PRIMARY, shipped.drills?.network.subnetGroup ?? '');
  shippedZone = shipped.failover?.databases['orders-db']?.dns.hostedZoneId ?? '';
  zoneId = await seedZone('db.acme.internal');
  policy = {
    ...shipped,
    drills: shipped.drills && {
      ...shipped.drills,
      network: { ...shipped.drills.network, securityGroupIds: [network.securityGroupId] },
    },
    failover: shipped.failover && {
      ...shipped.failover,
      databases: Object.fromEntries(
        Object.entries(shipped.failover.databases).map(([id, d]) => [
          id,
          { ...d, dns: { ...d.dns, hostedZoneId: zoneId } },
        ]),
      ),
    },
  };

  // The drill: orders-db, a verified Lifeboat snapshot of it, its credentials, the report bucket.
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  const slot = slotOf(new Date(Date.now() - 2 * 3_600_000));
  await seedLifeboatSnapshot(PRIMARY, policy.name, 'instance', 'orders-db', slot, new Date());
  // The snapshot becomes available, as a snapshot job's would, minutes later on AWS.
  await local.aws.clock.advanceToNext();
  const secret = policy.drills?.databases['orders-db']?.credentialsSecret ?? '';
  secretArns.set(
    secret,
    await seedSecret(PRIMARY, secret, JSON.stringify({ username: 'app', password: 'pw' })),
  );
  const primaryTopic = await seedTopic(PRIMARY);
  await seedBucket(PRIMARY, backupBucketName(policy.name, ACCOUNT, PRIMARY));

  // The failover: the DR replica, its record, its lag, healthy endpoints, the DR report bucket.
  await seedReplica(PRIMARY, DR, 'orders-db', 'orders-db-dr');
  const record = policy.failover?.databases['orders-db']?.dns.recordName ?? '';
  await pointRecord(zoneId, record, await endpointOf(PRIMARY, 'orders-db'));
  await reportReplicaLag(DR, 'orders-db-dr', 2, new Date(Date.now() - 30_000));
  const drTopic = await seedTopic(DR);
  await seedBucket(DR, backupBucketName(policy.name, ACCOUNT, DR));

  executions.drill = await runAs(
    'restore-drill',
    { target: 'orders-db' },
    {
      policy,
      region: PRIMARY,
      alertTopicArn: primaryTopic,
      reportBucket: backupBucketName(policy.name, ACCOUNT, PRIMARY),
      reportCopy: { region: DR, bucket: backupBucketName(policy.name, ACCOUNT, DR) },
      connect: answering,
    },
  );
  // A second drill, of the same database, restores its continuous backups to a point in time.
  executions.pointInTime = await runAs(
    'restore-drill',
    { target: 'orders-db', pick: 'point-in-time' },
    {
      policy,
      region: PRIMARY,
      alertTopicArn: primaryTopic,
      reportBucket: backupBucketName(policy.name, ACCOUNT, PRIMARY),
      reportCopy: { region: DR, bucket: backupBucketName(policy.name, ACCOUNT, DR) },
      connect: answering,
      now: () => new Date(Date.now() + 1000),
    },
  );
  // What the drill databases carried when teardown deleted them.
  for (const call of recorder.calls) {
    const restored =
      call.operation === 'RestoreDBInstanceFromDBSnapshot'
        ? call.input.DBInstanceIdentifier
        : call.operation === 'RestoreDBInstanceToPointInTime'
          ? call.input.TargetDBInstanceIdentifier
          : undefined;
    if (restored) {
      tags.set(
        `arn:aws:rds:${PRIMARY}:${ACCOUNT}:db:${String(restored)}`,
        Object.fromEntries(
          ((call.input.Tags as { Key: string; Value: string }[]) ?? []).map((t) => [
            t.Key,
            t.Value,
          ]),
        ),
      );
    }
  }
  executions.failover = await runAs(
    'regional-failover',
    { target: 'orders-db', confirm: confirmationPhrase('orders-db', DR), planned: true },
    {
      policy,
      region: DR,
      alertTopicArn: drTopic,
      reportBucket: backupBucketName(policy.name, ACCOUNT, DR),
      probe: async () => ({ healthy: true, detail: 'HTTP 200' }),
    },
  );

  rolesOf = {
    primary: templateRoles(
      PRIMARY_TEMPLATE,
      values(PRIMARY, primaryTopic, 'restore-drill'),
      PRIMARY_ROLES,
    ),
    dr: templateRoles(DR_TEMPLATE, values(DR, drTopic, 'regional-failover'), FAILOVER_ROLES),
  };
  // KMS authorizes nothing the key's own policy does not allow.
  keyPolicies = {
    primary: {
      data: keyPolicy(PRIMARY_TEMPLATE, 'DataKey', values(PRIMARY, primaryTopic, 'restore-drill')),
      alert: keyPolicy(
        PRIMARY_TEMPLATE,
        'AlertKey',
        values(PRIMARY, primaryTopic, 'restore-drill'),
      ),
    },
    dr: {
      data: keyPolicy(DR_TEMPLATE, 'DataKey', values(DR, drTopic, 'regional-failover')),
      alert: keyPolicy(DR_TEMPLATE, 'AlertKey', values(DR, drTopic, 'regional-failover')),
    },
  };
}, 240_000);

afterAll(() => {
  recorder.stop();
});

/** The world the calls ran in: moto's zone and secret names stand for the policy's. */
function world(): CallWorld {
  return {
    account: ACCOUNT,
    tagsOf: (arn) => tags.get(arn) ?? {},
    // Reports are stored under the bucket's default key, the stack's data key.
    encryptionOf: (bucket) => ({
      kmsKeyId: `arn:aws:kms:${bucket.endsWith(DR) ? DR : PRIMARY}:${ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef`,
      ownContext: false,
    }),
    alertKeyOf: alertKeyIn,
    canonical: (arn) =>
      secretArns.get(arn) ??
      arn.replace(
        `hostedzone/${zoneId.replace(/^\/hostedzone\//, '')}`,
        `hostedzone/${shippedZone}`,
      ),
  };
}

/** A call signed with an assumed role's temporary key: a report copied to the vault account. */
const inTheVault = (c: RecordedCall) => c.accessKeyId.startsWith('ASIA');

function requestsOf(role: string): IamRequest[] {
  const w = world();
  const calls = recorder.calls
    .filter((c) => c.role === role && !inTheVault(c))
    .flatMap((c) => iamRequestsOf(c, w));
  const invocations = invoked
    .filter((c) => c.role === role)
    .map((c) => ({
      action: 'lambda:InvokeFunction',
      resource: functionArn(c.region, String(c.input.FunctionName)),
      context: {},
      call: `Lambda.Invoke ${String(c.input.FunctionName)}`,
    }));
  return [...calls, ...invocations];
}

const DRILL_ROLES = [
  'RestoreDrillStateMachineRole',
  ...lambdaTasksOf(loadDefinition('restore-drill')).map(roleOf),
];
// The janitor runs on its own schedule (the scheduled jobs' test runs it); here, its probes.
const PRIMARY_ROLES = [...DRILL_ROLES, 'DrillJanitorRole'];
const FAILOVER_ROLES = [
  'RegionalFailoverStateMachineRole',
  ...lambdaTasksOf(loadDefinition('regional-failover')).map(roleOf),
];
const stackOf = (role: string) => (PRIMARY_ROLES.includes(role) ? 'primary' : 'dr');

/** Grants no call of these runs exercises, per role, each with the reason it is there. */
const LOGS = {
  'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
  'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
};
const GRANTED_FOR_OTHERS: Record<string, Record<string, string>> = {
  RestoreDrillStateMachineRole: {
    'rds:RestoreDBClusterFromSnapshot': 'an Aurora drill; the shipped policy drills an instance',
    'rds:RestoreDBClusterToPointInTime': 'an Aurora drill; the shipped policy drills an instance',
    'rds:CreateDBInstance': 'the instance of an Aurora drill cluster',
    'kms:CreateGrant': 'RDS uses it on the role’s behalf to restore an encrypted snapshot',
    'kms:DescribeKey': 'RDS uses it on the role’s behalf to restore an encrypted snapshot',
    'sns:Publish': 'alerts when teardown gives up; this teardown succeeds',
    'kms:GenerateDataKey': 'SNS encrypts that alert with the topic’s key',
    'kms:Decrypt': 'SNS encrypts that alert with the topic’s key',
  },
  RegionalFailoverStateMachineRole: {
    'rds:SwitchoverGlobalCluster':
      'an Aurora global database; the shipped policy fails over a replica',
    'rds:FailoverGlobalCluster':
      'an Aurora global database; the shipped policy fails over a replica',
  },
  DrillPlanRole: {
    ...LOGS,
    'rds:DescribeDBClusters':
      'an Aurora point-in-time drill; the shipped policy drills an instance',
    'rds:DescribeDBInstanceAutomatedBackups':
      'a point-in-time drill in the DR region; the shipped policy drills in the primary',
  },
  DrillPollRole: {
    ...LOGS,
    'rds:DescribeDBClusters':
      'the cluster of an Aurora drill; the shipped policy drills an instance',
  },
  DrillSmokeRole: {
    ...LOGS,
    'kms:Decrypt': 'Secrets Manager decrypts the secret with it on the role’s behalf',
  },
  DrillTeardownRole: {
    ...LOGS,
    'rds:DescribeDBClusters':
      'the cluster of an Aurora drill; the shipped policy drills an instance',
    'rds:DeleteDBCluster': 'the cluster of an Aurora drill; the shipped policy drills an instance',
  },
  DrillReportRole: LOGS,
  FailoverPreflightRole: {
    ...LOGS,
    'rds:DescribeDBClusters': 'an Aurora global database; the shipped policy fails over a replica',
    'rds:DescribeGlobalClusters':
      'an Aurora global database; the shipped policy fails over a replica',
    'route53:GetHealthCheckStatus': 'a Route 53 health check; the shipped policy probes URLs',
  },
  FailoverStatusRole: {
    ...LOGS,
    'rds:DescribeDBClusters': 'an Aurora global database; the shipped policy fails over a replica',
    'rds:DescribeGlobalClusters':
      'an Aurora global database; the shipped policy fails over a replica',
  },
  FailoverVerifyRole: {
    ...LOGS,
    'route53:GetHealthCheckStatus': 'a Route 53 health check; the shipped policy probes URLs',
  },
  FailoverReportRole: LOGS,
};

describe('the recovery roles, simulated against the packaged templates', () => {
  it('ran both machines to success, so every step made its calls', () => {
    expect(executions.drill).toMatchObject({ status: 'SUCCEEDED' });
    expect(executions.pointInTime).toMatchObject({ status: 'SUCCEEDED' });
    expect(executions.pointInTime?.path).toContain('RestoreInstanceToPointInTime');
    expect(executions.failover).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('lets the vault’s writer role store the reports copied to the vault account, and only there', async () => {
    // Prepare: the shipped vault stack's role for the shipped production account
    const vault = policy.vault as NonNullable<Policy['vault']>;
    const writer = templateRoles(
      VAULT_TEMPLATE,
      { account: vault.account, region: 'eu-west-1', refs: {}, arns: {} },
      ['VaultWriterRole111122223333'],
    ).get('VaultWriterRole111122223333') as RolePolicies;
    const w: CallWorld = {
      account: vault.account,
      tagsOf: () => ({}),
      encryptionOf: () => undefined,
      canonical: (arn) => arn.replaceAll(ACCOUNT, '111122223333'),
    };
    const requests = recorder.calls
      .filter((c) => c.role !== undefined && inTheVault(c))
      .flatMap((c) => iamRequestsOf(c, w));

    // Act
    const decisions = await Promise.all(
      requests.map(async (r) => `${r.action} ${await simulate(writer, r, vault.account)}`),
    );

    // Assess: the drill's and the failover's reports, each as JSON and Markdown
    expect(requests.map((r) => r.resource).filter((r) => r.includes('/drills/'))).toHaveLength(4);
    expect(requests.map((r) => r.resource).filter((r) => r.includes('/failovers/'))).toHaveLength(
      2,
    );
    expect(new Set(decisions)).toEqual(new Set(['s3:PutObject Allowed']));
  });

  it.each([...DRILL_ROLES, ...FAILOVER_ROLES])('%s allows every call it made', async (role) => {
    // Prepare
    const requests = requestsOf(role);
    const policies = rolesOf[stackOf(role)].get(role) as RolePolicies;

    // Act
    const denied: string[] = [];
    for (const request of requests) {
      const decision = await simulate(
        policies,
        request,
        ACCOUNT,
        request.action.startsWith('kms:')
          ? request.resource.includes('alert-key')
            ? keyPolicies[stackOf(role)].alert
            : keyPolicies[stackOf(role)].data
          : undefined,
      );
      if (decision !== 'Allowed')
        denied.push(`${request.call}: ${request.action} on ${request.resource} ${decision}`);
    }

    // Assess: every role called something (the verify task probes a URL: only its logs)
    if (role !== 'FailoverVerifyRole') expect(requests.length).toBeGreaterThan(0);
    expect(denied).toEqual([]);
  });

  it.each([...DRILL_ROLES, ...FAILOVER_ROLES])(
    '%s grants nothing its calls do not use, but what is listed with a reason',
    (role) => {
      // Act
      const used = new Set(requestsOf(role).map((r) => r.action));
      const granted = grantedActions(rolesOf[stackOf(role)].get(role) as RolePolicies);
      const unused = [...granted].filter((a) => !used.has(a)).sort();

      // Assess
      expect(unused).toEqual(Object.keys(GRANTED_FOR_OTHERS[role] ?? {}).sort());
    },
  );
});

describe('what the recovery roles may never do', () => {
  const db = (id: string) => `arn:aws:rds:${PRIMARY}:${ACCOUNT}:db:${id}`;
  const drDb = (id: string) => `arn:aws:rds:${DR}:${ACCOUNT}:db:${id}`;
  it.each([
    [
      'RestoreDrillStateMachineRole',
      'restore over the production database',
      'rds:RestoreDBInstanceFromDBSnapshot',
      db('orders-db'),
      {},
    ],
    [
      'RestoreDrillStateMachineRole',
      'create a database outside the drill names',
      'rds:CreateDBInstance',
      db('orders-db-copy'),
      {},
    ],
    [
      'RestoreDrillStateMachineRole',
      'modify the production database',
      'rds:ModifyDBInstance',
      db('orders-db'),
      {},
    ],
    [
      'DrillTeardownRole',
      'delete the production database',
      'rds:DeleteDBInstance',
      db('orders-db'),
      {},
    ],
    [
      'DrillTeardownRole',
      'delete a drill-named database without the drill tag',
      'rds:DeleteDBInstance',
      db('lb-drill-orders-db-lookalike'),
      { 'aws:ResourceTag/lifeboat:policy': 'acme-prod' },
    ],
    [
      'DrillJanitorRole',
      'delete the production database',
      'rds:DeleteDBInstance',
      db('orders-db'),
      { 'rds:db-tag/backup': 'lifeboat' },
    ],
    [
      'DrillSmokeRole',
      'read a secret outside the drills’ credentials',
      'secretsmanager:GetSecretValue',
      `arn:aws:secretsmanager:${PRIMARY}:${ACCOUNT}:secret:prod/payments/api-key-AbCdEf`,
      {},
    ],
    [
      'DrillReportRole',
      'write outside the drill reports',
      's3:PutObject',
      'arn:aws:s3:::lb-acme-prod-123456789012-eu-central-1/manifests/acme-prod/x.json',
      {},
    ],
    [
      'RegionalFailoverStateMachineRole',
      'promote a replica the policy does not name',
      'rds:PromoteReadReplica',
      drDb('payments-db-dr'),
      {},
    ],
    [
      'RegionalFailoverStateMachineRole',
      'change a record in a hosted zone the policy does not name',
      'route53:ChangeResourceRecordSets',
      'arn:aws:route53:::hostedzone/ZOTHERZONE0000000000',
      {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['orders-db.db.acme.internal'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      },
    ],
    [
      'RegionalFailoverStateMachineRole',
      'change another record in the policy’s zone',
      'route53:ChangeResourceRecordSets',
      'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ',
      {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['www.acme.internal'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      },
    ],
    [
      'RegionalFailoverStateMachineRole',
      'delete the policy’s record',
      'route53:ChangeResourceRecordSets',
      'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ',
      {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['orders-db.db.acme.internal'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
        'route53:ChangeResourceRecordSetsActions': ['DELETE'],
      },
    ],
    [
      'FailoverReportRole',
      'write outside the failover reports',
      's3:PutObject',
      'arn:aws:s3:::lb-acme-prod-123456789012-eu-west-1/exports/acme-prod/x',
      {},
    ],
  ] as const)('%s may not %s', async (role, _, action, resource, context) => {
    // Act
    const decision = await simulate(
      rolesOf[stackOf(role)].get(role) as RolePolicies,
      { action, resource, context: context as Record<string, string | string[]> },
      ACCOUNT,
    );

    // Assess
    expect(decision).not.toBe('Allowed');
  });
});
