import { createHash } from 'node:crypto';

/**
 * How far clocks may disagree (Scheduler's, Lambda's, RDS's): a scheduled time this far ahead is
 * not in the future yet, a snapshot taken this long before its slot is still its slot's.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** A schedule slot: the scheduled time of one run, truncated to the minute, in UTC. */
export interface Slot {
  /** e.g. 2026-11-21T03:00:00.000Z */
  readonly time: Date;
  /** e.g. 202611210300: the form used in identifiers */
  readonly id: string;
}

/** The slot a scheduled time belongs to. Two deliveries of one schedule tick share a slot. */
export function slotOf(scheduledTime: Date): Slot {
  const time = new Date(Math.floor(scheduledTime.getTime() / 60_000) * 60_000);
  const id = time.toISOString().slice(0, 16).replace(/[-T:]/g, '');
  return { time, id };
}

/** The slot a slot id names, or undefined when the text is not one. */
export function parseSlotId(id: string): Slot | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(id);
  if (!m) return undefined;
  const time = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00Z`);
  return Number.isNaN(time.getTime()) || slotOf(time).id !== id ? undefined : { time, id };
}

// DBClusterSnapshotIdentifier and DB identifiers allow 63 characters. One rule for all names.
const MAX_IDENTIFIER = 63;

/**
 * `<prefix>-<name>-<suffix>` in lowercase, kept within 63 characters: a name too long is cut and
 * followed by a hash of it, so distinct names stay distinct.
 *
 * @example boundedIdentifier('lifeboat', 'orders-db', '202611210300') // 'lifeboat-orders-db-202611210300'
 */
export function boundedIdentifier(prefix: string, name: string, suffix: string): string {
  const lower = name.toLowerCase();
  const plain = `${prefix}-${lower}-${suffix}`;
  if (plain.length <= MAX_IDENTIFIER) return plain;
  const hash = createHash('sha256').update(lower).digest('hex').slice(0, 8);
  const room = MAX_IDENTIFIER - prefix.length - hash.length - suffix.length - 3;
  const head = lower.slice(0, room).replace(/-+$/, '');
  return `${prefix}-${head}-${hash}-${suffix}`;
}

/**
 * The identifier of the snapshot Lifeboat takes of `target` in `slot`: the same inputs always
 * give the same identifier, so a repeated delivery finds the snapshot already there.
 *
 * @example snapshotIdentifier('orders-db', slotOf(new Date('2026-11-21T03:00:00Z')))
 *   // 'lifeboat-orders-db-202611210300'
 */
export function snapshotIdentifier(target: string, slot: Slot): string {
  return boundedIdentifier('lifeboat', target, slot.id);
}

/**
 * The identifier of a snapshot's copy in the vault account: the source account comes first, so
 * that the copies of many production accounts never clash and the vault groups them by it.
 *
 * @example vaultCopyIdentifier('111122223333', 'orders-db', slot) // 'lifeboat-111122223333-orders-db-202611210300'
 */
export function vaultCopyIdentifier(sourceAccount: string, target: string, slot: Slot): string {
  return boundedIdentifier('lifeboat', `${sourceAccount}-${target}`, slot.id);
}

/**
 * Whether a vault snapshot is the copy of one of a source account's targets' snapshots, by its
 * identifier (the source account, the target, the slot) and the database RDS keeps for it.
 */
export function ownVaultCopy(
  copy: { readonly id: string; readonly kind: string; readonly database: string },
  account: string,
  targets: readonly { readonly kind: string; readonly identifier: string }[],
): { readonly target: string; readonly slot: Slot } | undefined {
  const slot = slotOfIdentifier(copy.id);
  if (!slot) return undefined;
  const target = targets.find(
    (t) =>
      t.kind === copy.kind &&
      t.identifier.toLowerCase() === copy.database.toLowerCase() &&
      vaultCopyIdentifier(account, t.identifier, slot) === copy.id,
  );
  return target ? { target: target.identifier, slot } : undefined;
}

/** The source account and slot a vault copy's identifier names, or undefined. */
export function parseVaultCopyIdentifier(
  id: string,
): { readonly sourceAccount: string; readonly slot: Slot } | undefined {
  const match = /^lifeboat-(\d{12})-.+-(\d{12})$/.exec(id);
  const slot = match ? parseSlotId(match[2] as string) : undefined;
  return match && slot ? { sourceAccount: match[1] as string, slot } : undefined;
}

/**
 * The slot a Lifeboat identifier ends with (`lifeboat-orders-db-202611210300`), or undefined.
 * Only the identifier says so: whether the snapshot is Lifeboat's is for its facts and the
 * signed manifests to say.
 */
export function slotOfIdentifier(id: string): Slot | undefined {
  const match = /-(\d{12})$/.exec(id);
  return match ? parseSlotId(match[1] as string) : undefined;
}

/** The AWS partition a region belongs to. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The ARN a manual snapshot of that identifier has (or will have) in a region.
 *
 * @example snapshotArn('eu-west-1', '123456789012', 'instance', 'lifeboat-orders-db-202611210300')
 *   // 'arn:aws:rds:eu-west-1:123456789012:snapshot:lifeboat-orders-db-202611210300'
 */
export function snapshotArn(
  region: string,
  account: string,
  kind: 'instance' | 'cluster',
  id: string,
): string {
  const type = kind === 'instance' ? 'snapshot' : 'cluster-snapshot';
  return `arn:${partitionOf(region)}:rds:${region}:${account}:${type}:${id}`;
}
