import { HeadObjectCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';
import type { DrCopyArtifact, ExportArtifact, SnapshotArtifact } from '../manifest/manifest.js';
import type { RunRecord } from '../manifest/manifest-ledger.js';
import { listKeys } from '../manifest/manifest-store.js';
import type { ArtifactCheck, CheckStatus } from '../manifest/record-checks.js';
import { exportPrefix } from '../naming/run-ids.js';
import { parseSlotId } from '../naming/slot.js';
import { errorSummary } from '../observability/job-log.js';
import { addDuration, parseDuration } from '../policy/duration.js';
import { isInProgress, type SnapshotRecord } from '../rds/snapshots.js';

export interface RunVerification {
  readonly runId: string;
  readonly mode: 'default' | 'deep';
  readonly verifiedAt: string;
  /** failed if any check failed, else pending if any is pending, else passed. */
  readonly status: CheckStatus;
  readonly checks: readonly ArtifactCheck[];
}

/** Downloads and opens an export; only `lifeboat verify --deep` provides one. */
export type DeepExportCheck = (
  record: Pick<RunRecord, 'runId' | 'artifacts'>,
  artifact: ExportArtifact,
) => Promise<readonly ArtifactCheck[]>;

export interface VerifyRunDeps {
  readonly s3: S3Client;
  /**
   * The vault bucket being verified: the primary's, or the DR region's copy. Exports are read
   * there, whichever bucket their record names (the primary's, where they were first written).
   */
  readonly bucket: string;
  readonly policyName: string;
  /** Every manual snapshot of both regions, by ARN: one listing serves every run. */
  readonly snapshots: ReadonlyMap<string, SnapshotRecord>;
  /** Snapshots retention deleted, by ARN, with the retention run that did (from its record). */
  readonly retired: ReadonlyMap<string, string>;
  readonly deep?: DeepExportCheck;
  /**
   * A region this verification does not consult (the primary, verifying from the DR site): the
   * snapshots there are not checked, and the result says so.
   */
  readonly notConsulted?: string;
}

/**
 * Verifies what a run's record lists without downloading anything: each export against the
 * SHA-256 S3 stored for it (HEAD), each snapshot and DR copy against RDS, and what the run
 * recorded it could not do. A snapshot or copy still in progress is pending until
 * `copyDeadline` after the run was recorded, then failed.
 */
export async function verifyArtifacts(
  deps: VerifyRunDeps,
  record: RunRecord,
  recordedAt: string,
  copyDeadline: string,
  now: Date,
): Promise<ArtifactCheck[]> {
  const { artifacts } = record;
  const deadline = deadlineAfter(recordedAt, copyDeadline);
  const checks: ArtifactCheck[] = [];
  for (const artifact of artifacts.exports) checks.push(await checkExport(deps, artifact));
  if (deps.deep) {
    for (const artifact of artifacts.exports) checks.push(...(await deps.deep(record, artifact)));
  }
  checks.push(...(await extraExports(deps, record)));
  for (const s of artifacts.snapshots) {
    if (deps.notConsulted && s.arn.split(':')[3] === deps.notConsulted) continue;
    checks.push(
      retiredCheck(deps, 'snapshot', s.arn) ??
        checkSnapshot(deps.snapshots.get(s.arn), s, deadline, now),
    );
  }
  for (const c of artifacts.drCopies) {
    checks.push(
      retiredCheck(deps, 'dr-copy', c.arn) ??
        checkCopy(deps.snapshots.get(c.arn), c, deadline, now),
    );
  }
  for (const f of record.failures) {
    checks.push({
      kind: 'failure',
      artifact: f.subject,
      status: 'failed',
      reason: `the run recorded that it failed: ${f.error}`,
    });
  }
  return checks;
}

export function deadlineAfter(since: string, duration: string): Date {
  return addDuration(
    new Date(since),
    parseDuration(duration) ?? { years: 0, months: 0, days: 0, hours: 0 },
  );
}

/** Checks an export against the SHA-256 S3 keeps for it: one HEAD, no download. */
async function checkExport(deps: VerifyRunDeps, artifact: ExportArtifact): Promise<ArtifactCheck> {
  const name = `s3://${deps.bucket}/${artifact.key}`;
  const fail = (reason: string): ArtifactCheck => ({
    kind: 'export',
    artifact: name,
    status: 'failed',
    reason,
  });
  try {
    const head = await deps.s3.send(
      new HeadObjectCommand({
        Bucket: deps.bucket,
        Key: artifact.key,
        ChecksumMode: 'ENABLED',
      }),
    );
    const stored = head.ChecksumSHA256
      ? Buffer.from(head.ChecksumSHA256, 'base64').toString('hex')
      : undefined;
    if (stored === undefined)
      return fail('changed: the object has no SHA-256 checksum, so it was rewritten');
    if (stored !== artifact.sha256) {
      return fail(
        `changed: SHA-256 ${stored.slice(0, 16)}... is not the manifest's ${artifact.sha256.slice(0, 16)}...`,
      );
    }
    if (head.ContentLength !== artifact.size) {
      return fail(`changed: ${head.ContentLength} bytes, the manifest says ${artifact.size}`);
    }
    return { kind: 'export', artifact: name, status: 'passed', reason: 'SHA-256 and size match' };
  } catch (error) {
    if (error instanceof NotFound) return fail('missing: the object is gone');
    return fail(`could not be checked: ${errorSummary(error)}`);
  }
}

/** Objects under a run's export prefix that its record does not list. */
async function extraExports(deps: VerifyRunDeps, record: RunRecord): Promise<ArtifactCheck[]> {
  const slot = parseSlotId(record.slotId);
  const first = record.artifacts.exports[0];
  if (record.job !== 'export-secrets' || !slot || !first) return [];
  const listed = new Set(record.artifacts.exports.map((e) => e.key));
  const keys = await listKeys(deps.s3, deps.bucket, exportPrefix(deps.policyName, slot));
  return keys
    .filter((k) => !listed.has(k))
    .map((k) => ({
      kind: 'export' as const,
      artifact: `s3://${deps.bucket}/${k}`,
      status: 'failed' as const,
      reason: 'extra: an object in the run’s exports that the manifest does not list',
    }));
}

/** A snapshot that is gone because retention deleted it, as a signed retention record says. */
function retiredCheck(
  deps: VerifyRunDeps,
  kind: 'snapshot' | 'dr-copy',
  arn: string,
): ArtifactCheck | undefined {
  const by = deps.retired.get(arn);
  if (by === undefined || deps.snapshots.has(arn)) return undefined;
  return {
    kind,
    artifact: arn,
    status: 'passed',
    reason: `retired: deleted by retention run ${by}`,
  };
}

function checkSnapshot(
  found: SnapshotRecord | undefined,
  expected: SnapshotArtifact,
  deadline: Date,
  now: Date,
): ArtifactCheck {
  const base = { kind: 'snapshot' as const, artifact: expected.arn };
  if (!found)
    return { ...base, status: 'failed', reason: 'deleted: the snapshot no longer exists' };
  const state = stateCheck(found, deadline, now, 'being created');
  if (state) return { ...base, ...state };
  const key = keyCheck(found, expected.encrypted, expected.kmsKeyId);
  return key
    ? { ...base, status: 'failed', reason: key }
    : { ...base, status: 'passed', reason: 'available, encrypted with the expected key' };
}

function checkCopy(
  found: SnapshotRecord | undefined,
  expected: DrCopyArtifact,
  deadline: Date,
  now: Date,
): ArtifactCheck {
  const base = { kind: 'dr-copy' as const, artifact: expected.arn };
  if (!found) return { ...base, status: 'failed', reason: 'deleted: the DR copy no longer exists' };
  const state = stateCheck(found, deadline, now, 'being copied');
  if (state) return { ...base, ...state };
  const key = keyCheck(found, true, expected.kmsKeyId);
  return key
    ? { ...base, status: 'failed', reason: key }
    : { ...base, status: 'passed', reason: 'available, encrypted with the DR key' };
}

function stateCheck(
  found: SnapshotRecord,
  deadline: Date,
  now: Date,
  doing: string,
): { status: CheckStatus; reason: string } | undefined {
  if (isInProgress(found)) {
    return now <= deadline
      ? {
          status: 'pending',
          reason: `still ${doing} (${found.status}) until ${deadline.toISOString()}`,
        }
      : {
          status: 'failed',
          reason: `still ${doing} (${found.status}) past its deadline ${deadline.toISOString()}`,
        };
  }
  if (found.status !== 'available')
    return { status: 'failed', reason: `not usable: ${found.status}` };
  return undefined;
}

function keyCheck(
  found: SnapshotRecord,
  mustBeEncrypted: boolean,
  kmsKeyId: string | null,
): string | undefined {
  if (mustBeEncrypted && !found.encrypted) return 'not encrypted';
  if (kmsKeyId && found.kmsKeyId && found.kmsKeyId !== kmsKeyId) {
    return `encrypted with ${found.kmsKeyId}, not the manifest's ${kmsKeyId}`;
  }
  return undefined;
}
