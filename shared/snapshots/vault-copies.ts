import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import type { KeyBook } from '../aws/key-states.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import type { VaultCopyArtifact } from '../manifest/manifest.js';
import {
  ownVaultCopy,
  type Slot,
  slotOfIdentifier,
  snapshotArn,
  snapshotIdentifier,
  vaultCopyIdentifier,
} from '../naming/slot.js';
import { TAG, type Tag } from '../naming/tags.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy, VaultAccountPolicy } from '../policy/schema.js';
import {
  copySnapshot,
  isInProgress,
  listManualSnapshots,
  listSharedSnapshots,
  type SnapshotKind,
  type SnapshotRecord,
  setSnapshotShared,
} from '../rds/snapshots.js';
import type { Target } from '../rds/targets.js';
import type { VaultAccount } from '../vault-account/vault-account.js';
import { SnapshotQuotaError } from './errors.js';
import { ownSnapshot } from './snapshot-planner.js';

/** A snapshot the vault account cannot receive: RDS will not share it, or the vault cannot use it. */
export class VaultCopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultCopyError';
  }
}

export interface VaultCopyOutcome {
  readonly kind: SnapshotKind;
  readonly target: string;
  /** The snapshot copied: Lifeboat's snapshot, or its DR copy, in the vault's region. */
  readonly snapshotId: string;
  readonly vaultSnapshotId: string;
  /** pending: waits for room under the vault's in-flight cap; it starts when one finishes. */
  readonly outcome: 'started' | 'already-exists' | 'pending' | 'refused' | 'failed';
  readonly detail?: string;
  readonly error?: string;
}

/** What the vault account holds, and which of this account's snapshots it is shared. */
export interface VaultHoldings {
  /** Every manual snapshot in the vault account's region, whichever account it came from. */
  readonly copies: readonly SnapshotRecord[];
  /** Snapshots other accounts share with the vault account now. */
  readonly shared: readonly SnapshotRecord[];
}

/** What a run knows before it sends anything to the vault. */
export interface VaultPlanInput {
  readonly vault: Pick<VaultAccountPolicy, 'account' | 'copyCaps' | 'quotas'>;
  /** The production account, whose snapshots go to the vault. */
  readonly account: string;
  readonly targets: readonly Target[];
  /** Lifeboat's snapshots in the vault's region (the primary's, or the DR copies). */
  readonly sources: readonly SnapshotRecord[];
  readonly held: VaultHoldings;
  /** Keys AWS manages (aws/rds): RDS will not share what they encrypt. */
  readonly awsManagedKeys: ReadonlySet<string>;
}

export interface VaultPlan {
  /** Snapshots to share and copy now, the newest restore points first. */
  readonly copies: readonly {
    readonly source: SnapshotRecord;
    readonly target: string;
    readonly vaultId: string;
  }[];
  /** Decided without a call: already copied, waiting under the cap, refused. */
  readonly decided: readonly VaultCopyOutcome[];
  /** This account's snapshots shared with the vault that need not be any longer. */
  readonly unshare: readonly SnapshotRecord[];
}

export { ownVaultCopy } from '../naming/slot.js';

const KINDS: readonly SnapshotKind[] = ['instance', 'cluster'];

/**
 * Plans what a pass sends to the vault: a copy of every one of Lifeboat's available snapshots
 * given (those of the slots still in the pipeline) the vault lacks, the newest restore point
 * first, within the vault's in-flight caps and quota; and which shares to end (their copy is
 * done, or none is under way). Slots the pipeline has settled are not given again, so the vault's
 * retention deleting a copy never causes a second one. Pure.
 */
