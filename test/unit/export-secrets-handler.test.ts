import { createHash } from 'node:crypto';
import { GenerateDataKeyCommand, KMSServiceException } from '@aws-sdk/client-kms';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  BatchGetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignedManifestSchema } from '../../shared/manifest/manifest.js';
import type { ExportJobResult } from '../../shared/secrets/export-job.js';
import { openExport } from '../../shared/secrets/open-export.js';
import scheduled from '../events/scheduled.json' with { type: 'json' };
import { lambdaContext } from '../support/lambda-context.js';
import { fixturePolicy, packagedPolicyFile } from '../support/policy.js';
import {
  type Bucket,
  simulateKms,
  simulateS3,
  TEST_VAULT,
  TEST_VAULT_ENV,
} from '../support/vault-world.js';

type Handler = (event: unknown, context: unknown) => Promise<ExportJobResult>;

const SLOT = '202611210200';
const EXPORT_KEY = `exports/test-policy/${SLOT}/secrets.esdk`;

interface FakeSecret {
  name: string;
  string?: string;
  binary?: Uint8Array;
  tags?: { Key: string; Value: string }[];
}

const sm = mockClient(SecretsManagerClient);
const sns = mockClient(SNSClient);
let handler: Handler;
let bucket: Bucket;
let s3: ReturnType<typeof simulateS3>['stub'];
let kms: ReturnType<typeof simulateKms>;

