import { createHash } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Manifest, newManifest, type SignedManifest } from '../../shared/manifest/manifest.js';
import { signManifest } from '../../shared/manifest/manifest-signing.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import { slotOf } from '../../shared/snapshots/slot.js';
import {
  type ArtifactCheck,
  type VerifyRunDeps,
  verifyRun,
} from '../../shared/verification/verify-run.js';
import { fixturePolicy } from '../support/policy.js';
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

function exportManifest(): Manifest {
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
    RUN_AT,
  );
}

function snapshotManifest(): Manifest {
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
          kmsKeyId: policy.snapshots.drKmsKeyArn,
          status: 'copying',
        },
      ],
    },
    RUN_AT,
  );
}

const sign = (m: Manifest) => signManifest(kms(), TEST_VAULT.manifestKeys.primary, m);

function deps(
  snapshots: SnapshotRecord[] = [primary, copy],
  retired: Record<string, string> = {},
): VerifyRunDeps {
  return {
    s3: new S3Client({ region: 'eu-central-1' }),
    kms: kms(),
    manifestKeyArn: TEST_VAULT.manifestKeys.dr,
    snapshots: new Map(snapshots.map((s) => [s.arn, s])),
    retired: new Map(Object.entries(retired)),
  };
}

const at = (iso: string) => new Date(iso);
const checkOf = (checks: readonly ArtifactCheck[], kind: ArtifactCheck['kind']) =>
  checks.find((c) => c.kind === kind);

describe('verifyRun', () => {
  it('passes a run whose MAC verifies and whose artifacts all match, with the DR replica key', async () => {
    // Act
    const exports = await verifyRun(
      deps(),
      await sign(exportManifest()),
      '12h',
      at('2026-11-21T06:00:00Z'),
    );
    const snapshots = await verifyRun(
      deps(),
      await sign(snapshotManifest()),
      '12h',
      at('2026-11-21T06:00:00Z'),
    );

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
    const result = await verifyRun(deps(), forged, '12h', RUN_AT);

    // Assess
    expect(result.status).toBe('failed');
    expect(result.checks).toEqual([
      expect.objectContaining({
        kind: 'manifest',
        status: 'failed',
        reason: 'the MAC does not verify: the manifest or its signature was altered',
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
    const result = await verifyRun(deps(), altered, '12h', RUN_AT);

    // Assess
    expect(checkOf(result.checks, 'manifest')?.reason).toMatch(
      /^manifest altered: its content hashes to [0-9a-f]{16}\.\.\., not the signed/,
    );
  });

  it('names a missing, a rewritten and a changed export, and an extra object', async () => {
    // Prepare
    const signed = await sign(exportManifest());

    // Act
    bucket.delete(EXPORT_KEY);
    const missing = await verifyRun(deps(), signed, '12h', RUN_AT);
    bucket.set(EXPORT_KEY, { body: BODY, sha256: undefined });
    const rewritten = await verifyRun(deps(), signed, '12h', RUN_AT);
    const flipped = Buffer.from(BODY);
    flipped.writeUInt8(flipped.readUInt8(3) ^ 1, 3);
    bucket.set(EXPORT_KEY, {
      body: flipped,
      sha256: createHash('sha256').update(flipped).digest('base64'),
    });
    const changed = await verifyRun(deps(), signed, '12h', RUN_AT);
    bucket.set(EXPORT_KEY, {
      body: BODY,
      sha256: createHash('sha256').update(BODY).digest('base64'),
    });
    bucket.set('exports/test-policy/202611210200/extra.bin', {
      body: Buffer.from('x'),
      sha256: undefined,
    });
    const extra = await verifyRun(deps(), signed, '12h', RUN_AT);

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
    const signed = await sign(snapshotManifest());

    // Act
    const deleted = await verifyRun(deps([copy]), signed, '12h', RUN_AT);
    const retired = await verifyRun(
      deps([copy], { [primary.arn]: 'retention-202611220330' }),
      signed,
      '12h',
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
    const signed = await sign(snapshotManifest());

    // Act
    const plain = await verifyRun(
      deps([{ ...primary, encrypted: false }, copy]),
      signed,
      '12h',
      RUN_AT,
    );
    const rekeyed = await verifyRun(
      deps([primary, { ...copy, kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/other' }]),
      signed,
      '12h',
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
    const signed = await sign(snapshotManifest());
    const copying = [primary, { ...copy, status: 'copying' }];

    // Act
    const early = await verifyRun(deps(copying), signed, '12h', at('2026-11-21T13:00:00Z'));
    const late = await verifyRun(deps(copying), signed, '12h', at('2026-11-21T14:01:01Z'));

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
});