export function planVaultCopies(input: VaultPlanInput): VaultPlan {
  const { vault, account, targets, held } = input;
  const copyById = new Map(held.copies.map((c) => [`${c.kind}/${c.id}`, c]));
  const decided: VaultCopyOutcome[] = [];
  const candidates: { source: SnapshotRecord; vaultId: string; target: string; slot: Slot }[] = [];
  for (const source of input.sources) {
    const own = ownSnapshot(source, targets);
    if (!own || source.status !== 'available') continue;
    const vaultId = vaultCopyIdentifier(account, own.target, own.slot);
    const base = {
      kind: source.kind,
      target: own.target,
      snapshotId: source.id,
      vaultSnapshotId: vaultId,
    };
    const existing = copyById.get(`${source.kind}/${vaultId}`);
    if (existing?.status === 'failed') {
      const error = new VaultCopyError(
        `the vault account's copy ${vaultId} failed: the vault's retention removes it, and the next copy of ${own.target} is made from a later snapshot`,
      );
      decided.push({ ...base, outcome: 'failed', error: errorSummary(error) });
      continue;
    }
    if (existing) continue;
    const key = source.kmsKeyId;
    if (source.encrypted && key && input.awsManagedKeys.has(key)) {
      const error = new VaultCopyError(
        `${source.id} is encrypted with the AWS-managed key aws/rds, which RDS cannot share with another account: encrypt ${own.target} (or its DR copies, snapshots.drKmsKeyArn) with a customer-managed key`,
      );
      decided.push({ ...base, outcome: 'refused', error: errorSummary(error) });
      continue;
    }
    candidates.push({ source, vaultId, target: own.target, slot: own.slot });
  }
  // The newest restore point first: the vault's recovery point is what matters.
  candidates.sort(
    (a, b) =>
      b.slot.time.getTime() - a.slot.time.getTime() || a.source.id.localeCompare(b.source.id),
  );

  const copies: { source: SnapshotRecord; target: string; vaultId: string }[] = [];
  for (const kind of KINDS) {
    const ofKind = candidates.filter((c) => c.source.kind === kind);
    if (ofKind.length === 0) continue;
    const cap = vault.copyCaps[kind];
    const inFlight = held.copies.filter((c) => c.kind === kind && isInProgress(c)).length;
    const room = Math.max(0, cap - inFlight);
    const now = ofKind.slice(0, room);
    for (const c of ofKind.slice(room)) {
      decided.push({
        kind,
        target: c.target,
        snapshotId: c.source.id,
        vaultSnapshotId: c.vaultId,
        outcome: 'pending',
        detail: `${inFlight + now.length} ${kind} copies in flight into the vault account ${vault.account} (cap ${cap}); it starts when one finishes`,
      });
    }
    const quota =
      kind === 'instance' ? vault.quotas.instanceSnapshots : vault.quotas.clusterSnapshots;
    const used = held.copies.filter((c) => c.kind === kind).length;
    const refusal =
      now.length > 0 && used + now.length > quota
        ? new SnapshotQuotaError(
            `refused before copying anything: ${now.length} more ${kind} snapshots would take the vault account ${vault.account} to ${used + now.length}, past its quota of ${quota} (vault.quotas.${kind}Snapshots); let the vault's retention delete old copies or raise the quota`,
          )
        : undefined;
    for (const c of now) {
      if (refusal) {
        decided.push({
          kind,
          target: c.target,
          snapshotId: c.source.id,
          vaultSnapshotId: c.vaultId,
          outcome: 'refused',
          error: errorSummary(refusal),
        });
      } else copies.push({ source: c.source, target: c.target, vaultId: c.vaultId });
    }
  }

  // A share lasts while its copy is under way, and no longer.
  const copying = new Set(copies.map((c) => `${c.source.kind}/${c.source.id}`));
  const sourceOf = new Map(input.sources.map((s) => [s.arn, s]));
  const unshare = held.shared.flatMap((shared) => {
    const source = sourceOf.get(shared.arn);
    const own = source ? ownSnapshot(source, targets) : undefined;
    if (!source || !own || copying.has(`${source.kind}/${source.id}`)) return [];
    const copy = copyById.get(
      `${source.kind}/${vaultCopyIdentifier(account, own.target, own.slot)}`,
    );
    return copy && isInProgress(copy) ? [] : [source];
  });

  return {
    copies,
    decided: decided.sort((a, b) =>
      `${a.kind}/${a.snapshotId}`.localeCompare(`${b.kind}/${b.snapshotId}`),
    ),
    unshare,
  };
}

export interface VaultCopyDeps {
  /** RDS in the vault's region, in this (the production) account. */
  readonly source: RegionalRds;
  /** The run's keys: which of the snapshots' keys AWS manages. */
  readonly keys: KeyBook;
  readonly vault: VaultAccount;
  readonly limiter: RateLimiter;
  readonly log: JobLog;
}

export interface VaultCopyResult {
  readonly outcomes: readonly VaultCopyOutcome[];
  /** What the vault account holds after the run, for the run's record. */
  readonly held: VaultHoldings;
  readonly failures: readonly JobFailure[];
}

