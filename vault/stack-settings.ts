import { resolve } from 'node:path';
import { heartbeatAlarm, KEY_POLICY, keyAtRiskAlerts } from '../deploy/stack-settings.js';
import {
  DEFAULT_VAULT_POLICY_FILE,
  loadVaultPolicyFile,
  type VaultPolicy,
} from '../shared/policy/vault-policy.js';
import { EXPORT_PURPOSE } from '../shared/secrets/export-job.js';

/** Where the vault functions find their policy in their package. */
export const PACKAGED_VAULT_POLICY_FILE = '.lifeboat/vault-policy.json';

/**
 * The role a source account's Lifeboat assumes in the vault account (its policy's
 * vault.roleArn): one per source account, so that no source can reach another's copies.
 */
export function vaultWriterRoleName(vault: Pick<VaultPolicy, 'name'>, source: string): string {
  return `lifeboat-vault-${source}-${vault.name}`;
}

/** The writer role's logical id in the vault stack. */
export const writerRoleId = (source: string) => `VaultWriterRole${source}`;

/** The vault key's alias. */
export function vaultKeyAlias(vault: Pick<VaultPolicy, 'name'>): string {
  return `alias/lifeboat-vault-${vault.name}`;
}

/** The vault bucket: named by the vault, its account and region (bucket names are global). */
export function vaultBucketName(vault: Pick<VaultPolicy, 'name' | 'account' | 'region'>): string {
  return `lifeboat-vault-${vault.name}-${vault.account}-${vault.region}`;
}

/** The vault's Lambda functions, with their roles and schedules. */
const FUNCTIONS = {
  vaultRetention: {
    module: 'vault-retention',
    role: 'VaultRetentionRole',
    description: "Applies the vault's own retention to the copies its sources sent",
    schedule: (v: VaultPolicy) => v.retention.schedule,
  },
  vaultVerification: {
    module: 'vault-verification',
    role: 'VaultVerificationRole',
    description: "Verifies the vault's copies, per source account, from the vault's side",
    schedule: (v: VaultPolicy) => v.verification.schedule,
  },
} as const;

export interface VaultStackSettings {
  readonly policyFile: string;
  readonly packagedPolicy: string;
  readonly name: string;
  readonly region: string;
  readonly functions: Record<string, unknown>;
  readonly resources: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
}

/** A vault policy whose stack cannot be deployed where asked. */
export class VaultStackSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultStackSettingsError';
  }
}

/**
 * Everything the vault stack (vault/serverless.yml) derives from the vault policy, validated by
 * its schema: a bad vault policy fails packaging, naming every bad field.
 */
export function vaultStackSettings(
  options: { readonly region?: string; readonly stage?: string },
  env: NodeJS.ProcessEnv = process.env,
  rootDir = resolve(import.meta.dirname, '..'),
): VaultStackSettings {
  const file = env.LIFEBOAT_VAULT_POLICY ?? DEFAULT_VAULT_POLICY_FILE;
  const vault = loadVaultPolicyFile(resolve(rootDir, file));
  if (options.region && options.region !== vault.region) {
    throw new VaultStackSettingsError(
      `cannot deploy the vault ${vault.name} to ${options.region}: its policy keeps it in ${vault.region}`,
    );
  }
  const functions = Object.fromEntries(
    Object.entries(FUNCTIONS).map(([name, f]) => [
      name,
      {
        handler: `functions/${f.module}.handler`,
        description: f.description,
        role: f.role,
        maximumRetryAttempts: 0,
        events: [
          {
            schedule: {
              method: 'scheduler',
              rate: [f.schedule(vault)],
              timezone: vault.timeZone,
              roleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
              input: { scheduledTime: '<aws.scheduler.scheduled-time>' },
            },
          },
        ],
      },
    ]),
  );
  return {
    policyFile: PACKAGED_VAULT_POLICY_FILE,
    packagedPolicy: `${JSON.stringify(vault, null, 2)}\n`,
    name: vault.name,
    region: vault.region,
    functions,
    outputs: vaultOutputs(vault),
    resources: {
      ...vaultResources(vault, options.stage ?? 'prod'),
      ...Object.fromEntries(
        Object.entries(FUNCTIONS).flatMap(([name, f]) =>
          Object.entries(heartbeatAlarm(name, f.schedule(vault), vault.timeZone)),
        ),
      ),
    },
  };
}

