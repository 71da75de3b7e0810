import type { KMSClient } from '@aws-sdk/client-kms';
import { AddTagsToResourceCommand } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { copyKeyOf, type DrVault, storeCopy } from '../manifest/dr-copy.js';
import {
  type Ledger,
  type LedgerAccess,
  type RunRecord,
  readLedger,
  readRuns,
  runIdsOf,
} from '../manifest/manifest-ledger.js';
import { objectExists, storeObject } from '../manifest/manifest-store.js';
import {
  type ArtifactCheck,
  chainAnchors,
  chainChecks,
  overall,
  recordChecks,
  scheduleChecks,
} from '../manifest/record-checks.js';
import { parseRunId, verificationKey } from '../naming/run-ids.js';
import { parseSlotId, partitionOf, slotOfIdentifier, snapshotIdentifier } from '../naming/slot.js';
import { TAG } from '../naming/tags.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { parseDuration, subtractDuration } from '../policy/duration.js';
import type { Policy } from '../policy/schema.js';
import {
  isInProgress,
  listManualSnapshots,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import { readHolds } from '../retention/holds.js';
import type { Site, Vault } from '../vault/vault.js';
import {
  type DeepExportCheck,
  deadlineAfter,
  type RunVerification,
  verifyArtifacts,
} from './verify-run.js';

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
  /** The DR region's copy of the vault, checked for every run's record and exports. */
  readonly drVault?: DrVault;
  /**
   * The vault account: its bucket (checked for every run's record and exports, as its writer
   * role sees it) and its snapshots (checked for every vault copy a run records).
   */
  readonly vaultAccount?: {
    readonly bucket: DrVault | undefined;
    readonly snapshots: () => Promise<readonly SnapshotRecord[]>;
  };
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
  /** Checks of the vault as a whole: stray objects, hold records, schedules kept by a rate. */
  readonly ledger: readonly ArtifactCheck[];
  /** Snapshots and copies tagged lifeboat:verified-at by this run. */
  readonly tagged: number;
  readonly restorePoints: readonly RestorePointAge[];
  /** Every failed check, naming the artifact and why. Pending checks are not failures. */
  readonly failures: readonly JobFailure[];
  /** Where this verification read: the site, its bucket, and a region it did not consult. */
  readonly site: {
    readonly name: Site;
    readonly bucket: string;
    readonly notConsulted: string | null;
  };
}

/**
 * Verifies the policy's runs within its lookback (or the runs named): every record genuine and
 * stored as first written; each job's chain unbroken; every run its schedule required present;
 * what each run lists intact; nothing in either region carrying Lifeboat's name for a slot that
 * no record lists; Lifeboat's labels as it set them. Writes a verification record per run, tags
 * what passed as verified, and reports the age of each target's newest verified restore point.
 */
