import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import '../validation/zod.js';
import { type ProducingJob, runIdOf } from '../naming/run-ids.js';
import type { Slot } from '../naming/slot.js';
import type { Policy } from '../policy/schema.js';
import { canonicalJson } from './canonical-json.js';

export const MANIFEST_FORMAT = 'lifeboat-manifest/2';

const text = z.string();
const nullableText = z.nullable(z.string());
const kind = z.enum(['instance', 'cluster']);
const slotId = z.string().check(z.regex(/^\d{12}$/));
const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/));

/** A snapshot Lifeboat took, with the schedule slot it belongs to. */
const SnapshotArtifactSchema = z.strictObject({
  arn: text,
  region: text,
  kind,
  target: text,
  slot: slotId,
  engine: nullableText,
  encrypted: z.boolean(),
  kmsKeyId: nullableText,
  createdAt: nullableText,
});

const DrCopyArtifactSchema = z.strictObject({
  arn: text,
  sourceArn: text,
  region: text,
  kind,
  target: text,
  /** The slot of the snapshot it copies. */
  slot: slotId,
  kmsKeyId: nullableText,
  /** The copy's status when the run started it. */
  status: text,
});

/** A snapshot's copy in the isolated vault account, made from a snapshot shared with it. */
const VaultCopyArtifactSchema = z.strictObject({
  arn: text,
  /** The snapshot copied: Lifeboat's snapshot or its DR copy, in the vault's region. */
  sourceArn: text,
  /** The vault account. */
  account: text,
  region: text,
  kind,
  target: text,
  slot: slotId,
  kmsKeyId: nullableText,
  /** The copy's status when the run recorded it. */
  status: text,
});

const ExportArtifactSchema = z.strictObject({
  bucket: text,
  key: text,
  size: z.int().check(z.minimum(0)),
  /** Hex SHA-256 of the stored object: the encrypted message. */
  sha256,
  /** The key the object is stored under (SSE-KMS) and whose data key encrypted it. */
  kmsKeyId: text,
  encryptionContext: z.record(z.string(), z.string()),
});

/** A secret as the manifest lists it: never its value. */
const SecretEntrySchema = z.strictObject({ name: text, arn: text, versionId: text });

/**
 * A snapshot retention deletes, and why, recorded before it is deleted: verification counts it
 * retired, not lost.
 */
const DeletionSchema = z.strictObject({
  arn: text,
  region: text,
  kind,
  target: text,
  reasons: z.array(text),
});

/**
 * Something the run could not do. `resolvedBy` names the artifact (an ARN) whose appearance in a
 * later revision of the run means it was done after all.
 */
const RunFailureSchema = z.strictObject({
  subject: text,
  error: text,
  resolvedBy: nullableText,
});

/** The record a run follows: the previous run of its job, or the previous revision of its own. */
const PreviousSchema = z.strictObject({
  runId: text,
  revision: z.int().check(z.minimum(1)),
  /** Hex SHA-256 of the stored bytes of that record's first version. */
  sha256,
});

const ArtifactsSchema = z.strictObject({
  snapshots: z.array(SnapshotArtifactSchema),
  drCopies: z.array(DrCopyArtifactSchema),
  /** Absent from the records of policies without a vault account (and from older records). */
  vaultCopies: z.optional(z.array(VaultCopyArtifactSchema)),
  exports: z.array(ExportArtifactSchema),
  secrets: z.array(SecretEntrySchema),
  deletions: z.array(DeletionSchema),
});

/**
 * What one run produced, in canonical JSON; its digest is what gets signed. A run's record may
 * have several revisions (a later delivery of its slot adds what an earlier one missed); each
 * names the record it follows, so the runs of a job form a chain verification walks.
 */
export const ManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  job: z.enum(['snapshot-rds', 'export-secrets', 'enforce-retention']),
  runId: text,
  revision: z.int().check(z.minimum(1)),
  slot: text,
  createdAt: text,
  account: text,
  regions: z.strictObject({ primary: text, dr: text }),
  policy: z.strictObject({ name: text, digest: text }),
  previous: z.nullable(PreviousSchema),
  artifacts: ArtifactsSchema,
  failures: z.array(RunFailureSchema),
});

export const ManifestSignatureSchema = z.strictObject({
  algorithm: z.literal('HMAC_SHA_256'),
  keyId: text,
  /** Hex SHA-256 of the manifest's canonical JSON. */
  digest: sha256,
  /** Base64 HMAC of the digest's 32 bytes, by the KMS manifest key. */
  mac: text,
});

/** A manifest as stored: the document and its signature. */
export const SignedManifestSchema = z.strictObject({
  manifest: ManifestSchema,
  signature: ManifestSignatureSchema,
});

export type Manifest = z.output<typeof ManifestSchema>;
export type ManifestSignature = z.output<typeof ManifestSignatureSchema>;
export type SignedManifest = z.output<typeof SignedManifestSchema>;
export type SnapshotArtifact = z.output<typeof SnapshotArtifactSchema>;
export type DrCopyArtifact = z.output<typeof DrCopyArtifactSchema>;
export type VaultCopyArtifact = z.output<typeof VaultCopyArtifactSchema>;
export type ExportArtifact = z.output<typeof ExportArtifactSchema>;
export type SecretEntry = z.output<typeof SecretEntrySchema>;
export type Deletion = z.output<typeof DeletionSchema>;
export type RunFailure = z.output<typeof RunFailureSchema>;
export type Artifacts = z.output<typeof ArtifactsSchema>;
export type PreviousRecord = z.output<typeof PreviousSchema>;
/** A manifest as a job writes it, before the recorder places it in its job's chain. */
export type ManifestDraft = Omit<Manifest, 'revision' | 'previous'>;

/** SHA-256 of the policy's canonical JSON: which policy a run ran under. */
export function policyDigest(policy: Policy): string {
  return sha256Hex(canonicalJson(policy));
}

/** SHA-256 of a manifest's canonical JSON, the bytes that are signed. */
export function manifestDigest(manifest: Manifest): Buffer {
  return createHash('sha256').update(canonicalJson(manifest)).digest();
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A draft of a run's manifest: what the run produced, and what it could not do. */
export function newManifest(
  job: ProducingJob,
  slot: Slot,
  policy: Policy,
  account: string,
  artifacts: Partial<Artifacts>,
  failures: readonly RunFailure[] = [],
  now = new Date(),
): ManifestDraft {
  return {
    format: MANIFEST_FORMAT,
    job,
    runId: runIdOf(job, slot),
    slot: slot.time.toISOString(),
    createdAt: now.toISOString(),
    account,
    regions: { primary: policy.regions.primary, dr: policy.regions.dr },
    policy: { name: policy.name, digest: policyDigest(policy) },
    artifacts: {
      snapshots: artifacts.snapshots ?? [],
      drCopies: artifacts.drCopies ?? [],
      ...(artifacts.vaultCopies?.length ? { vaultCopies: artifacts.vaultCopies } : {}),
      exports: artifacts.exports ?? [],
      secrets: artifacts.secrets ?? [],
      deletions: artifacts.deletions ?? [],
    },
    failures: [...failures],
  };
}
