import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../cli/main.js';
import { definition as exportSecrets } from '../../functions/export-secrets.js';
import { definition as snapshotRds } from '../../functions/snapshot-rds.js';
import { verificationDeps } from '../../functions/verify-manifest.js';
import { type FaultProxy, startFaultProxy } from '../../local/aws/fault-proxy.js';
import {
  seedCluster,
  seedInstance,
  seedKey,
  seedSecret,
  seedVault,
} from '../../local/demo/seed.js';
import { clientIn, forgetClients, rdsIn } from '../../shared/aws/clients.js';
import { localJobEnvironment } from '../../shared/jobs/local-environment.js';
import { slotOf } from '../../shared/naming/slot.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { Vault } from '../../shared/vault/vault.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { captureIo } from '../support/capture-io.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy } from '../support/policy.js';

// The DR region holds a complete vault: every export and record is written to its bucket too,
// and verification and secret restores work there with the primary region unreachable (every
// call signed for it is reset by a proxy in front of the local AWS, as when a region is down).

const local = useLocalAws();
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const HOUR = 3_600_000;
let proxy: FaultProxy;
let policy: Policy;
let vault: Vault;
let policyFile: string;
const exportAt = new Date(Math.floor((Date.now() - 2 * HOUR) / HOUR) * HOUR);

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await runCli([...argv, '--policy', policyFile], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const exportKey = () => `exports/${policy.name}/${slotOf(exportAt).id}/secrets.esdk`;

beforeAll(async () => {
  // Every client from here on reaches the local AWS through the proxy.
  proxy = await startFaultProxy(local.aws.endpoint);
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  forgetClients();
  const base = fixturePolicy();
  policy = { ...base, snapshots: { ...base.snapshots, drKmsKeyArn: await seedKey(DR) } };
  vault = await seedVault(policy, ACCOUNT);
  policyFile = join(tmpdir(), 'dr-vault.policy.yml');
  writeFileSync(policyFile, stringify(policy));
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await seedCluster(rds, 'billing');
  await seedSecret(PRIMARY, 'prod/orders/db-password', 'dr-vault-test-value');
  await seedSecret(PRIMARY, 'prod/billing/api-key', 'dr-vault-test-key');
  const env = localJobEnvironment(policy, ACCOUNT, vault);
  await snapshotRds.run(snapshotRds.wire(env), policy, new Date(exportAt.getTime() - HOUR));
  const exported = await exportSecrets.run(exportSecrets.wire(env), policy, exportAt);
  expect(exported.failures).toEqual([]);
}, 120_000);

afterAll(async () => {
  proxy?.unreachable([]);
  await proxy?.stop();
});

describe('the DR region’s copy of the vault', () => {
  it('holds every export and record the primary holds, byte for byte', async () => {
    // Act
    const keysIn = async (region: string, bucket: string | undefined) =>
      (
        (await clientIn(S3Client, region).send(new ListObjectsV2Command({ Bucket: bucket })))
          .Contents ?? []
      )
        .map((o) => o.Key ?? '')
        .filter((k) => k.startsWith('exports/') || k.startsWith('manifests/'))
        .sort();
    const primary = await keysIn(PRIMARY, vault.bucket);
    const dr = await keysIn(DR, vault.drBucket);
    const checksum = async (region: string, bucket: string | undefined, key: string) =>
      (
        await clientIn(S3Client, region).send(
          new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }),
        )
      ).ChecksumSHA256;

    // Assess
    expect(primary.length).toBeGreaterThanOrEqual(3);
    expect(dr).toEqual(primary);
    for (const key of primary) {
      expect(await checksum(DR, vault.drBucket, key), key).toBe(
        await checksum(PRIMARY, vault.bucket, key),
      );
    }
  });

  it('is checked by verification: a copy missing is pending, then failed after the deadline', async () => {
    // Arrange: the export's DR copy lost
    await clientIn(S3Client, DR).send(
      new DeleteObjectCommand({ Bucket: vault.drBucket, Key: exportKey() }),
    );
    const env = localJobEnvironment(policy, ACCOUNT, vault);
    const run = `secrets-${slotOf(exportAt).id}`;
    const checkOf = async (now: Date) => {
      const result = await runVerificationJob(verificationDeps(env), policy, now, {
        runIds: [run],
      });
      return result.runs[0]?.checks.find(
        (c) => c.kind === 'dr-vault' && c.artifact.endsWith('secrets.esdk'),
      );
    };

    // Act
    const soon = await checkOf(new Date());
    const late = await checkOf(new Date(Date.now() + 13 * HOUR));

    // Assess
    expect(soon).toMatchObject({ status: 'pending', reason: 'not in the DR region yet' });
    expect(late).toMatchObject({
      status: 'failed',
      reason: `missing: not in the DR region ${policy.verification.copyDeadline} after the run`,
    });
  });

  it('is completed by a later delivery of the run, with the bytes the primary holds', async () => {
    // Act: the same scheduled event, delivered again
    const env = localJobEnvironment(policy, ACCOUNT, vault);
    const again = await exportSecrets.run(exportSecrets.wire(env), policy, exportAt);

    // Assess
    expect(again.outcome).toBe('already-exists');
    expect(again.failures).toEqual([]);
    const head = (region: string, bucket: string | undefined) =>
      clientIn(S3Client, region).send(
        new HeadObjectCommand({ Bucket: bucket, Key: exportKey(), ChecksumMode: 'ENABLED' }),
      );
    expect((await head(DR, vault.drBucket)).ChecksumSHA256).toBe(
      (await head(PRIMARY, vault.bucket)).ChecksumSHA256,
    );
  });

  it('verifies and restores secrets with the primary region unreachable', async () => {
    // Arrange: the primary region is down
    proxy.unreachable([PRIMARY]);
    const refusedBefore = proxy.counts.refused;

    // Act
    const verified = await cli('verify', '--region', DR);
    const restored = await cli(
      'secrets',
      'restore',
      '--run',
      `secrets-${slotOf(exportAt).id}`,
      '--region',
      DR,
      '--apply',
    );
    proxy.unreachable([]);

    // Assess: both passed, reading only the DR region; nothing even tried the primary
    expect(verified.err).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.out).toContain(
      `read from s3://${vault.drBucket} (the DR region’s copy of the vault); ${PRIMARY} not consulted`,
    );
    expect(verified.out).toMatch(/secrets-\d{12}\s+PASSED/);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    expect(proxy.counts.refused).toBe(refusedBefore);
    const secret = await clientIn(SecretsManagerClient, DR).send(
      new GetSecretValueCommand({ SecretId: 'prod/orders/db-password' }),
    );
    expect(secret.SecretString).toBe('dr-vault-test-value');
  });
});
