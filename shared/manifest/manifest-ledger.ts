import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { mapWithLimit } from '../aws/concurrency.js';
import {
  manifestPrefix,
  type ProducingJob,
  parseManifestKey,
  runIdPrefix,
} from '../naming/run-ids.js';
import { parseSlotId } from '../naming/slot.js';
import { errorSummary } from '../observability/job-log.js';
import {
  type Artifacts,
  type Manifest,
  type RunFailure,
  type SignedManifest,
  SignedManifestSchema,
  sha256Hex,
} from './manifest.js';
import { checkSignature } from './manifest-signing.js';
import { getVersionBytes, listVersions, type StoredKey } from './manifest-store.js';

/** Reads of stored revisions in flight at once. */
const READS_AT_ONCE = 16;

/** One revision of a run's record as the bucket keeps it: every version and delete marker. */
export interface RevisionEntry {
  readonly runId: string;
  readonly job: ProducingJob;
  readonly slotId: string;
  readonly revision: number;
  readonly key: string;
  readonly stored: StoredKey;
}

/**
 * What the manifest prefix holds, from one listing of versions: each run's revisions, and the
 * keys that store no run's record.
 */
export interface Ledger {
  readonly policyName: string;
  /** Revisions of each run, first revision first. */
  readonly runs: ReadonlyMap<string, readonly RevisionEntry[]>;
  readonly strays: readonly { readonly key: string; readonly stored: StoredKey }[];
}

/** Where a ledger is read from, and the key its MACs are checked with. */
export interface LedgerAccess {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly kms: KMSClient;
  /** The manifest key of the region reading (the DR replica verifies what the primary signed). */
  readonly manifestKeyArn: string;
}

/**
 * How a ledger is read: with a manifest key to check each record's MAC, or (`macs: false`) where
 * none can be reached (the vault account holds none of production's keys): each record is then
 * judged by its first version, locked since it was written, its identity and its place in the
 * chain.
 */
export type LedgerReading =
  | LedgerAccess
  | { readonly s3: S3Client; readonly bucket: string; readonly macs: false };

/**
 * Lists the ledger of a policy, or of one of its jobs only. `root`: where the bucket keeps the
 * records (the vault account's bucket keeps each source's below `sources/<account>/`).
 */
export async function readLedger(
  s3: S3Client,
  bucket: string,
  policyName: string,
  job?: ProducingJob,
  root = '',
): Promise<Ledger> {
  const prefix = `${root}${manifestPrefix(policyName)}${job ? runIdPrefix(job) : ''}`;
  const keys = await listVersions(s3, bucket, prefix);
  const runs = new Map<string, RevisionEntry[]>();
  const strays: { key: string; stored: StoredKey }[] = [];
  for (const [key, stored] of keys) {
    const parsed = parseManifestKey(policyName, key.slice(root.length));
    if (!parsed) {
      strays.push({ key, stored });
      continue;
    }
    const entry: RevisionEntry = { ...parsed, key, stored };
    const revisions = runs.get(parsed.runId);
    if (revisions) revisions.push(entry);
    else runs.set(parsed.runId, [entry]);
  }
  for (const revisions of runs.values()) revisions.sort((a, b) => a.revision - b.revision);
  return { policyName, runs, strays: strays.sort((a, b) => a.key.localeCompare(b.key)) };
}

/** Run ids in the ledger, of one job or all, oldest slot first. */
export function runIdsOf(ledger: Ledger, job?: ProducingJob): string[] {
  return [...ledger.runs.entries()]
    .filter(([, revisions]) => !job || revisions[0]?.job === job)
    .map(([runId]) => runId)
    .sort(bySlot);
}

function bySlot(a: string, b: string): number {
  return (
    a.slice(a.indexOf('-') + 1).localeCompare(b.slice(b.indexOf('-') + 1)) || a.localeCompare(b)
  );
}

/** A revision as read: its first version's bytes, and whether they can be trusted. */
export interface StoredRevision {
  readonly entry: RevisionEntry;
  /** Hex SHA-256 of the first version's bytes: what the next record names. */
  readonly sha256: string | undefined;
  readonly signed: SignedManifest | undefined;
  /** Why its content cannot be trusted: unreadable, altered, signed for another run. */
  readonly problems: readonly string[];
  /** Why the stored object is not as first written (overwritten, hidden); its content still counts. */
  readonly tampering: readonly string[];
}

/**
 * Reads a revision's first version (what was written before anyone could change it) and checks
 * it: the MAC, and that the content is the record of the run and revision its key names.
 */
