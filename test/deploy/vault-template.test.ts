import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadVaultPolicyFile } from '../../shared/policy/vault-policy.js';
import { vaultBucketName } from '../../vault/stack-settings.js';
import {
  keyPolicy,
  PRIMARY_TEMPLATE,
  type RolePolicies,
  simulate,
  type TemplateValues,
  templateRoles,
} from '../support/iam-roles.js';

// `npm test` packages the vault stack (cd vault && sls package, offline) before the tests run.
const TEMPLATE = '.serverless-vault/cloudformation-template-update-stack.json';
const vault = loadVaultPolicyFile('lifeboat.vault.yml');
const SOURCE = vault.sources[0]?.account ?? '';
const REGION = vault.region;
const VAULT_KEY = `arn:aws:kms:${REGION}:${vault.account}:key/0b0b0b0b-vault`;
const WRITER = `VaultWriterRole${SOURCE}`;

interface Resource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON, read by assertions
  Properties: Record<string, any>;
}

let resources: Record<string, Resource>;
let roles: Map<string, RolePolicies>;
const values: TemplateValues = {
  account: vault.account,
  region: REGION,
  refs: { AlertTopic: `arn:aws:sns:${REGION}:${vault.account}:alerts`, VaultBucket: 'vault' },
  arns: {
    VaultKey: VAULT_KEY,
    AlertKey: `arn:aws:kms:${REGION}:${vault.account}:key/alerts`,
    [`VaultWriterRole${SOURCE}`]: `arn:aws:iam::${vault.account}:role/lifeboat-vault-${SOURCE}-${vault.name}`,
    VaultRetentionLambdaFunction: `arn:aws:lambda:${REGION}:${vault.account}:function:r`,
    VaultVerificationLambdaFunction: `arn:aws:lambda:${REGION}:${vault.account}:function:v`,
    KeyAtRiskRule: `arn:aws:events:${REGION}:${vault.account}:rule/k`,
  },
};

beforeAll(() => {
  if (!existsSync(TEMPLATE)) {
    throw new Error(`${TEMPLATE} is missing: run npm run package first (npm test does)`);
  }
  resources = JSON.parse(readFileSync(TEMPLATE, 'utf8')).Resources;
  roles = templateRoles(TEMPLATE, values);
});

const copy = (account: string, id: string, type = 'snapshot') =>
  `arn:aws:rds:${REGION}:${account}:${type}:${id}`;
const inVault = (id: string, type = 'snapshot') => copy(vault.account, id, type);

async function decide(role: string, action: string, resource: string, context = {}) {
  return simulate(roles.get(role) as RolePolicies, { action, resource, context }, vault.account);
}

