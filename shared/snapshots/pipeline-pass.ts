import type { KMSClient } from '@aws-sdk/client-kms';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import { keyBook } from '../aws/key-states.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { newManifest, type RunFailure } from '../manifest/manifest.js';
import type { RunRecorder } from '../manifest/run-recorder.js';
import { recordRun } from '../manifest/run-recorder.js';
import { parseRunId, runIdOf } from '../naming/run-ids.js';
import {
  parseSlotId,
  type Slot,
  slotOf,
  slotOfIdentifier,
  snapshotArn,
  snapshotIdentifier,
  vaultCopyIdentifier,
} from '../naming/slot.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { parseDuration, subtractDuration } from '../policy/duration.js';
import { vaultRegionOf } from '../policy/regions.js';
import type { Policy } from '../policy/schema.js';
import {
  describeSnapshotsById,
  isInProgress,
  listManualSnapshots,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import { discoverTargets, type Target } from '../rds/targets.js';
import type { VaultAccount } from '../vault-account/vault-account.js';
import { deadlineAfter } from '../verification/verify-run.js';
import type { SettledSlots } from './settled-slots.js';
import type { SnapshotEvent } from './snapshot-events.js';
import {
  type CopyOutcome,
  ownSnapshot,
  planCopies,
  planSnapshots,
  type TargetOutcome,
} from './snapshot-planner.js';
import {
  artifactsOf,
  copiedByLifeboat,
  createSnapshots,
  type Holdings,
  startCopies,
} from './snapshot-steps.js';
import { ownVaultCopy, sendToVault, type VaultCopyOutcome } from './vault-copies.js';

/**
 * The pipeline: each snapshot's next step the moment the one before is done. A pass looks at
 * the slots still in the pipeline (recorded by the snapshot job within the lookback, and not yet
 * settled) and takes every step that is due: a snapshot the slot's run deferred, a DR copy of
 * each available snapshot (the newest restore points first, the caps kept full), the vault
 * copy of each available source, the end of each share whose vault copy is done. RDS's events
 * start a pass when something becomes available; the sweep starts one every few minutes, for
 * the events that come late or never. A pass decides from what RDS holds, never from what an
 * event says, so events lost, repeated or out of order change nothing but when. Extended here
 * when a step is added to a snapshot's way.
 */

export interface PipelineDeps {
  readonly primary: RegionalRds;
  readonly dr: RegionalRds;
  readonly limiter: RateLimiter;
  readonly recorder: RunRecorder;
  readonly log: JobLog;
  readonly kmsIn: (region: string) => KMSClient;
  readonly settled: SettledSlots;
  /** The isolated vault account, when the policy has one. */
  readonly vault?: VaultAccount;
}

/** What started a pass: RDS's events, the sweep, or both. */
export interface PassTrigger {
  readonly events: readonly SnapshotEvent[];
  readonly sweep: boolean;
}

/** A copy that waits under a cap, and since when its snapshot's slot began. */
export interface Waiting {
  readonly to: 'dr' | 'vault';
  readonly kind: SnapshotKind;
  readonly target: string;
  readonly snapshotId: string;
  readonly slot: string;
  readonly waitingSeconds: number;
}

export interface PassResult {
  /** The slots the pass looked at: recorded, within the lookback, not settled before. */
  readonly open: readonly string[];
  /** Snapshots the slot's run deferred, taken now. */
  readonly created: readonly TargetOutcome[];
  readonly copies: readonly CopyOutcome[];
  readonly vault: readonly VaultCopyOutcome[];
  readonly waiting: readonly Waiting[];
  /** Slots settled by this pass. */
  readonly settled: readonly string[];
  /** Slots whose record this pass amended. */
  readonly amended: readonly string[];
  /** Events about no snapshot or copy of Lifeboat's in a slot still in the pipeline. */
  readonly ignored: number;
  readonly failures: readonly JobFailure[];
  /** The failures not told before (each is in its slot's record once): what to alert. */
  readonly newFailures: readonly JobFailure[];
}

const KINDS: readonly SnapshotKind[] = ['instance', 'cluster'];

/** One pass over the slots still in the pipeline. */
export async function runPipelinePass(
  deps: PipelineDeps,
  policy: Policy,
  trigger: PassTrigger,
  now = new Date(),
): Promise<PassResult> {
  const account = deps.recorder.account;
  const failures: Failure[] = [];
  const open = await openSlots(deps, policy, now, failures);
  const nothing = {
    open: open.map((s) => s.id),
    created: [],
    copies: [],
    vault: [],
    waiting: [],
    settled: [],
    amended: [],
  };
  if (open.length === 0) {
    return settle({ ...nothing, ignored: trigger.events.length }, failures, new Set());
  }
  const { targets } = await discoverTargets(deps.primary, policy.targets);
  let held = await holdingsOf(deps, targets, open);

  // An event starts a pass only when it is about a snapshot or copy of Lifeboat's there.
  const own = new Set(
    [...held.primary, ...held.dr].filter((s) => ownSnapshot(s, targets)).map((s) => s.arn),
  );
  const relevant = trigger.events.filter((e) => own.has(e.arn));
  const ignored = trigger.events.length - relevant.length;
  if (!trigger.sweep && relevant.length === 0) {
    deps.log.info('events ignored', { events: trigger.events.length });
    return settle({ ...nothing, ignored }, failures, new Set());
  }

  const created = await takeDeferred(deps, policy, open, targets, held, failures);
  if (created.some((c) => c.snapshot)) {
    held = { ...held, primary: [...held.primary, ...created.flatMap((c) => c.snapshot ?? [])] };
  }

  const copyPlan = planCopies({
    policy,
    targets,
    primary: held.primary,
    dr: held.dr,
    drCount: await drCountIfCopying(deps, targets, held),
    now,
  });
  const started = await startCopies(deps, policy, copyPlan.copies, targets);
  held = { ...held, dr: [...held.dr, ...started.flatMap((c) => c.copy ?? [])] };
  const copies = [...copyPlan.decided, ...started.map((c) => c.outcome)].sort(byId);
  for (const c of copies.filter(failed)) {
    failures.push({
      subject: `copy of ${c.snapshotId} (${c.kind} ${c.target})`,
      error: c.error ?? c.outcome,
      slot: slotOfSnapshot(c.snapshotId),
      resolvedBy: snapshotArn(policy.regions.dr, account, c.kind, c.snapshotId),
    });
  }

  const sent = await sendSnapshotsToVault(deps, policy, targets, held);
  held = { ...held, vault: sent.held };
  failures.push(...sent.failures);
  const waiting = [
    ...copies
      .filter((c) => c.outcome === 'pending')
      .map((c) => waitingOf('dr', c.kind, c.target, c.snapshotId, now)),
    ...sent.outcomes
      .filter((c) => c.outcome === 'pending')
      .map((c) => waitingOf('vault', c.kind, c.target, c.snapshotId, now)),
  ];

  // What belongs to no one snapshot is told once per slot: in the newest slot's record.
  const newest = open.at(-1)?.id;
  for (const [i, f] of failures.entries()) {
    if (f.slot === undefined) failures[i] = { ...f, slot: newest, resolvedBy: null };
  }
  const recorded = await recordSlots(deps, policy, open, held, now, failures);
  const settledNow = await settleSlots(deps, policy, open, held, sent, waiting, now, failures);
  return settle(
    {
      open: open.map((s) => s.id),
      created: created.map((c) => c.outcome),
      copies,
      vault: sent.outcomes,
      waiting,
      settled: settledNow,
      amended: recorded.amended,
      ignored,
    },
    failures,
    recorded.told,
  );
}

/** A failure of the pass, with the slot whose record it belongs in and what resolves it. */
interface Failure extends JobFailure {
  readonly slot?: string;
  readonly resolvedBy?: string | null;
}

function settle(
  result: Omit<PassResult, 'failures' | 'newFailures'>,
  failures: readonly Failure[],
  told: ReadonlySet<string>,
): PassResult {
  const plain = failures.map(({ subject, error }) => ({ subject, error }));
  // A failure recorded before (in its slot's record) was told then; the rest are told now.
  const newFailures = failures
    .filter((f) => f.slot === undefined || told.has(f.subject))
    .map(({ subject, error }) => ({ subject, error }));
  return { ...result, failures: plain, newFailures };
}

/**
 * The slots still in the pipeline: those the snapshot job recorded within the lookback, less
 * those already settled, oldest first.
 */
async function openSlots(
  deps: PipelineDeps,
  policy: Policy,
  now: Date,
  failures: Failure[],
): Promise<Slot[]> {
  const lookback = parseDuration(policy.verification.lookback);
  const since = lookback ? subtractDuration(now, lookback) : now;
  try {
    const [runs, settled] = await Promise.all([
      deps.recorder.runs(policy.name, 'snapshot-rds'),
      deps.settled.since(slotOf(since)),
    ]);
    return runs
      .flatMap((runId) => {
        const slot = parseSlotId(parseRunId(runId)?.slotId ?? '');
        return slot && slot.time >= since && slot.time <= now && !settled.has(slot.id)
          ? [slot]
          : [];
      })
      .sort((a, b) => a.id.localeCompare(b.id));
  } catch (error) {
    failures.push({ subject: 'the slots in the pipeline', error: errorSummary(error) });
    return [];
  }
}

/**
 * What the regions hold of the open slots' snapshots, by their deterministic identifiers: the
 * cost follows the slots in the pipeline, not all a region keeps.
 */
async function holdingsOf(
  deps: PipelineDeps,
  targets: readonly Target[],
  open: readonly Slot[],
): Promise<Holdings> {
  const ids = (kind: SnapshotKind) =>
    targets
      .filter((t) => t.kind === kind)
      .flatMap((t) => open.map((slot) => snapshotIdentifier(t.identifier, slot)));
  const inRegion = async (rds: RegionalRds) =>
    (await Promise.all(KINDS.map((kind) => describeSnapshotsById(rds, kind, ids(kind))))).flat();
  const [primary, dr] = await Promise.all([inRegion(deps.primary), inRegion(deps.dr)]);
  return { targets, primary, dr, vault: [] };
}

/**
 * The DR region's manual snapshots of each kind, counted only when a copy may start (its quota
 * decides): a listing of the whole region, which a pass with nothing to copy does without.
 */
async function drCountIfCopying(
  deps: PipelineDeps,
  targets: readonly Target[],
  held: Holdings,
): Promise<Record<SnapshotKind, number>> {
  const copied = new Set(held.dr.map((s) => `${s.kind}/${s.id}`));
  const due = held.primary.some(
    (s) => s.status === 'available' && ownSnapshot(s, targets) && !copied.has(`${s.kind}/${s.id}`),
  );
  if (!due) return { instance: 0, cluster: 0 };
  const all = await listManualSnapshots(deps.dr);
  return {
    instance: all.filter((s) => s.kind === 'instance').length,
    cluster: all.filter((s) => s.kind === 'cluster').length,
  };
}

/**
 * The snapshots the newest slot's run deferred (its deadline came first), taken now: the slot's
 * record names them, and they are taken only until the next slot begins.
 */
async function takeDeferred(
  deps: PipelineDeps,
  policy: Policy,
  open: readonly Slot[],
  targets: readonly Target[],
  held: Holdings,
  failures: Failure[],
): Promise<{ outcome: TargetOutcome; snapshot?: SnapshotRecord }[]> {
  const newest = open.at(-1);
  if (!newest) return [];
  const runId = runIdOf('snapshot-rds', newest);
  let deferred: Set<string>;
  try {
    const [record] = await deps.recorder.readRuns(
      policy.name,
      'snapshot-rds',
      (id) => id === runId,
    );
    deferred = new Set(
      (record?.failures ?? [])
        .filter((f) => f.error.startsWith('OutOfTimeError:') && f.resolvedBy)
        .map((f) => f.resolvedBy as string),
    );
  } catch (error) {
    failures.push({ subject: `the record of ${runId}`, error: errorSummary(error) });
    return [];
  }
  if (deferred.size === 0) return [];
  const account = deps.recorder.account;
  const plan = planSnapshots({
    policy,
    slot: newest,
    targets: targets.filter((t) =>
      deferred.has(
        snapshotArn(
          policy.regions.primary,
          account,
          t.kind,
          snapshotIdentifier(t.identifier, newest),
        ),
      ),
    ),
    problems: [],
    primary: held.primary,
    dr: held.dr,
  });
  const created = await createSnapshots(deps, policy, newest, plan.creates);
  for (const c of created) {
    if (c.outcome.outcome !== 'failed') continue;
    failures.push({
      subject: `${c.outcome.kind} ${c.outcome.target}`,
      error: c.outcome.error ?? 'failed',
      slot: newest.id,
      resolvedBy: c.outcome.snapshotId
        ? snapshotArn(policy.regions.primary, account, c.outcome.kind, c.outcome.snapshotId)
        : null,
    });
  }
  return created;
}

/**
 * Sends the open slots' sources in the vault's region to the vault account: Lifeboat's
 * snapshots, or in the DR region the copies Lifeboat made of them.
 */
async function sendSnapshotsToVault(
  deps: PipelineDeps,
  policy: Policy,
  targets: readonly Target[],
  held: Holdings,
): Promise<{
  outcomes: readonly VaultCopyOutcome[];
  held: SnapshotRecord[];
  shared: SnapshotRecord[];
  failures: Failure[];
}> {
  const none = { outcomes: [], held: [], shared: [], failures: [] };
  if (!policy.vault) return none;
  const account = deps.recorder.account;
  if (!deps.vault) {
    return {
      ...none,
      failures: [
        {
          subject: `the vault account ${policy.vault.account}`,
          error: 'VaultCopyError: the job was started without a way to reach the vault account',
        },
      ],
    };
  }
  const region = vaultRegionOf(policy);
  const sources =
    region === policy.regions.primary
      ? held.primary.filter((s) => ownSnapshot(s, targets))
      : held.dr.filter(
          (s) => ownSnapshot(s, targets) !== undefined && copiedByLifeboat(s, policy, account),
        );
  const sent = await sendToVault(
    {
      source: region === policy.regions.primary ? deps.primary : deps.dr,
      keys: keyBook(deps.kmsIn, policy.regions.primary, deps.log),
      vault: deps.vault,
      limiter: deps.limiter,
      log: deps.log,
    },
    { name: policy.name, vault: policy.vault },
    account,
    targets,
    sources,
  );
  const failures: Failure[] = sent.failures.map((f) => {
    const outcome = sent.outcomes.find(
      (o) => f.subject === `vault copy of ${o.snapshotId} (${o.kind} ${o.target})`,
    );
    const slot = outcome ? slotOfSnapshot(outcome.snapshotId) : undefined;
    return outcome && slot
      ? {
          ...f,
          slot,
          resolvedBy: snapshotArn(
            region,
            policy.vault?.account ?? '',
            outcome.kind,
            outcome.vaultSnapshotId,
          ),
        }
      : f;
  });
  return {
    outcomes: sent.outcomes,
    held: [...sent.held.copies],
    shared: [...sent.held.shared],
    failures,
  };
}

/**
 * Amends each open slot's record with what the regions and the vault now hold of it, and the
 * failures of this pass that belong to it. Returns the slots amended, and the failures the
 * records did not hold before (the ones to tell).
 */
async function recordSlots(
  deps: PipelineDeps,
  policy: Policy,
  open: readonly Slot[],
  held: Holdings,
  now: Date,
  failures: Failure[],
): Promise<{ amended: string[]; told: Set<string> }> {
  const amended: string[] = [];
  const told = new Set<string>();
  const account = deps.recorder.account;
  for (const slot of open) {
    const runId = runIdOf('snapshot-rds', slot);
    const { drCopies, vaultCopies, snapshots } = artifactsOf(policy, account, slot, held);
    const ofSlot: RunFailure[] = failures
      .filter((f) => f.slot === slot.id)
      .map((f) => ({ subject: f.subject, error: f.error, resolvedBy: f.resolvedBy ?? null }));
    const recordFailures: JobFailure[] = [];
    const { manifest, recorded } = await recordRun(
      deps.recorder,
      newManifest(
        'snapshot-rds',
        slot,
        policy,
        account,
        { snapshots, drCopies, vaultCopies },
        ofSlot,
        now,
      ),
      recordFailures,
    );
    failures.push(...recordFailures);
    if (manifest === 'amended') amended.push(runId);
    for (const f of recorded?.addedFailures ?? []) told.add(f.subject);
    // Not recorded: nothing says it was told, so it is told now.
    if (!recorded) for (const f of ofSlot) told.add(f.subject);
  }
  return { amended, told };
}

/**
 * Notes the open slots that are through the pipeline: every snapshot of the slot settled, its
 * DR copy there and settled (or one the DR region's retention would not keep), its vault copy
 * settled and no longer shared; or past the copy deadline with nothing of it in flight, what is
 * missing then left for verification to name.
 */
async function settleSlots(
  deps: PipelineDeps,
  policy: Policy,
  open: readonly Slot[],
  held: Holdings,
  sent: { outcomes: readonly VaultCopyOutcome[]; shared: readonly SnapshotRecord[] },
  waiting: readonly Waiting[],
  now: Date,
  failures: Failure[],
): Promise<string[]> {
  const account = deps.recorder.account;
  const settled: string[] = [];
  for (const slot of open) {
    const mine = (s: SnapshotRecord) => ownSnapshot(s, held.targets)?.slot.id === slot.id;
    const snapshots = held.primary.filter(mine);
    const copies = held.dr.filter(mine);
    const vaultCopies = held.vault.filter(
      (c) => ownVaultCopy(c, account, held.targets)?.slot.id === slot.id,
    );
    const inFlight = [...snapshots, ...copies, ...vaultCopies].some(isInProgress);
    const sharedStill = sent.shared.some(
      (s) => s.arn.split(':')[4] === account && slotOfSnapshot(s.id) === slot.id,
    );
    const past = now > deadlineAfter(slot.time.toISOString(), policy.verification.copyDeadline);
    const without: string[] = [];
    let done = !inFlight && !sharedStill && !waiting.some((w) => w.slot === slot.id);
    for (const s of snapshots.filter((x) => x.status === 'available')) {
      const copy = copies.find((c) => c.kind === s.kind && c.id === s.id);
      if (!copy) {
        const wanted = planCopies({
          policy,
          targets: held.targets,
          primary: [s],
          dr: held.dr,
          drCount: { instance: 0, cluster: 0 },
          now,
        });
        if (wanted.copies.length > 0 || wanted.decided.length > 0) done = false;
        else
          without.push(
            `${s.id}: not copied to ${policy.regions.dr}, whose retention would not keep it beside a newer copy`,
          );
      }
      if (!policy.vault) continue;
      const own = ownSnapshot(s, held.targets);
      const vaultId = own ? vaultCopyIdentifier(account, own.target, slot) : '';
      const inVault = vaultCopies.some((c) => c.kind === s.kind && c.id === vaultId);
      const decided = sent.outcomes.find((o) => o.vaultSnapshotId === vaultId);
      if (inVault) continue;
      if (decided && (decided.outcome === 'refused' || decided.outcome === 'failed')) {
        without.push(`${vaultId}: ${decided.error ?? decided.outcome}`);
        continue;
      }
      if (copy || vaultRegionOf(policy) === policy.regions.primary) done = false;
    }
    // Past the copy deadline a slot is let go once nothing of it is in flight or waiting under
    // a cap: a late copy of a restore point still serves, and verification names its lateness.
    if (!done && !(past && !inFlight && !waiting.some((w) => w.slot === slot.id))) continue;
    try {
      await deps.settled.settle(slot, {
        settledAt: now.toISOString(),
        snapshots: snapshots.length,
        drCopies: copies.length,
        vaultCopies: vaultCopies.length,
        without,
      });
      settled.push(slot.id);
    } catch (error) {
      failures.push({ subject: `the note that ${slot.id} is settled`, error: errorSummary(error) });
    }
  }
  return settled;
}

function waitingOf(
  to: 'dr' | 'vault',
  kind: SnapshotKind,
  target: string,
  snapshotId: string,
  now: Date,
): Waiting {
  const slot = parseSlotId(slotOfSnapshot(snapshotId) ?? '');
  return {
    to,
    kind,
    target,
    snapshotId,
    slot: slot?.id ?? '',
    waitingSeconds: slot
      ? Math.max(0, Math.round((now.getTime() - slot.time.getTime()) / 1000))
      : 0,
  };
}

function slotOfSnapshot(id: string): string | undefined {
  return slotOfIdentifier(id)?.id;
}

function failed(o: { outcome: string }): boolean {
  return o.outcome === 'failed' || o.outcome === 'refused';
}

function byId(a: CopyOutcome, b: CopyOutcome): number {
  return `${a.kind}/${a.snapshotId}`.localeCompare(`${b.kind}/${b.snapshotId}`);
}
