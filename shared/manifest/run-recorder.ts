import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobFailure } from '../alerts/failure-alert.js';
import { manifestKey, type ProducingJob } from '../naming/run-ids.js';
import { errorSummary } from '../observability/job-log.js';
import type { Vault } from '../vault/vault.js';
import { type DrVault, ensureDrCopies } from './dr-copy.js';
import {
  type Artifacts,
  type Manifest,
  type ManifestDraft,
  type PreviousRecord,
  type RunFailure,
  sha256Hex,
} from './manifest.js';
import {
  additionsOf,
  type Ledger,
  type LedgerAccess,
  mergeRecords,
  type RunRecord,
  readLedger,
  readRun,
  readRuns,
  runIdsOf,
} from './manifest-ledger.js';
import { signManifest } from './manifest-signing.js';
import { getVersionBytes, storeObject } from './manifest-store.js';

/** How a run's record stands after recording: first written, amended, or already complete. */
export type RecordOutcome = 'written' | 'amended' | 'already-recorded';

/** What recording did, and the run's record as it now stands (every revision together). */
export interface Recorded {
  readonly outcome: RecordOutcome;
  /** Why the DR region's copy of the record is incomplete; undefined when it is complete. */
  readonly drFailure?: string;
  /** The revision written, or the highest one there when nothing needed writing. */
  readonly revision: number;
  readonly record: { readonly artifacts: Artifacts; readonly failures: readonly RunFailure[] };
  /** The failures this recording added to the record: the ones not told before. */
  readonly addedFailures: readonly RunFailure[];
}

/** Signs, stores and reads back the records of runs; the producing jobs share it. */
export interface RunRecorder {
  readonly account: string;
  /** Where the records are read from, with the primary manifest key. */
  readonly access: LedgerAccess;
  /** The data key records are stored under (SSE-KMS). */
  readonly dataKeyArn: string;
  /** The DR region's copy of the vault, which gets every record too; absent: none is kept. */
  readonly dr?: DrVault;
  /** The vault account's bucket, which gets every record too; absent: none is kept. */
  readonly vaultCopy?: DrVault;
  /**
   * Records what a run produced. The first delivery of a slot writes revision 1, chained to the
   * previous run of its job; a later delivery that has something to add writes the next
   * revision, chained to the one before. Nothing is ever overwritten.
   */
  record(draft: ManifestDraft): Promise<Recorded>;
  /** The runs of a job that have a record, oldest first. */
  runs(policyName: string, job: ProducingJob): Promise<string[]>;
  /**
   * Copies a run's revisions the DR region's bucket lacks there (recording does it too); throws
   * DrCopyError. Nothing to do without a DR copy of the vault.
   */
  copyRunToDr(policyName: string, job: ProducingJob, runId: string): Promise<void>;
  /** The records of the runs of a job that `wanted` picks, every revision read and checked. */
  readRuns(
    policyName: string,
    job: ProducingJob,
    wanted: (runId: string) => boolean,
  ): Promise<RunRecord[]>;
}

/** Recording kept losing races with other deliveries of the same run. */
export class RecordContentionError extends Error {
  constructor(runId: string, attempts: number) {
    super(`${runId}: another delivery wrote each revision first, ${attempts} times in a row`);
    this.name = 'RecordContentionError';
  }
}

/** A revision already stored could not be read, so the next one cannot name it. */
export class RecordUnreadableError extends Error {
  constructor(key: string, why: string) {
    super(`${key} could not be read (${why}); the run's record was not amended`);
    this.name = 'RecordUnreadableError';
  }
}

const ATTEMPTS = 5;

// What a record names as its previous one when that one's first version cannot be read (only a
// delete marker is left): verification reports that record itself.
const UNREADABLE = '0'.repeat(64);

/**
 * A recorder writing to the vault's bucket, signed with the primary manifest key (the key that
 * also checks the revisions already there).
 */