/**
 * Sends Lifeboat's snapshots in the vault's region to the vault account: shares each with it,
 * copies it there under the vault's own key as the vault's role, and stops sharing once the
 * copy is done (or failed). Safe to repeat: a copy is named by its source account, target and
 * slot, and found again by that name.
 */
export async function sendToVault(
  deps: VaultCopyDeps,
  policy: Pick<Policy, 'name'> & { readonly vault: VaultAccountPolicy },
  account: string,
  targets: readonly Target[],
  sources: readonly SnapshotRecord[],
): Promise<VaultCopyResult> {
  const failures: JobFailure[] = [];
  const subject = `the vault account ${policy.vault.account}`;
  if (account === policy.vault.account) {
    const error = new VaultCopyError(
      `the vault account ${policy.vault.account} is the account this job runs in: the vault must be another account`,
    );
    return {
      outcomes: [],
      held: { copies: [], shared: [] },
      failures: [{ subject, error: errorSummary(error) }],
    };
  }
  let held: VaultHoldings;
  try {
    held = await holdingsOf(deps.vault);
  } catch (error) {
    deps.log.error('vault unreachable', { error: errorSummary(error) });
    return {
      outcomes: [],
      held: { copies: [], shared: [] },
      failures: [{ subject, error: errorSummary(error) }],
    };
  }
  const awsManagedKeys = await awsManagedKeysOf(deps.keys, sources);
  const plan = planVaultCopies({
    vault: policy.vault,
    account,
    targets,
    sources,
    held,
    awsManagedKeys,
  });
  const sharedNow = new Set(held.shared.map((s) => s.arn));
  const started = await Promise.all(
    plan.copies.map((copy) => copyOne(deps, policy, copy, sharedNow.has(copy.source.arn))),
  );
  for (const s of plan.unshare) {
    await stopSharing(deps, s, failures);
  }
  const outcomes = [...plan.decided, ...started].sort((a, b) =>
    `${a.kind}/${a.snapshotId}`.localeCompare(`${b.kind}/${b.snapshotId}`),
  );
  for (const o of outcomes) {
    if (o.outcome === 'failed' || o.outcome === 'refused') {
      failures.push({
        subject: `vault copy of ${o.snapshotId} (${o.kind} ${o.target})`,
        error: o.error ?? o.outcome,
      });
    }
  }
  let after = held;
  try {
    after = await holdingsOf(deps.vault);
  } catch (error) {
    failures.push({ subject, error: errorSummary(error) });
  }
  return { outcomes, held: after, failures };
}

async function holdingsOf(vault: VaultAccount): Promise<VaultHoldings> {
  const [copies, shared] = await Promise.all([
    listManualSnapshots(vault.rds),
    listSharedSnapshots(vault.rds),
  ]);
  return { copies, shared };
}

/**
 * The keys among the snapshots' that AWS manages. A key that cannot be described is not refused
 * here: sharing and copying it say whether it can be used.
 */
async function awsManagedKeysOf(
  keys: KeyBook,
  sources: readonly SnapshotRecord[],
): Promise<Set<string>> {
  const used = [
    ...new Set(sources.flatMap((s) => (s.encrypted && s.kmsKeyId ? [s.kmsKeyId] : []))),
  ];
  const states = await Promise.all(used.map((key) => keys.describe(key)));
  return new Set(used.filter((_, i) => states[i]?.managedByAws));
}

