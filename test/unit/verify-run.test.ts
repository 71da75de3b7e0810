import { createHash } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ManifestDraft,
  newManifest,
  type SignedManifest,
} from '../../shared/manifest/manifest.js';
import { readLedger, readRun } from '../../shared/manifest/manifest-ledger.js';
import { signManifest } from '../../shared/manifest/manifest-signing.js';
import { type ArtifactCheck, overall, recordChecks } from '../../shared/manifest/record-checks.js';
import { manifestKey } from '../../shared/naming/run-ids.js';
import { slotOf } from '../../shared/naming/slot.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import { type VerifyRunDeps, verifyArtifacts } from '../../shared/verification/verify-run.js';
import { fixturePolicy } from '../support/policy.js';
import { testRecorder } from '../support/records.js';
import { drCopyOf, snapshot } from '../support/snapshots.js';
import { type Bucket, simulateKms, simulateS3, TEST_VAULT } from '../support/vault-world.js';

const policy = fixturePolicy();
const slot = slotOf(new Date('2026-11-21T02:00:00Z'));
const RUN_AT = new Date('2026-11-21T02:01:00Z');
const EXPORT_KEY = 'exports/test-policy/202611210200/secrets.esdk';
const BODY = Buffer.from('an encrypted message, as far as verification cares');

let bucket: Bucket;
const kms = () => new KMSClient({ region: 'eu-central-1' });

beforeEach(() => {
  bucket = simulateS3().bucket;
  simulateKms();
  bucket.set(EXPORT_KEY, {
    body: BODY,
    sha256: createHash('sha256').update(BODY).digest('base64'),
  });
});

const primary = snapshot({
  time: slot.time,
  createdAt: slot.time,
  kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/db',
});
const copy = drCopyOf(primary, { kmsKeyId: policy.snapshots.drKmsKeyArn });

function exportManifest(): ManifestDraft {
  return newManifest(
    'export-secrets',
    slot,
    policy,
    '123456789012',
    {
      exports: [
        {
          bucket: TEST_VAULT.bucket,
          key: EXPORT_KEY,
          size: BODY.byteLength,
          sha256: createHash('sha256').update(BODY).digest('hex'),
          kmsKeyId: TEST_VAULT.dataKeys.primary,
          encryptionContext: { run: 'secrets-202611210200' },
        },
      ],
    },
    [],
    RUN_AT,
  );
}

function snapshotManifest(): ManifestDraft {
  return newManifest(
    'snapshot-rds',
    slot,
    policy,
    '123456789012',
    {
      snapshots: [
        {
          arn: primary.arn,
          region: primary.region,
          kind: 'instance',
          target: 'orders-db',
          slot: slot.id,
          engine: 'postgres',
          encrypted: true,
          kmsKeyId: primary.kmsKeyId ?? null,
          createdAt: slot.time.toISOString(),
        },
      ],
      drCopies: [
        {
          arn: copy.arn,
          sourceArn: primary.arn,
          region: copy.region,
          kind: 'instance',
          target: 'orders-db',
          slot: slot.id,
          kmsKeyId: policy.snapshots.drKmsKeyArn,
          status: 'copying',
        },
      ],
    },
    [],
    RUN_AT,
  );
}

/** The first revision of a draft, signed as the recorder signs it. */
const sign = (m: ManifestDraft): Promise<SignedManifest> =>
  signManifest(kms(), TEST_VAULT.manifestKeys.primary, { ...m, revision: 1, previous: null });

/** Stores a signed record as the first version of its run's key, whatever it holds. */
function store(signed: SignedManifest, runId = signed.manifest.runId) {
  bucket.set(manifestKey('test-policy', runId), {
    body: Buffer.from(JSON.stringify(signed)),
    sha256: undefined,
  });
}