export function runRecorder(deps: {
  readonly s3: S3Client;
  /** KMS in the primary region. */
  readonly kms: KMSClient;
  readonly vault: Vault;
  readonly account: string;
  /** The DR region's copy of the vault, which gets every revision too. */
  readonly dr?: DrVault;
  /** The vault account's bucket, which gets every revision too. */
  readonly vaultCopy?: DrVault;
}): RunRecorder {
  const access: LedgerAccess = {
    s3: deps.s3,
    bucket: deps.vault.bucket,
    kms: deps.kms,
    manifestKeyArn: deps.vault.manifestKeys.primary,
  };
  const store = async (manifest: Manifest) => {
    const signed = await signManifest(deps.kms, deps.vault.manifestKeys.primary, manifest);
    const body = Buffer.from(`${JSON.stringify(signed, null, 2)}\n`);
    return storeObject(
      deps.s3,
      deps.vault.bucket,
      manifestKey(manifest.policy.name, manifest.runId, manifest.revision),
      body,
      {
        once: true,
        contentType: 'application/json',
        kmsKeyId: deps.vault.dataKeys.primary,
        ownKmsContext: true,
      },
    );
  };
  return {
    account: deps.account,
    access,
    dataKeyArn: deps.vault.dataKeys.primary,
    ...(deps.dr ? { dr: deps.dr } : {}),
    ...(deps.vaultCopy ? { vaultCopy: deps.vaultCopy } : {}),
    async runs(policyName, job) {
      return runIdsOf(await readLedger(deps.s3, deps.vault.bucket, policyName, job));
    },
    async readRuns(policyName, job, wanted) {
      const ledger = await readLedger(deps.s3, deps.vault.bucket, policyName, job);
      const records = await readRuns(access, ledger, runIdsOf(ledger).filter(wanted));
      return [...records.values()];
    },
    async record(draft) {
      const recorded = await recordInPrimary(draft);
      try {
        // Its revisions are 1 to the one recording left: no second listing is needed.
        await copyKeysToDr(
          Array.from({ length: recorded.revision }, (_, i) =>
            manifestKey(draft.policy.name, draft.runId, i + 1),
          ),
        );
        return recorded;
      } catch (error) {
        return { ...recorded, drFailure: errorSummary(error) };
      }
    },
    copyRunToDr,
  };

  /**
   * Every revision of a run, as the primary first stored it, in the DR region too: this
   * delivery's, and any an earlier delivery could not copy.
   */
  async function copyRunToDr(policyName: string, job: ProducingJob, runId: string) {
    if (!deps.dr && !deps.vaultCopy) return;
    const ledger = await readLedger(deps.s3, deps.vault.bucket, policyName, job);
    await copyKeysToDr((ledger.runs.get(runId) ?? []).map((e) => e.key));
  }

  /** The keys in every copy of the vault (DR region, vault account); each copy tried. */
  async function copyKeysToDr(keys: readonly string[]) {
    const errors: Error[] = [];
    for (const site of [deps.dr, deps.vaultCopy]) {
      if (!site) continue;
      try {
        await ensureDrCopies({ s3: deps.s3, bucket: deps.vault.bucket }, site, keys, {
          contentType: 'application/json',
          ownKmsContext: true,
          firstVersion: true,
        });
      } catch (error) {
        errors.push(error as Error);
      }
    }
    if (errors.length > 1) {
      throw Object.assign(new Error(errors.map((e) => e.message).join('; ')), {
        name: 'DrCopyError',
      });
    }
    if (errors[0]) throw errors[0];
  }

  async function recordInPrimary(draft: ManifestDraft): Promise<Recorded> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      const ledger = await readLedger(deps.s3, deps.vault.bucket, draft.policy.name, draft.job);
      const entries = ledger.runs.get(draft.runId) ?? [];
      if (entries.length === 0) {
        const previous = await previousRun(access, ledger, draft.runId);
        if ((await store({ ...draft, revision: 1, previous })) === 'written') {
          return {
            outcome: 'written',
            revision: 1,
            record: mergeRecords([draft]),
            addedFailures: draft.failures,
          };
        }
        continue;
      }
      const record = await readRun(access, ledger, draft.runId);
      if (!record) continue;
      const additions = additionsOf(draft, record);
      const highest = Math.max(...entries.map((e) => e.revision));
      if (additions.empty) {
        return { outcome: 'already-recorded', revision: highest, record, addedFailures: [] };
      }
      const last = record.revisions.find((r) => r.entry.revision === highest);
      // A revision that could not be read cannot be followed: name it, rather than guess.
      const unread = record.revisions.find(
        (r) => r.sha256 === undefined && r.entry.stored.versions.length > 0,
      );
      if (unread) throw new RecordUnreadableError(unread.entry.key, unread.problems.join('; '));
      const amendment: Manifest = {
        ...draft,
        artifacts: additions.artifacts,
        failures: additions.failures,
        revision: highest + 1,
        previous: { runId: draft.runId, revision: highest, sha256: last?.sha256 ?? UNREADABLE },
      };
      if ((await store(amendment)) === 'written') {
        return {
          outcome: 'amended',
          revision: amendment.revision,
          record: mergeRecords([record, amendment]),
          addedFailures: additions.failures,
        };
      }
    }
    throw new RecordContentionError(draft.runId, ATTEMPTS);
  }
}

/** The first revision of the newest run of the same job before this one, by its stored bytes. */
async function previousRun(
  access: LedgerAccess,
  ledger: Ledger,
  runId: string,
): Promise<PreviousRecord | null> {
  const earlier = runIdsOf(ledger).filter((id) => id < runId);
  const previousId = earlier.at(-1);
  const entry = previousId ? ledger.runs.get(previousId)?.[0] : undefined;
  if (!previousId || !entry) return null;
  const first = entry.stored.versions[0];
  const bytes = first
    ? await getVersionBytes(access.s3, access.bucket, entry.key, first)
    : undefined;
  return {
    runId: previousId,
    revision: entry.revision,
    sha256: bytes ? sha256Hex(bytes) : UNREADABLE,
  };
}

/** A run's record as recording left it, or 'not-written' when it could not be recorded. */
export interface RunRecordOutcome {
  readonly manifest: RecordOutcome | 'not-written';
  readonly recorded: Recorded | undefined;
}

/**
 * Records a run, and when it cannot, counts one failure naming the run's record (and what not
 * having it means) among the run's failures: a run that could not record is never silent, its
 * job fails and alerts. Every producing job records through this.
 */
export async function recordRun(
  recorder: Pick<RunRecorder, 'record'>,
  draft: ManifestDraft,
  failures: JobFailure[],
  consequence?: string,
): Promise<RunRecordOutcome> {
  try {
    const recorded = await recorder.record(draft);
    if (recorded.drFailure) {
      failures.push({
        subject: `DR copy of the manifest of ${draft.runId}`,
        error: recorded.drFailure,
      });
    }
    return { manifest: recorded.outcome, recorded };
  } catch (error) {
    failures.push({
      subject: `manifest of ${draft.runId}`,
      error: consequence ? `${errorSummary(error)}; ${consequence}` : errorSummary(error),
    });
    return { manifest: 'not-written', recorded: undefined };
  }
}