export async function readRevision(
  access: LedgerReading,
  policyName: string,
  entry: RevisionEntry,
): Promise<StoredRevision> {
  const tampering = tamperingOf(entry.stored);
  const first = entry.stored.versions[0];
  const untrusted = (problem: string, sha256?: string): StoredRevision => ({
    entry,
    sha256,
    signed: undefined,
    problems: [problem],
    tampering,
  });
  if (!first) return untrusted('missing: only a delete marker is left of it');
  let bytes: Uint8Array | undefined;
  try {
    bytes = await getVersionBytes(access.s3, access.bucket, entry.key, first);
  } catch (error) {
    return untrusted(`could not be read: ${errorSummary(error)}`);
  }
  if (!bytes) return untrusted('missing: its first version is gone');
  const sha256 = sha256Hex(bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return untrusted('altered: not a Lifeboat manifest (not JSON)', sha256);
  }
  const parsed = SignedManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return untrusted(
      `altered: not a Lifeboat manifest (${issue?.path.join('.') || 'document'}: ${issue?.message})`,
      sha256,
    );
  }
  const signed = parsed.data;
  const problems: string[] = [];
  const identity = identityProblem(policyName, entry, signed.manifest);
  if (identity) problems.push(identity);
  if ('macs' in access) return { entry, sha256, signed, problems, tampering };
  const checked = checkedMacs.get(access.kms) ?? new Set<string>();
  const seen = `${access.manifestKeyArn} ${sha256}`;
  if (checked.has(seen)) return { entry, sha256, signed, problems, tampering };
  try {
    const signature = await checkSignature(access.kms, access.manifestKeyArn, signed);
    if (!signature.valid) problems.push(signature.reason);
    else {
      if (checked.size >= 20_000) checked.clear();
      checkedMacs.set(access.kms, checked.add(seen));
    }
  } catch (error) {
    problems.push(`could not be checked: ${errorSummary(error)}`);
  }
  return { entry, sha256, signed, problems, tampering };
}

/**
 * The revisions whose MAC a KMS client found valid, by key and the SHA-256 of their bytes: a MAC
 * that verified once verifies for good (the same bytes, the same key; HMAC keys do not rotate),
 * and the pipeline re-reads each open slot's record pass after pass. The bytes are still read
 * and hashed each time; only the KMS call is saved.
 */
const checkedMacs = new WeakMap<object, Set<string>>();

/** Whether a record's content is the record its key names: run, revision, job, slot, policy. */
function identityProblem(
  policyName: string,
  entry: RevisionEntry,
  manifest: Manifest,
): string | undefined {
  const slot = parseSlotId(entry.slotId)?.time.toISOString();
  const same =
    manifest.runId === entry.runId &&
    manifest.revision === entry.revision &&
    manifest.job === entry.job &&
    manifest.slot === slot &&
    manifest.policy.name === policyName;
  if (same) return undefined;
  const of = manifest.policy.name === policyName ? '' : ` of policy ${manifest.policy.name}`;
  return `replayed: ${entry.key} holds the signed record of ${manifest.runId} revision ${manifest.revision}${of}, not of ${entry.runId} revision ${entry.revision}`;
}

function tamperingOf(stored: StoredKey): string[] {
  const found: string[] = [];
  const later = stored.versions.length - 1;
  if (later > 0) {
    found.push(
      `overwritten: ${later} later version${later === 1 ? '' : 's'} replace the one first written (the first is what is checked)`,
    );
  }
  if (stored.hidden) found.push('hidden: a delete marker hides it');
  return found;
}

/** A run's record: every revision, and what the trustworthy ones say together. */
export interface RunRecord {
  readonly runId: string;
  readonly job: ProducingJob;
  readonly slotId: string;
  readonly revisions: readonly StoredRevision[];
  /** Revision numbers missing below the highest one stored. */
  readonly gaps: readonly number[];
  /** Everything the trustworthy revisions list. */
  readonly artifacts: RecordArtifacts;
  /** What the run could not do and no later revision made good. */
  readonly failures: readonly RunFailure[];
}

/** Reads every revision of a run; undefined when the ledger has no record of it. */
export async function readRun(
  access: LedgerReading,
  ledger: Ledger,
  runId: string,
): Promise<RunRecord | undefined> {
  const entries = ledger.runs.get(runId);
  if (!entries || entries.length === 0) return undefined;
  const revisions = await mapWithLimit(entries, READS_AT_ONCE, (entry) =>
    readRevision(access, ledger.policyName, entry),
  );
  return recordOf(revisions);
}

/** Reads many runs, a bounded number of revisions at a time. */
export async function readRuns(
  access: LedgerReading,
  ledger: Ledger,
  runIds: readonly string[],
): Promise<Map<string, RunRecord>> {
  const entries = runIds.flatMap((id) => ledger.runs.get(id) ?? []);
  const revisions = await mapWithLimit(entries, READS_AT_ONCE, (entry) =>
    readRevision(access, ledger.policyName, entry),
  );
  const byRun = new Map<string, StoredRevision[]>();
  for (const r of revisions) {
    const list = byRun.get(r.entry.runId);
    if (list) list.push(r);
    else byRun.set(r.entry.runId, [r]);
  }
  return new Map([...byRun].map(([id, list]) => [id, recordOf(list)]));
}

