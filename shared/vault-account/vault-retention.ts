import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import type { RateLimiter } from '../aws/rate-limiter.js';
import { parseVaultCopyIdentifier } from '../naming/slot.js';
import type { JobLog } from '../observability/job-log.js';
import type { VaultPolicy } from '../policy/vault-policy.js';
import { listManualSnapshots, type SnapshotRecord } from '../rds/snapshots.js';
import { applyRetentionPlan, type DeletionOutcome } from '../retention/retention-job.js';
import {
  type PlanPolicy,
  planRetention,
  type RetentionDecision,
} from '../retention/retention-planner.js';

/** A copy in the vault, attributed to the production account that sent it. */
export interface VaultCopy {
  readonly snapshot: SnapshotRecord;
  /** The production account the copy's identifier names. */
  readonly sourceAccount: string;
  /** The database it is a copy of, in its source account. */
  readonly database: string;
}

/** The vault's snapshots: copies from its sources, and everything else (never touched). */
export interface VaultInventory {
  readonly copies: readonly VaultCopy[];
  readonly others: readonly { readonly snapshot: SnapshotRecord; readonly reason: string }[];
}

/**
 * Sorts the vault account's snapshots into copies from its sources, by the identifier Lifeboat
 * gives them (source account, database, slot), and everything else, with why it is not one.
 */
export function vaultInventory(
  snapshots: readonly SnapshotRecord[],
  policy: Pick<VaultPolicy, 'sources'>,
): VaultInventory {
  const sources = new Set(policy.sources.map((s) => s.account));
  const copies: VaultCopy[] = [];
  const others: { snapshot: SnapshotRecord; reason: string }[] = [];
  for (const snapshot of snapshots) {
    const named = parseVaultCopyIdentifier(snapshot.id);
    if (!named) others.push({ snapshot, reason: 'not a Lifeboat vault copy' });
    else if (!sources.has(named.sourceAccount)) {
      others.push({
        snapshot,
        reason: `from account ${named.sourceAccount}, which is not a source of this vault`,
      });
    } else {
      copies.push({
        snapshot: { ...snapshot, time: named.slot.time, slot: named.slot.id },
        sourceAccount: named.sourceAccount,
        database: snapshot.database,
      });
    }
  }
  return { copies, others };
}

/** The planner's view of the vault: one group per source account, kind and database. */
function planPolicy(policy: VaultPolicy): PlanPolicy {
  return {
    name: `vault:${policy.name}`,
    timeZone: policy.timeZone,
    // The vault's copies are planned as copies (the planner's DR role): nothing waits for them.
    regions: { primary: `not-${policy.region}`, dr: policy.region },
    retention: {
      schedule: policy.retention.schedule,
      primary: policy.retention.rules,
      dr: policy.retention.rules,
    },
  };
}

export interface VaultRetentionPlan {
  readonly now: Date;
  /** The decisions, per source account. */
  readonly bySource: ReadonlyMap<string, readonly RetentionDecision[]>;
  /** Snapshots the vault holds that are not its sources' copies: kept, with why. */
  readonly others: VaultInventory['others'];
  readonly keep: number;
  readonly delete: number;
}

/**
 * Plans the vault's own retention over its copies: the policy's grandfather-father-son rules per
 * source account, kind and database, with the same safety rails as production's (legal holds,
 * minimum age, the newest restore point). Anything not a source's copy is kept. Pure.
 */
export function planVaultRetention(
  inventory: VaultInventory,
  policy: VaultPolicy,
  now: Date,
): VaultRetentionPlan {
  const managedBy = `vault:${policy.name}`;
  const records = inventory.copies.map((c) => ({
    ...c.snapshot,
    target: `${c.sourceAccount}/${c.database}`,
    managedBy,
  }));
  const plan = planRetention(records, planPolicy(policy), now);
  const bySource = new Map<string, RetentionDecision[]>();
  for (const d of plan.decisions) {
    const account = d.snapshot.target.split('/')[0] ?? '';
    const list = bySource.get(account) ?? [];
    list.push(d);
    bySource.set(account, list);
  }
  return {
    now,
    bySource,
    others: inventory.others,
    keep: plan.keep + inventory.others.length,
    delete: plan.delete,
  };
}

export interface VaultRetentionDeps {
  /** RDS of the vault account in its region, as the vault's retention role. */
  readonly rds: RegionalRds;
  readonly limiter: RateLimiter;
  readonly log: JobLog;
}

export interface VaultRetentionResult {
  readonly plan: VaultRetentionPlan;
  readonly deletions: readonly DeletionOutcome[];
  readonly failures: readonly JobFailure[];
}

/**
 * One run of the vault's retention: lists the vault's snapshots, plans, and deletes what the
 * plan deletes (only copies from its sources, never anything else). `apply: false` plans only.
 * A plan that cannot be stored first deletes nothing.
 */
export async function runVaultRetention(
  deps: VaultRetentionDeps,
  policy: VaultPolicy,
  now: Date,
  options: {
    readonly apply: boolean;
    /** Runs before anything is deleted (the stack stores the plan in the locked bucket). */
    readonly beforeDeleting?: (plan: VaultRetentionPlan) => Promise<void>;
  } = { apply: true },
): Promise<VaultRetentionResult> {
  const inventory = vaultInventory(await listManualSnapshots(deps.rds), policy);
  const plan = planVaultRetention(inventory, policy, now);
  if (!options.apply) return { plan, deletions: [], failures: [] };
  await options.beforeDeleting?.(plan);
  const decisions = [...plan.bySource.values()].flat();
  const deletions = await applyRetentionPlan(
    { primary: deps.rds, dr: deps.rds, limiter: deps.limiter, log: deps.log },
    { now, decisions, keep: plan.keep, delete: plan.delete },
    planPolicy(policy),
  );
  const failures = deletions
    .filter((d) => d.outcome === 'failed')
    .map((d) => ({
      subject: `vault copy ${d.snapshotId} (${d.target})`,
      error: d.error ?? 'failed',
    }));
  return { plan, deletions, failures };
}

/** The plan as the vault stores it, per source account: every decision with its reasons. */
export function retentionReport(plan: VaultRetentionPlan) {
  return {
    plannedAt: plan.now.toISOString(),
    keep: plan.keep,
    delete: plan.delete,
    sources: Object.fromEntries(
      [...plan.bySource.entries()].map(([account, decisions]) => [
        account,
        decisions.map((d) => ({ snapshot: d.snapshot.id, action: d.action, reasons: d.reasons })),
      ]),
    ),
    others: plan.others.map((o) => ({ snapshot: o.snapshot.id, reason: o.reason })),
  };
}
