import type { JobFailure } from '../alerts/failure-alert.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { newManifest, runIdOf } from '../manifest/manifest.js';
import type { WriteOutcome } from '../manifest/manifest-store.js';
import type { RunRecorder } from '../manifest/run-recorder.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import {
  deleteSnapshot,
  listManualSnapshots,
  type RegionalRds,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import { slotOf } from '../snapshots/slot.js';
import { type PlanPolicy, planRetention, type RetentionPlan } from './retention-planner.js';

export interface RetentionJobDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  /** Paces deletions (RDS allows 12 requests/s per account and region, shared). */
  readonly limiter: RateLimiter;
  /** Records what the run deleted, so that verification tells retention from loss. */
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
  /** The run's signed record of its deletions. */
  readonly manifest: WriteOutcome | 'not-written';
  /** Deletions that failed; the run as a whole failed if any. */
  readonly failures: readonly JobFailure[];
}

/** Refused: a deletion of something this policy did not create reached the apply step. */
export class UnsafeDeletionError extends Error {
  constructor(snapshot: SnapshotRecord, policyName: string) {
    super(`${snapshot.id} in ${snapshot.region} was not created by policy ${policyName}`);
    this.name = 'UnsafeDeletionError';
  }
}

/** Every manual snapshot in the policy's primary and DR regions. */
export async function readInventory(
  deps: Pick<RetentionJobDeps, 'primary' | 'dr'>,
): Promise<SnapshotRecord[]> {
  const [primary, dr] = await Promise.all([
    listManualSnapshots(deps.primary),
    listManualSnapshots(deps.dr),
  ]);
  return [...primary, ...dr];
}

/**
 * Plans retention on the live inventory, carries out the deletions at a bounded rate, and records
 * them in a signed manifest of the run (slot: `now`).
 */
export async function runRetentionJob(
  deps: RetentionJobDeps,
  policy: Policy,
  now: Date,
): Promise<RetentionJobResult> {
  const plan = planRetention(await readInventory(deps), policy, now);
  const deletions = await applyRetentionPlan(deps, plan, policy);
  const failures: JobFailure[] = deletions
    .filter((d) => d.outcome === 'failed')
    .map((d) => ({
      subject: `${d.snapshotId} in ${d.region} (${d.kind} ${d.target})`,
      error: d.error ?? 'failed',
    }));
  const slot = slotOf(now);
  const runId = runIdOf('enforce-retention', slot);
  let manifest: RetentionJobResult['manifest'] = 'not-written';
  try {
    manifest = await deps.recorder.record(
      newManifest('enforce-retention', slot, policy, deps.recorder.account, {
        deletions: deletions
          .filter((d) => d.outcome !== 'failed')
          .map((d) => ({
            arn: d.arn,
            region: d.region,
            kind: d.kind,
            target: d.target,
            reasons: [...d.reasons],
          })),
      }),
    );
  } catch (error) {
    failures.push({ subject: `manifest of ${runId}`, error: errorSummary(error) });
  }
  return { runId, plan: { keep: plan.keep, delete: plan.delete }, deletions, manifest, failures };
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