export async function runVerificationJob(
  deps: VerificationJobDeps,
  policy: Policy,
  now: Date,
  options: { readonly runIds?: readonly string[] } = {},
): Promise<VerificationJobResult> {
  const access: LedgerAccess = {
    s3: deps.s3,
    bucket: deps.vault.bucket,
    kms: deps.kms,
    manifestKeyArn: deps.vault.manifestKeys[deps.site],
  };
  const since = subtractDuration(
    now,
    parseDuration(policy.verification.lookback) ?? { years: 0, months: 0, days: 7, hours: 0 },
  );
  const ledger = await readLedger(deps.s3, deps.vault.bucket, policy.name);
  const named = options.runIds !== undefined;
  const window = named
    ? [...new Set(options.runIds)]
    : runIdsOf(ledger).filter((id) => (slotTimeOf(id) ?? 0) >= since.getTime());
  const records = await readRuns(access, ledger, window);
  for (const [id, r] of await readRuns(access, ledger, chainAnchors(ledger, window, records)))
    records.set(id, r);
  const chains = chainChecks(ledger, window, records);
  const schedule = named
    ? { missing: new Map<string, ArtifactCheck>(), ledger: [] }
    : scheduleChecks(policy, ledger, since, now);

  const inventory = await inventoryOf(deps);
  const retired = retiredBy(records);
  const recordedArns = new Set(
    [...records.values()].flatMap((r) => [
      ...r.artifacts.snapshots.map((s) => s.arn),
      ...r.artifacts.drCopies.map((c) => c.arn),
    ]),
  );
  const runs: RunVerification[] = [];
  for (const runId of window) {
    const record = records.get(runId);
    const checks = record
      ? [
          ...recordChecks(record),
          ...(chains.get(runId) ?? []),
          ...(await artifactChecks(deps, policy, record, inventory, retired, recordedArns, now)),
        ]
      : [
          {
            kind: 'manifest' as const,
            artifact: runId,
            status: 'failed' as const,
            reason: 'missing: there is no record of this run',
          },
          ...unrecorded(policy, runId, inventory, recordedArns),
        ];
    runs.push(verification(runId, deps, checks, now));
  }
  for (const [runId, check] of schedule.missing) {
    runs.push(
      verification(
        runId,
        deps,
        [check, ...unrecorded(policy, runId, inventory, recordedArns)],
        now,
      ),
    );
  }
  runs.sort((a, b) => bySlot(a.runId, b.runId));

  const ledgerChecks = named
    ? []
    : [...schedule.ledger, ...strays(ledger), ...(await holdChecks(access, policy))];
  const failures: JobFailure[] = [];
  for (const run of runs) {
    if (ledger.runs.has(run.runId)) {
      try {
        await writeRecord(deps, policy.name, run, failures);
      } catch (error) {
        failures.push({
          subject: `verification record of ${run.runId}`,
          error: errorSummary(error),
        });
      }
    }
    for (const check of run.checks) {
      if (check.status === 'failed') {
        failures.push({
          subject: `${run.runId} ${check.kind} ${check.artifact}`,
          error: check.reason,
        });
      }
    }
  }
  for (const check of ledgerChecks) {
    if (check.status === 'failed') {
      failures.push({ subject: `${check.kind} ${check.artifact}`, error: check.reason });
    }
  }
  const tagged = await tagVerified(deps, runs, inventory, now, failures);
  deps.log.info('verified', { runs: runs.length, tagged, failed: failures.length });
  return {
    runs,
    ledger: ledgerChecks,
    tagged,
    restorePoints: restorePointAges(records, runs, inventory, now),
    failures,
    site: {
      name: deps.site,
      bucket: deps.vault.bucket,
      notConsulted: deps.site === 'dr' ? deps.primary.region : null,
    },
  };
}

function verification(
  runId: string,
  deps: Pick<VerificationJobDeps, 'deep'>,
  checks: readonly ArtifactCheck[],
  now: Date,
): RunVerification {
  return {
    runId,
    mode: deps.deep ? 'deep' : 'default',
    verifiedAt: now.toISOString(),
    status: overall(checks),
    checks,
  };
}

function slotTimeOf(runId: string): number | undefined {
  return parseSlotId(parseRunId(runId)?.slotId ?? '')?.time.getTime();
}

function bySlot(a: string, b: string): number {
  return (
    (parseRunId(a)?.slotId ?? '').localeCompare(parseRunId(b)?.slotId ?? '') || a.localeCompare(b)
  );
}

/**
 * Every manual snapshot of both regions, by ARN: one paged listing each. From the DR site, the
 * DR region's only: it must verify with the primary region gone.
 */
async function inventoryOf(deps: VerificationJobDeps): Promise<Map<string, SnapshotRecord>> {
  const lists = await Promise.all([
    deps.site === 'dr' ? [] : listManualSnapshots(deps.primary),
    listManualSnapshots(deps.dr),
  ]);
  return new Map(lists.flat().map((s) => [s.arn, s]));
}

/**
 * The DR region's copy of a run: its record's revisions and its exports, each in the DR bucket.
 * One missing is pending until the copy deadline after the run, then failed: the DR region
 * could not verify or restore that run with the primary region gone.
 */
