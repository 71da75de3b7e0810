import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { newManifest } from '../manifest/manifest.js';
import type { RecordOutcome, RunRecorder } from '../manifest/run-recorder.js';
import { recordRun } from '../manifest/run-recorder.js';
import { parseRunId, runIdOf } from '../naming/run-ids.js';
import { slotOf, slotOfIdentifier } from '../naming/slot.js';
import { TAG } from '../naming/tags.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import {
  deleteSnapshot,
  listManualSnapshots,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import { type HoldBook, type HoldRecord, readHolds, writeHold } from './holds.js';
import { attributeInventory, recordedSnapshots } from './ownership.js';
import { type PlanPolicy, planRetention, type RetentionPlan } from './retention-planner.js';

export interface RetentionJobDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  /** Paces deletions (RDS allows 12 requests/s per account and region, shared). */
  readonly limiter: RateLimiter;
  /**
   * Reads the signed records that say which snapshots are Lifeboat's and which are held, and
   * records what the run deletes before it deletes it.
   */
  readonly recorder: RunRecorder;
  readonly log: JobLog;
}

export interface DeletionOutcome {
  readonly arn: string;
  readonly region: string;
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly snapshotId: string;
  readonly reasons: readonly string[];
  readonly outcome: 'deleted' | 'already-gone' | 'failed';
  readonly error?: string;
}

export interface RetentionJobResult {
  readonly runId: string;
  readonly plan: { readonly keep: number; readonly delete: number };
  readonly deletions: readonly DeletionOutcome[];
  /** The run's signed record of what it deletes, written before anything is deleted. */
  readonly manifest: RecordOutcome | 'not-written';
  /** Holds found on tags and recorded, so that removing the tag lifts nothing. */
  readonly holdsRecorded: number;
  /** Deletions that failed, or a record that could not be written; the run failed if any. */
  readonly failures: readonly JobFailure[];
}

/** Refused: a deletion of something this policy did not create reached the apply step. */
export class UnsafeDeletionError extends Error {
  constructor(snapshot: SnapshotRecord, policyName: string) {
    super(`${snapshot.id} in ${snapshot.region} was not created by policy ${policyName}`);
    this.name = 'UnsafeDeletionError';
  }
}

/** Every manual snapshot in the policy's primary and DR regions, with its tags as labels. */
export async function readInventory(
  deps: Pick<RetentionJobDeps, 'primary' | 'dr'>,
): Promise<SnapshotRecord[]> {
  const [primary, dr] = await Promise.all([
    listManualSnapshots(deps.primary),
    listManualSnapshots(deps.dr),
  ]);
  return [...primary, ...dr];
}

/** The inventory attributed from the vault's signed records, and the holds they keep. */
export interface AttributedInventory {
  readonly snapshots: readonly SnapshotRecord[];
  readonly holds: HoldBook;
}

/**
 * Reads the inventory and attributes it from facts and signed records: the snapshot runs that
 * could have recorded any snapshot there (from the oldest slot an identifier names) and the
 * hold records.
 */
export async function readAttributedInventory(
  deps: Pick<RetentionJobDeps, 'primary' | 'dr' | 'recorder'>,
  policy: Pick<Policy, 'name'>,
): Promise<AttributedInventory> {
  const inventory = await readInventory(deps);
  const oldest = inventory
    .map((s) => slotOfIdentifier(s.id)?.id)
    .filter((id): id is string => id !== undefined)
    .sort()[0];
  const [runs, holds] = await Promise.all([
    oldest === undefined
      ? []
      : deps.recorder.readRuns(
          policy.name,
          'snapshot-rds',
          (runId) => (parseRunId(runId)?.slotId ?? '') >= oldest,
        ),
    readHolds(deps.recorder.access, policy.name),
  ]);
  return {
    snapshots: attributeInventory(inventory, recordedSnapshots(runs), holds, policy.name),
    holds,
  };
}

/**
 * Plans retention on the live inventory, as the signed records attribute it; records what it
 * will delete (and why) in the run's signed manifest; then deletes at a bounded rate exactly
 * what the record lists. A record that cannot be written deletes nothing.
 */
/** The policy's targets by identifier that have no snapshot in the inventory, in either region. */
export function targetsWithoutSnapshots(
  policy: Pick<Policy, 'targets'>,
  snapshots: readonly Pick<SnapshotRecord, 'kind' | 'target'>[],
): string[] {
  const kindOf = { 'rds-instance': 'instance', 'aurora-cluster': 'cluster' } as const;
  return policy.targets.flatMap((t) =>
    t.identifier !== undefined &&
    !snapshots.some((s) => s.kind === kindOf[t.kind] && s.target === t.identifier)
      ? [`${t.kind} ${t.identifier}`]
      : [],
  );
}

