import type { KMSClient } from '@aws-sdk/client-kms';
import { AddTagsToResourceCommand } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { parseRunId, type SignedManifest, verificationKey } from '../manifest/manifest.js';
import { checkSignature } from '../manifest/manifest-signing.js';
import {
  listRunIds,
  ManifestFormatError,
  ManifestNotFoundError,
  readManifest,
  storeObject,
} from '../manifest/manifest-store.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { parseDuration, subtractDuration } from '../policy/duration.js';
import type { Policy } from '../policy/schema.js';
import {
  listManualSnapshots,
  type RegionalRds,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import { parseSlotId } from '../snapshots/slot.js';
import { TAG } from '../snapshots/tags.js';
import type { Site, Vault } from '../vault/vault.js';
import { type DeepExportCheck, type RunVerification, verifyRun } from './verify-run.js';

export interface VerificationJobDeps {
  readonly s3: S3Client;
  /** KMS of the region verifying, which is `site`. */
  readonly kms: KMSClient;
  readonly site: Site;
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  readonly vault: Vault;
  /** Paces the tagging of verified snapshots (RDS allows 12 requests/s per account and region). */
  readonly limiter: RateLimiter;
  readonly log: JobLog;
  readonly deep?: DeepExportCheck;
}

/** The age of a target's newest verified restore point in a region. */
export interface RestorePointAge {
  readonly region: string;
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly snapshotId: string;
  readonly ageSeconds: number;
}

export interface VerificationJobResult {
  readonly runs: readonly RunVerification[];
  /** Snapshots and copies tagged lifeboat:verified-at by this run. */
  readonly tagged: number;
  readonly restorePoints: readonly RestorePointAge[];
  /** Every failed check, naming the artifact and why. Pending checks are not failures. */
  readonly failures: readonly JobFailure[];
}

/**
 * Verifies every run of the policy within its lookback (or the runs named), writes a verification
 * record beside each manifest, tags the snapshots and copies that passed as verified, and reports
 * the age of each target's newest verified restore point.
 */
export async function runVerificationJob(
  deps: VerificationJobDeps,
  policy: Policy,
  now: Date,
  options: { readonly runIds?: readonly string[] } = {},
): Promise<VerificationJobResult> {
  const since = subtractDuration(
    now,
    parseDuration(policy.verification.lookback) ?? { years: 0, months: 0, days: 7, hours: 0 },
  );
  const allRuns = await listRunIds(deps.s3, deps.vault.bucket, policy.name);
  const runIds = options.runIds ?? allRuns.filter((id) => (slotTimeOf(id) ?? 0) >= since.getTime());
  // Retention since the oldest run checked may have deleted what that run produced.
  const from = Math.min(since.getTime(), ...runIds.map((id) => slotTimeOf(id) ?? since.getTime()));
  const retired = await retiredByRetention(
    deps,
    policy.name,
    allRuns.filter((id) => id.startsWith('retention-') && (slotTimeOf(id) ?? 0) >= from),
  );
  const read = new Map(
    await Promise.all(
      runIds.map(async (id) => [id, await readRun(deps, policy.name, id)] as const),
    ),
  );
  const inventory = await snapshotsByArn(deps, [...read.values()]);
  const runs: RunVerification[] = [];
  const failures: JobFailure[] = [];
  for (const runId of runIds) {
    const verification = await verifyOne(
      deps,
      policy,
      runId,
      read.get(runId) as ReadRun,
      inventory,
      retired,
      now,
    );
    runs.push(verification);
    try {
      await writeRecord(deps, policy.name, verification);
    } catch (error) {
      failures.push({ subject: `verification record of ${runId}`, error: errorSummary(error) });
    }
    for (const check of verification.checks) {
      if (check.status === 'failed') {
        failures.push({ subject: `${runId} ${check.kind} ${check.artifact}`, error: check.reason });
      }
    }
  }
  const tagged = await tagVerified(deps, runs, inventory, now, failures);
  deps.log.info('verified', { runs: runs.length, tagged, failed: failures.length });
  return {
    runs,
    tagged,
    restorePoints: restorePointAges([...inventory.values()], policy.name, now),
    failures,
  };
}

/** A run's manifest, or why it could not be read. */
type ReadRun = { readonly signed: SignedManifest } | { readonly unreadable: string };

async function readRun(
  deps: VerificationJobDeps,
  policyName: string,
  runId: string,
): Promise<ReadRun> {
  try {
    return { signed: await readManifest(deps.s3, deps.vault.bucket, policyName, runId) };
  } catch (error) {
    if (error instanceof ManifestNotFoundError)
      return { unreadable: 'missing: there is no manifest for this run' };
    if (error instanceof ManifestFormatError) return { unreadable: `altered: ${error.message}` };
    return { unreadable: `could not be checked: ${errorSummary(error)}` };
  }
}

/**
 * Every manual snapshot the runs could refer to, by ARN: only the regions and kinds their
 * manifests name, one describe call per 100 snapshots.
 */
async function snapshotsByArn(
  deps: VerificationJobDeps,
  runs: readonly ReadRun[],
): Promise<Map<string, SnapshotRecord>> {
  const wanted = new Map<string, Set<SnapshotKind>>();
  for (const run of runs) {
    if (!('signed' in run)) continue;
    const { snapshots, drCopies } = run.signed.manifest.artifacts;
    for (const a of [...snapshots, ...drCopies]) {
      wanted.set(a.region, (wanted.get(a.region) ?? new Set()).add(a.kind));
    }
  }
  const lists = await Promise.all(
    [deps.primary, deps.dr]
      .filter((rds) => wanted.has(rds.region))
      .map((rds) => listManualSnapshots(rds, [...(wanted.get(rds.region) ?? [])])),
  );
  return new Map(lists.flat().map((s) => [s.arn, s]));
}

function slotTimeOf(runId: string): number | undefined {
  return parseSlotId(parseRunId(runId)?.slotId ?? '')?.time.getTime();
}

/** ARNs that retention runs deleted, from their manifests (only those whose MAC verifies). */
async function retiredByRetention(
  deps: VerificationJobDeps,
  policyName: string,
  retentionRuns: readonly string[],
): Promise<Map<string, string>> {
  const retired = new Map<string, string>();
  for (const runId of retentionRuns) {
    try {
      const signed = await readManifest(deps.s3, deps.vault.bucket, policyName, runId);
      const signature = await checkSignature(deps.kms, deps.vault.manifestKeys[deps.site], signed);
      if (!signature.valid) continue;
      for (const d of signed.manifest.artifacts.deletions) retired.set(d.arn, runId);
    } catch (error) {
      deps.log.warn('retention record unreadable', { runId, error: errorSummary(error) });
    }
  }
  return retired;
}

async function verifyOne(
  deps: VerificationJobDeps,
  policy: Policy,
  runId: string,
  read: ReadRun,
  snapshots: ReadonlyMap<string, SnapshotRecord>,
  retired: ReadonlyMap<string, string>,
  now: Date,
): Promise<RunVerification> {
  const failed = (reason: string): RunVerification => ({
    runId,
    mode: deps.deep ? 'deep' : 'default',
    verifiedAt: now.toISOString(),
    status: 'failed',
    checks: [{ kind: 'manifest', artifact: runId, status: 'failed', reason }],
  });
  if ('unreadable' in read) return failed(read.unreadable);
  try {
    return await verifyRun(
      {
        s3: deps.s3,
        kms: deps.kms,
        manifestKeyArn: deps.vault.manifestKeys[deps.site],
        snapshots,
        retired,
        ...(deps.deep ? { deep: deps.deep } : {}),
      },
      read.signed,
      policy.verification.copyDeadline,
      now,
    );
  } catch (error) {
    return failed(`could not be checked: ${errorSummary(error)}`);
  }
}

/** Writes (or replaces) the verification record beside the run's manifest. */
async function writeRecord(
  deps: VerificationJobDeps,
  policyName: string,
  verification: RunVerification,
): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(verification, null, 2)}\n`);
  await storeObject(
    deps.s3,
    deps.vault.bucket,
    verificationKey(policyName, verification.runId),
    body,
    {
      once: false,
      contentType: 'application/json',
      kmsKeyId: deps.vault.dataKeys.primary,
    },
  );
}

/**
 * Tags each snapshot and copy that passed, and was not verified before, with
 * lifeboat:verified-at, which retention reads.
 */
async function tagVerified(
  deps: VerificationJobDeps,
  runs: readonly RunVerification[],
  inventory: Map<string, SnapshotRecord>,
  now: Date,
  failures: JobFailure[],
): Promise<number> {
  const passed = new Set(
    runs
      .flatMap((r) =>
        r.checks.filter(
          (c) => c.status === 'passed' && (c.kind === 'snapshot' || c.kind === 'dr-copy'),
        ),
      )
      .map((c) => c.artifact),
  );
  let tagged = 0;
  for (const arn of passed) {
    const snapshot = inventory.get(arn);
    // Once verified, a restore point stays verified: its age counts from when it was taken.
    if (!snapshot || snapshot.verifiedAt) continue;
    const rds = snapshot.region === deps.dr.region ? deps.dr : deps.primary;
    try {
      await deps.limiter.run(() =>
        rds.client.send(
          new AddTagsToResourceCommand({
            ResourceName: arn,
            Tags: [{ Key: TAG.verifiedAt, Value: now.toISOString() }],
          }),
        ),
      );
      inventory.set(arn, { ...snapshot, verifiedAt: now });
      tagged += 1;
    } catch (error) {
      failures.push({ subject: `tagging ${arn} as verified`, error: errorSummary(error) });
    }
  }
  return tagged;
}

/** Per target and region, the age of the newest snapshot of this policy that passed verification. */
export function restorePointAges(
  snapshots: readonly SnapshotRecord[],
  policyName: string,
  now: Date,
): RestorePointAge[] {
  const newest = new Map<string, SnapshotRecord>();
  for (const s of snapshots) {
    if (s.managedBy !== policyName || !s.verifiedAt || !s.time) continue;
    const key = `${s.region}/${s.kind}/${s.target}`;
    const seen = newest.get(key);
    if (!seen || (seen.time?.getTime() ?? 0) < s.time.getTime()) newest.set(key, s);
  }
  return [...newest.values()]
    .map((s) => ({
      region: s.region,
      kind: s.kind,
      target: s.target,
      snapshotId: s.id,
      ageSeconds: Math.max(0, Math.round((now.getTime() - (s.time?.getTime() ?? 0)) / 1000)),
    }))
    .sort((a, b) => `${a.region}/${a.target}`.localeCompare(`${b.region}/${b.target}`));
}
