import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
} from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../cli/main.js';
import { roleOf } from '../../deploy/function-settings.js';
import { allFunctions } from '../../functions/registry.js';
import {
  seedCluster,
  seedInstance,
  seedKey,
  seedKeyAs,
  seedSecret,
  seedTopic,
  seedVault,
  seedVaultBucketAs,
} from '../../local/demo/seed.js';
import { clientIn, forgetClients, rdsIn } from '../../shared/aws/clients.js';
import { moduleNameOf } from '../../shared/jobs/job-definition.js';
import { readLedger, runIdsOf } from '../../shared/manifest/manifest-ledger.js';
import { loadPolicyFile } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { Vault } from '../../shared/vault/vault.js';
import { type RecordedCall, recordAwsCalls } from '../support/aws-calls.js';
import { captureIo } from '../support/capture-io.js';
import { type CallWorld, type IamRequest, iamRequestsOf } from '../support/iam-requests.js';
import {
  grantedActions,
  keyPolicy,
  PRIMARY_TEMPLATE,
  type RolePolicies,
  simulate,
  templateRoles,
  VAULT_TEMPLATE,
} from '../support/iam-roles.js';
import { lambdaContext } from '../support/lambda-context.js';
import { useLocalAws } from '../support/local-aws.js';
import { stubVaultProfile } from '../support/vault-profile.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
// The alert topic's key (moto's topic is not encrypted; SNS would use this one on AWS).
const ALERT_KEY = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/0a1b2c3d-alert-key`;
const HOUR = 3_600_000;
// The production account the shipped vault policy (lifeboat.vault.yml) accepts copies from.
const SHIPPED_ACCOUNT = '111122223333';

/** A call signed with an assumed role's temporary key: production acting in the vault account. */
const inTheVault = (c: RecordedCall) => c.accessKeyId.startsWith('ASIA');

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * Every scheduled job runs, through its Lambda handler, against a local AWS shaped like the
 * shipped policy (lifeboat.policy.yml, the policy `npm test` packages); every AWS call each makes
 * is recorded and evaluated with an IAM simulator against that function's role in the packaged
 * template. Roles must allow every call, and grant nothing no call uses (unless said why).
 */
const local = useLocalAws();
const recorder = recordAwsCalls();
const tags = new Map<string, Record<string, string>>();
let policy: Policy;
let vault: Vault;
let topic: string;
let roles: Map<string, RolePolicies>;
let keyPolicyOf: (keyArn: string) => unknown;
let vaultKey: string;
let shippedVaultKey: string;
let vaultRoles: Map<string, RolePolicies>;
let vaultKeyPolicy: unknown;
// The vault account's alert topic, which its jobs alert to.
let vaultTopic: string;
// What lifeboat secrets restore --vault-profile answered, run as the vault's restore role.
let restoredFromTheVault: { code: number; out: string; err: string };
const handlers: Record<string, Handler> = {};

/**
 * Every scheduled job, from the function registry: its handler, and the role the template gives
 * its function.
 */
const JOBS = Object.fromEntries(
  (await allFunctions())
    .filter((d) => d.kind === 'job')
    .map((d) => [
      d.name,
      {
        load: () => import(/* @vite-ignore */ `../../functions/${moduleNameOf(d.name)}.js`),
        role: roleOf(d.name),
      },
    ]),
) as Record<
  | 'snapshotRds'
  | 'advanceSnapshots'
  | 'enforceRetention'
  | 'exportSecrets'
  | 'verifyManifest'
  | 'drillJanitor'
  | 'postureReport',
  { load: () => Promise<unknown>; role: string }
>;

/** Grants that no call of these runs exercises, per role, each with the reason it is there. */
const GRANTED_FOR_OTHERS: Record<string, Record<string, string>> = {
  SnapshotRdsRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'sns:Publish': 'alerts when a run fails; these runs succeed',
    's3:ListBucket':
      'a HEAD of a key the DR bucket lacks answers 404 only with it; every copy is there',
  },
  AdvanceSnapshotsRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'kms:CreateGrant': 'RDS uses it on the role’s behalf to copy encrypted snapshots',
    'rds:CreateDBSnapshot': 'takes a snapshot its slot’s run ran out of time for; these did not',
    'rds:CreateDBClusterSnapshot':
      'takes a snapshot its slot’s run ran out of time for; these did not',
    'sqs:ReceiveMessage': 'Lambda’s event source mapping reads the queue as the role',
    'sqs:DeleteMessage': 'Lambda’s event source mapping reads the queue as the role',
    'sqs:GetQueueAttributes': 'Lambda’s event source mapping reads the queue as the role',
    'sns:Publish': 'alerts when a pass fails; these passes succeed',
  },
  EnforceRetentionRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'sns:Publish': 'alerts when a run fails; these runs succeed',
    's3:ListBucket':
      'a HEAD of a key the DR bucket lacks answers 404 only with it; every copy is there',
  },
  ExportSecretsRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'secretsmanager:DescribeSecret': 'granted with GetSecretValue on the same secrets',
    'sns:Publish': 'alerts when a run fails; these runs succeed',
    's3:ListBucket':
      'a HEAD of a key the DR bucket lacks answers 404 only with it; every copy is there',
  },
  VaultWriterRole: {
    'kms:CreateGrant': 'RDS uses it on the role’s behalf to copy encrypted snapshots',
    'kms:DescribeKey': 'RDS uses it on the role’s behalf to copy encrypted snapshots',
    'kms:Decrypt': 'RDS uses it on the role’s behalf to read the shared snapshot',
    'kms:Encrypt': 'RDS uses it on the role’s behalf to encrypt the copy',
    'kms:GenerateDataKey*': 'RDS uses it on the role’s behalf to encrypt the copy',
    'kms:ReEncrypt*': 'RDS uses it on the role’s behalf to encrypt the copy',
    'rds:ModifyDBSnapshotAttribute': 'shares the source’s copy for a drill at site vault',
    's3:ListBucket':
      'a HEAD of a key the vault bucket lacks answers 404 only with it; every copy is there',
    'rds:ModifyDBClusterSnapshotAttribute': 'shares the source’s copy for a drill at site vault',
  },
  VaultRetentionRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'sns:Publish': 'alerts when a run fails; this run succeeds',
    'kms:Decrypt': 'SNS uses it on the role’s behalf to encrypt an alert',
  },
  VaultVerificationRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'sns:Publish': 'alerts when a run fails; this run succeeds',
    'kms:Decrypt': 'SNS uses it on the role’s behalf to encrypt an alert',
  },
  VaultRestoreRole: {
    's3:ListBucket': 'a GET of a key the bucket lacks answers 404 only with it; every key is there',
  },
  VerifyManifestRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
  },
  PostureReportRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'rds:ModifyDBInstance':
      'raises automated backup retention where the policy enforces it; the shipped policy does not',
    'rds:ModifyDBCluster':
      'raises automated backup retention where the policy enforces it; the shipped policy does not',
    'rds:StartDBInstanceAutomatedBackupsReplication':
      'replicates automated backups where the policy enforces it; the shipped policy does not',
    'rds:StopDBInstanceAutomatedBackupsReplication':
      'stops a replication a tier dropped; the shipped policy enforces nothing',
    'kms:CreateGrant': 'RDS uses it on the role’s behalf to encrypt replicated backups',
    'kms:DescribeKey': 'RDS uses it on the role’s behalf to encrypt replicated backups',
    'cloudwatch:GetMetricStatistics':
      'the replication lag of an Aurora global database; the shipped policy’s cluster has none',
    'kms:Decrypt': 'reads drill reports; no drill has reported in this run',
    's3:GetObject': 'reads drill reports; no drill has reported in this run',
    'sns:Publish': 'alerts when a run fails; this run succeeds',
  },
  DrillJanitorRole: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function’s logs',
    'logs:PutLogEvents': 'the Lambda runtime writes the function’s logs',
    'rds:DeleteDBCluster': 'a leftover drill cluster; the local AWS has only an instance left',
    'sns:Publish': 'alerts when a run fails; this run succeeds',
    'kms:GenerateDataKey': 'SNS encrypts an alert with the topic’s key; this run sends none',
    'kms:Decrypt': 'SNS encrypts an alert with the topic’s key; this run sends none',
  },
};

async function capture() {
  for (const region of [PRIMARY, DR]) {
    const rds = rdsIn(region).client;
    const snaps = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
    for (const s of snaps.DBSnapshots ?? []) {
      tags.set(
        s.DBSnapshotArn ?? '',
        Object.fromEntries((s.TagList ?? []).map((t) => [t.Key, t.Value])),
      );
    }
    const clusters = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }),
    );
    for (const s of clusters.DBClusterSnapshots ?? []) {
      tags.set(
        s.DBClusterSnapshotArn ?? '',
        Object.fromEntries((s.TagList ?? []).map((t) => [t.Key, t.Value])),
      );
    }
    const dbs = await rds.send(new DescribeDBInstancesCommand({}));
    for (const d of dbs.DBInstances ?? []) {
      tags.set(
        d.DBInstanceArn ?? '',
        Object.fromEntries((d.TagList ?? []).map((t) => [t.Key, t.Value])),
      );
    }
  }
}

/** The vault stack's jobs, by the role the vault template gives each. */
const VAULT_JOBS = {
  VaultRetentionRole: 'vault-retention',
  VaultVerificationRole: 'vault-verification',
} as const;
const VAULT_JOB_ROLES = Object.keys(VAULT_JOBS);

/**
 * Runs the vault stack's jobs through their handlers in the vault account, as the stack would:
 * with credentials the local AWS gives to that account (the vault role's), this test's production
 * account as the vault's one source, and retention that deletes at once.
 */
async function runVaultJobs(shipped: NonNullable<Policy['vault']>, key: string): Promise<void> {
  const region = shipped.region ?? DR;
  const assumed = await clientIn(STSClient, region).send(
    new AssumeRoleCommand({ RoleArn: shipped.roleArn, RoleSessionName: 'lifeboat-vault-jobs' }),
  );
  const raw = parse(readFileSync('lifeboat.vault.yml', 'utf8')) as Record<string, unknown>;
  const file = join(mkdtempSync(join(tmpdir(), 'lifeboat-iam-vault-')), 'vault-policy.json');
  writeFileSync(
    file,
    JSON.stringify({
      ...raw,
      sources: [{ account: ACCOUNT, label: 'this test' }],
      retention: { ...(raw.retention as object), rules: { daily: 1, minimumAge: '0h' } },
    }),
  );
  const production = Object.fromEntries(
    [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_REGION',
      'ALERT_TOPIC_ARN',
    ].map((name) => [name, process.env[name]]),
  );
  const asVault = {
    AWS_ACCESS_KEY_ID: assumed.Credentials?.AccessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: assumed.Credentials?.SecretAccessKey ?? '',
    AWS_SESSION_TOKEN: assumed.Credentials?.SessionToken ?? '',
    // A vault function runs in the vault's region.
    AWS_REGION: region,
  };
  for (const [name, value] of Object.entries(asVault)) vi.stubEnv(name, value);
  forgetClients();
  try {
    const topic = await clientIn(SNSClient, region).send(
      new CreateTopicCommand({ Name: 'lifeboat-vault-alerts' }),
    );
    vaultTopic = topic.TopicArn ?? '';
    vi.stubEnv('ALERT_TOPIC_ARN', vaultTopic);
    vi.stubEnv('LIFEBOAT_VAULT_POLICY_PATH', file);
    vi.stubEnv('VAULT_BUCKET', shipped.bucket ?? '');
    vi.stubEnv('VAULT_KEY_ARN', key);
    for (const [role, job] of Object.entries(VAULT_JOBS)) {
      const { handler } = (await import(
        /* @vite-ignore */ `../../vault/functions/${job}.js`
      )) as unknown as { handler: Handler };
      await recorder.as(role, () =>
        handler({ scheduledTime: new Date(Date.now() - 60_000).toISOString() }, lambdaContext(job)),
      );
    }
  } finally {
    for (const [name, value] of Object.entries(production)) vi.stubEnv(name, value);
    forgetClients();
  }
}

/**
 * Plans a restore of the newest export from the vault account's copy, as people of the vault
 * account would: `lifeboat secrets restore --vault-profile`, the profile's credentials those of
 * a role in the vault account (its calls are judged against the vault stack's restore role).
 */
async function restoreFromTheVault(
  shipped: NonNullable<Policy['vault']>,
  policyFile: string,
): Promise<{ code: number; out: string; err: string }> {
  const before = {
    AWS_SHARED_CREDENTIALS_FILE: process.env.AWS_SHARED_CREDENTIALS_FILE,
    AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE,
  };
  await stubVaultProfile(shipped.roleArn, shipped.region ?? DR);
  try {
    const ledger = await readLedger(clientIn(S3Client, PRIMARY), vault.bucket, policy.name);
    const newest = runIdsOf(ledger, 'export-secrets').at(-1) ?? '';
    const io = captureIo();
    const code = await recorder.as('VaultRestoreRole', () =>
      runCli(
        ['secrets', 'restore', '--run', newest, '--vault-profile', 'vault', '--policy', policyFile],
        io,
      ),
    );
    return { code, out: io.stdout(), err: io.stderr() };
  } finally {
    for (const [name, value] of Object.entries(before)) vi.stubEnv(name, value);
  }
}

/** Runs a job's handler as its role, after noting the tags its deletions will be judged on. */
async function runJob(job: keyof typeof JOBS, scheduledTime: Date) {
  await capture();
  return recorder
    .as(JOBS[job].role, () =>
      (handlers[job] as Handler)(
        { scheduledTime: scheduledTime.toISOString() },
        lambdaContext(job),
      ),
    )
    .catch((error: Error) => error);
}

/** An SQS batch as Lambda's event source mapping hands one to the pipeline. */
function queueBatch(bodies: readonly unknown[]) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      eventSource: 'aws:sqs',
      body: JSON.stringify(body),
    })),
  };
}

/**
 * The pipeline as deployed, as its role: a batch of RDS's events each time RDS finishes
 * something, and the sweep, until nothing is pending and a sweep has nothing to do.
 */
async function runPipeline() {
  let seen = (await local.aws.events()).length;
  for (let tail = 0; tail < 2; ) {
    const pending = (await local.aws.clock.read()).nextInSeconds !== null;
    if (pending) await local.aws.clock.advanceToNext();
    else tail += 1;
    const events = await local.aws.events();
    const fresh = events.slice(seen).map((e) => ({
      source: 'aws.rds',
      'detail-type': e.detailType,
      account: e.account,
      region: e.region,
      detail: e.detail,
    }));
    seen = events.length;
    await capture();
    if (fresh.length > 0) {
      await recorder
        .as(JOBS.advanceSnapshots.role, () =>
          (handlers.advanceSnapshots as Handler)(
            queueBatch(fresh),
            lambdaContext('advanceSnapshots'),
          ),
        )
        .catch((error: Error) => error);
    }
    await runJob('advanceSnapshots', new Date());
  }
}

beforeAll(async () => {
  // The shipped policy, with the DR key the local AWS made and retention that deletes at once.
  const drKey = await seedKey(DR);
  const shipped = loadPolicyFile('lifeboat.policy.yml');
  const shippedVault = shipped.vault as NonNullable<Policy['vault']>;
  vaultKey = await seedKeyAs(shippedVault.roleArn, shippedVault.region ?? DR);
  shippedVaultKey = shippedVault.kmsKeyArn;
  await seedVaultBucketAs(
    shippedVault.roleArn,
    shippedVault.region ?? DR,
    shippedVault.bucket ?? '',
  );
  policy = {
    ...shipped,
    snapshots: { ...shipped.snapshots, drKmsKeyArn: drKey },
    vault: { ...shippedVault, kmsKeyArn: vaultKey },
    retention: {
      ...shipped.retention,
      primary: {
        ...shipped.retention.primary,
        last: 1,
        daily: 0,
        weekly: 0,
        monthly: 0,
        yearly: 0,
        lastVerified: 0,
        minimumAge: '0h',
      },
      dr: { ...shipped.retention.dr, last: 1, daily: 0, monthly: 0, minimumAge: '0h' },
    },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'lifeboat-iam-')), 'policy.json');
  writeFileSync(file, JSON.stringify(policy));
  vault = await seedVault(policy, ACCOUNT);
  topic = await seedTopic(PRIMARY);
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await seedInstance(rds, 'reports-db', { backup: 'lifeboat' });
  await seedCluster(rds, 'billing');
  await seedSecret(PRIMARY, 'prod/orders/db-password', 'iam-test-value-1');
  await seedSecret(PRIMARY, 'dev/other', 'iam-test-value-2');
  // A drill database a failed drill left behind, two days ago.
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'lb-drill-orders-db-leftover',
      Engine: 'postgres',
      DBInstanceClass: 'db.t4g.micro',
      AllocatedStorage: 20,
      Tags: [
        { Key: 'lifeboat:drill', Value: 'lb-drill-orders-db-leftover' },
        { Key: 'lifeboat:policy', Value: policy.name },
        { Key: 'lifeboat:drill-started', Value: new Date(Date.now() - 48 * HOUR).toISOString() },
      ],
    }),
  );
  vi.stubEnv('LIFEBOAT_POLICY_PATH', file);
  vi.stubEnv('ALERT_TOPIC_ARN', topic);
  vi.stubEnv('BACKUP_BUCKET', vault.bucket);
  vi.stubEnv('DR_BACKUP_BUCKET', vault.drBucket ?? '');
  vi.stubEnv('DATA_KEY_ARN', vault.dataKeys.primary);
  vi.stubEnv('DR_DATA_KEY_ARN', vault.dataKeys.dr);
  vi.stubEnv('MANIFEST_KEY_ARN', vault.manifestKeys.primary);
  vi.stubEnv('DR_MANIFEST_KEY_ARN', vault.manifestKeys.dr);
  for (const [job, { load }] of Object.entries(JOBS)) {
    handlers[job] = ((await load()) as unknown as { handler: Handler }).handler;
  }

  // Three days of the schedule, a legal hold placed by tag, an export, and a verification that
  // finds something to alert about.
  const now = Date.now();
  for (let day = 3; day >= 1; day -= 1) {
    const slot = new Date(Math.floor((now - day * 24 * HOUR) / HOUR) * HOUR);
    await runJob('snapshotRds', slot);
    await runJob('snapshotRds', slot);
    await runPipeline();
    if (day === 2) {
      const held = (await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' })))
        .DBSnapshots?.[0]?.DBSnapshotArn;
      await rds.send(
        new AddTagsToResourceCommand({
          ResourceName: held,
          Tags: [{ Key: 'lifeboat:legal-hold', Value: 'case-1' }],
        }),
      );
    }
    await runJob('enforceRetention', new Date(slot.getTime() + 90 * 60_000));
  }
  await runJob('exportSecrets', new Date(now - 2 * HOUR));
  await runJob('exportSecrets', new Date(now - HOUR));
  await runJob('verifyManifest', new Date(now - 60_000));
  await runJob('drillJanitor', new Date(now - 60_000));
  await runJob('postureReport', new Date(now - 30_000));
  await runVaultJobs(shippedVault, vaultKey);
  restoredFromTheVault = await restoreFromTheVault(shippedVault, file);
  await new Promise((resolve) => setTimeout(resolve, 50));

  const kmsId = (arn: string) => arn.split('/').pop() ?? '';
  const values = {
    account: ACCOUNT,
    region: PRIMARY,
    refs: {
      DataKey: kmsId(vault.dataKeys.primary),
      ManifestKey: kmsId(vault.manifestKeys.primary),
      AlertTopic: topic,
      BackupBucket: vault.bucket,
    },
    arns: {
      DataKey: vault.dataKeys.primary,
      ManifestKey: vault.manifestKeys.primary,
      AlertKey: ALERT_KEY,
    },
  };
  const keyPolicies = {
    data: keyPolicy(PRIMARY_TEMPLATE, 'DataKey', values),
    manifest: keyPolicy(PRIMARY_TEMPLATE, 'ManifestKey', values),
    alert: keyPolicy(PRIMARY_TEMPLATE, 'AlertKey', values),
  };
  keyPolicyOf = (arn) =>
    arn === ALERT_KEY
      ? keyPolicies.alert
      : arn.endsWith(kmsId(vault.manifestKeys.primary))
        ? keyPolicies.manifest
        : keyPolicies.data;
  roles = templateRoles(
    PRIMARY_TEMPLATE,
    {
      account: ACCOUNT,
      region: PRIMARY,
      refs: {
        DataKey: kmsId(vault.dataKeys.primary),
        ManifestKey: kmsId(vault.manifestKeys.primary),
        AlertTopic: topic,
        BackupBucket: vault.bucket,
      },
      arns: {
        DataKey: vault.dataKeys.primary,
        ManifestKey: vault.manifestKeys.primary,
        AlertKey: ALERT_KEY,
        AdvanceSnapshotsQueue: `arn:aws:sqs:${PRIMARY}:${ACCOUNT}:lifeboat-prod-advance-snapshots`,
        ...Object.fromEntries(
          [
            ...Object.keys(JOBS),
            'drillPlan',
            'drillPoll',
            'drillSmoke',
            'drillTeardown',
            'drillReport',
          ].map((fn) => [
            `${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`,
            `arn:aws:lambda:${PRIMARY}:${ACCOUNT}:function:lifeboat-prod-${fn}`,
          ]),
        ),
      },
    },
    Object.values(JOBS).map((j) => j.role),
  );
  vaultRoles = templateRoles(
    VAULT_TEMPLATE,
    {
      account: (policy.vault as NonNullable<Policy['vault']>).account,
      region: DR,
      refs: { AlertTopic: vaultTopic, VaultBucket: 'vault' },
      arns: { VaultKey: vaultKey, AlertKey: 'alert-key' },
    },
    [`VaultWriterRole${SHIPPED_ACCOUNT}`, 'VaultRestoreRole', ...VAULT_JOB_ROLES],
  );
  vaultKeyPolicy = keyPolicy(VAULT_TEMPLATE, 'VaultKey', {
    account: (policy.vault as NonNullable<Policy['vault']>).account,
    region: DR,
    refs: {},
    arns: {
      [`VaultWriterRole${SHIPPED_ACCOUNT}`]: `arn:aws:iam::${(policy.vault as NonNullable<Policy['vault']>).account}:role/VaultWriterRole${SHIPPED_ACCOUNT}`,
    },
  });
}, 240_000);

afterAll(() => {
  recorder.stop();
  vi.unstubAllEnvs();
});

/** The world the recorded calls ran in, as the IAM requests need it. */
function world(calls: readonly RecordedCall[]): CallWorld {
  const stored = new Map<string, { kmsKeyId: string; ownContext: boolean }>();
  for (const c of calls) {
    if (c.service !== 'S3' || c.operation !== 'PutObject') continue;
    stored.set(`${c.input.Bucket}/${c.input.Key}`, {
      kmsKeyId: String(c.input.SSEKMSKeyId ?? vault.dataKeys.primary),
      ownContext: c.input.BucketKeyEnabled === false,
    });
  }
  // moto cannot replicate the data key: its DR "replica" has an id of its own.
  const drReplica = `arn:aws:kms:${DR}:${ACCOUNT}:key/${vault.dataKeys.primary.split('/').pop()}`;
  return {
    account: ACCOUNT,
    tagsOf: (arn) => tags.get(arn) ?? {},
    encryptionOf: (bucket, key) => stored.get(`${bucket}/${key}`),
    canonical: (arn) =>
      arn === vault.dataKeys.dr ? drReplica : arn === vaultKey ? shippedVaultKey : arn,
    alertKeyOf: () => ALERT_KEY,
  };
}

function requestsOf(role: string): IamRequest[] {
  const calls = recorder.calls;
  const w = world(calls);
  return calls.filter((c) => c.role === role && !inTheVault(c)).flatMap((c) => iamRequestsOf(c, w));
}

/**
 * Calls made in the vault account, as requests in the vault's world, with this test's production
 * account as the shipped vault policy's source.
 */
function vaultRequests(made: (c: RecordedCall) => boolean): IamRequest[] {
  const vaultAccount = (policy.vault as NonNullable<Policy['vault']>).account;
  const vaultBucket = (policy.vault as NonNullable<Policy['vault']>).bucket;
  const w: CallWorld = {
    account: vaultAccount,
    tagsOf: () => ({}),
    // Everything in the vault bucket is under the vault key, with the bucket's S3 Bucket Key.
    encryptionOf: (bucket) =>
      bucket === vaultBucket ? { kmsKeyId: vaultKey, ownContext: false } : undefined,
    canonical: (arn) => arn.replaceAll(ACCOUNT, SHIPPED_ACCOUNT),
  };
  return recorder.calls.filter(made).flatMap((c) => iamRequestsOf(c, w));
}

/**
 * What production's jobs asked of the vault account, as the vault's writer role (the test seeds
 * the vault account as the role too, outside any job, and runs the vault's own jobs there).
 */
const productionInTheVault = (c: RecordedCall) =>
  c.role !== undefined &&
  !VAULT_JOB_ROLES.includes(c.role) &&
  c.role !== 'VaultRestoreRole' &&
  inTheVault(c);

/**
 * Judges requests made in the vault account against a role of the vault template (the vault
 * key's policy too, for KMS): what it denied, the actions used, and what it grants unused
 * (but for the ones said why, under `excusedAs`).
 */
async function judgeInTheVault(role: string, requests: readonly IamRequest[], excusedAs = role) {
  const policies = vaultRoles.get(role) as RolePolicies;
  const vaultAccount = (policy.vault as NonNullable<Policy['vault']>).account;
  const denied: string[] = [];
  for (const r of requests) {
    const decision = await simulate(
      policies,
      r,
      vaultAccount,
      r.action.startsWith('kms:') ? vaultKeyPolicy : undefined,
    );
    if (decision !== 'Allowed') denied.push(`${r.call}: ${r.action} on ${r.resource}: ${decision}`);
  }
  const used = new Set(requests.map((r) => r.action));
  const excused = GRANTED_FOR_OTHERS[excusedAs] ?? {};
  const unused = [...grantedActions(policies)].filter(
    (action) => !used.has(action) && !(action in excused),
  );
  return { denied, used, unused };
}

describe('every scheduled job’s role, simulated against the packaged template', () => {
  it.each(Object.values(JOBS).map((j) => j.role))(
    '%s allows every call its function made',
    async (role) => {
      // Prepare
      const requests = requestsOf(role);
      const policies = roles.get(role) as RolePolicies;

      // Act
      const denied: string[] = [];
      for (const r of requests) {
        // The vault's key is another account's: its policy's grant to the sources is the vault
        // template test's; here the role's own grant is judged, as if in that account.
        const toVault = r.resource === shippedVaultKey;
        const decision = await simulate(
          policies,
          r,
          toVault ? (policy.vault?.account ?? '') : ACCOUNT,
          r.action.startsWith('kms:')
            ? toVault
              ? vaultKeyPolicy
              : keyPolicyOf(r.resource)
            : undefined,
        );
        if (decision !== 'Allowed') {
          denied.push(
            `${r.call}: ${r.action} on ${r.resource} ${JSON.stringify(r.context)}: ${decision}`,
          );
        }
      }

      // Assess
      expect(requests.length).toBeGreaterThan(2);
      expect(denied).toEqual([]);
    },
  );

  it.each(Object.values(JOBS).map((j) => j.role))(
    '%s grants no action its function does not use, but for the ones said why',
    (role) => {
      // Act
      const used = new Set(requestsOf(role).map((r) => r.action));
      const granted = grantedActions(roles.get(role) as RolePolicies);
      const excused = GRANTED_FOR_OTHERS[role] ?? {};
      const unused = [...granted].filter((action) => !used.has(action) && !(action in excused));
      const stale = Object.keys(excused).filter(
        (action) => !granted.has(action) || used.has(action),
      );

      // Assess
      expect(unused).toEqual([]);
      expect(stale).toEqual([]);
    },
  );

  it('VaultWriterRole, in the vault stack, allows every call production made in the vault', async () => {
    // Act
    const { denied, used, unused } = await judgeInTheVault(
      `VaultWriterRole${SHIPPED_ACCOUNT}`,
      vaultRequests(productionInTheVault),
      'VaultWriterRole',
    );

    // Assess: it shared, copied (both kinds) and listed there, and nothing else was needed
    expect([...used].sort()).toEqual([
      'kms:GenerateDataKey',
      'rds:AddTagsToResource',
      'rds:CopyDBClusterSnapshot',
      'rds:CopyDBSnapshot',
      'rds:DescribeDBClusterSnapshots',
      'rds:DescribeDBSnapshots',
      's3:GetObject',
      's3:PutObject',
    ]);
    expect(denied).toEqual([]);
    expect(unused).toEqual([]);
  });

  it.each(VAULT_JOB_ROLES)(
    '%s, in the vault stack, allows every call its job made there, and grants nothing else',
    async (role) => {
      // Act
      const { denied, used, unused } = await judgeInTheVault(
        role,
        vaultRequests((c) => c.role === role),
      );

      // Assess: it listed both kinds of copy and stored its report under the vault key; the
      // retention deleted copies of both kinds
      expect(used).toEqual(
        new Set([
          'rds:DescribeDBSnapshots',
          'rds:DescribeDBClusterSnapshots',
          's3:PutObject',
          'kms:GenerateDataKey',
          ...(role === 'VaultRetentionRole'
            ? ['rds:DeleteDBSnapshot', 'rds:DeleteDBClusterSnapshot']
            : []),
        ]),
      );
      expect(denied).toEqual([]);
      expect(unused).toEqual([]);
    },
  );

  it('VaultRestoreRole, in the vault stack, allows every call a restore from the vault made there, and grants nothing else', async () => {
    // Act: the restore's calls in the vault account (its writes go to production, as usual)
    const { denied, used, unused } = await judgeInTheVault(
      'VaultRestoreRole',
      vaultRequests((c) => c.role === 'VaultRestoreRole' && inTheVault(c)),
    );

    // Assess: the restore planned from the vault's copy, listing, reading and opening only
    expect(restoredFromTheVault.err).toBe('');
    expect(restoredFromTheVault.code).toBe(0);
    expect(restoredFromTheVault.out).toContain("read from the vault account's copy");
    expect(used).toEqual(
      new Set(['s3:ListBucketVersions', 's3:GetObjectVersion', 's3:GetObject', 'kms:Decrypt']),
    );
    expect(denied).toEqual([]);
    expect(unused).toEqual([]);
  });

  it('records what the retention role deleted and the hold it found, as the role may', async () => {
    // Assess: the run's record and the signed hold are there, written by the role itself
    const puts = recorder.calls
      .filter((c) => c.role === 'EnforceRetentionRole' && c.operation === 'PutObject')
      .map((c) => String(c.input.Key));
    expect(puts.some((k) => k.startsWith(`manifests/${policy.name}/retention-`))).toBe(true);
    expect(puts.some((k) => k.startsWith(`holds/${policy.name}/`))).toBe(true);
    expect(
      recorder.calls.some(
        (c) => c.role === 'EnforceRetentionRole' && c.operation === 'DeleteDBSnapshot',
      ),
    ).toBe(true);
  });
});

describe('what the roles may not do, simulated against the same template', () => {
  const bucketArn = () => `arn:aws:s3:::${vault.bucket}`;
  const snapshot = (region: string, id: string) =>
    `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`;

  it.each([
    [
      'VerifyManifestRole',
      'decrypt an export it may only HEAD',
      'kms:Decrypt',
      () => vault.dataKeys.primary,
      () => ({
        'kms:ViaService': `s3.${PRIMARY}.amazonaws.com`,
        'kms:EncryptionContext:aws:s3:arn': bucketArn(),
      }),
    ],
    [
      'VerifyManifestRole',
      'decrypt the secrets inside an export',
      'kms:Decrypt',
      () => vault.dataKeys.primary,
      () => ({ 'kms:EncryptionContext:purpose': 'lifeboat-secrets-export' }),
    ],
    [
      'VerifyManifestRole',
      'lift a legal hold by tagging',
      'rds:AddTagsToResource',
      () => snapshot(PRIMARY, 'lifeboat-orders-db-202611200200'),
      () => ({
        'aws:TagKeys': ['lifeboat:legal-hold'],
        'aws:RequestTag/lifeboat:legal-hold': 'false',
      }),
    ],
    [
      'SnapshotRdsRole',
      'rewrite any label but its own',
      'rds:AddTagsToResource',
      () => snapshot(DR, 'lifeboat-orders-db-202611200200'),
      () => ({ 'aws:TagKeys': ['lifeboat:verified-at'] }),
    ],
    [
      'EnforceRetentionRole',
      'delete a snapshot not tagged as the policy’s',
      'rds:DeleteDBSnapshot',
      () => snapshot(PRIMARY, 'lifeboat-orders-db-202611200200'),
      () => ({
        'aws:ResourceTag/lifeboat:managed': 'true',
        'aws:ResourceTag/lifeboat:policy': 'another-policy',
      }),
    ],
    [
      'EnforceRetentionRole',
      'delete a snapshot of another name',
      'rds:DeleteDBSnapshot',
      () => snapshot(PRIMARY, 'before-upgrade'),
      () => ({
        'aws:ResourceTag/lifeboat:managed': 'true',
        'aws:ResourceTag/lifeboat:policy': 'acme-prod',
      }),
    ],
    [
      'ExportSecretsRole',
      'read a secret outside the policy’s prefixes',
      'secretsmanager:GetSecretValue',
      () => `arn:aws:secretsmanager:${PRIMARY}:${ACCOUNT}:secret:dev/other-AbCdEf`,
      () => ({}),
    ],
    [
      'DrillJanitorRole',
      'delete a database not named as a drill’s',
      'rds:DeleteDBInstance',
      () => `arn:aws:rds:${PRIMARY}:${ACCOUNT}:db:orders-db`,
      () => ({ 'rds:db-tag/lifeboat:drill': 'lb-drill-x' }),
    ],
  ])('%s may not %s', async (role, _, action, resource, context) => {
    // Act
    const decision = await simulate(
      roles.get(role) as RolePolicies,
      { action, resource: resource(), context: context() },
      ACCOUNT,
      action.startsWith('kms:') ? keyPolicyOf(resource()) : undefined,
    );

    // Assess
    expect(decision).not.toBe('Allowed');
  });

  it('would deny the retention role its record without the statements that let it sign', async () => {
    // Prepare: the role as it was before it could record its deletions
    const role = roles.get('EnforceRetentionRole') as RolePolicies;
    const without: RolePolicies = {
      role: role.role,
      policies: role.policies.map((p) => ({
        ...p,
        policy: {
          ...p.policy,
          Statement: p.policy.Statement.filter((s) => s.Sid !== 'SignAndCheckRecords'),
        },
      })),
    };
    const sign = requestsOf('EnforceRetentionRole').find((r) => r.action === 'kms:GenerateMac');

    // Act
    const decision = await simulate(
      without,
      sign as IamRequest,
      ACCOUNT,
      keyPolicyOf(sign?.resource ?? ''),
    );

    // Assess
    expect(sign).toBeDefined();
    expect(decision).toBe('ImplicitlyDenied');
  });
});
