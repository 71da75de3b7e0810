import { KMSClient } from '@aws-sdk/client-kms';
import { DeleteDBSnapshotCommand } from '@aws-sdk/client-rds';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedInstance, seedKey, seedSecret, seedVault } from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { type RunRecorder, runRecorder } from '../../shared/manifest/run-recorder.js';
import { manifestKey } from '../../shared/naming/run-ids.js';
import { slotOf } from '../../shared/naming/slot.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { runExportJob } from '../../shared/secrets/export-job.js';
import { prepareRestore } from '../../shared/secrets/restore.js';
import { runSnapshotJob } from '../../shared/snapshots/snapshot-job.js';
import type { Site, Vault } from '../../shared/vault/vault.js';
import { deepExportCheck } from '../../shared/verification/deep-export-check.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy } from '../support/policy.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const BINARY = Buffer.from([0, 255, 1, 254, 2, 253, 10, 13]);

useLocalAws();

let policy: Policy;
let vault: Vault;
let recorder: RunRecorder;
const s3 = () => clientIn(S3Client, PRIMARY);

beforeAll(async () => {
  const drKey = await seedKey(DR);
  const base = fixturePolicy();
  policy = {
    ...base,
    snapshots: { ...base.snapshots, drKmsKeyArn: drKey },
    secrets: { schedule: 'cron(0 2 * * ? *)', namePrefixes: ['prod/'], allowEmpty: false },
  };
  vault = await seedVault(policy, ACCOUNT);
  recorder = runRecorder({ s3: s3(), kms: clientIn(KMSClient, PRIMARY), vault, account: ACCOUNT });
  await seedSecret(
    PRIMARY,
    'prod/orders/db-password',
    '{"user":"orders","password":"it-Orders-3f9a"}',
  );
  await seedSecret(PRIMARY, 'prod/reports/tls-key', BINARY);
  await seedSecret(PRIMARY, 'prod/billing/api-key', 'it-billing-77c1', { team: 'billing' });
  await seedSecret(PRIMARY, 'dev/tools/token', 'it-dev-token');
});

const exportRun = (day: number) =>
  runExportJob(
    { sm: clientIn(SecretsManagerClient, PRIMARY), s3: s3(), vault, recorder, log: silentLog },
    policy,
    slotOf(new Date(Date.UTC(2026, 10, day, 1))),
  );

function verify(runIds: string[], options: { site?: Site; deep?: boolean } = {}) {
  const site = options.site ?? 'primary';
  return runVerificationJob(
    {
      s3: s3(),
      kms: clientIn(KMSClient, policy.regions[site]),
      site,
      primary: rdsIn(PRIMARY),
      dr: rdsIn(DR),
      vault,
      limiter: new RateLimiter({ perSecond: 100, burst: 100 }),
      log: silentLog,
      ...(options.deep ? { deep: deepExportCheck(s3(), vault.dataKeys[site]) } : {}),
    },
    policy,
    new Date(Date.UTC(2026, 10, 25)),
    { runIds },
  );
}

const restoreInto = (site: Site, runId: string, only: string[] = []) =>
  prepareRestore(
    {
      sm: clientIn(SecretsManagerClient, policy.regions[site]),
      site,
      from: { production: { s3: s3(), kms: clientIn(KMSClient, policy.regions[site]), vault } },
    },
    policy,
    runId,
    only,
  );

async function valueIn(region: string, name: string) {
  const out = await clientIn(SecretsManagerClient, region).send(
    new GetSecretValueCommand({ SecretId: name }),
  );
  return out.SecretString ?? Buffer.from(out.SecretBinary ?? []);
}