async function drVaultChecks(
  deps: VerificationJobDeps,
  record: RunRecord,
  createdAt: string,
  policy: Policy,
  now: Date,
): Promise<ArtifactCheck[]> {
  if (deps.site !== 'primary') return [];
  const sites = [
    { site: deps.drVault, kind: 'dr-vault' as const, where: 'the DR region' },
    { site: deps.vaultAccount?.bucket, kind: 'vault-account' as const, where: 'the vault account' },
  ];
  const keys = [
    ...record.revisions.map((r) => r.entry.key),
    ...record.artifacts.exports.map((e) => e.key),
  ];
  const late = now > deadlineAfter(createdAt, policy.verification.copyDeadline);
  const checks: ArtifactCheck[] = [];
  for (const { site, kind, where } of sites) {
    if (!site) continue;
    for (const key of keys) {
      const artifact = `s3://${site.bucket}/${copyKeyOf(site, key)}`;
      try {
        if (await objectExists(site.s3, site.bucket, copyKeyOf(site, key))) {
          checks.push({ kind, artifact, status: 'passed', reason: `in ${where}` });
        } else {
          checks.push({
            kind,
            artifact,
            status: late ? 'failed' : 'pending',
            reason: late
              ? `missing: not in ${where} ${policy.verification.copyDeadline} after the run`
              : `not in ${where} yet`,
          });
        }
      } catch (error) {
        checks.push({
          kind,
          artifact,
          status: 'failed',
          reason: `could not be checked: ${errorSummary(error)}`,
        });
      }
    }
  }
  return [...checks, ...(await vaultCopyChecks(deps, record, late))];
}

/**
 * The vault copies a snapshot run records, as the vault account holds them: each there and
 * available; one still being copied is pending until the copy deadline, then failed.
 */
async function vaultCopyChecks(
  deps: VerificationJobDeps,
  record: RunRecord,
  late: boolean,
): Promise<ArtifactCheck[]> {
  const copies = record.artifacts.vaultCopies;
  if (!deps.vaultAccount || copies.length === 0) return [];
  let held: Map<string, SnapshotRecord>;
  try {
    held = new Map((await deps.vaultAccount.snapshots()).map((s) => [s.arn, s]));
  } catch (error) {
    return copies.map((c) => ({
      kind: 'vault-account' as const,
      artifact: c.arn,
      status: 'failed' as const,
      reason: `could not be checked: ${errorSummary(error)}`,
    }));
  }
  return copies.map((c): ArtifactCheck => {
    const found = held.get(c.arn);
    if (found?.status === 'available') {
      return {
        kind: 'vault-account',
        artifact: c.arn,
        status: 'passed',
        reason: 'available in the vault account',
      };
    }
    if (found && isInProgress(found) && !late) {
      return {
        kind: 'vault-account',
        artifact: c.arn,
        status: 'pending',
        reason: `still ${found.status}`,
      };
    }
    return {
      kind: 'vault-account',
      artifact: c.arn,
      status: 'failed',
      reason: found
        ? `${found.status} in the vault account`
        : 'missing from the vault account: retention there may have deleted it, or someone did',
    };
  });
}

/** ARNs that the trustworthy records of retention runs say they deleted. */
function retiredBy(records: ReadonlyMap<string, RunRecord>): Map<string, string> {
  const retired = new Map<string, string>();
  for (const r of records.values()) {
    if (r.job !== 'enforce-retention') continue;
    for (const d of r.artifacts.deletions) retired.set(d.arn, r.runId);
  }
  return retired;
}

/** The checks of what a run lists, of what carries its slot's names, and of their labels. */
async function artifactChecks(
  deps: VerificationJobDeps,
  policy: Policy,
  record: RunRecord,
  inventory: ReadonlyMap<string, SnapshotRecord>,
  retired: ReadonlyMap<string, string>,
  recordedArns: ReadonlySet<string>,
  now: Date,
): Promise<ArtifactCheck[]> {
  const first = record.revisions.find((r) => r.signed && r.problems.length === 0);
  // A record none of whose revisions can be trusted cannot say what to check.
  if (!first?.signed) return [];
  const checks = await verifyArtifacts(
    {
      s3: deps.s3,
      bucket: deps.vault.bucket,
      policyName: policy.name,
      snapshots: inventory,
      ...(deps.site === 'dr' ? { notConsulted: deps.primary.region } : {}),
      retired,
      ...(deps.deep ? { deep: deps.deep } : {}),
    },
    record,
    first.signed.manifest.createdAt,
    policy.verification.copyDeadline,
    now,
  );
  checks.push(...(await drVaultChecks(deps, record, first.signed.manifest.createdAt, policy, now)));
  if (record.job !== 'snapshot-rds') return checks;
  return [
    ...checks,
    ...unrecorded(policy, record.runId, inventory, recordedArns),
    ...copyCoverage(policy, record, retired, now),
    ...labelChecks(policy, record, inventory),
  ];
}