beforeAll(async () => {
  const policy = {
    ...fixturePolicy(),
    secrets: { schedule: 'cron(0 2 * * ? *)', namePrefixes: ['prod/'], allowEmpty: false },
  };
  vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile(policy));
  for (const [key, value] of Object.entries(TEST_VAULT_ENV)) vi.stubEnv(key, value);
  ({ handler } = (await import('../../functions/export-secrets.js')) as unknown as {
    handler: Handler;
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

const arnOf = (name: string) =>
  `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${name}-AbCdEf`;

/**
 * Secrets Manager holding these secrets: ListSecrets pages by 100, BatchGetSecretValue by list.
 * Returns the BatchGetSecretValue behaviour, for tests that put a failure before it.
 */
function secretsManager(secrets: FakeSecret[]) {
  sm.reset();
  sm.on(ListSecretsCommand).callsFake((input) => {
    const start = Number(input.NextToken ?? 0);
    const page = secrets.slice(start, start + 100);
    return {
      SecretList: page.map((s) => ({ Name: s.name, ARN: arnOf(s.name), Tags: s.tags ?? [] })),
      NextToken: start + 100 < secrets.length ? String(start + 100) : undefined,
    };
  });
  const batchGet = (input: { SecretIdList?: string[] }) => {
    const ids: string[] = input.SecretIdList ?? [];
    if (ids.length > 20) throw new Error('more than 20 secrets in one call');
    return {
      SecretValues: ids.map((arn) => {
        const s = secrets.find((x) => arnOf(x.name) === arn) as FakeSecret;
        return {
          ARN: arn,
          Name: s.name,
          VersionId: `v-${s.name.length}`,
          ...(s.string !== undefined ? { SecretString: s.string } : { SecretBinary: s.binary }),
        };
      }),
      Errors: [],
    };
  };
  sm.on(BatchGetSecretValueCommand).callsFake(batchGet);
  return batchGet;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-21T02:00:30Z'));
  ({ bucket, stub: s3 } = simulateS3());
  kms = simulateKms();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  secretsManager([
    { name: 'prod/orders/db-password', string: 'unit-orders-password-1' },
    { name: 'prod/reports/tls-key', binary: Buffer.from([0, 1, 2, 253, 254, 255]) },
    { name: 'dev/scratch', string: 'unit-dev-value' },
  ]);
});

const run = (event: unknown = structuredClone(scheduled)) => handler(event, lambdaContext());

async function decryptedExport(site: 'primary' | 'dr' = 'dr') {
  const { manifest } = SignedManifestSchema.parse(
    JSON.parse(
      bucket.get(`manifests/test-policy/secrets-${SLOT}.json`)?.body.toString('utf8') ?? '{}',
    ),
  );
  const artifact = manifest.artifacts.exports[0];
  if (!artifact) throw new Error('no export in the manifest');
  return {
    manifest,
    payload: await openExport(new S3Client({}), artifact, TEST_VAULT.dataKeys[site]),
  };
}

describe('export-secrets handler', () => {
  it('exports the selected secrets in one message that the DR key decrypts exactly', async () => {
    // Act
    const result = await run();

    // Assess
    expect(result).toMatchObject({
      runId: `secrets-${SLOT}`,
      outcome: 'written',
      exported: 2,
      manifest: 'written',
      failures: [],
    });
    const { manifest, payload } = await decryptedExport('dr');
    expect(payload.secrets.map((s) => [s.name, s.string, s.binary])).toEqual([
      ['prod/orders/db-password', 'unit-orders-password-1', null],
      ['prod/reports/tls-key', null, Buffer.from([0, 1, 2, 253, 254, 255]).toString('base64')],
    ]);
    expect(manifest.artifacts.secrets).toEqual([
      { name: 'prod/orders/db-password', arn: arnOf('prod/orders/db-password'), versionId: 'v-23' },
      { name: 'prod/reports/tls-key', arn: arnOf('prod/reports/tls-key'), versionId: 'v-20' },
    ]);
    expect(manifest.artifacts.exports[0]).toMatchObject({
      key: EXPORT_KEY,
      kmsKeyId: TEST_VAULT.dataKeys.primary,
      encryptionContext: {
        purpose: 'lifeboat-secrets-export',
        account: '123456789012',
        region: 'eu-central-1',
        run: `secrets-${SLOT}`,
        policy: 'test-policy',
      },
    });
  });

  it('uses one data key: one GenerateDataKey, and the DR key encrypts the same key once', async () => {
    // Act
    await run();

    // Assess
    expect(kms).toHaveReceivedCommandTimes(GenerateDataKeyCommand, 1);
    expect(kms).toHaveReceivedCommandWith(GenerateDataKeyCommand, {
      KeyId: TEST_VAULT.dataKeys.primary,
    });
    const decrypted = await decryptedExport('primary');
    expect(decrypted.payload.secrets).toHaveLength(2);
  });

  it('stores the export with its SHA-256, once, under SSE-KMS with the data key', async () => {
    // Act
    await run();

    // Assess
    const stored = bucket.get(EXPORT_KEY);
    const sha = createHash('sha256')
      .update(stored?.body ?? '')
      .digest();
    expect(stored?.sha256).toBe(sha.toString('base64'));
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: EXPORT_KEY,
      IfNoneMatch: '*',
      ChecksumAlgorithm: 'SHA256',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: TEST_VAULT.dataKeys.primary,
    });
    const { manifest } = await decryptedExport();
    expect(manifest.artifacts.exports[0]?.sha256).toBe(sha.toString('hex'));
  });

  it('reads secrets 20 at a time', async () => {
    // Prepare
    secretsManager(
      Array.from({ length: 45 }, (_, i) => ({
        name: `prod/app/s${String(i).padStart(2, '0')}`,
        string: `v${i}`,
      })),
    );

    // Act
    const result = await run();

    // Assess
    expect(result.exported).toBe(45);
    expect(sm).toHaveReceivedCommandTimes(BatchGetSecretValueCommand, 3);
  });

  it('writes nothing new for a duplicate delivery, and reads no secret', async () => {
    // Prepare
    await run();
    sm.resetHistory();
    const before = new Map(bucket);

    // Act
    const again = await run();

    // Assess
    expect(again).toMatchObject({ outcome: 'already-exists', exported: 0, failures: [] });
    expect(sm).not.toHaveReceivedCommand(BatchGetSecretValueCommand);
    expect(new Map(bucket)).toEqual(before);
  });

  it('fails the run, naming why, when the policy selects no secret', async () => {
    // Prepare
    secretsManager([{ name: 'dev/scratch', string: 'unit-dev-value' }]);

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('export-secrets: 1 failed: the selection');
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      'no secret matches secrets.namePrefixes / secrets.tags in eu-central-1; set secrets.allowEmpty: true if that is expected',
    );
    const { manifest } = await decryptedExport();
    expect(manifest.failures).toEqual([
      expect.objectContaining({ subject: 'the selection', resolvedBy: null }),
    ]);
  });

  it('reports each secret that cannot be read, exports the rest, and fails the run', async () => {
    // Prepare
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [
        {
          ARN: arnOf('prod/orders/db-password'),
          Name: 'prod/orders/db-password',
          VersionId: 'v1',
          SecretString: 'x',
        },
      ],
      Errors: [
        {
          SecretId: arnOf('prod/reports/tls-key'),
          ErrorCode: 'DecryptionFailure',
          Message: 'KMS key is disabled',
        },
      ],
    });

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('export-secrets: 1 failed: secret prod/reports/tls-key');
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      '- secret prod/reports/tls-key: DecryptionFailure: KMS key is disabled',
    );
    const { payload } = await decryptedExport();
    expect(payload.secrets.map((s) => s.name)).toEqual(['prod/orders/db-password']);
  });

  it('fails the secrets of a throttled batch and exports the others', async () => {
    // Prepare
    const batchGet = secretsManager(
      Array.from({ length: 25 }, (_, i) => ({
        name: `prod/s${String(i).padStart(2, '0')}`,
        string: `v${i}`,
      })),
    );
    sm.on(BatchGetSecretValueCommand)
      .rejectsOnce(
        new SecretsManagerServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: {},
          message: 'Rate exceeded',
        }),
      )
      .callsFake(batchGet);

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('export-secrets: 20 failed');
    const { payload } = await decryptedExport();
    expect(payload.secrets).toHaveLength(5);
  });

  it('fails the run, alerts and writes nothing when the data key is not accessible', async () => {
    // Prepare
    kms.on(GenerateDataKeyCommand).rejects(
      new KMSServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: {},
        message: 'not allowed: kms:GenerateDataKey',
      }),
    );

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('kms:GenerateDataKey');
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      '- the run: AccessDeniedException',
    );
    expect(bucket.size).toBe(0);
  });

  it('fails the run and alerts when S3 keeps answering 503 SlowDown', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'SlowDown',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
        message: 'Please reduce your request rate.',
      }),
    );

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('Please reduce your request rate.');
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain('SlowDown');
  });

  it('rejects a malformed event and reads nothing', async () => {
    // Act
    const act = run({ scheduledTime: 'now' });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(sm.calls()).toHaveLength(0);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });
});
