import { slotOf } from '../../shared/naming/slot.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';

const ACCOUNT = '123456789012';

/** A snapshot record with sensible defaults: an available Lifeboat snapshot of orders-db. */
export function snapshot(overrides: Partial<SnapshotRecord> & { time: Date }): SnapshotRecord {
  const region = overrides.region ?? 'eu-central-1';
  const kind = overrides.kind ?? 'instance';
  const target = overrides.target ?? 'orders-db';
  const slot = slotOf(overrides.time).id;
  const id = overrides.id ?? `lifeboat-${target}-${slot}`;
  const type = kind === 'instance' ? 'snapshot' : 'cluster-snapshot';
  return {
    id,
    arn: `arn:aws:rds:${region}:${ACCOUNT}:${type}:${id}`,
    region,
    kind,
    target,
    database: target,
    copiedFrom: undefined,
    tags: new Map(),
    slot,
    createdAt: overrides.time,
    status: 'available',
    engine: kind === 'instance' ? 'postgres' : 'aurora-postgresql',
    encrypted: true,
    kmsKeyId: undefined,
    managedBy: 'test-policy',
    source: undefined,
    legalHold: false,
    verifiedAt: undefined,
    ...overrides,
  };
}

/** A DR copy of a primary snapshot record. */
export function drCopyOf(
  primary: SnapshotRecord,
  overrides: Partial<SnapshotRecord> = {},
): SnapshotRecord {
  return snapshot({
    ...primary,
    region: 'eu-west-1',
    arn: primary.arn.replace('eu-central-1', 'eu-west-1'),
    source: primary.arn,
    time: primary.time as Date,
    ...overrides,
  });
}

/** Midnight UTC on the given day of November 2026, plus hours. */
export function nov(day: number, hour = 2): Date {
  return new Date(Date.UTC(2026, 10, day, hour));
}