describe('secrets export, verification and restore against the local AWS', () => {
  it('exports, verifies without downloading, and verifies deeply with the DR key', async () => {
    // Act
    const exported = await exportRun(1);
    const plain = await verify([exported.runId]);
    const deep = await verify([exported.runId], { site: 'dr', deep: true });

    // Assess
    expect(exported).toMatchObject({
      outcome: 'written',
      exported: 3,
      manifest: 'written',
      failures: [],
    });
    expect(plain.runs[0]?.status).toBe('passed');
    expect(deep.runs[0]?.status).toBe('passed');
    expect(deep.runs[0]?.checks.find((c) => c.kind === 'secrets')?.reason).toMatch(
      /3 secrets match the manifest$/,
    );
  });

  it('restores into the DR region byte for byte, and changes nothing the second time', async () => {
    // Prepare
    const { runId } = await exportRun(2);

    // Act
    const plan = await restoreInto('dr', runId);
    const applied = await plan.apply();
    const again = await restoreInto('dr', runId);
    const versionsBefore = await clientIn(SecretsManagerClient, DR).send(
      new ListSecretVersionIdsCommand({ SecretId: 'prod/billing/api-key' }),
    );
    await again.apply();
    const versionsAfter = await clientIn(SecretsManagerClient, DR).send(
      new ListSecretVersionIdsCommand({ SecretId: 'prod/billing/api-key' }),
    );

    // Assess
    expect(plan.items.map((i) => [i.name, i.action])).toEqual([
      ['prod/billing/api-key', 'create'],
      ['prod/orders/db-password', 'create'],
      ['prod/reports/tls-key', 'create'],
    ]);
    expect(applied.every((o) => o.result === 'done')).toBe(true);
    for (const name of [
      'prod/billing/api-key',
      'prod/orders/db-password',
      'prod/reports/tls-key',
    ]) {
      expect(await valueIn(DR, name)).toEqual(await valueIn(PRIMARY, name));
    }
    expect(await valueIn(DR, 'prod/reports/tls-key')).toEqual(BINARY);
    expect(again.items.every((i) => i.action === 'unchanged')).toBe(true);
    expect(versionsAfter.Versions?.length).toBe(versionsBefore.Versions?.length);
  });

  it('plans an update for a secret that changed, restoring only the secrets named', async () => {
    // Prepare
    const { runId } = await exportRun(3);
    await (await restoreInto('dr', runId)).apply();
    await seedSecret(DR, 'prod/unrelated', 'x');
    await clientIn(SecretsManagerClient, DR).send(
      new (await import('@aws-sdk/client-secrets-manager')).PutSecretValueCommand({
        SecretId: 'prod/billing/api-key',
        SecretString: 'drifted',
      }),
    );

    // Act
    const plan = await restoreInto('dr', runId, ['prod/billing/api-key']);
    await plan.apply();

    // Assess
    expect(plan.items).toEqual([{ name: 'prod/billing/api-key', action: 'update' }]);
    expect(await valueIn(DR, 'prod/billing/api-key')).toBe('it-billing-77c1');
  });

  it('writes nothing new for a second delivery of the same slot', async () => {
    // Prepare
    const first = await exportRun(4);

    // Act
    const second = await exportRun(4);

    // Assess
    expect(first.outcome).toBe('written');
    expect(second).toMatchObject({
      outcome: 'already-exists',
      manifest: 'already-recorded',
      failures: [],
    });
  });
});