/**
 * Snapshots and copies that carry Lifeboat's name for a database in this run's slot (found by
 * the deterministic identifiers) but that no record lists: taken by a delivery whose record was
 * lost, or made by someone else to pass as Lifeboat's.
 */
function unrecorded(
  policy: Policy,
  runId: string,
  inventory: ReadonlyMap<string, SnapshotRecord>,
  recordedArns: ReadonlySet<string>,
): ArtifactCheck[] {
  const run = parseRunId(runId);
  if (run?.job !== 'snapshot-rds') return [];
  const checks: ArtifactCheck[] = [];
  for (const s of inventory.values()) {
    const slot = slotOfIdentifier(s.id);
    if (slot?.id !== run.slotId || recordedArns.has(s.arn)) continue;
    if (!s.database || snapshotIdentifier(s.database, slot) !== s.id) continue;
    checks.push({
      kind: s.region === policy.regions.dr ? 'dr-copy' : 'snapshot',
      artifact: s.arn,
      status: 'failed',
      reason: `unrecorded: it carries Lifeboat's name for ${s.database} in this slot, but no record lists it (lifeboat backup run --slot ${slot.time.toISOString()} records what a lost delivery made)`,
    });
  }
  return checks;
}

/** Each of the run's snapshots must have a DR copy recorded by its copy deadline. */
function copyCoverage(
  policy: Policy,
  record: RunRecord,
  retired: ReadonlyMap<string, string>,
  now: Date,
): ArtifactCheck[] {
  const copied = new Set(record.artifacts.drCopies.map((c) => c.sourceArn));
  const slot = parseSlotId(record.slotId);
  if (!slot) return [];
  const deadline = deadlineAfter(slot.time.toISOString(), policy.verification.copyDeadline);
  return record.artifacts.snapshots
    .filter((s) => !copied.has(s.arn) && !retired.has(s.arn))
    .map((s) =>
      now <= deadline
        ? {
            kind: 'dr-copy' as const,
            artifact: s.arn,
            status: 'pending' as const,
            reason: `no copy in ${policy.regions.dr} yet; due by ${deadline.toISOString()}`,
          }
        : {
            kind: 'dr-copy' as const,
            artifact: s.arn,
            status: 'failed' as const,
            reason: `not copied to ${policy.regions.dr} within ${policy.verification.copyDeadline} of its slot`,
          },
    );
}

/** Lifeboat's labels on what the run recorded, as it set them; a change is reported, not trusted. */
function labelChecks(
  policy: Policy,
  record: RunRecord,
  inventory: ReadonlyMap<string, SnapshotRecord>,
): ArtifactCheck[] {
  const checks: ArtifactCheck[] = [];
  const expected = (target: string, source: string): [string, string][] => [
    [TAG.managed, 'true'],
    [TAG.policy, policy.name],
    [TAG.slot, record.slotId],
    [TAG.target, target],
    [TAG.source, source],
  ];
  const compare = (arn: string, labels: [string, string][]) => {
    const found = inventory.get(arn);
    if (!found) return;
    const changed = labels
      .filter(([key, value]) => found.tags.get(key) !== value)
      .map(([key, value]) => {
        const now = found.tags.get(key);
        return now === undefined
          ? `${key} removed (was ${value})`
          : `${key} is ${now}, was ${value}`;
      });
    if (changed.length > 0) {
      checks.push({
        kind: 'labels',
        artifact: arn,
        status: 'failed',
        reason: `labels changed behind Lifeboat's back: ${changed.join('; ')} (the signed record is what counts)`,
      });
    }
  };
  for (const s of record.artifacts.snapshots) {
    const account = s.arn.split(':')[4] ?? '';
    const type = s.kind === 'instance' ? 'db' : 'cluster';
    compare(
      s.arn,
      expected(
        s.target,
        `arn:${partitionOf(s.region)}:rds:${s.region}:${account}:${type}:${s.target}`,
      ),
    );
  }
  for (const c of record.artifacts.drCopies) compare(c.arn, expected(c.target, c.sourceArn));
  return checks;
}

/** Objects under the manifest prefix that are no run's record. */
function strays(ledger: Ledger): ArtifactCheck[] {
  return ledger.strays.map(({ key }) => ({
    kind: 'stray' as const,
    artifact: key,
    status: 'failed' as const,
    reason: 'extra: an object among the manifests that is no run’s record',
  }));
}