describe('the vault stack', () => {
  it('locks its bucket in COMPLIANCE mode under its own key, private and TLS only', () => {
    // Act
    const bucket = resources.VaultBucket?.Properties;
    const policy = resources.VaultBucketPolicy?.Properties.PolicyDocument.Statement;

    // Assess
    expect(bucket?.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: vault.objectLockDays } },
    });
    expect(bucket?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(
      bucket?.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['VaultKey', 'Arn'] } });
    expect(Object.values(bucket?.PublicAccessBlockConfiguration ?? {})).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(policy).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
  });

  it('gives each source account a writer role only Lifeboat’s roles there may assume', () => {
    // Act
    const writer = resources[WRITER]?.Properties;

    // Assess
    expect(writer?.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Sid: 'LifeboatInTheSourceAccount',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${SOURCE}:root` },
        Action: 'sts:AssumeRole',
        Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${SOURCE}:role/lifeboat-*` } },
      },
    ]);
    expect(writer?.RoleName).toBe(`lifeboat-vault-${SOURCE}-${vault.name}`);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role')).toHaveLength(
      vault.sources.length + 4,
    );
  });

  it('lets the writer copy its sources’ snapshots in, and destroy nothing', async () => {
    // Act
    const copies = await decide(
      WRITER,
      'rds:CopyDBSnapshot',
      inVault(`lifeboat-${SOURCE}-orders-db-202611010200`),
    );
    const fromSource = await decide(
      WRITER,
      'rds:CopyDBSnapshot',
      copy(SOURCE, 'lifeboat-orders-db-202611010200'),
    );
    const otherNames = await decide(WRITER, 'rds:CopyDBSnapshot', inVault('anything'));
    // Another source's names, or from another source's snapshots: each source keeps to its own.
    const asOther = await decide(
      WRITER,
      'rds:CopyDBSnapshot',
      inVault('lifeboat-999988887777-orders-db-202611010200'),
    );
    const fromOther = await decide(
      WRITER,
      'rds:CopyDBSnapshot',
      copy('999988887777', 'lifeboat-orders-db-202611010200'),
    );
    const sharesOwn = await decide(
      WRITER,
      'rds:ModifyDBSnapshotAttribute',
      inVault(`lifeboat-${SOURCE}-orders-db-202611010200`),
    );
    const destroys = await Promise.all(
      [
        ['rds:DeleteDBSnapshot', inVault(`lifeboat-${SOURCE}-orders-db-202611010200`)],
        [
          'rds:DeleteDBClusterSnapshot',
          inVault(`lifeboat-${SOURCE}-billing-202611010200`, 'cluster-snapshot'),
        ],
        ['rds:RemoveTagsFromResource', inVault(`lifeboat-${SOURCE}-orders-db-202611010200`)],
        ['s3:DeleteObjectVersion', 'arn:aws:s3:::vault/reports/x.json'],
        ['s3:PutBucketPolicy', 'arn:aws:s3:::vault'],
        ['kms:ScheduleKeyDeletion', VAULT_KEY],
        ['kms:DisableKey', VAULT_KEY],
      ].map(([action, resource]) => decide(WRITER, action as string, resource as string)),
    );

    const stores = await decide(
      WRITER,
      's3:PutObject',
      `arn:aws:s3:::${vaultBucketName(vault)}/sources/${SOURCE}/manifests/p/snapshots-1.json`,
    );
    const storesForOther = await decide(
      WRITER,
      's3:PutObject',
      `arn:aws:s3:::${vaultBucketName(vault)}/sources/999988887777/manifests/p/snapshots-1.json`,
    );

    // Assess
    expect(copies).toBe('Allowed');
    expect([stores, storesForOther]).toEqual(['Allowed', 'ImplicitlyDenied']);
    expect(fromSource).toBe('Allowed');
    expect(otherNames).toBe('ImplicitlyDenied');
    expect(asOther).toBe('ImplicitlyDenied');
    expect(fromOther).toBe('ImplicitlyDenied');
    expect(sharesOwn).toBe('Allowed');
    expect(destroys).toEqual(Array(7).fill('ExplicitlyDenied'));
  });

  it('lets people of the vault account restore from it, reading and changing nothing', async () => {
    // Prepare: what lifeboat secrets restore --vault-profile asks, and what it must never do
    const bucket = vaultBucketName(vault);
    const below = `arn:aws:s3:::${bucket}/sources/${SOURCE}`;
    const record = `${below}/manifests/p/secrets-202611210200.json`;
    const exported = `${below}/exports/p/202611210200/secrets.esdk`;
    // KMS asks the key's policy too (it lets the account's own IAM policies decide).
    const keyPolicyOfVault = keyPolicy(TEMPLATE, 'VaultKey', values);
    const restore = (action: string, resource: string, context = {}) =>
      simulate(
        roles.get('VaultRestoreRole') as RolePolicies,
        { action, resource, context },
        vault.account,
        action.startsWith('kms:') ? keyPolicyOfVault : undefined,
      );

    // Act
    const reads = await Promise.all([
      restore('s3:ListBucketVersions', `arn:aws:s3:::${bucket}`, {
        's3:prefix': `sources/${SOURCE}/manifests/p/secrets-`,
      }),
      restore('s3:GetObjectVersion', record),
      restore('s3:GetObject', exported),
      restore('kms:Decrypt', VAULT_KEY, {
        'kms:ViaService': `s3.${REGION}.amazonaws.com`,
        'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${bucket}`,
      }),
      restore('kms:Decrypt', VAULT_KEY, {
        'kms:EncryptionContext:purpose': 'lifeboat-secrets-export',
        'kms:EncryptionContext:account': SOURCE,
      }),
    ]);
    const changes = await Promise.all([
      restore('s3:PutObject', record),
      restore('s3:DeleteObjectVersion', record),
      restore('s3:GetObject', `arn:aws:s3:::${bucket}/reports/retention/x.json`),
      restore('kms:Decrypt', VAULT_KEY, { 'kms:EncryptionContext:purpose': 'other' }),
      restore('kms:Encrypt', VAULT_KEY, {
        'kms:EncryptionContext:purpose': 'lifeboat-secrets-export',
      }),
      restore('rds:DeleteDBSnapshot', inVault(`lifeboat-${SOURCE}-orders-db-202611010200`)),
    ]);
    const trust = resources.VaultRestoreRole?.Properties.AssumeRolePolicyDocument.Statement;

    // Assess
    expect(reads).toEqual(Array(5).fill('Allowed'));
    expect(changes).toEqual(Array(6).fill('ImplicitlyDenied'));
    expect(trust).toEqual([
      expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${vault.account}:root` } }),
    ]);
  });

  it('lets the vault’s retention delete its sources’ copies only', async () => {
    // Act
    const own = await decide(
      'VaultRetentionRole',
      'rds:DeleteDBSnapshot',
      inVault(`lifeboat-${SOURCE}-orders-db-202611010200`),
    );
    const others = await decide(
      'VaultRetentionRole',
      'rds:DeleteDBSnapshot',
      inVault('lifeboat-999988887777-orders-db-202611010200'),
    );
    const manual = await decide('VaultRetentionRole', 'rds:DeleteDBSnapshot', inVault('manual-1'));
    const verifies = await decide(
      'VaultVerificationRole',
      'rds:DeleteDBSnapshot',
      inVault(`lifeboat-${SOURCE}-orders-db-202611010200`),
    );

    // Assess
    expect([own, others, manual, verifies]).toEqual([
      'Allowed',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
    ]);
  });

  it('gives no role of the production stack any way to delete in the vault account', async () => {
    // Prepare: every role the production template creates, in the source account
    const production = templateRoles(PRIMARY_TEMPLATE, {
      account: SOURCE,
      region: 'eu-central-1',
      refs: new Proxy({}, { get: () => 'x' }) as Record<string, string>,
      arns: new Proxy({}, { get: () => 'arn:aws:x:eu-central-1:1:x' }) as Record<string, string>,
    });

    // Act
    const decisions = await Promise.all(
      [...production.values()].flatMap((role) =>
        [
          ['rds:DeleteDBSnapshot', inVault(`lifeboat-${SOURCE}-orders-db-202611010200`)],
          [
            'rds:DeleteDBClusterSnapshot',
            inVault(`lifeboat-${SOURCE}-billing-1`, 'cluster-snapshot'),
          ],
          ['s3:DeleteObjectVersion', 'arn:aws:s3:::vault/reports/x.json'],
        ].map(async ([action, resource]) => [
          role.role,
          action,
          await simulate(
            role,
            { action: action as string, resource: resource as string, context: {} },
            SOURCE,
          ),
        ]),
      ),
    );

    // Assess
    expect(decisions.filter(([, , d]) => d === 'Allowed')).toEqual([]);
    expect(production.size).toBeGreaterThan(5);
  });

  it('lets the writers and the sources use the vault key only through RDS and S3, and encrypt their own exports for it', () => {
    // Act
    const statements = (
      keyPolicy(TEMPLATE, 'VaultKey', values) as {
        Statement: { Sid: string; Condition?: unknown }[];
      }
    ).Statement;

    // Assess
    expect(statements.map((s) => [s.Sid, s.Condition])).toEqual([
      ['AccountAdministers', undefined],
      [
        'WritersEncryptCopiesThroughRds',
        { StringEquals: { 'kms:ViaService': `rds.${REGION}.amazonaws.com` } },
      ],
      [
        'WritersStoreThroughS3',
        { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
      ],
      [
        `Source${SOURCE}EncryptsItsExportsForTheVault`,
        {
          StringEquals: {
            'kms:EncryptionContext:purpose': 'lifeboat-secrets-export',
            'kms:EncryptionContext:account': SOURCE,
          },
        },
      ],
      [
        'SourcesRestoreTheirCopiesThroughRds',
        { StringEquals: { 'kms:ViaService': `rds.${REGION}.amazonaws.com` } },
      ],
    ]);
  });

  it('alarms when a vault job stops succeeding, and when the vault key is at risk', () => {
    // Assess
    expect(resources.VaultRetentionHeartbeatAlarm?.Properties.TreatMissingData).toBe('breaching');
    expect(resources.VaultVerificationHeartbeatAlarm?.Properties.TreatMissingData).toBe(
      'breaching',
    );
    expect(resources.KeyAtRiskRule?.Properties.EventPattern.detail.resources.ARN).toEqual([
      { 'Fn::GetAtt': ['VaultKey', 'Arn'] },
    ]);
  });
});