/** The record a run's revisions make together. */
export function recordOf(revisions: readonly StoredRevision[]): RunRecord {
  const first = revisions[0]?.entry as RevisionEntry;
  const highest = Math.max(...revisions.map((r) => r.entry.revision));
  const present = new Set(revisions.map((r) => r.entry.revision));
  const gaps: number[] = [];
  for (let n = 1; n < highest; n += 1) if (!present.has(n)) gaps.push(n);
  const trusted = revisions.flatMap((r) =>
    r.signed && r.problems.length === 0 ? [r.signed.manifest] : [],
  );
  const { artifacts, failures } = mergeRecords(trusted);
  return {
    runId: first.runId,
    job: first.job,
    slotId: first.slotId,
    revisions,
    gaps,
    artifacts,
    failures,
  };
}

/** Every kind of artifact a record holds, each a list (none absent). */
export type RecordArtifacts = { [K in keyof Artifacts]-?: NonNullable<Artifacts[K]> };
type ArtifactOf<K extends keyof Artifacts> = RecordArtifacts[K][number];

/** How each kind of artifact is told apart from another. */
const IDENTITY: { readonly [K in keyof Artifacts]-?: (a: ArtifactOf<K>) => string } = {
  snapshots: (a) => a.arn,
  drCopies: (a) => a.arn,
  vaultCopies: (a) => a.arn,
  exports: (a) => `s3://${a.bucket}/${a.key}`,
  secrets: (a) => `${a.arn}@${a.versionId}`,
  deletions: (a) => a.arn,
};

const ARTIFACT_KINDS = Object.keys(IDENTITY) as (keyof Artifacts)[];

function emptyArtifacts(): { -readonly [K in keyof Artifacts]-?: ArtifactOf<K>[] } {
  return { snapshots: [], drCopies: [], vaultCopies: [], exports: [], secrets: [], deletions: [] };
}

/** One kind of a record's artifacts; an absent list (an optional kind) is empty. */
function listOf<K extends keyof Artifacts>(artifacts: Artifacts, kind: K): ArtifactOf<K>[] {
  return (artifacts[kind] ?? []) as ArtifactOf<K>[];
}

/** The ARNs of the snapshots and copies some artifacts name: what can resolve a failure. */
function producedArns(...all: Artifacts[]): string[] {
  return all.flatMap((a) =>
    [...a.snapshots, ...a.drCopies, ...(a.vaultCopies ?? []), ...a.deletions].map((x) => x.arn),
  );
}

/**
 * What several revisions of one run say together: every artifact any of them lists (once), and
 * the failures no revision's artifact resolves.
 */
export function mergeRecords(
  manifests: readonly { readonly artifacts: Artifacts; readonly failures: readonly RunFailure[] }[],
): {
  artifacts: RecordArtifacts;
  failures: RunFailure[];
} {
  const artifacts = emptyArtifacts();
  const seen = new Set<string>();
  for (const m of manifests) {
    for (const kind of ARTIFACT_KINDS) {
      for (const a of listOf(m.artifacts, kind)) {
        const id = `${kind}:${(IDENTITY[kind] as (x: typeof a) => string)(a)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        (artifacts[kind] as (typeof a)[]).push(a);
      }
    }
  }
  const produced = new Set(producedArns(artifacts));
  const failures = new Map<string, RunFailure>();
  for (const m of manifests) {
    for (const f of m.failures) {
      if (f.resolvedBy === null || !produced.has(f.resolvedBy)) failures.set(f.subject, f);
    }
  }
  return { artifacts, failures: [...failures.values()] };
}

/**
 * What a draft adds to a run's record: the artifacts the record lacks, and the failures it does
 * not already hold. Empty when a new revision would say nothing new.
 */
export function additionsOf(
  draft: { readonly artifacts: Artifacts; readonly failures: readonly RunFailure[] },
  record: Pick<RunRecord, 'artifacts' | 'failures'>,
): { artifacts: Artifacts; failures: RunFailure[]; empty: boolean } {
  const known = new Set(
    ARTIFACT_KINDS.flatMap((kind) =>
      listOf(record.artifacts, kind).map(
        (a) => `${kind}:${(IDENTITY[kind] as (x: typeof a) => string)(a)}`,
      ),
    ),
  );
  const artifacts = emptyArtifacts();
  for (const kind of ARTIFACT_KINDS) {
    for (const a of listOf(draft.artifacts, kind)) {
      if (!known.has(`${kind}:${(IDENTITY[kind] as (x: typeof a) => string)(a)}`)) {
        (artifacts[kind] as (typeof a)[]).push(a);
      }
    }
  }
  const produced = new Set(producedArns(record.artifacts, artifacts));
  const outstanding = new Set(record.failures.map((f) => f.subject));
  const failures = draft.failures.filter(
    (f) => !outstanding.has(f.subject) && (f.resolvedBy === null || !produced.has(f.resolvedBy)),
  );
  const empty = ARTIFACT_KINDS.every((k) => artifacts[k].length === 0) && failures.length === 0;
  // A record without vault copies says nothing of them (as records before the vault did not).
  const { vaultCopies, ...rest } = artifacts;
  return { artifacts: vaultCopies.length ? artifacts : rest, failures, empty };
}
