import * as z from 'zod/mini';
import '../shared/validation/zod.js';
import type { SnapshotRecord } from '../shared/rds/snapshots.js';
import { fieldProblems } from '../shared/validation/zod-issues.js';
import { UsageError } from './cli-errors.js';

const instant = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' });

const SnapshotEntry = z.strictObject({
  id: z.string().check(z.minLength(1, 'must not be empty')),
  arn: z.optional(z.string()),
  region: z.string().check(z.minLength(1, 'must not be empty')),
  kind: z.enum(['instance', 'cluster'], 'must be instance or cluster'),
  target: z.string().check(z.minLength(1, 'must not be empty')),
  time: instant,
  status: z._default(z.string(), 'available'),
  managedBy: z.optional(z.string()),
  source: z.optional(z.string()),
  legalHold: z._default(z.boolean('must be true or false'), false),
  verifiedAt: z.optional(instant),
});

/**
 * An inventory to plan retention on without touching AWS: `{ "snapshots": [ ... ] }`, each entry
 * with id, region, kind (instance|cluster), target, time, and optionally status, managedBy (the
 * policy that created it), source, legalHold and verifiedAt.
 */
export const InventoryFileSchema = z.strictObject({ snapshots: z.array(SnapshotEntry) });

/** Parses inventory JSON text into snapshot records, naming every bad field. */
export function parseInventory(text: string, source: string): SnapshotRecord[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`${source}: not valid JSON`);
  }
  const result = InventoryFileSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const problems = fieldProblems(result.error.issues).map((p) => `  - ${p.path}: ${p.message}`);
    throw new UsageError(`${source}: ${problems.length} problem(s)\n${problems.join('\n')}`);
  }
  return result.data.snapshots.map((s) => {
    const type = s.kind === 'instance' ? 'snapshot' : 'cluster-snapshot';
    return {
      id: s.id,
      arn: s.arn ?? `arn:aws:rds:${s.region}:000000000000:${type}:${s.id}`,
      region: s.region,
      kind: s.kind,
      target: s.target,
      database: s.target,
      copiedFrom: undefined,
      time: new Date(s.time),
      createdAt: new Date(s.time),
      slot: undefined,
      status: s.status,
      engine: undefined,
      encrypted: true,
      kmsKeyId: undefined,
      managedBy: s.managedBy,
      source: s.source,
      legalHold: s.legalHold,
      verifiedAt: s.verifiedAt ? new Date(s.verifiedAt) : undefined,
      tags: new Map(),
    };
  });
}

/** The inventory file form of snapshot records, so a live inventory can be saved and replayed. */
export function toInventoryFile(
  snapshots: readonly SnapshotRecord[],
): z.input<typeof InventoryFileSchema> {
  return {
    snapshots: snapshots.map((s) => ({
      id: s.id,
      arn: s.arn,
      region: s.region,
      kind: s.kind,
      target: s.target,
      time: (s.time ?? new Date(0)).toISOString(),
      status: s.status,
      ...(s.managedBy !== undefined ? { managedBy: s.managedBy } : {}),
      ...(s.source !== undefined ? { source: s.source } : {}),
      legalHold: s.legalHold,
      ...(s.verifiedAt ? { verifiedAt: s.verifiedAt.toISOString() } : {}),
    })),
  };
}