async function copyOne(
  deps: VaultCopyDeps,
  policy: Pick<Policy, 'name'> & { readonly vault: VaultAccountPolicy },
  copy: { readonly source: SnapshotRecord; readonly target: string; readonly vaultId: string },
  alreadyShared: boolean,
): Promise<VaultCopyOutcome> {
  const { source, target, vaultId } = copy;
  const base = { kind: source.kind, target, snapshotId: source.id, vaultSnapshotId: vaultId };
  const vault = policy.vault.account;
  if (!alreadyShared) {
    try {
      await deps.limiter.run(() =>
        setSnapshotShared(deps.source, source.kind, source.id, vault, true),
      );
    } catch (error) {
      const refused = new VaultCopyError(
        `RDS refused to share ${source.id} with the vault account ${vault}: ${sharingReason(error)}`,
      );
      deps.log.error('vault share failed', { ...base, error: errorSummary(error) });
      return { ...base, outcome: 'failed', error: errorSummary(refused) };
    }
  }
  try {
    const tags: Tag[] = [
      { Key: TAG.managed, Value: 'true' },
      { Key: TAG.policy, Value: policy.name },
      { Key: TAG.slot, Value: slotOfIdentifier(source.id)?.id ?? '' },
      { Key: TAG.target, Value: target },
      { Key: TAG.source, Value: source.arn },
    ];
    // RDS encrypts an instance snapshot's copy with the key given; an unencrypted cluster
    // snapshot cannot be encrypted by copying, and refuses a key.
    const key = source.kind === 'cluster' && !source.encrypted ? undefined : deps.vault.kmsKeyArn;
    const result = await deps.limiter.run(() =>
      copySnapshot(deps.vault.rds, source.kind, source, key, tags, vaultId),
    );
    deps.log.info('vault copy', { ...base, outcome: result.outcome });
    if (result.outcome === 'already-exists' || !isInProgress(result.copy)) {
      await stopSharing(deps, source, []);
    }
    return { ...base, outcome: result.outcome === 'created' ? 'started' : 'already-exists' };
  } catch (error) {
    deps.log.error('vault copy failed', { ...base, error: errorSummary(error) });
    // Nothing stays shared for a copy that did not start.
    await stopSharing(deps, source, []);
    return { ...base, outcome: 'failed', error: errorSummary(copyRefusal(error, source, vault)) };
  }
}

async function stopSharing(
  deps: VaultCopyDeps,
  source: SnapshotRecord,
  failures: JobFailure[],
): Promise<void> {
  try {
    await deps.limiter.run(() =>
      setSnapshotShared(deps.source, source.kind, source.id, deps.vault.account, false),
    );
  } catch (error) {
    deps.log.error('vault unshare failed', { snapshotId: source.id, error: errorSummary(error) });
    failures.push({
      subject: `sharing of ${source.id} with the vault account ${deps.vault.account}`,
      error: `still shared: ${errorSummary(error)}`,
    });
  }
}

function sharingReason(error: unknown): string {
  const name = (error as Error).name;
  if (name === 'SharedSnapshotQuotaExceeded' || name === 'SharedSnapshotQuotaExceededFault') {
    return 'the snapshot is shared with as many accounts as RDS allows (20)';
  }
  if (name === 'InvalidDBSnapshotStateFault' || name === 'InvalidDBClusterSnapshotStateFault') {
    return `it cannot be shared in its state (${(error as Error).message})`;
  }
  return errorSummary(error);
}

function copyRefusal(error: unknown, source: SnapshotRecord, vault: string): Error {
  const name = (error as Error).name;
  if (name === 'KMSKeyNotAccessibleFault') {
    return new VaultCopyError(
      `the vault account ${vault} cannot use a key ${source.id} needs (${source.kmsKeyId ?? 'its key'}, or the vault key): the snapshot key's policy must allow the vault account kms:DescribeKey, kms:CreateGrant and kms:Decrypt, and the vault key must allow the vault role`,
    );
  }
  if (name === 'SnapshotQuotaExceededFault' || name === 'SnapshotQuotaExceeded') {
    return new VaultCopyError(
      `the vault account ${vault} has reached its manual snapshot quota: let the vault's retention delete old copies, or raise the quota there`,
    );
  }
  if (name === 'DBSnapshotNotFoundFault' || name === 'DBClusterSnapshotNotFoundFault') {
    return new VaultCopyError(
      `the vault account ${vault} cannot see ${source.id}: it was not shared with it, or is gone`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The vault copy artifacts of one slot, as the vault holds them, for the run's record: each
 * names the snapshot it copies by the deterministic identifier, not by a tag.
 */
export function vaultCopiesOf(
  account: string,
  vaultAccount: string,
  targets: readonly Target[],
  slot: Slot,
  sourceRegion: string,
  copies: readonly SnapshotRecord[],
): VaultCopyArtifact[] {
  return copies.flatMap((c): VaultCopyArtifact[] => {
    const own = ownVaultCopy(c, account, targets);
    if (!own || own.slot.id !== slot.id) return [];
    return [
      {
        arn: c.arn,
        sourceArn: snapshotArn(sourceRegion, account, c.kind, snapshotIdentifier(own.target, slot)),
        account: vaultAccount,
        region: c.region,
        kind: c.kind,
        target: own.target,
        slot: slot.id,
        kmsKeyId: c.kmsKeyId ?? null,
        status: c.status,
      },
    ];
  });
}
