import type { JobFailure } from '../alerts/failure-alert.js';
import type { RegionalRds } from '../aws/clients.js';
import { type CalendarDuration, parseDuration, subtractDuration } from '../policy/duration.js';
import { objectiveText } from '../policy/objective.js';
import type { VaultPolicy } from '../policy/vault-policy.js';
import { isInProgress, listManualSnapshots, type SnapshotRecord } from '../rds/snapshots.js';
import { type VaultCopy, vaultInventory } from './vault-retention.js';

/** One database of one source account, as the vault holds it. */
export interface VaultDatabaseStatus {
  readonly kind: 'instance' | 'cluster';
  readonly database: string;
  readonly copies: number;
  /** The slot of the newest copy that is available, or null. */
  readonly newest: string | null;
  readonly problems: readonly string[];
}

export interface VaultSourceStatus {
  readonly account: string;
  readonly label: string | null;
  readonly databases: readonly VaultDatabaseStatus[];
  readonly problems: readonly string[];
}

/** The vault's verification: what each source account has in the vault, and what is wrong. */
export interface VaultVerification {
  readonly vault: string;
  readonly account: string;
  readonly region: string;
  readonly checkedAt: string;
  readonly outcome: 'passed' | 'failed';
  readonly sources: readonly VaultSourceStatus[];
  /** Snapshots in the vault that are not its sources' copies (never touched). */
  readonly others: readonly { readonly snapshot: string; readonly reason: string }[];
}

/**
 * Verifies the vault's copies, grouped by source account, from the vault's side alone: every
 * source has sent something, each database's newest copy is within the policy's freshness, no
 * copy failed or is stuck past the copy deadline, and every copy is encrypted with the vault's
 * key. Pure.
 */
export function verifyVaultCopies(
  snapshots: readonly SnapshotRecord[],
  policy: VaultPolicy,
  vaultKeyArn: string,
  now: Date,
): VaultVerification {
  const inventory = vaultInventory(snapshots, policy);
  const freshness = parseDuration(policy.verification.freshness) as CalendarDuration;
  const deadline = parseDuration(policy.verification.copyDeadline) as CalendarDuration;
  const staleBefore = subtractDuration(now, freshness).getTime();
  const stuckBefore = subtractDuration(now, deadline).getTime();
  const keyId = vaultKeyArn.split('/').pop();

  const sources = policy.sources.map((source): VaultSourceStatus => {
    const mine = inventory.copies.filter((c) => c.sourceAccount === source.account);
    const groups = new Map<string, VaultCopy[]>();
    for (const c of mine) {
      const key = `${c.snapshot.kind}/${c.database}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    const databases = [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, copies]): VaultDatabaseStatus => {
        const first = copies[0] as VaultCopy;
        const problems: string[] = [];
        const available = copies
          .filter((c) => c.snapshot.status === 'available')
          .sort((a, b) => (b.snapshot.time?.getTime() ?? 0) - (a.snapshot.time?.getTime() ?? 0));
        const newest = available[0]?.snapshot;
        if (!newest) problems.push('no copy is available');
        else if ((newest.time?.getTime() ?? 0) < staleBefore) {
          const age = Math.round((now.getTime() - (newest.time?.getTime() ?? 0)) / 1000);
          problems.push(
            `the newest copy is ${objectiveText(age)} old, past the freshness of ${policy.verification.freshness}: its source has stopped sending`,
          );
        }
        for (const c of copies) {
          const s = c.snapshot;
          if (s.status === 'failed') problems.push(`${s.id} failed`);
          else if (isInProgress(s) && (s.time?.getTime() ?? 0) < stuckBefore) {
            problems.push(
              `${s.id} is still ${s.status}, past the copy deadline of ${policy.verification.copyDeadline}`,
            );
          }
          if (s.status !== 'failed' && !isInProgress(s)) {
            if (!s.encrypted) problems.push(`${s.id} is not encrypted`);
            else if (
              s.kmsKeyId &&
              s.kmsKeyId !== vaultKeyArn &&
              !s.kmsKeyId.endsWith(`/${keyId}`)
            ) {
              problems.push(`${s.id} is encrypted with ${s.kmsKeyId}, not the vault's key`);
            }
          }
        }
        return {
          kind: first.snapshot.kind,
          database: first.database,
          copies: copies.length,
          newest: newest?.slot ?? null,
          problems,
        };
      });
    return {
      account: source.account,
      label: source.label ?? null,
      databases,
      problems:
        mine.length === 0
          ? [`nothing has arrived from account ${source.account}: its Lifeboat sends no copies`]
          : [],
    };
  });
  const failed = sources.some(
    (s) => s.problems.length > 0 || s.databases.some((d) => d.problems.length > 0),
  );
  return {
    vault: policy.name,
    account: policy.account,
    region: policy.region,
    checkedAt: now.toISOString(),
    outcome: failed ? 'failed' : 'passed',
    sources,
    others: inventory.others.map((o) => ({ snapshot: o.snapshot.id, reason: o.reason })),
  };
}

/** Each problem of a verification, as a job failure naming its source account and database. */
export function verificationFailures(verification: VaultVerification): JobFailure[] {
  return verification.sources.flatMap((s) => [
    ...s.problems.map((error) => ({ subject: `account ${s.account}`, error })),
    ...s.databases.flatMap((d) =>
      d.problems.map((error) => ({
        subject: `account ${s.account} ${d.kind} ${d.database}`,
        error,
      })),
    ),
  ]);
}

/** One verification of the vault, from its own listing. */
export async function runVaultVerification(
  rds: RegionalRds,
  policy: VaultPolicy,
  vaultKeyArn: string,
  now: Date,
): Promise<{ verification: VaultVerification; failures: JobFailure[] }> {
  const verification = verifyVaultCopies(await listManualSnapshots(rds), policy, vaultKeyArn, now);
  return { verification, failures: verificationFailures(verification) };
}
