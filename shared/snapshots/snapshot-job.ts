import type { KMSClient } from '@aws-sdk/client-kms';
import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import { type KeyBook, keyBook, keyRisk } from '../aws/key-states.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import {
  type DrCopyArtifact,
  newManifest,
  type RunFailure,
  type SnapshotArtifact,
  type VaultCopyArtifact,
} from '../manifest/manifest.js';
import type { RecordOutcome, RunRecorder } from '../manifest/run-recorder.js';
import { recordRun } from '../manifest/run-recorder.js';
import { runIdOf } from '../naming/run-ids.js';
import { type Slot, snapshotArn } from '../naming/slot.js';
import { TAG, type Tag } from '../naming/tags.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import { vaultRegionOf } from '../policy/regions.js';
import type { Policy } from '../policy/schema.js';
import {
  copySnapshot,
  createSnapshot,
  listManualSnapshots,
  type SnapshotKind,
  type SnapshotRecord,
} from '../rds/snapshots.js';
import { discoverTargets, type Target } from '../rds/targets.js';
import type { VaultAccount } from '../vault-account/vault-account.js';
import { KeyAtRiskError } from './errors.js';
import {
  type CopyOutcome,
  ownSnapshot,
  planCopies,
  planSnapshots,
  quotaOf,
  type TargetOutcome,
} from './snapshot-planner.js';

import { ownVaultCopy, sendToVault, type VaultCopyOutcome, vaultCopiesOf } from './vault-copies.js';

export type { CopyOutcome, TargetOutcome } from './snapshot-planner.js';
export type { VaultCopyOutcome } from './vault-copies.js';

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
  /** The isolated vault account, when the policy has one. */
  readonly vault?: VaultAccount;
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
  readonly copies: readonly CopyOutcome[];
  /** What was sent to the vault account (empty without one). */
  readonly vault: readonly VaultCopyOutcome[];
  readonly quotas: readonly QuotaUsage[];
  /** The slot's record: written, amended with what earlier deliveries missed, or complete. */
  readonly manifest: RecordOutcome | 'not-written';
  /** Earlier runs whose records this run completed with the DR copies made since. */
  readonly amended: readonly string[];
  /** Targets and copies that failed or were refused; the run as a whole failed if any. */
  readonly failures: readonly JobFailure[];
}

const KINDS: readonly SnapshotKind[] = ['instance', 'cluster'];
const KEY_ARN = /^arn:[^:]+:kms:[^:]+:\d{12}:key\//;

/**
 * One scheduled run: a snapshot of every target for the slot, then cross-region copies of
 * Lifeboat's snapshots that the DR region lacks, within the in-flight caps. Then it records
 * what both regions hold for the slot, found by the deterministic identifiers (not by what this
 * delivery remembers), and completes the records of recent runs with the copies made since.
 * Safe to repeat for the same slot, and to run beside other deliveries of it.
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
  // A snapshot RDS reports available at once (a local AWS does) is copied in the same run.
  const copyPlan = planCopies({
    policy,
    targets,
    primary: [...primary, ...created.flatMap((c) => (c.snapshot ? [c.snapshot] : []))],
    dr,
  });
  const copied = await startCopies(deps, policy, copyPlan.copies, targets);
  const outcomes = [...plan.targets, ...created.map((c) => c.outcome)].sort((a, b) =>
    `${a.kind}/${a.target}`.localeCompare(`${b.kind}/${b.target}`),
  );
  const copies = [...copyPlan.decided, ...copied].sort((a, b) =>
    `${a.kind}/${a.snapshotId}`.localeCompare(`${b.kind}/${b.snapshotId}`),
  );
  const failures = failuresOf(outcomes, copies);

  // What both regions hold now, whoever made it: other deliveries, or calls whose answer was lost.
  const [primaryAfter, drAfter] = await Promise.all([
    listManualSnapshots(deps.primary),
    listManualSnapshots(deps.dr),
  ]);
  const keys = keyBook(deps.kmsIn, policy.regions.primary, deps.log);
  failures.push(...(await keysAtRisk(keys, policy, targets, [...primaryAfter, ...drAfter])));
  const sentToVault = await sendSnapshotsToVault(
    deps,
    keys,
    policy,
    targets,
    primaryAfter,
    drAfter,
  );
  failures.push(...sentToVault.failures);
  const held: Holdings = {
    targets,
    primary: primaryAfter,
    dr: drAfter,
    vault: sentToVault.held.copies,
  };
  const runId = runIdOf('snapshot-rds', slot);
  const { manifest } = await recordRun(
    deps.recorder,
    newManifest(
      'snapshot-rds',
      slot,
      policy,
      deps.recorder.account,
      artifactsOf(policy, deps.recorder.account, slot, held),
      runFailures(policy, deps.recorder.account, outcomes),
      now,
    ),
    failures,
  );
  const amended = await completeEarlierRuns(deps, policy, slot, held, now, failures);

  const quotas: QuotaUsage[] = KINDS.flatMap((kind) => [
    usage(deps.primary.region, kind, primaryAfter, policy),
    usage(deps.dr.region, kind, drAfter, policy),
  ]);
  return {
    runId,
    slot: slot.time.toISOString(),
    targets: outcomes,
    copies,
    vault: sentToVault.outcomes,
    quotas,
    manifest,
    amended,
    failures,
  };
}

interface Holdings {
  readonly targets: readonly Target[];
  readonly primary: readonly SnapshotRecord[];
  readonly dr: readonly SnapshotRecord[];
  /** The vault account's snapshots (every source account's), when the policy has a vault. */
  readonly vault: readonly SnapshotRecord[];
}