export async function runRetentionJob(
  deps: RetentionJobDeps,
  policy: Policy,
  now: Date,
): Promise<RetentionJobResult> {
  const slot = slotOf(now);
  const runId = runIdOf('enforce-retention', slot);
  const failures: JobFailure[] = [];
  const { snapshots, holds } = await readAttributedInventory(deps, policy);
  const holdsRecorded = await recordTagHolds(deps, policy, snapshots, holds, now, failures);
  const plan = planRetention(snapshots, policy, now);
  const planned = plan.decisions.filter((d) => d.action === 'delete');
  // A target retention has nothing of is likely a wrong identifier: say so, do not "keep 0".
  for (const target of targetsWithoutSnapshots(policy, snapshots)) {
    failures.push({
      subject: target,
      error:
        'no snapshot of it in either region, so retention keeps and deletes nothing for it (is the identifier right, and does snapshot-rds snapshot it?)',
    });
  }

  const { manifest, recorded } = await recordRun(
    deps.recorder,
    newManifest(
      'enforce-retention',
      slot,
      policy,
      deps.recorder.account,
      {
        deletions: planned.map(({ snapshot: s, reasons }) => ({
          arn: s.arn,
          region: s.region,
          kind: s.kind,
          target: s.target,
          reasons: [...reasons],
        })),
      },
      [],
      now,
    ),
    failures,
    'nothing was deleted, since the deletions could not be recorded first',
  );
  // Another delivery of this slot may have recorded first: delete only what a record lists.
  const authorised = new Set(recorded?.record.artifacts.deletions.map((d) => d.arn) ?? []);
  const deletions = await applyRetentionPlan(
    deps,
    { ...plan, decisions: plan.decisions.filter((d) => authorised.has(d.snapshot.arn)) },
    policy,
  );
  for (const d of deletions) {
    if (d.outcome === 'failed') {
      failures.push({
        subject: `${d.snapshotId} in ${d.region} (${d.kind} ${d.target})`,
        error: d.error ?? 'failed',
      });
    }
  }
  return {
    runId,
    plan: { keep: plan.keep, delete: plan.delete },
    deletions,
    manifest,
    holdsRecorded,
    failures,
  };
}

/**
 * Records, signed, each hold a tag placed that no signed record holds yet: from then on the
 * hold outlives its tag. Only snapshots the records attribute to this policy are recorded.
 */
async function recordTagHolds(
  deps: Pick<RetentionJobDeps, 'recorder' | 'log'>,
  policy: Pick<Policy, 'name'>,
  snapshots: readonly SnapshotRecord[],
  holds: HoldBook,
  now: Date,
  failures: JobFailure[],
): Promise<number> {
  let recorded = 0;
  for (const s of snapshots) {
    const tag = s.tags.get(TAG.legalHold);
    if (s.managedBy !== policy.name || !s.legalHold || holds.held.has(s.arn) || tag === undefined)
      continue;
    const hold: HoldRecord = {
      format: 'lifeboat-hold/1',
      policy: policy.name,
      account: deps.recorder.account,
      snapshotArn: s.arn,
      action: 'place',
      at: now.toISOString(),
      by: 'tag',
      reason: `tagged ${TAG.legalHold}=${tag}`.slice(0, 1024),
    };
    try {
      await writeHold(
        {
          ...deps.recorder.access,
          dataKeyArn: deps.recorder.dataKeyArn,
          dr: deps.recorder.dr,
          vaultCopy: deps.recorder.vaultCopy,
        },
        hold,
      );
      recorded += 1;
    } catch (error) {
      failures.push({ subject: `the legal hold on ${s.id}`, error: errorSummary(error) });
    }
  }
  return recorded;
}

/** Deletes what the plan says to delete; one failing deletion never stops the others. */
export async function applyRetentionPlan(
  deps: Pick<RetentionJobDeps, 'primary' | 'dr' | 'limiter' | 'log'>,
  plan: RetentionPlan,
  policy: Pick<PlanPolicy, 'name' | 'regions'>,
): Promise<DeletionOutcome[]> {
  const rdsFor = (region: string) => (region === deps.dr.region ? deps.dr : deps.primary);
  const outcomes = await Promise.all(
    plan.decisions
      .filter((d) => d.action === 'delete')
      .map(async ({ snapshot: s, reasons }): Promise<DeletionOutcome> => {
        const base = {
          arn: s.arn,
          region: s.region,
          kind: s.kind,
          target: s.target,
          snapshotId: s.id,
          reasons,
        };
        try {
          if (s.managedBy !== policy.name) throw new UnsafeDeletionError(s, policy.name);
          const outcome = await deps.limiter.run(() =>
            deleteSnapshot(rdsFor(s.region), s.kind, s.id),
          );
          deps.log.info('deleted', { ...base, outcome });
          return { ...base, outcome };
        } catch (error) {
          deps.log.error('delete failed', { ...base, error: errorSummary(error) });
          return { ...base, outcome: 'failed', error: errorSummary(error) };
        }
      }),
  );
  return outcomes;
}
