import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../../shared/policy/policy-file.js';

// `npm test` packages the stack (npx sls package, offline, no credentials) before the tests run.
const TEMPLATE = '.serverless-primary/cloudformation-template-update-stack.json';

interface Resource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON, read by assertions
  Properties: Record<string, any>;
  Condition?: string;
}

let resources: Record<string, Resource>;
const policy = loadPolicyFile('lifeboat.policy.yml');

beforeAll(() => {
  if (!existsSync(TEMPLATE)) {
    throw new Error(`${TEMPLATE} is missing: run npm run package first (npm test does)`);
  }
  resources = JSON.parse(readFileSync(TEMPLATE, 'utf8')).Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

function statements(
  role: Resource,
): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return (role.Properties.Policies ?? []).flatMap(
    (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
  );
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The logical id a schedule starts: a function (Fn::GetAtt) or a state machine (Ref). */
const scheduleTarget = (s: Resource): string =>
  s.Properties.Target.Arn['Fn::GetAtt']?.[0] ?? s.Properties.Target.Arn.Ref;

describe('packaged CloudFormation template', () => {
  it('gives every function its own role', () => {
    // Act
    const functions = ofType('AWS::Lambda::Function');
    const roles = functions.map(([, f]) => f.Properties.Role?.['Fn::GetAtt']?.[0]);

    // Assess
    expect(functions.length).toBeGreaterThanOrEqual(2);
    expect(new Set(roles).size).toBe(functions.length);
    for (const role of roles) expect(resources[role]?.Type).toBe('AWS::IAM::Role');
  });

  it('runs every function on nodejs22.x arm64 with the packaged policy', () => {
    for (const [, f] of ofType('AWS::Lambda::Function')) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Environment: { Variables: { LIFEBOAT_POLICY_PATH: '.lifeboat/policy.json' } },
      });
    }
  });

  it('grants no wildcard action in any role', () => {
    // Act
    const actions = ofType('AWS::IAM::Role').flatMap(([, role]) =>
      statements(role).flatMap((s) => asList(s.Action)),
    );

    // Assess
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('scopes every RDS write to Lifeboat snapshot names, drill databases or the account databases', () => {
    for (const [, role] of ofType('AWS::IAM::Role')) {
      for (const s of statements(role)) {
        const writes = asList(s.Action).filter((a) => /^rds:(Create|Copy|Delete|AddTags)/.test(a));
        if (writes.length === 0) continue;
        const scoped = asList(s.Resource as unknown[]).map((r) => JSON.stringify(r));
        expect(scoped.length).toBeGreaterThan(0);
        for (const r of scoped)
          expect(r).toMatch(
            /:(db|cluster):(lb-drill-)?\*|:(snapshot|cluster-snapshot):lifeboat-\*|:(subgrp|og|pg|cluster-pg):\*/,
          );
      }
    }
  });

  it('lets retention delete only snapshots tagged as this policy’s', () => {
    // Act
    const deletes = statements(resources.EnforceRetentionRole as Resource).find((s) =>
      asList(s.Action).includes('rds:DeleteDBSnapshot'),
    );

    // Assess
    expect(deletes?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/lifeboat:managed': 'true',
        'aws:ResourceTag/lifeboat:policy': policy.name,
      },
    });
  });

  it('protects the backup bucket: versioned, Object Lock from the policy, SSE-KMS, private, TLS only', () => {
    // Act
    const bucket = resources.BackupBucket as Resource;
    const bucketPolicy = resources.BackupBucketPolicy as Resource;

    // Assess
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: {
          DefaultRetention: {
            Mode: policy.backupBucket.objectLock.mode,
            Days: policy.backupBucket.objectLock.days,
          },
        },
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': ['DataKey', 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(bucketPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('creates a rotating multi-Region data key and a multi-Region HMAC key for manifests', () => {
    expect(resources.DataKey?.Properties).toMatchObject({
      MultiRegion: true,
      EnableKeyRotation: true,
    });
    expect(resources.ManifestKey?.Properties).toMatchObject({
      MultiRegion: true,
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
    });
  });

  it('schedules each job from the policy, in its time zone, with the scheduled time as input', () => {
    // Act
    const schedules = Object.fromEntries(
      ofType('AWS::Scheduler::Schedule').map(([, s]) => [scheduleTarget(s), s.Properties]),
    );

    // Assess
    expect(schedules.SnapshotRdsLambdaFunction).toMatchObject({
      ScheduleExpression: policy.snapshots.schedule,
      ScheduleExpressionTimezone: policy.timeZone,
      State: 'ENABLED',
      Target: { RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] } },
    });
    expect(schedules.EnforceRetentionLambdaFunction).toMatchObject({
      ScheduleExpression: policy.retention.schedule,
      ScheduleExpressionTimezone: policy.timeZone,
    });
    expect(JSON.parse(schedules.SnapshotRdsLambdaFunction?.Target.Input)).toEqual({
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
  });

  it('schedules the secrets export and verification, and names the vault for every function', () => {
    // Act
    const targets = ofType('AWS::Scheduler::Schedule').map(([, s]) => scheduleTarget(s));
    const env = (resources.ExportSecretsLambdaFunction as Resource).Properties.Environment
      .Variables;

    // Assess
    expect(targets).toEqual(
      expect.arrayContaining(['ExportSecretsLambdaFunction', 'VerifyManifestLambdaFunction']),
    );
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'BACKUP_BUCKET',
        'DR_BACKUP_BUCKET',
        'DATA_KEY_ARN',
        'DR_DATA_KEY_ARN',
        'MANIFEST_KEY_ARN',
        'DR_MANIFEST_KEY_ARN',
      ]),
    );
    expect((resources.BackupBucket as Resource).Properties.BucketName).toEqual({
      'Fn::Sub': `lb-${policy.name}-\${AWS::AccountId}-\${AWS::Region}`,
    });
    expect((resources.DataKeyAlias as Resource).Properties.AliasName).toBe(
      `alias/lifeboat-${policy.name}-data`,
    );
  });

  it('lets export-secrets read only the secrets under the policy’s prefixes', () => {
    // Act
    const read = statements(resources.ExportSecretsRole as Resource).find((s) =>
      asList(s.Action).includes('secretsmanager:GetSecretValue'),
    );

    // Assess
    expect(read?.Resource).toEqual(
      (policy.secrets?.namePrefixes ?? []).map((p) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:${policy.regions.primary}:\${AWS::AccountId}:secret:${p}*`,
      })),
    );
  });

  it('keeps verify-manifest to reading, recording verifications and tagging', () => {
    // Act
    const actions = statements(resources.VerifyManifestRole as Resource).flatMap((s) =>
      asList(s.Action),
    );

    // Assess
    expect(actions.filter((a) => /^(rds|s3|kms):(Delete|Create|Copy|Restore)/.test(a))).toEqual([]);
    expect(actions).toEqual(
      expect.arrayContaining(['kms:VerifyMac', 's3:GetObject', 'rds:AddTagsToResource']),
    );
  });

  it('alarms on every function’s errors and on the snapshot quota at 80%, to the alert topic', () => {
    // Act
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const functions = ofType('AWS::Lambda::Function').map(([id]) => id);

    // Assess
    for (const id of functions) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }],
          AlarmActions: [{ Ref: 'AlertTopic' }],
        }),
      );
    }
    const quota = alarms.filter((a) => a.MetricName === 'ManualSnapshotQuotaUsedPercent');
    expect(quota).toHaveLength(4);
    expect(quota.every((a) => a.Threshold === 80 && a.AlarmActions[0].Ref === 'AlertTopic')).toBe(
      true,
    );
    expect(resources.AlertTopic?.Type).toBe('AWS::SNS::Topic');
  });

  it('encrypts the alert topic with a key alarms and rules may use, and every publisher may too', () => {
    // Assess: not aws/sns, which CloudWatch and EventBridge cannot publish under.
    expect(resources.AlertTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertKey' });
    const keyStatements = resources.AlertKey?.Properties.KeyPolicy.Statement as {
      Principal: { Service?: string };
      Action: string[];
      Condition?: unknown;
    }[];
    const byService = (service: string) =>
      keyStatements.find((st) => st.Principal.Service === service);
    expect(byService('cloudwatch.amazonaws.com')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(byService('events.amazonaws.com')?.Action).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    ]);
    expect(byService('events.amazonaws.com')?.Condition).toBeUndefined();
    // Each role that may publish an alert may have SNS encrypt it, and only through SNS.
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      const all = statements(role);
      if (!all.some((st) => asList(st.Action).includes('sns:Publish'))) continue;
      expect(all, id).toContainEqual(
        expect.objectContaining({
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
          Condition: {
            StringEquals: {
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub template
              'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' },
            },
          },
        }),
      );
    }
  });

  it('alerts when a key the backups depend on is disabled or scheduled for deletion', () => {
    // Assess
    const rule = resources.KeyAtRiskRule?.Properties;
    expect(rule?.EventPattern).toEqual({
      source: ['aws.kms'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['kms.amazonaws.com'],
        eventName: ['DisableKey', 'ScheduleKeyDeletion', 'DeleteImportedKeyMaterial'],
        resources: {
          ARN: [{ 'Fn::GetAtt': ['DataKey', 'Arn'] }, { 'Fn::GetAtt': ['ManifestKey', 'Arn'] }],
        },
      },
    });
    expect(rule?.Targets[0]).toMatchObject({
      Arn: { Ref: 'AlertTopic' },
      InputTransformer: { InputPathsMap: { call: '$.detail.eventName' } },
    });
    expect(resources.AlertTopicPolicy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['KeyAtRiskRule', 'Arn'] } } },
      }),
    ]);
  });

  it('watches the DR snapshot copies’ key too, in the DR stack', () => {
    const dr = JSON.parse(
      readFileSync('.serverless-dr/cloudformation-template-update-stack.json', 'utf8'),
    ).Resources as Record<string, Resource>;
    expect(dr.KeyAtRiskRule?.Properties.EventPattern.detail.resources.ARN).toContain(
      policy.snapshots.drKmsKeyArn,
    );
    expect(dr.AlertTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertKey' });
  });

  it('packages each function as one minified ESM bundle plus the validated policy', () => {
    // Act
    const listing = execFileSync('unzip', ['-Z1', '.serverless-primary/snapshotRds.zip'], {
      encoding: 'utf8',
    });

    // Assess
    expect(listing.trim().split('\n').sort()).toEqual([
      '.lifeboat/policy.json',
      'functions/snapshot-rds.mjs',
    ]);
  });
});