function deps(
  snapshots: SnapshotRecord[] = [primary, copy],
  retired: Record<string, string> = {},
): VerifyRunDeps {
  return {
    s3: new S3Client({ region: 'eu-central-1' }),
    bucket: TEST_VAULT.bucket,
    policyName: 'test-policy',
    snapshots: new Map(snapshots.map((s) => [s.arn, s])),
    retired: new Map(Object.entries(retired)),
  };
}

/** Verifies a run's stored record as the verification job does, with the DR region's key. */
async function verifyRun(verifyDeps: VerifyRunDeps, runId: string, now: Date) {
  const s3 = new S3Client({ region: 'eu-central-1' });
  const ledger = await readLedger(s3, TEST_VAULT.bucket, 'test-policy');
  const access = {
    s3,
    bucket: TEST_VAULT.bucket,
    kms: kms(),
    manifestKeyArn: TEST_VAULT.manifestKeys.dr,
  };
  const record = await readRun(access, ledger, runId);
  if (!record) throw new Error(`no record of ${runId}`);
  const trusted = record.revisions.some((r) => r.problems.length === 0);
  const checks = [
    ...recordChecks(record),
    ...(trusted ? await verifyArtifacts(verifyDeps, record, RUN_AT.toISOString(), '12h', now) : []),
  ];
  return { status: overall(checks), checks };
}

const EXPORT_RUN = 'secrets-202611210200';
const SNAPSHOT_RUN = 'snapshots-202611210200';

const at = (iso: string) => new Date(iso);
const checkOf = (checks: readonly ArtifactCheck[], kind: ArtifactCheck['kind']) =>
  checks.find((c) => c.kind === kind);