/** Hold records that are not genuine: nothing trusts them, and someone wrote them. */
async function holdChecks(access: LedgerAccess, policy: Policy): Promise<ArtifactCheck[]> {
  const holds = await readHolds(access, policy.name);
  return holds.problems.map((p) => ({
    kind: 'hold' as const,
    artifact: p.key,
    status: 'failed' as const,
    reason: `${p.reason}; no hold or release is taken from it`,
  }));
}

/**
 * Writes (or replaces) the run's verification record, and (verifying from the primary) its
 * copies in the DR region's bucket and the vault account's; a copy that fails is a failure.
 */
async function writeRecord(
  deps: VerificationJobDeps,
  policyName: string,
  verification: RunVerification,
  failures: JobFailure[],
): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(verification, null, 2)}\n`);
  const key = verificationKey(policyName, verification.runId);
  const extra = { once: false, contentType: 'application/json', ownKmsContext: true } as const;
  await storeObject(deps.s3, deps.vault.bucket, key, body, {
    ...extra,
    kmsKeyId: deps.vault.dataKeys[deps.site],
  });
  if (deps.site !== 'primary') return;
  for (const site of [deps.drVault, deps.vaultAccount?.bucket]) {
    if (!site) continue;
    try {
      await storeCopy(site, key, body, extra);
    } catch (error) {
      failures.push({
        subject: `${site.label ?? 'the DR region'}'s copy of the verification record of ${verification.runId}`,
        error: errorSummary(error),
      });
    }
  }
}

/**
 * Tags each snapshot and copy that passed, and was not verified before, with
 * lifeboat:verified-at: a label for people and drills; retention does not read it.
 */
async function tagVerified(
  deps: VerificationJobDeps,
  runs: readonly RunVerification[],
  inventory: ReadonlyMap<string, SnapshotRecord>,
  now: Date,
  failures: JobFailure[],
): Promise<number> {
  let tagged = 0;
  for (const arn of passedArns(runs)) {
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
      tagged += 1;
    } catch (error) {
      failures.push({ subject: `tagging ${arn} as verified`, error: errorSummary(error) });
    }
  }
  return tagged;
}

/** Snapshots and copies that passed, in runs whose records are genuine and unbroken. */
function passedArns(runs: readonly RunVerification[]): Set<string> {
  const genuine = (r: RunVerification) =>
    r.checks.every((c) => (c.kind !== 'manifest' && c.kind !== 'chain') || c.status === 'passed');
  return new Set(
    runs
      .filter(genuine)
      .flatMap((r) =>
        r.checks.filter(
          (c) => c.status === 'passed' && (c.kind === 'snapshot' || c.kind === 'dr-copy'),
        ),
      )
      .map((c) => c.artifact),
  );
}

/**
 * Per target and region, the age of the newest restore point that passed this verification:
 * from the records and the checks, not from tags.
 */
function restorePointAges(
  records: ReadonlyMap<string, RunRecord>,
  runs: readonly RunVerification[],
  inventory: ReadonlyMap<string, SnapshotRecord>,
  now: Date,
): RestorePointAge[] {
  const passed = passedArns(runs);
  const newest = new Map<string, RestorePointAge & { time: number }>();
  for (const record of records.values()) {
    for (const a of [...record.artifacts.snapshots, ...record.artifacts.drCopies]) {
      const slot = parseSlotId(a.slot);
      if (!slot || !passed.has(a.arn) || !inventory.has(a.arn)) continue;
      const key = `${a.region}/${a.kind}/${a.target}`;
      const seen = newest.get(key);
      if (seen && seen.time >= slot.time.getTime()) continue;
      newest.set(key, {
        region: a.region,
        kind: a.kind,
        target: a.target,
        snapshotId: a.arn.split(':').pop() ?? '',
        ageSeconds: Math.max(0, Math.round((now.getTime() - slot.time.getTime()) / 1000)),
        time: slot.time.getTime(),
      });
    }
  }
  return [...newest.values()]
    .map(({ time: _time, ...age }) => age)
    .sort((a, b) => `${a.region}/${a.target}`.localeCompare(`${b.region}/${b.target}`));
}