/**
 * Sends the snapshots in the vault's region to the vault account: Lifeboat's snapshots, or in the
 * DR region the copies Lifeboat made of them.
 */
async function sendSnapshotsToVault(
  deps: SnapshotJobDeps,
  keys: KeyBook,
  policy: Policy,
  targets: readonly Target[],
  primary: readonly SnapshotRecord[],
  dr: readonly SnapshotRecord[],
): ReturnType<typeof sendToVault> {
  const none = { outcomes: [], held: { copies: [], shared: [] }, failures: [] };
  if (!policy.vault) return none;
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
  const account = deps.recorder.account;
  const sources =
    region === policy.regions.primary
      ? primary
      : dr.filter(
          (s) => ownSnapshot(s, targets) !== undefined && copiedByLifeboat(s, policy, account),
        );
  return sendToVault(
    {
      source: region === policy.regions.primary ? deps.primary : deps.dr,
      keys,
      vault: deps.vault,
      limiter: deps.limiter,
      log: deps.log,
    },
    { name: policy.name, vault: policy.vault },
    account,
    targets,
    sources,
  );
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

/**
 * Whether a DR snapshot with Lifeboat's name is Lifeboat's copy of its primary snapshot: real
 * RDS names a copy's source, and one copied from elsewhere is not Lifeboat's copy.
 */
function copiedByLifeboat(s: SnapshotRecord, policy: Policy, account: string): boolean {
  return (
    s.copiedFrom === undefined ||
    s.copiedFrom === snapshotArn(policy.regions.primary, account, s.kind, s.id)
  );
}

/** The slot's snapshots, their DR copies and their vault copies, as the regions hold them. */
function artifactsOf(
  policy: Policy,
  account: string,
  slot: Slot,
  held: Holdings,
): {
  snapshots: SnapshotArtifact[];
  drCopies: DrCopyArtifact[];
  vaultCopies: VaultCopyArtifact[];
} {
  const ofSlot = (s: SnapshotRecord) => {
    const own = ownSnapshot(s, held.targets);
    return own?.slot.id === slot.id ? own : undefined;
  };
  const snapshots = held.primary.flatMap((s): SnapshotArtifact[] => {
    const own = ofSlot(s);
    if (!own) return [];
    return [
      {
        arn: s.arn,
        region: s.region,
        kind: s.kind,
        target: own.target,
        slot: slot.id,
        engine: s.engine ?? null,
        encrypted: s.encrypted,
        kmsKeyId: s.kmsKeyId ?? null,
        createdAt: s.createdAt?.toISOString() ?? null,
      },
    ];
  });
  const drCopies = held.dr.flatMap((s): DrCopyArtifact[] => {
    const own = ofSlot(s);
    if (!own || !copiedByLifeboat(s, policy, account)) return [];
    const sourceArn = snapshotArn(policy.regions.primary, account, s.kind, s.id);
    return [
      {
        arn: s.arn,
        sourceArn,
        region: s.region,
        kind: s.kind,
        target: own.target,
        slot: slot.id,
        kmsKeyId: s.kmsKeyId ?? null,
        status: s.status,
      },
    ];
  });
  const vaultCopies = policy.vault
    ? vaultCopiesOf(
        account,
        policy.vault.account,
        held.targets,
        slot,
        vaultRegionOf(policy),
        held.vault,
      )
    : [];
  return { snapshots, drCopies, vaultCopies };
}

/**
 * Completes the records of earlier runs with the DR copies made since they were recorded: a copy
 * waits for room under the caps, or the delivery that started it may have lost its record. Each
 * copy belongs to the record of its snapshot's slot; only slots the DR region holds a copy of
 * are read.
 */
async function completeEarlierRuns(
  deps: SnapshotJobDeps,
  policy: Policy,
  slot: Slot,
  held: Holdings,
  now: Date,
  failures: JobFailure[],
): Promise<string[]> {
  const slots = new Map<string, Slot>();
  const copied = [
    ...held.dr.map((s) => ownSnapshot(s, held.targets)),
    ...held.vault.map((s) => ownVaultCopy(s, deps.recorder.account, held.targets)),
  ];
  for (const own of copied) {
    if (own && own.slot.id !== slot.id && own.slot.time <= now) slots.set(own.slot.id, own.slot);
  }
  if (slots.size === 0) return [];
  let recorded: Set<string>;
  try {
    recorded = new Set(await deps.recorder.runs(policy.name, 'snapshot-rds'));
  } catch (error) {
    failures.push({ subject: 'the records of earlier runs', error: errorSummary(error) });
    return [];
  }
  const amended: string[] = [];
  for (const earlier of [...slots.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const runId = runIdOf('snapshot-rds', earlier);
    if (!recorded.has(runId)) continue;
    const { drCopies, vaultCopies } = artifactsOf(policy, deps.recorder.account, earlier, held);
    const { manifest } = await recordRun(
      deps.recorder,
      newManifest(
        'snapshot-rds',
        earlier,
        policy,
        deps.recorder.account,
        { drCopies, vaultCopies },
        [],
        now,
      ),
      failures,
    );
    if (manifest === 'amended') amended.push(runId);
  }
  return amended;
}

/** The run's target failures, each resolved by the snapshot a later delivery may still take. */
function runFailures(
  policy: Policy,
  account: string,
  outcomes: readonly TargetOutcome[],
): RunFailure[] {
  return outcomes
    .filter((o) => o.outcome === 'failed' || o.outcome === 'refused')
    .map((o) => ({
      subject: `${o.kind} ${o.target}`,
      error: o.error ?? o.outcome,
      resolvedBy: o.snapshotId
        ? snapshotArn(policy.regions.primary, account, o.kind, o.snapshotId)
        : null,
    }));
}

async function createSnapshots(
  deps: SnapshotJobDeps,
  policy: Policy,
  slot: Slot,
  creates: readonly { target: Target; snapshotId: string }[],
): Promise<{ outcome: TargetOutcome; snapshot?: SnapshotRecord }[]> {
  return Promise.all(
    creates.map(async ({ target, snapshotId }) => {
      const base = { kind: target.kind, target: target.identifier, snapshotId };
      try {
        const result = await deps.limiter.run(() =>
          createSnapshot(deps.primary, target.kind, target.identifier, snapshotId, [
            ...lifeboatTags(policy, slot.id, target.identifier),
            { Key: TAG.source, Value: target.arn },
          ]),
        );
        deps.log.info('snapshot', { ...base, outcome: result.outcome });
        return {
          outcome: { ...base, outcome: result.outcome },
          ...(result.outcome === 'created' ? { snapshot: result.snapshot } : {}),
        };
      } catch (error) {
        deps.log.error('snapshot failed', { ...base, error: errorSummary(error) });
        return { outcome: { ...base, outcome: 'failed' as const, error: errorSummary(error) } };
      }
    }),
  );
}

async function startCopies(
  deps: SnapshotJobDeps,
  policy: Policy,
  sources: readonly SnapshotRecord[],
  targets: readonly Target[],
): Promise<CopyOutcome[]> {
  return Promise.all(
    sources.map(async (s): Promise<CopyOutcome> => {
      const own = ownSnapshot(s, targets);
      const target = own?.target ?? s.database;
      const base = { kind: s.kind, target, snapshotId: s.id };
      try {
        const result = await deps.limiter.run(() =>
          copySnapshot(deps.dr, s.kind, s, policy.snapshots.drKmsKeyArn, [
            ...lifeboatTags(policy, own?.slot.id ?? '', target),
            { Key: TAG.source, Value: s.arn },
          ]),
        );
        deps.log.info('copy', { ...base, outcome: result.outcome });
        return { ...base, outcome: result.outcome === 'created' ? 'started' : result.outcome };
      } catch (error) {
        deps.log.error('copy failed', { ...base, error: errorSummary(error) });
        return { ...base, outcome: 'failed', error: errorSummary(error) };
      }
    }),
  );
}

function lifeboatTags(policy: Policy, slotId: string, target: string): Tag[] {
  return [
    { Key: TAG.managed, Value: 'true' },
    { Key: TAG.policy, Value: policy.name },
    { Key: TAG.slot, Value: slotId },
    { Key: TAG.target, Value: target },
  ];
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

function failuresOf(
  targets: readonly TargetOutcome[],
  copies: readonly CopyOutcome[],
): JobFailure[] {
  const failed = (o: { outcome: string }) => o.outcome === 'failed' || o.outcome === 'refused';
  return [
    ...targets
      .filter(failed)
      .map((t) => ({ subject: `${t.kind} ${t.target}`, error: t.error ?? t.outcome })),
    ...copies.filter(failed).map((c) => ({
      subject: `copy of ${c.snapshotId} (${c.kind} ${c.target})`,
      error: c.error ?? c.outcome,
    })),
  ];
}
