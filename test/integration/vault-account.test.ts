import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../cli/main.js';
import { verificationDeps } from '../../functions/verify-manifest.js';
import {
  clientAs,
  seedCluster,
  seedInstance,
  seedKey,
  seedSecret,
  seedVault,
  seedVaultBucketAs,
} from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { keyBook } from '../../shared/aws/key-states.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { decryptMessage } from '../../shared/crypto/envelope.js';
import { localJobEnvironment } from '../../shared/jobs/local-environment.js';
import { type RunRecorder, runRecorder } from '../../shared/manifest/run-recorder.js';
import { runIdOf } from '../../shared/naming/run-ids.js';
import { slotOf } from '../../shared/naming/slot.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { parseVaultPolicy } from '../../shared/policy/vault-policy.js';
import { listManualSnapshots, listSharedSnapshots } from '../../shared/rds/snapshots.js';
import type { Target } from '../../shared/rds/targets.js';
import { runExportJob } from '../../shared/secrets/export-job.js';
import { settledSlotsIn } from '../../shared/snapshots/settled-slots.js';
import { runSnapshotJob } from '../../shared/snapshots/snapshot-job.js';
import { sendToVault } from '../../shared/snapshots/vault-copies.js';
import type { Vault } from '../../shared/vault/vault.js';
import { vaultAccountOf, vaultBucketOf } from '../../shared/vault-account/vault-account.js';
import { runVaultRetention, vaultInventory } from '../../shared/vault-account/vault-retention.js';
import { runVaultVerification } from '../../shared/vault-account/vault-verification.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { captureIo } from '../support/capture-io.js';
import { useLocalAws } from '../support/local-aws.js';
import { sweepUntilSettled } from '../support/pipeline.js';
import { fixturePolicy } from '../support/policy.js';
import { stubVaultProfile } from '../support/vault-profile.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const VAULT = '222233334444';
const ROLE = `arn:aws:iam::${VAULT}:role/lifeboat-vault-writer`;
// A second production account sending to the same vault.
const OTHER = '333344445555';
const VAULT_BUCKET = 'lifeboat-vault-test-222233334444-eu-west-1';

const local = useLocalAws();

let policy: Policy;
let recorder: RunRecorder;
let vault: Vault;
let vaultRds: RDSClient;

const asAccount = <C>(
  account: string,
  Client: new (config: {
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  }) => C,
  region: string,
) => clientAs(`arn:aws:iam::${account}:role/admin`, Client, region);

const asVault = <C>(
  Client: new (config: {
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  }) => C,
  region: string,
) => asAccount(VAULT, Client, region);

beforeAll(async () => {
  const drKey = await seedKey(DR);
  const vaultKms = await asVault(KMSClient, DR);
  const vaultKey =
    (await vaultKms.send(new CreateKeyCommand({ Description: 'the vault key' }))).KeyMetadata
      ?.Arn ?? '';
  const fixture = fixturePolicy();
  policy = {
    ...fixture,
    snapshots: { ...fixture.snapshots, drKmsKeyArn: drKey },
    vault: {
      account: VAULT,
      kmsKeyArn: vaultKey,
      roleArn: ROLE,
      bucket: VAULT_BUCKET,
      copyCaps: { instance: 20, cluster: 5 },
      quotas: { instanceSnapshots: 100, clusterSnapshots: 100 },
    },
  };
  await seedVaultBucketAs(ROLE, DR, VAULT_BUCKET);
  const reached = vaultAccountOf(policy.vault as NonNullable<Policy['vault']>, DR, 'test-records');
  vault = await seedVault(policy, ACCOUNT);
  recorder = runRecorder({
    s3: clientIn(S3Client, PRIMARY),
    kms: clientIn(KMSClient, PRIMARY),
    vault,
    account: ACCOUNT,
    vaultCopy: vaultBucketOf(policy.vault as NonNullable<Policy['vault']>, ACCOUNT, reached),
  });
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await seedInstance(rds, 'reports-db', { backup: 'lifeboat' });
  await seedCluster(rds, 'billing');
  vaultRds = await asVault(RDSClient, DR);
});

const deps = () => ({
  primary: rdsIn(PRIMARY),
  dr: rdsIn(DR),
  limiter: new RateLimiter({ perSecond: 1000, burst: 100 }),
  recorder,
  log: silentLog,
  kmsIn: (region: string) => clientIn(KMSClient, region),
  vault: vaultAccountOf(policy.vault as NonNullable<Policy['vault']>, DR, 'test-snapshots'),
  settled: settledSlotsIn(
    clientIn(S3Client, PRIMARY),
    vault.bucket,
    policy.name,
    vault.dataKeys.primary,
  ),
});

