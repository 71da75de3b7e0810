import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import '../validation/zod.js';
import type { Policy } from '../policy/schema.js';
import type { Slot } from '../snapshots/slot.js';
import { canonicalJson } from './canonical-json.js';

export const MANIFEST_FORMAT = 'lifeboat-manifest/1';

/** The job that produced a run. */
export type ProducingJob = 'snapshot-rds' | 'export-secrets' | 'enforce-retention';

const RUN_PREFIX: Record<ProducingJob, string> = {
  'snapshot-rds': 'snapshots',
  'export-secrets': 'secrets',
  'enforce-retention': 'retention',
};

const text = z.string();
const nullableText = z.nullable(z.string());
const kind = z.enum(['instance', 'cluster']);

const SnapshotArtifactSchema = z.strictObject({
  arn: text,
  region: text,
  kind,
  target: text,
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
  kmsKeyId: nullableText,
  /** The copy's status when the run started it. */
  status: text,
});

const ExportArtifactSchema = z.strictObject({
  bucket: text,
  key: text,
  size: z.int().check(z.minimum(0)),
  /** Hex SHA-256 of the stored object: the encrypted message. */
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  /** The key the object is stored under (SSE-KMS) and whose data key encrypted it. */
  kmsKeyId: text,
  encryptionContext: z.record(z.string(), z.string()),
});

/** A secret as the manifest lists it: never its value. */
const SecretEntrySchema = z.strictObject({ name: text, arn: text, versionId: text });

/** A snapshot retention deleted, and why: verification counts it retired, not lost. */
const DeletionSchema = z.strictObject({
  arn: text,
  region: text,
  kind,
  target: text,
  reasons: z.array(text),
});

/** What one run produced, in canonical JSON; its digest is what gets signed. */
export const ManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  job: z.enum(['snapshot-rds', 'export-secrets', 'enforce-retention']),
  runId: text,
  slot: text,
  createdAt: text,
  account: text,
  regions: z.strictObject({ primary: text, dr: text }),
  policy: z.strictObject({ name: text, digest: text }),
  artifacts: z.strictObject({
    snapshots: z.array(SnapshotArtifactSchema),
    drCopies: z.array(DrCopyArtifactSchema),
    exports: z.array(ExportArtifactSchema),
    secrets: z.array(SecretEntrySchema),
    deletions: z.array(DeletionSchema),
  }),
});

export const ManifestSignatureSchema = z.strictObject({
  algorithm: z.literal('HMAC_SHA_256'),
  keyId: text,
  /** Hex SHA-256 of the manifest's canonical JSON. */
  digest: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
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
export type ExportArtifact = z.output<typeof ExportArtifactSchema>;
export type SecretEntry = z.output<typeof SecretEntrySchema>;
export type Deletion = z.output<typeof DeletionSchema>;

/** The run id of a job's run in a slot, e.g. `secrets-202611210200`. */
export function runIdOf(job: ProducingJob, slot: Slot): string {
  return `${RUN_PREFIX[job]}-${slot.id}`;
}

/** The job and slot id a run id names, or undefined when it is not a run id. */
export function parseRunId(runId: string): { job: ProducingJob; slotId: string } | undefined {
  const match = /^(snapshots|secrets|retention)-(\d{12})$/.exec(runId);
  if (!match) return undefined;
  const job = (Object.keys(RUN_PREFIX) as ProducingJob[]).find((j) => RUN_PREFIX[j] === match[1]);
  return job ? { job, slotId: match[2] as string } : undefined;
}

/** Where manifests of a policy live: one predictable prefix. */
export function manifestPrefix(policyName: string): string {
  return `manifests/${policyName}/`;
}

export function manifestKey(policyName: string, runId: string): string {
  return `${manifestPrefix(policyName)}${runId}.json`;
}

/** The verification record sits beside its manifest. */
export function verificationKey(policyName: string, runId: string): string {
  return `${manifestPrefix(policyName)}${runId}.verification.json`;
}

/** Where a run's exports live; anything else under it is an artifact the manifest does not list. */
export function exportPrefix(policyName: string, slot: Slot): string {
  return `exports/${policyName}/${slot.id}/`;
}

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

/** An empty manifest for a run, to which the job adds its artifacts. */
export function newManifest(
  job: ProducingJob,
  slot: Slot,
  policy: Policy,
  account: string,
  artifacts: Partial<Manifest['artifacts']>,
  now = new Date(),
): Manifest {
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
      exports: artifacts.exports ?? [],
      secrets: artifacts.secrets ?? [],
      deletions: artifacts.deletions ?? [],
    },
  };
}