const rdsArn = (vault: VaultPolicy, account: string, type: string, name: string) =>
  `arn:aws:rds:${vault.region}:${account}:${type}:${name}`;

const LIFEBOAT_TAG_KEYS = [
  'lifeboat:managed',
  'lifeboat:policy',
  'lifeboat:slot',
  'lifeboat:target',
  'lifeboat:source',
];

/**
 * The role one source account's Lifeboat assumes: it copies that account's snapshots in under
 * the vault key (named lifeboat-<source>-*), shares its own copies with it for a drill, and can
 * destroy, unlock or re-key nothing. Only Lifeboat's roles in that account may assume it.
 */
function writerRole(vault: VaultPolicy, source: string): Record<string, unknown> {
  const viaRds = { StringEquals: { 'kms:ViaService': `rds.${vault.region}.amazonaws.com` } };
  const bucket = vaultBucketName(vault);
  const own = `arn:aws:s3:::${bucket}/sources/${source}/*`;
  const copies = [
    rdsArn(vault, vault.account, 'snapshot', `lifeboat-${source}-*`),
    rdsArn(vault, vault.account, 'cluster-snapshot', `lifeboat-${source}-*`),
  ];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: vaultWriterRoleName(vault, source),
      Description: `Lifeboat in ${source} copies its snapshots into the vault; it can delete nothing`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'LifeboatInTheSourceAccount',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${source}:root` },
            Action: 'sts:AssumeRole',
            Condition: {
              ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${source}:role/lifeboat-*` },
            },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'copy-into-the-vault',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'SeeWhatTheVaultHoldsAndIsShared',
                Effect: 'Allow',
                Action: ['rds:DescribeDBSnapshots', 'rds:DescribeDBClusterSnapshots'],
                // Shared snapshots are other accounts' resources: listing them takes *.
                Resource: '*',
              },
              {
                Sid: 'CopyTheSourcesSnapshotsIn',
                Effect: 'Allow',
                Action: ['rds:CopyDBSnapshot', 'rds:CopyDBClusterSnapshot'],
                Resource: [
                  ...copies,
                  rdsArn(vault, source, 'snapshot', 'lifeboat-*'),
                  rdsArn(vault, source, 'cluster-snapshot', 'lifeboat-*'),
                ],
              },
              {
                Sid: 'LabelCopiesWithLifeboatKeysOnly',
                Effect: 'Allow',
                Action: 'rds:AddTagsToResource',
                Resource: copies,
                Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': LIFEBOAT_TAG_KEYS } },
              },
              {
                // A drill restores the source's own copy in the source account.
                Sid: 'ShareTheSourcesCopiesForDrills',
                Effect: 'Allow',
                Action: ['rds:ModifyDBSnapshotAttribute', 'rds:ModifyDBClusterSnapshotAttribute'],
                Resource: copies,
              },
              {
                // Its exports, records and holds, below its own prefix (a HEAD finds what is
                // there; the bucket's COMPLIANCE lock keeps what is written).
                Sid: 'StoreTheSourcesArtifacts',
                Effect: 'Allow',
                Action: ['s3:PutObject', 's3:GetObject'],
                Resource: own,
              },
              {
                Sid: 'ListTheSourcesArtifacts',
                Effect: 'Allow',
                Action: 's3:ListBucket',
                Resource: `arn:aws:s3:::${bucket}`,
                Condition: { StringLike: { 's3:prefix': `sources/${source}/*` } },
              },
              {
                Sid: 'EncryptTheSourcesArtifactsThroughS3',
                Effect: 'Allow',
                Action: 'kms:GenerateDataKey',
                Resource: `arn:aws:kms:${vault.region}:${vault.account}:key/*`,
                Condition: {
                  StringEquals: { 'kms:ViaService': `s3.${vault.region}.amazonaws.com` },
                  StringLike: {
                    'kms:EncryptionContext:aws:s3:arn': [`arn:aws:s3:::${bucket}`, own],
                  },
                  'ForAnyValue:StringEquals': { 'kms:ResourceAliases': vaultKeyAlias(vault) },
                },
              },
              {
                Sid: 'UseTheSourcesKeysThroughRds',
                Effect: 'Allow',
                Action: ['kms:CreateGrant', 'kms:DescribeKey', 'kms:Decrypt'],
                Resource: `arn:aws:kms:${vault.region}:${source}:key/*`,
                Condition: viaRds,
              },
              {
                Sid: 'UseTheVaultKeyThroughRds',
                Effect: 'Allow',
                Action: [
                  'kms:CreateGrant',
                  'kms:DescribeKey',
                  'kms:Encrypt',
                  'kms:GenerateDataKey*',
                  'kms:ReEncrypt*',
                ],
                // By its alias: the key's policy names this role, so the role cannot name the
                // key (CloudFormation would wait on each for the other).
                Resource: `arn:aws:kms:${vault.region}:${vault.account}:key/*`,
                Condition: {
                  ...viaRds,
                  'ForAnyValue:StringEquals': { 'kms:ResourceAliases': vaultKeyAlias(vault) },
                },
              },
              {
                // Stolen production credentials reach this role: it must not be able to
                // destroy, unlock or re-key anything in the vault, whatever else is granted.
                Sid: 'NeverDestroyAnything',
                Effect: 'Deny',
                Action: [
                  'rds:Delete*',
                  'rds:ModifyDBSnapshot',
                  'rds:RemoveTagsFromResource',
                  's3:Delete*',
                  's3:PutBucket*',
                  's3:PutLifecycleConfiguration',
                  's3:BypassGovernanceRetention',
                  'kms:ScheduleKeyDeletion',
                  'kms:DisableKey',
                  'kms:PutKeyPolicy',
                  'iam:*',
                ],
                Resource: '*',
              },
            ],
          },
        },
      ],
    },
  };
}

