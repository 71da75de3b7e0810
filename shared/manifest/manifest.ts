import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import '../validation/zod.js';
import type { Policy } from '../policy/schema.js';
import type { Slot } from '../snapshots/slot.js';
import { canonicalJson } from './canonical-json.js';

export const MANIFEST_FORMAT = 'lifeboat-manifest/2';

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
export type ExportArtifact = z.output<typeof ExportArtifactSchema>;
export type SecretEntry = z.output<typeof SecretEntrySchema>;
export type Deletion = z.output<typeof DeletionSchema>;
export type RunFailure = z.output<typeof RunFailureSchema>;
export type Artifacts = z.output<typeof ArtifactsSchema>;
export type PreviousRecord = z.output<typeof PreviousSchema>;
/** A manifest as a job writes it, before the recorder places it in its job's chain. */
export type ManifestDraft = Omit<Manifest, 'revision' | 'previous'>;

/** The run id of a job's run in a slot, e.g. `secrets-202611210200`. */
export function runIdOf(job: ProducingJob, slot: Slot): string {
  return `${RUN_PREFIX[job]}-${slot.id}`;
}

/** The prefix every run id of a job starts with, e.g. `snapshots-`. */
export function runIdPrefix(job: ProducingJob): string {
  return `${RUN_PREFIX[job]}-`;
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

/**
 * Where a revision of a run's record is stored: `<runId>.json` for the first, `<runId>.<n>.json`
 * for the n-th.
 */
export function manifestKey(policyName: string, runId: string, revision = 1): string {
  return `${manifestPrefix(policyName)}${runId}${revision === 1 ? '' : `.${revision}`}.json`;
}

/** The run and revision a key under the manifest prefix stores, or undefined when it is stray. */
export function parseManifestKey(
  policyName: string,
  key: string,
): { runId: string; job: ProducingJob; slotId: string; revision: number } | undefined {
  const prefix = manifestPrefix(policyName);
  if (!key.startsWith(prefix)) return undefined;
  const match = /^([a-z]+-\d{12})(?:\.([2-9]|[1-9]\d{1,3}))?\.json$/.exec(key.slice(prefix.length));
  const run = match ? parseRunId(match[1] as string) : undefined;
  if (!match || !run) return undefined;
  return { runId: match[1] as string, ...run, revision: match[2] ? Number(match[2]) : 1 };
}

/** Verification records live apart from the signed run records, one per run. */
export function verificationKey(policyName: string, runId: string): string {
  return `verifications/${policyName}/${runId}.json`;
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
      exports: artifacts.exports ?? [],
      secrets: artifacts.secrets ?? [],
      deletions: artifacts.deletions ?? [],
    },
    failures: [...failures],
  };
}