/** A slot's snapshot run, then the pipeline's sweeps until its copies are done, at AWS's pace. */
async function slotThroughPipeline(time: Date) {
  const slot = slotOf(time);
  const run = await runSnapshotJob(deps(), policy, slot);
  const passes = await sweepUntilSettled(local.aws, deps(), policy, slot.time);
  return {
    run,
    passes,
    vault: passes.flatMap((p) => p.vault),
    failures: [...run.failures, ...passes.flatMap((p) => p.failures)],
  };
}

/** The test's policy with a secrets export of prod/ secrets. */
const exportPolicy = (): Policy => ({
  ...policy,
  secrets: { schedule: 'cron(0 2 * * ? *)', namePrefixes: ['prod/'], allowEmpty: false },
});

/** A secrets export run for the slot at `time`, recorded (and copied) as production does. */
const exportAt = (time: Date) =>
  runExportJob(
    {
      sm: clientIn(SecretsManagerClient, PRIMARY),
      s3: clientIn(S3Client, PRIMARY),
      vault,
      recorder,
      log: silentLog,
    },
    exportPolicy(),
    slotOf(time),
  );

describe('the isolated vault account, against the local AWS with two accounts', () => {
  it('copies each DR copy into the vault account under the vault key, then stops sharing it', async () => {
    // Act: three daily runs
    const results = [];
    for (let day = 1; day <= 3; day += 1) {
      results.push(await slotThroughPipeline(new Date(Date.UTC(2026, 10, day, 2))));
    }

    // Assess: every run sent its slot's three snapshots, and nothing failed
    for (const r of results) {
      expect(r.failures).toEqual([]);
      const started = r.vault.filter((o) => o.outcome === 'started');
      expect(started.map((o) => [o.target, o.outcome]).sort()).toEqual([
        ['billing', 'started'],
        ['orders-db', 'started'],
        ['reports-db', 'started'],
      ]);
    }
    const copies = await listManualSnapshots({ region: DR, client: vaultRds });
    expect(copies.map((c) => c.id).sort()).toEqual(
      ['billing', 'orders-db', 'reports-db']
        .flatMap((t) => ['01', '02', '03'].map((d) => `lifeboat-${ACCOUNT}-${t}-202611${d}0200`))
        .sort(),
    );
    for (const c of copies) {
      expect(c.arn).toContain(`:${VAULT}:`);
      expect(c.kmsKeyId).toBe(policy.vault?.kmsKeyArn);
    }
    // Nothing stays shared once its copy is done
    expect(await listSharedSnapshots({ region: DR, client: vaultRds })).toEqual([]);
  });

  it('records each target’s vault copy in the run’s signed record', async () => {
    // Act
    const [record] = await recorder.readRuns(
      policy.name,
      'snapshot-rds',
      (id) => id === runIdOf('snapshot-rds', slotOf(new Date(Date.UTC(2026, 10, 3, 2)))),
    );

    // Assess
    const copies = record?.artifacts.vaultCopies ?? [];
    expect(copies.map((c) => [c.kind, c.target, c.account, c.sourceArn]).sort()).toEqual([
      [
        'cluster',
        'billing',
        VAULT,
        `arn:aws:rds:${DR}:${ACCOUNT}:cluster-snapshot:lifeboat-billing-202611030200`,
      ],
      [
        'instance',
        'orders-db',
        VAULT,
        `arn:aws:rds:${DR}:${ACCOUNT}:snapshot:lifeboat-orders-db-202611030200`,
      ],
      [
        'instance',
        'reports-db',
        VAULT,
        `arn:aws:rds:${DR}:${ACCOUNT}:snapshot:lifeboat-reports-db-202611030200`,
      ],
    ]);
  });

  it('writes every record revision to the vault account’s bucket too, where it is locked', async () => {
    // Prepare
    const s3 = await asVault(S3Client, DR);
    const prefix = `sources/${ACCOUNT}/manifests/${policy.name}/`;

    // Act
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: VAULT_BUCKET, Prefix: prefix }),
    );
    const first = listed.Contents?.[0]?.Key ?? '';
    const head = await s3.send(new HeadObjectCommand({ Bucket: VAULT_BUCKET, Key: first }));
    const remove = s3
      .send(
        new DeleteObjectCommand({ Bucket: VAULT_BUCKET, Key: first, VersionId: head.VersionId }),
      )
      .catch((error: Error) => error.name);

    // Assess: each slot's record as the primary holds it (the run, then the pipeline's
    // amendments for its DR copies and its vault copies), locked in COMPLIANCE mode
    const keys = (listed.Contents ?? []).map((o) => (o.Key ?? '').slice(prefix.length));
    expect(keys).toEqual(
      ['01', '02', '03'].flatMap((d) =>
        ['.2', '.3', ''].map((revision) => `snapshots-202611${d}0200${revision}.json`),
      ),
    );
    expect(head).toMatchObject({
      ObjectLockMode: 'COMPLIANCE',
      SSEKMSKeyId: policy.vault?.kmsKeyArn,
    });
    expect(await remove).toBe('AccessDenied');
  });

  it('writes each secrets export there too, as the same bytes, with its record', async () => {
    // Prepare
    await seedSecret(PRIMARY, 'prod/orders/db-password', 'vault-test-value-1');

    // Act
    const result = await exportAt(new Date(Date.UTC(2026, 10, 3, 2)));

    // Assess
    expect(result.failures).toEqual([]);
    const key = result.export?.key ?? '';
    const s3 = await asVault(S3Client, DR);
    const copy = await s3.send(
      new GetObjectCommand({ Bucket: VAULT_BUCKET, Key: `sources/${ACCOUNT}/${key}` }),
    );
    const bytes = Buffer.from(await (copy.Body?.transformToByteArray() ?? new Uint8Array()));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.export?.sha256);
    expect(bytes.toString('latin1')).not.toContain('vault-test-value-1');
    // The vault opens its copy with its own key alone.
    const vaultKms = await asVault(KMS, DR);
    const opened = await decryptMessage(
      bytes,
      policy.vault?.kmsKeyArn ?? '',
      result.export?.encryptionContext ?? {},
      () => vaultKms,
    );
    expect(opened.toString('utf8')).toContain('vault-test-value-1');
    opened.fill(0);
    await expect(
      s3.send(
        new HeadObjectCommand({
          Bucket: VAULT_BUCKET,
          Key: `sources/${ACCOUNT}/manifests/${policy.name}/${result.runId}.json`,
        }),
      ),
    ).resolves.toMatchObject({ ObjectLockMode: 'COMPLIANCE' });
  });

  it('sends nothing again when a slot is delivered twice', async () => {
    // Act
    const again = await slotThroughPipeline(new Date(Date.UTC(2026, 10, 3, 2)));

    // Assess
    expect(again.vault.filter((o) => o.outcome === 'started')).toEqual([]);
    expect(again.failures).toEqual([]);
    expect(await listManualSnapshots({ region: DR, client: vaultRds })).toHaveLength(9);
  });

  it('takes a second production account’s copies too, grouped apart by their source', async () => {
    // Prepare: another production account with its own orders-db, snapshotted and shared
    const other = await asAccount(OTHER, RDSClient, DR);
    await seedInstance(other, 'orders-db');
    await other.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders-db',
        DBSnapshotIdentifier: 'lifeboat-orders-db-202611030200',
      }),
    );
    await local.aws.clock.advanceToNext();
    const [source] = await listManualSnapshots({ region: DR, client: other });

    // Act
    const sent = await sendToVault(
      {
        source: { region: DR, client: other },
        keys: keyBook(
          await asAccount(OTHER, KMSClient, DR).then((kms) => () => kms),
          DR,
          silentLog,
        ),
        vault: vaultAccountOf(policy.vault as NonNullable<Policy['vault']>, DR, 'test-other'),
        limiter: new RateLimiter({ perSecond: 1000, burst: 100 }),
        log: silentLog,
      },
      { name: 'other-prod', vault: policy.vault as NonNullable<Policy['vault']> },
      OTHER,
      [{ kind: 'instance', identifier: 'orders-db', arn: '', engine: 'postgres' } as Target],
      source ? [source] : [],
    );

    // Assess
    expect(sent.failures).toEqual([]);
    const inventory = vaultInventory(await listManualSnapshots({ region: DR, client: vaultRds }), {
      sources: [{ account: ACCOUNT }, { account: OTHER }],
    });
    expect(
      inventory.copies.filter((c) => c.sourceAccount === OTHER).map((c) => c.snapshot.id),
    ).toEqual([`lifeboat-${OTHER}-orders-db-202611030200`]);
    expect(inventory.copies.filter((c) => c.sourceAccount === ACCOUNT)).toHaveLength(9);
  });

  it('runs the vault’s own retention, per source account, deleting only its sources’ copies', async () => {
    // Prepare: a manual snapshot of the vault's own, which is not a copy
    await vaultRds.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: `lifeboat-${ACCOUNT}-orders-db-202611010200`,
        TargetDBSnapshotIdentifier: 'vault-admins-own',
      }),
    );
    const vaultPolicy = parseVaultPolicy({
      version: 1,
      name: 'test-vault',
      account: VAULT,
      region: DR,
      timeZone: 'UTC',
      sources: [{ account: ACCOUNT }],
      retention: { rules: { last: 2, minimumAge: '0h' } },
    });
    const deps = {
      rds: { region: DR, client: vaultRds },
      limiter: new RateLimiter({ perSecond: 1000, burst: 100 }),
      log: silentLog,
    };

    // Act
    const result = await runVaultRetention(deps, vaultPolicy, new Date(Date.UTC(2026, 10, 4, 6)));

    // Assess: the oldest of each database goes; the other account's copy and the vault's own
    // snapshot stay
    expect(result.failures).toEqual([]);
    expect(result.deletions.map((d) => d.snapshotId).sort()).toEqual([
      `lifeboat-${ACCOUNT}-billing-202611010200`,
      `lifeboat-${ACCOUNT}-orders-db-202611010200`,
      `lifeboat-${ACCOUNT}-reports-db-202611010200`,
    ]);
    expect([...result.plan.bySource.keys()]).toEqual([ACCOUNT]);
    expect(result.plan.others.map((o) => [o.snapshot.id, o.reason])).toEqual(
      expect.arrayContaining([
        ['vault-admins-own', 'not a Lifeboat vault copy'],
        [
          `lifeboat-${OTHER}-orders-db-202611030200`,
          `from account ${OTHER}, which is not a source of this vault`,
        ],
      ]),
    );
    const left = (await listManualSnapshots({ region: DR, client: vaultRds })).map((s) => s.id);
    expect(left).toContain('vault-admins-own');
    expect(left).toContain(`lifeboat-${OTHER}-orders-db-202611030200`);
  });

  it('verifies the vault from its side: fresh copies pass, a silent source fails', async () => {
    // Prepare
    const vaultPolicy = parseVaultPolicy({
      version: 1,
      name: 'test-vault',
      account: VAULT,
      region: DR,
      timeZone: 'UTC',
      sources: [{ account: ACCOUNT, label: 'production' }, { account: '555566667777' }],
      retention: { rules: { last: 2 } },
      verification: { freshness: '2d' },
    });

    // Act
    const { verification, failures } = await runVaultVerification(
      { region: DR, client: vaultRds },
      vaultPolicy,
      policy.vault?.kmsKeyArn ?? '',
      new Date(Date.UTC(2026, 10, 4, 6)),
    );

    // Assess
    expect(
      verification.sources[0]?.databases.map((d) => [d.database, d.newest, d.problems]),
    ).toEqual([
      ['billing', '202611030200', []],
      ['orders-db', '202611030200', []],
      ['reports-db', '202611030200', []],
    ]);
    expect(failures).toEqual([
      {
        subject: 'account 555566667777',
        error: 'nothing has arrived from account 555566667777: its Lifeboat sends no copies',
      },
    ]);
    expect(verification.outcome).toBe('failed');
  });

  it('verification checks each run’s copies in the vault account, and fails one gone from it', async () => {
    // Prepare: the vault (its admins, or its retention) deletes day 3's copy of orders-db (last:
    // the tests above count the vault's copies)
    const deps = verificationDeps(localJobEnvironment(policy, ACCOUNT, vault));
    const now = new Date(Date.UTC(2026, 10, 3, 6));
    const before = await runVerificationJob(deps, policy, now);
    await vaultRds.send(
      new DeleteDBSnapshotCommand({
        DBSnapshotIdentifier: `lifeboat-${ACCOUNT}-orders-db-202611030200`,
      }),
    );

    // Act
    const after = await runVerificationJob(
      verificationDeps(localJobEnvironment(policy, ACCOUNT, vault)),
      policy,
      now,
    );

    // Assess: records, exports and snapshot copies all found there first; then the one gone
    // Day 3's runs (the vault's retention above let day 1's copies go).
    const vaultChecks = before.runs
      .filter((r) => r.runId.endsWith('202611030200'))
      .flatMap((r) => r.checks)
      .filter((c) => c.kind === 'vault-account');
    expect(vaultChecks.filter((c) => c.artifact.includes(`:${VAULT}:`))).toHaveLength(3);
    expect(vaultChecks.every((c) => c.status === 'passed')).toBe(true);
    expect(
      vaultChecks.some((c) => c.artifact.startsWith(`s3://${VAULT_BUCKET}/sources/${ACCOUNT}/`)),
    ).toBe(true);
    expect(after.failures).toContainEqual({
      subject: expect.stringContaining(`lifeboat-${ACCOUNT}-orders-db-202611030200`),
      error: expect.stringContaining(
        'missing from the vault account: retention there may have deleted it, or someone did',
      ),
    });
  });

  it('restores secrets from the vault account’s copy when production’s copies are gone, and refuses a tampered one', async () => {
    // Prepare: an export sent to the vault; then an attacker in production deletes the secret and
    // hides the export in both of production's buckets (a delete marker is all Object Lock allows)
    await seedSecret(PRIMARY, 'prod/payments/api-key', 'vault-restore-value');
    const exported = await exportAt(new Date(Date.UTC(2026, 10, 5, 2)));
    expect(exported.failures).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-vault-restore-'));
    const policyFile = join(dir, 'policy.yml');
    writeFileSync(policyFile, stringify(exportPolicy()));
    await stubVaultProfile(`arn:aws:iam::${VAULT}:role/vault-admin`, DR);
    const sm = clientIn(SecretsManagerClient, PRIMARY);
    await sm.send(
      new DeleteSecretCommand({
        SecretId: 'prod/payments/api-key',
        ForceDeleteWithoutRecovery: true,
      }),
    );
    for (const [region, bucket] of [
      [PRIMARY, vault.bucket],
      [DR, vault.drBucket ?? ''],
    ] as const) {
      await clientIn(S3Client, region).send(
        new DeleteObjectCommand({ Bucket: bucket, Key: exported.export?.key }),
      );
    }
    const cli = async (...argv: string[]) => {
      const io = captureIo();
      const code = await runCli([...argv, '--policy', policyFile], io);
      return { code, out: io.stdout(), err: io.stderr() };
    };
    const restore = (...extra: string[]) =>
      cli(
        'secrets',
        'restore',
        '--run',
        exported.runId,
        '--only',
        'prod/payments/api-key',
        ...extra,
      );

    try {
      // Act
      const fromProduction = await restore('--apply');
      const restored = await restore('--vault-profile', 'vault', '--apply');
      const notTheVault = await restore('--vault-profile', 'production');
      const noSuchProfile = await restore('--vault-profile', 'missing');
      // A new version written over the export the vault holds (its writer role may add versions;
      // Object Lock keeps the first).
      const s3 = await asVault(S3Client, DR);
      await s3.send(
        new PutObjectCommand({
          Bucket: VAULT_BUCKET,
          Key: `sources/${ACCOUNT}/${exported.export?.key}`,
          Body: 'not the export',
        }),
      );
      const tampered = await restore('--vault-profile', 'vault');

      // Assess: production's own copy is gone; the vault's restores
      expect(fromProduction.code).toBe(1);
      expect(fromProduction.err).toContain('hidden behind a delete marker');
      expect(restored.err).toBe('');
      expect(restored.code).toBe(0);
      expect(restored.out).toContain(
        `read from the vault account's copy, s3://${VAULT_BUCKET}/sources/${ACCOUNT}/`,
      );
      const value = await sm.send(new GetSecretValueCommand({ SecretId: 'prod/payments/api-key' }));
      expect(value.SecretString).toBe('vault-restore-value');
      expect(notTheVault.code).toBe(2);
      expect(notTheVault.err).toContain(
        `--vault-profile production: its credentials are for account ${ACCOUNT}, not the vault account ${VAULT}`,
      );
      expect(noSuchProfile.code).toBe(2);
      expect(noSuchProfile.err).toContain(
        '--vault-profile missing: its credentials cannot be used (none were found)',
      );
      expect(tampered.code).toBe(1);
      expect(tampered.err).toContain('changed: downloaded bytes hash to');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
