import type { KMSClient } from '@aws-sdk/client-kms';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import { type KeyBook, keyBook, keyRisk } from '../aws/key-states.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { newManifest } from '../manifest/manifest.js';
import type { RecordOutcome, RunRecorder } from '../manifest/run-recorder.js';
import { recordRun } from '../manifest/run-recorder.js';
import { runIdOf } from '../naming/run-ids.js';
import type { Slot } from '../naming/slot.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import { listManualSnapshots, type SnapshotKind, type SnapshotRecord } from '../rds/snapshots.js';
import { discoverTargets, type Target } from '../rds/targets.js';
import { KeyAtRiskError } from './errors.js';
import { ownSnapshot, planSnapshots, quotaOf, type TargetOutcome } from './snapshot-planner.js';
import { artifactsOf, createSnapshots, runFailures } from './snapshot-steps.js';

export type { TargetOutcome } from './snapshot-planner.js';

/**
 * A slot's scheduled run: the snapshot of every target. What follows a snapshot (its DR copy,
 * its vault copy, the end of the vault's share) is the pipeline's (pipeline-pass.ts), started
 * by RDS's events the moment each step is done. Extended here when the slot's own run changes.
 */

export interface SnapshotJobDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  /** Paces the mutating RDS calls (RDS allows 12 requests/s per account and region). */
  readonly limiter: RateLimiter;
  /** Writes the run's signed manifest. */
  readonly recorder: RunRecorder;
  readonly log: JobLog;
  /** KMS of this account in a region: whether the keys the snapshots depend on still decrypt. */
  readonly kmsIn: (region: string) => KMSClient;
}

export interface QuotaUsage {
  readonly region: string;
  readonly kind: SnapshotKind;
  readonly used: number;
  readonly quota: number;
  readonly percent: number;
}

export interface SnapshotJobResult {
  readonly runId: string;
  readonly slot: string;
  readonly targets: readonly TargetOutcome[];
  readonly quotas: readonly QuotaUsage[];
  /** The slot's record: written, amended with what earlier deliveries missed, or complete. */
  readonly manifest: RecordOutcome | 'not-written';
  /** Targets and keys that failed or were refused; the run as a whole failed if any. */
  readonly failures: readonly JobFailure[];
}

const KINDS: readonly SnapshotKind[] = ['instance', 'cluster'];
const KEY_ARN = /^arn:[^:]+:kms:[^:]+:\d{12}:key\//;

/**
 * One scheduled run: a snapshot of every target for the slot, as many as the run's time allows
 * at the policy's request rate (the rest deferred to the pipeline, and recorded so), and the
 * slot's record of what the primary region holds for it, found by the deterministic identifiers
 * (not by what this delivery remembers). Safe to repeat for the same slot, and to run beside
 * other deliveries of it.
 */
export async function runSnapshotJob(
  deps: SnapshotJobDeps,
  policy: Policy,
  slot: Slot,
  now = new Date(),
): Promise<SnapshotJobResult> {
  const { targets, problems } = await discoverTargets(deps.primary, policy.targets);
  const [primary, dr] = await Promise.all([
    listManualSnapshots(deps.primary),
    listManualSnapshots(deps.dr),
  ]);
  const plan = planSnapshots({ policy, slot, targets, problems, primary, dr });
  const created = await createSnapshots(deps, policy, slot, plan.creates);
  const outcomes = [...plan.targets, ...created.map((c) => c.outcome)].sort((a, b) =>
    `${a.kind}/${a.target}`.localeCompare(`${b.kind}/${b.target}`),
  );
  // A deferred snapshot is the pipeline's to take: recorded, not a failure of the run.
  const failures: JobFailure[] = outcomes
    .filter((t) => t.outcome === 'failed' || t.outcome === 'refused')
    .map((t) => ({ subject: `${t.kind} ${t.target}`, error: t.error ?? t.outcome }));

  // What the primary holds for the slot now, whoever made it: other deliveries, or calls whose
  // answer was lost.
  const primaryAfter = [
    ...primary,
    ...created.flatMap((c) => (c.snapshot ? [c.snapshot] : [])),
  ].filter((s, i, all) => all.findIndex((o) => o.arn === s.arn) === i);
  const slotIds = new Set(outcomes.map((o) => o.snapshotId));
  const missing = outcomes.some(
    (o) => o.snapshotId && !primaryAfter.some((s) => s.id === o.snapshotId),
  );
  const held = missing
    ? await listManualSnapshots(deps.primary)
    : primaryAfter.filter((s) => slotIds.has(s.id));
  const keys = keyBook(deps.kmsIn, policy.regions.primary, deps.log);
  failures.push(...(await keysAtRisk(keys, policy, targets, [...primaryAfter, ...dr])));
  const runId = runIdOf('snapshot-rds', slot);
  const { manifest } = await recordRun(
    deps.recorder,
    newManifest(
      'snapshot-rds',
      slot,
      policy,
      deps.recorder.account,
      artifactsOf(policy, deps.recorder.account, slot, {
        targets,
        primary: held,
        dr: [],
        vault: [],
      }),
      runFailures(policy, deps.recorder.account, outcomes),
      now,
    ),
    failures,
  );
  const quotas: QuotaUsage[] = KINDS.flatMap((kind) => [
    usage(deps.primary.region, kind, primaryAfter, policy),
    usage(deps.dr.region, kind, dr, policy),
  ]);
  return {
    runId,
    slot: slot.time.toISOString(),
    targets: outcomes,
    quotas,
    manifest,
    failures,
  };
}

/**
 * The keys Lifeboat's snapshots and their DR copies are encrypted with, and the DR key, that no
 * longer decrypt: one failure per key, naming what it encrypts. The stacks' rule alerts when a
 * key is disabled or scheduled for deletion, but only for the keys a deploy can name: the
 * databases' own keys are known only here, and a key put at risk before the rule existed, or
 * without a trail to report it, is noticed here too.
 */
async function keysAtRisk(
  keys: KeyBook,
  policy: Policy,
  targets: readonly Target[],
  snapshots: readonly SnapshotRecord[],
): Promise<JobFailure[]> {
  const users = new Map<string, Set<string>>([
    [policy.snapshots.drKmsKeyArn, new Set(["the DR region's copies"])],
  ]);
  for (const s of snapshots) {
    const own = ownSnapshot(s, targets);
    // RDS names a snapshot's key by its ARN (a local AWS may give a placeholder: not a key).
    if (!own || !s.encrypted || !s.kmsKeyId || !KEY_ARN.test(s.kmsKeyId)) continue;
    const who = `the snapshots of ${s.kind} ${own.target}`;
    users.set(s.kmsKeyId, (users.get(s.kmsKeyId) ?? new Set()).add(who));
  }
  const failures: JobFailure[] = [];
  for (const [key, who] of users) {
    const state = await keys.describe(key);
    const risk = state && keyRisk(state);
    if (!risk) continue;
    const error = new KeyAtRiskError(`${key} ${risk}. It encrypts ${[...who].sort().join(', ')}.`);
    failures.push({ subject: `the KMS key ${key}`, error: errorSummary(error) });
  }
  return failures;
}

function usage(
  region: string,
  kind: SnapshotKind,
  snapshots: readonly { kind: SnapshotKind }[],
  policy: Policy,
): QuotaUsage {
  const quota = quotaOf(kind, policy);
  const used = snapshots.filter((s) => s.kind === kind).length;
  return { region, kind, used, quota, percent: Math.round((used / quota) * 1000) / 10 };
}