describe('verifying a run’s record', () => {
  it('passes a run whose MAC verifies and whose artifacts all match, with the DR replica key', async () => {
    // Act
    await testRecorder().record(exportManifest());
    await testRecorder().record(snapshotManifest());
    const exports = await verifyRun(deps(), EXPORT_RUN, at('2026-11-21T06:00:00Z'));
    const snapshots = await verifyRun(deps(), SNAPSHOT_RUN, at('2026-11-21T06:00:00Z'));

    // Assess
    expect(exports.status).toBe('passed');
    expect(exports.checks.map((c) => [c.kind, c.status])).toEqual([
      ['manifest', 'passed'],
      ['export', 'passed'],
    ]);
    expect(snapshots.status).toBe('passed');
    expect(snapshots.checks).toHaveLength(3);
  });

  it('fails a manifest whose MAC does not verify, and checks nothing it lists', async () => {
    // Prepare
    const signed = await sign(exportManifest());
    const forged: SignedManifest = {
      ...signed,
      signature: { ...signed.signature, mac: Buffer.alloc(32, 7).toString('base64') },
    };

    // Act
    store(forged);
    const result = await verifyRun(deps(), EXPORT_RUN, RUN_AT);

    // Assess
    expect(result.status).toBe('failed');
    expect(result.checks).toEqual([
      expect.objectContaining({
        kind: 'manifest',
        status: 'failed',
        reason: 'the MAC does not verify: the content or its signature was altered',
      }),
    ]);
  });

  it('names an altered manifest: content that no longer hashes to the signed digest', async () => {
    // Prepare
    const signed = await sign(exportManifest());
    const altered: SignedManifest = {
      ...signed,
      manifest: { ...signed.manifest, account: '999999999999' },
    };

    // Act
    store(altered);
    const result = await verifyRun(deps(), EXPORT_RUN, RUN_AT);

    // Assess
    expect(checkOf(result.checks, 'manifest')?.reason).toMatch(
      /^altered: its content hashes to [0-9a-f]{16}\.\.\., not the signed/,
    );
  });

  it('names a missing, a rewritten and a changed export, and an extra object', async () => {
    // Prepare
    await testRecorder().record(exportManifest());

    // Act
    bucket.delete(EXPORT_KEY);
    const missing = await verifyRun(deps(), EXPORT_RUN, RUN_AT);
    bucket.set(EXPORT_KEY, { body: BODY, sha256: undefined });
    const rewritten = await verifyRun(deps(), EXPORT_RUN, RUN_AT);
    const flipped = Buffer.from(BODY);
    flipped.writeUInt8(flipped.readUInt8(3) ^ 1, 3);
    bucket.set(EXPORT_KEY, {
      body: flipped,
      sha256: createHash('sha256').update(flipped).digest('base64'),
    });
    const changed = await verifyRun(deps(), EXPORT_RUN, RUN_AT);
    bucket.set(EXPORT_KEY, {
      body: BODY,
      sha256: createHash('sha256').update(BODY).digest('base64'),
    });
    bucket.set('exports/test-policy/202611210200/extra.bin', {
      body: Buffer.from('x'),
      sha256: undefined,
    });
    const extra = await verifyRun(deps(), EXPORT_RUN, RUN_AT);

    // Assess
    expect(checkOf(missing.checks, 'export')?.reason).toBe('missing: the object is gone');
    expect(checkOf(rewritten.checks, 'export')?.reason).toBe(
      'changed: the object has no SHA-256 checksum, so it was rewritten',
    );
    expect(checkOf(changed.checks, 'export')?.reason).toMatch(
      /^changed: SHA-256 [0-9a-f]{16}\.\.\. is not the manifest's/,
    );
    expect(extra.checks).toContainEqual({
      kind: 'export',
      artifact: `s3://${TEST_VAULT.bucket}/exports/test-policy/202611210200/extra.bin`,
      status: 'failed',
      reason: 'extra: an object in the run’s exports that the manifest does not list',
    });
  });

  it('names a snapshot deleted behind Lifeboat’s back, but not one retention retired', async () => {
    // Prepare
    await testRecorder().record(snapshotManifest());

    // Act
    const deleted = await verifyRun(deps([copy]), SNAPSHOT_RUN, RUN_AT);
    const retired = await verifyRun(
      deps([copy], { [primary.arn]: 'retention-202611220330' }),
      SNAPSHOT_RUN,
      RUN_AT,
    );

    // Assess
    expect(checkOf(deleted.checks, 'snapshot')).toMatchObject({
      status: 'failed',
      reason: 'deleted: the snapshot no longer exists',
    });
    expect(checkOf(retired.checks, 'snapshot')).toMatchObject({
      status: 'passed',
      reason: 'retired: deleted by retention run retention-202611220330',
    });
  });

  it('fails a snapshot that is not encrypted, or encrypted with another key', async () => {
    // Prepare
    await testRecorder().record(snapshotManifest());

    // Act
    const plain = await verifyRun(
      deps([{ ...primary, encrypted: false }, copy]),
      SNAPSHOT_RUN,
      RUN_AT,
    );
    const rekeyed = await verifyRun(
      deps([primary, { ...copy, kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/other' }]),
      SNAPSHOT_RUN,
      RUN_AT,
    );

    // Assess
    expect(checkOf(plain.checks, 'snapshot')?.reason).toBe('not encrypted');
    expect(checkOf(rekeyed.checks, 'dr-copy')?.reason).toBe(
      `encrypted with arn:aws:kms:eu-west-1:123456789012:key/other, not the manifest's ${policy.snapshots.drKmsKeyArn}`,
    );
  });

  it('keeps a copy in progress pending until its deadline, then fails it', async () => {
    // Prepare
    await testRecorder().record(snapshotManifest());
    const copying = [primary, { ...copy, status: 'copying' }];

    // Act
    const early = await verifyRun(deps(copying), SNAPSHOT_RUN, at('2026-11-21T13:00:00Z'));
    const late = await verifyRun(deps(copying), SNAPSHOT_RUN, at('2026-11-21T14:01:01Z'));

    // Assess
    expect(early.status).toBe('pending');
    expect(checkOf(early.checks, 'dr-copy')).toMatchObject({
      status: 'pending',
      reason: 'still being copied (copying) until 2026-11-21T14:01:00.000Z',
    });
    expect(late.status).toBe('failed');
    expect(checkOf(late.checks, 'dr-copy')?.reason).toBe(
      'still being copied (copying) past its deadline 2026-11-21T14:01:00.000Z',
    );
  });

  it('names a record stored at another run’s key: a replayed manifest', async () => {
    // Prepare: the signed record of the 21 November export, copied over the 22nd's key
    const genuine = await sign(exportManifest());
    store(genuine, 'secrets-202611220200');

    // Act
    const result = await verifyRun(deps(), 'secrets-202611220200', RUN_AT);

    // Assess
    expect(result.status).toBe('failed');
    expect(result.checks).toContainEqual(
      expect.objectContaining({
        kind: 'manifest',
        status: 'failed',
        reason:
          'replayed: manifests/test-policy/secrets-202611220200.json holds the signed record of secrets-202611210200 revision 1, not of secrets-202611220200 revision 1',
      }),
    );
    expect(result.checks.some((c) => c.kind === 'export')).toBe(false);
  });

  it('names an overwritten record and a hidden one, and checks what was first written', async () => {
    // Prepare
    await testRecorder().record(snapshotManifest());
    const key = manifestKey('test-policy', SNAPSHOT_RUN);
    const first = bucket.get(key);
    bucket.set(key, { body: Buffer.from('{}'), sha256: undefined });

    // Act
    const overwritten = await verifyRun(deps(), SNAPSHOT_RUN, RUN_AT);
    bucket.delete(key);
    const hidden = await verifyRun(deps(), SNAPSHOT_RUN, RUN_AT);

    // Assess
    expect(first).toBeDefined();
    expect(overwritten.checks).toContainEqual(
      expect.objectContaining({
        kind: 'manifest',
        status: 'failed',
        reason:
          'overwritten: 1 later version replace the one first written (the first is what is checked)',
      }),
    );
    expect(overwritten.checks.filter((c) => c.kind === 'snapshot')).toHaveLength(1);
    expect(hidden.checks).toContainEqual(
      expect.objectContaining({ status: 'failed', reason: 'hidden: a delete marker hides it' }),
    );
  });

  it('fails a run whose record says it failed, until a later revision makes it good', async () => {
    // Prepare: billing failed in the first delivery
    const failing = {
      ...snapshotManifest(),
      failures: [
        {
          subject: 'cluster billing',
          error: 'Throttling: Rate exceeded',
          resolvedBy:
            'arn:aws:rds:eu-central-1:123456789012:cluster-snapshot:lifeboat-billing-202611210200',
        },
      ],
    };
    await testRecorder().record(failing);
    const before = await verifyRun(deps(), SNAPSHOT_RUN, at('2026-11-21T06:00:00Z'));

    // Act: a later delivery took billing's snapshot
    const billing = {
      arn: 'arn:aws:rds:eu-central-1:123456789012:cluster-snapshot:lifeboat-billing-202611210200',
      region: 'eu-central-1',
      kind: 'cluster' as const,
      target: 'billing',
      slot: slot.id,
      engine: 'aurora-postgresql',
      encrypted: true,
      kmsKeyId: null,
      createdAt: slot.time.toISOString(),
    };
    await testRecorder().record({
      ...snapshotManifest(),
      artifacts: { ...snapshotManifest().artifacts, snapshots: [billing] },
    });
    const billingRecord = snapshot({
      time: slot.time,
      kind: 'cluster',
      target: 'billing',
      id: 'lifeboat-billing-202611210200',
    });
    const after = await verifyRun(
      deps([primary, copy, billingRecord]),
      SNAPSHOT_RUN,
      at('2026-11-21T06:00:00Z'),
    );

    // Assess
    expect(before.checks).toContainEqual({
      kind: 'failure',
      artifact: 'cluster billing',
      status: 'failed',
      reason: 'the run recorded that it failed: Throttling: Rate exceeded',
    });
    expect(after.status).toBe('passed');
    expect(after.checks.filter((c) => c.kind === 'manifest')).toHaveLength(2);
  });
});