/** The role people of the vault account restore from it with: it reads, and changes nothing. */
export function vaultRestoreRoleName(vault: Pick<VaultPolicy, 'name'>): string {
  return `lifeboat-vault-restore-${vault.name}`;
}

/**
 * What `lifeboat secrets restore --vault-profile` needs of the vault account, and nothing more:
 * list and read the sources' records and exports (every version: the first is the one trusted),
 * and open an export's data key with the vault key. Assumed by identities of the vault account
 * itself (an operator's profile names it); no source account can.
 */
function restoreRole(vault: VaultPolicy): Record<string, unknown> {
  const bucket = vaultBucketName(vault);
  const sources = `arn:aws:s3:::${bucket}/sources/*`;
  const vaultKey = { 'Fn::GetAtt': ['VaultKey', 'Arn'] };
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: vaultRestoreRoleName(vault),
      Description:
        "Restores a source's secrets from the vault's copies: reads, and changes nothing",
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'PeopleOfTheVaultAccount',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${vault.account}:root` },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'restore-from-the-vault',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'ListTheSourcesArtifacts',
                Effect: 'Allow',
                Action: ['s3:ListBucket', 's3:ListBucketVersions'],
                Resource: `arn:aws:s3:::${bucket}`,
                Condition: { StringLike: { 's3:prefix': 'sources/*' } },
              },
              {
                Sid: 'ReadTheSourcesArtifacts',
                Effect: 'Allow',
                Action: ['s3:GetObject', 's3:GetObjectVersion'],
                Resource: sources,
              },
              {
                Sid: 'DecryptThemThroughS3',
                Effect: 'Allow',
                Action: 'kms:Decrypt',
                Resource: vaultKey,
                Condition: {
                  StringEquals: { 'kms:ViaService': `s3.${vault.region}.amazonaws.com` },
                  // With the bucket's S3 Bucket Key, S3 asks KMS in the bucket's name.
                  StringLike: {
                    'kms:EncryptionContext:aws:s3:arn': [`arn:aws:s3:::${bucket}`, sources],
                  },
                },
              },
              {
                Sid: 'OpenExportsWithTheVaultKey',
                Effect: 'Allow',
                Action: 'kms:Decrypt',
                Resource: vaultKey,
                Condition: {
                  StringEquals: { 'kms:EncryptionContext:purpose': EXPORT_PURPOSE },
                },
              },
            ],
          },
        },
      ],
    },
  };
}

/** The stack's outputs: what each source's production policy names in its vault section. */
export function vaultOutputs(vault: VaultPolicy): Record<string, unknown> {
  return {
    VaultKeyArn: {
      Description: 'vault.kmsKeyArn of every production policy that sends here',
      Value: { 'Fn::GetAtt': ['VaultKey', 'Arn'] },
    },
    VaultBucket: { Value: { Ref: 'VaultBucket' } },
    RestoreRoleArn: {
      Description:
        'the role_arn of the AWS profile that lifeboat secrets restore --vault-profile names',
      Value: { 'Fn::GetAtt': ['VaultRestoreRole', 'Arn'] },
    },
    ...Object.fromEntries(
      vault.sources.map((s) => [
        `WriterRoleArn${s.account}`,
        {
          Description: `vault.roleArn of the production policy of account ${s.account}`,
          Value: { 'Fn::GetAtt': [writerRoleId(s.account), 'Arn'] },
        },
      ]),
    ),
  };
}

/** The vault's resources: key, locked bucket, the writer role production assumes, job roles. */
export function vaultResources(vault: VaultPolicy, stage: string): Record<string, unknown> {
  const sources = vault.sources.map((s) => s.account);
  const bucket = vaultBucketName(vault);
  const viaRds = { StringEquals: { 'kms:ViaService': `rds.${vault.region}.amazonaws.com` } };
  const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${vault.region}.amazonaws.com` } };
  const copiesOf = (type: 'snapshot' | 'cluster-snapshot') =>
    sources.map((a) => rdsArn(vault, vault.account, type, `lifeboat-${a}-*`));
  const vaultCopies = [...copiesOf('snapshot'), ...copiesOf('cluster-snapshot')];
  const logsOf = (fn: string) => ({
    Sid: 'WriteOwnLogs',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: `arn:aws:logs:${vault.region}:${vault.account}:log-group:/aws/lambda/lifeboat-vault-${stage}-${fn}:*`,
  });
  const alerting = [
    { Sid: 'Alert', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'AlertTopic' } },
    {
      Sid: 'EncryptAlerts',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': `sns.${vault.region}.amazonaws.com` } },
    },
  ];
  const storeReports = (prefix: string) => [
    {
      Sid: 'StoreReports',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/reports/${prefix}/*`,
    },
    {
      Sid: 'EncryptReports',
      Effect: 'Allow',
      Action: 'kms:GenerateDataKey',
      Resource: { 'Fn::GetAtt': ['VaultKey', 'Arn'] },
      Condition: {
        ...viaS3,
        // With the bucket's S3 Bucket Key, S3 asks KMS in the bucket's name, not the object's.
        StringLike: {
          'kms:EncryptionContext:aws:s3:arn': [
            `arn:aws:s3:::${bucket}`,
            `arn:aws:s3:::${bucket}/reports/${prefix}/*`,
          ],
        },
      },
    },
  ];
  const describeVault = {
    Sid: 'DescribeTheVaultsSnapshots',
    Effect: 'Allow',
    Action: ['rds:DescribeDBSnapshots', 'rds:DescribeDBClusterSnapshots'],
    Resource: [
      rdsArn(vault, vault.account, 'snapshot', '*'),
      rdsArn(vault, vault.account, 'cluster-snapshot', '*'),
      rdsArn(vault, vault.account, 'db', '*'),
      rdsArn(vault, vault.account, 'cluster', '*'),
    ],
  };
  const lambdaRole = (description: string, fn: string, statements: unknown[]) => ({
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      Policies: [
        {
          PolicyName: fn,
          PolicyDocument: { Version: '2012-10-17', Statement: [logsOf(fn), ...statements] },
        },
      ],
    },
  });

  return {
    VaultKey: {
      Type: 'AWS::KMS::Key',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: `Lifeboat vault ${vault.name}: the key of every copy and report in the vault`,
        EnableKeyRotation: true,
        KeyPolicy: {
          ...KEY_POLICY,
          Statement: [
            ...KEY_POLICY.Statement,
            {
              Sid: 'WritersEncryptCopiesThroughRds',
              Effect: 'Allow',
              Principal: {
                AWS: sources.map((source) => ({ 'Fn::GetAtt': [writerRoleId(source), 'Arn'] })),
              },
              Action: [
                'kms:CreateGrant',
                'kms:DescribeKey',
                'kms:Encrypt',
                'kms:Decrypt',
                'kms:ReEncrypt*',
                'kms:GenerateDataKey*',
              ],
              Resource: '*',
              Condition: viaRds,
            },
            {
              Sid: 'WritersStoreThroughS3',
              Effect: 'Allow',
              Principal: {
                AWS: sources.map((source) => ({ 'Fn::GetAtt': [writerRoleId(source), 'Arn'] })),
              },
              Action: 'kms:GenerateDataKey',
              Resource: '*',
              Condition: { StringEquals: { 'kms:ViaService': `s3.${vault.region}.amazonaws.com` } },
            },
            // Each export's data key is encrypted for this key too, by its own account only: the
            // vault opens its copy of an export with production's keys gone.
            ...sources.map((a) => ({
              Sid: `Source${a}EncryptsItsExportsForTheVault`,
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${a}:root` },
              Action: 'kms:Encrypt',
              Resource: '*',
              Condition: {
                StringEquals: {
                  'kms:EncryptionContext:purpose': EXPORT_PURPOSE,
                  'kms:EncryptionContext:account': a,
                },
              },
            })),
            {
              // A drill in a source account restores its copy there, shared for the drill.
              Sid: 'SourcesRestoreTheirCopiesThroughRds',
              Effect: 'Allow',
              Principal: { AWS: sources.map((a) => `arn:aws:iam::${a}:root`) },
              Action: ['kms:CreateGrant', 'kms:DescribeKey', 'kms:Decrypt'],
              Resource: '*',
              Condition: viaRds,
            },
          ],
        },
      },
    },
    VaultKeyAlias: {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: vaultKeyAlias(vault), TargetKeyId: { Ref: 'VaultKey' } },
    },
    VaultBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketName: bucket,
        VersioningConfiguration: { Status: 'Enabled' },
        ObjectLockEnabled: true,
        // COMPLIANCE: no one, the vault account's root included, shortens or lifts the lock.
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: vault.objectLockDays } },
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': ['VaultKey', 'Arn'] },
              },
              BucketKeyEnabled: true,
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
    },
    VaultBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'VaultBucket' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [{ 'Fn::GetAtt': ['VaultBucket', 'Arn'] }, `arn:aws:s3:::${bucket}/*`],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    AlertTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        DisplayName: `Lifeboat vault ${vault.name} alerts`,
        KmsMasterKeyId: { Ref: 'AlertKey' },
      },
    },
    ...keyAtRiskAlerts([{ 'Fn::GetAtt': ['VaultKey', 'Arn'] }]),
    ...Object.fromEntries(
      sources.map((source) => [writerRoleId(source), writerRole(vault, source)]),
    ),
    VaultRetentionRole: lambdaRole(
      "The vault's retention: deletes only copies from its sources that its rules let go",
      'vaultRetention',
      [
        describeVault,
        {
          Sid: 'DeleteSourcesCopiesOnly',
          Effect: 'Allow',
          Action: ['rds:DeleteDBSnapshot', 'rds:DeleteDBClusterSnapshot'],
          Resource: vaultCopies,
        },
        ...storeReports('retention'),
        ...alerting,
      ],
    ),
    VaultVerificationRole: lambdaRole(
      "The vault's verification: reads the vault's copies and stores its report",
      'vaultVerification',
      [describeVault, ...storeReports('verification'), ...alerting],
    ),
    VaultRestoreRole: restoreRole(vault),
    SchedulerRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: "Lets EventBridge Scheduler invoke the vault's scheduled functions",
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'invoke-vault-functions',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'lambda:InvokeFunction',
                  Resource: [
                    { 'Fn::GetAtt': ['VaultRetentionLambdaFunction', 'Arn'] },
                    { 'Fn::GetAtt': ['VaultVerificationLambdaFunction', 'Arn'] },
                  ],
                },
              ],
            },
          },
        ],
      },
    },
  };
}