describe('tampering is caught and named', () => {
  const checksOf = async (runId: string, options: { deep?: boolean } = {}) =>
    (await verify([runId], options)).runs[0]?.checks.filter((c) => c.status !== 'passed') ?? [];

  it('an altered manifest: the version first written is what counts', async () => {
    // Prepare
    const { runId } = await exportRun(10);
    const key = manifestKey(policy.name, runId);
    const stored = JSON.parse(
      (await (
        await s3().send(new GetObjectCommand({ Bucket: vault.bucket, Key: key }))
      ).Body?.transformToString()) ?? '{}',
    );
    stored.manifest.artifacts.secrets.pop();
    await s3().send(
      new PutObjectCommand({ Bucket: vault.bucket, Key: key, Body: JSON.stringify(stored) }),
    );

    // Act
    const failed = await checksOf(runId);

    // Assess
    expect(failed).toEqual([
      expect.objectContaining({
        kind: 'manifest',
        reason:
          'overwritten: 1 later version replace the one first written (the first is what is checked)',
      }),
    ]);
    await expect(restoreInto('dr', runId)).rejects.toThrow('refusing to restore from it');
  });

  it('a missing export', async () => {
    // Prepare
    const { runId, export: artifact } = await exportRun(11);
    await s3().send(new DeleteObjectCommand({ Bucket: vault.bucket, Key: artifact?.key }));

    // Act
    const failed = await checksOf(runId);

    // Assess
    expect(failed).toEqual([
      expect.objectContaining({ kind: 'export', reason: 'missing: the object is gone' }),
    ]);
  });

  it('one flipped byte in an export, by default and deeply', async () => {
    // Prepare
    const { runId, export: artifact } = await exportRun(12);
    const out = await s3().send(new GetObjectCommand({ Bucket: vault.bucket, Key: artifact?.key }));
    const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    bytes.writeUInt8(bytes.readUInt8(200) ^ 0x01, 200);
    await s3().send(
      new PutObjectCommand({ Bucket: vault.bucket, Key: artifact?.key, Body: bytes }),
    );

    // Act
    const plain = await checksOf(runId);
    const deep = await checksOf(runId, { deep: true });

    // Assess
    expect(plain).toEqual([
      expect.objectContaining({ kind: 'export', reason: expect.stringMatching(/^changed/) }),
    ]);
    expect(deep).toContainEqual(
      expect.objectContaining({
        kind: 'secrets',
        reason: expect.stringMatching(
          /^cannot be opened: ExportTamperedError: changed: downloaded bytes hash to/,
        ),
      }),
    );
    await expect(restoreInto('dr', runId)).rejects.toThrow('changed: downloaded bytes hash to');
  });

  it('an extra artifact among the run’s exports', async () => {
    // Prepare
    const { runId } = await exportRun(13);
    await s3().send(
      new PutObjectCommand({
        Bucket: vault.bucket,
        Key: 'exports/test-policy/202611130100/planted.esdk',
        Body: 'x',
      }),
    );

    // Act
    const failed = await checksOf(runId);

    // Assess
    expect(failed).toEqual([
      expect.objectContaining({
        artifact: `s3://${vault.bucket}/exports/test-policy/202611130100/planted.esdk`,
        reason: 'extra: an object in the run’s exports that the manifest does not list',
      }),
    ]);
  });

  it('a snapshot deleted behind Lifeboat’s back', async () => {
    // Prepare
    await seedInstance(rdsIn(PRIMARY).client, 'orders-db');
    const deps = {
      primary: rdsIn(PRIMARY),
      dr: rdsIn(DR),
      limiter: new RateLimiter({ perSecond: 100, burst: 100 }),
      recorder,
      log: silentLog,
      kmsIn: (region: string) => clientIn(KMSClient, region),
    };
    const run = await runSnapshotJob(
      deps,
      { ...policy, targets: [{ kind: 'rds-instance', identifier: 'orders-db' }] },
      slotOf(new Date(Date.UTC(2026, 10, 14, 2))),
    );
    await rdsIn(PRIMARY).client.send(
      new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'lifeboat-orders-db-202611140200' }),
    );

    // Act
    const failed = await checksOf(run.runId);

    // Assess: gone, and (deleted before the pipeline could copy it) never copied to DR
    const deleted =
      'arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-202611140200';
    expect(failed).toEqual([
      expect.objectContaining({
        kind: 'snapshot',
        artifact: deleted,
        reason: 'deleted: the snapshot no longer exists',
      }),
      expect.objectContaining({
        kind: 'dr-copy',
        artifact: deleted,
        reason: 'not copied to eu-west-1 within 12h of its slot',
      }),
    ]);
  });
});
