import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSlotId, slotOf, snapshotIdentifier } from '../../shared/naming/slot.js';
import { isLegalHold, TAG } from '../../shared/naming/tags.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import type { HoldRecord } from '../../shared/retention/holds.js';
import { attributeInventory, type RecordedSnapshot } from '../../shared/retention/ownership.js';
import { planRetention } from '../../shared/retention/retention-planner.js';
import { fixturePolicy } from '../support/policy.js';

const policy = fixturePolicy();
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1, 2);
const LABEL_KEYS = [
  TAG.managed,
  TAG.policy,
  TAG.slot,
  TAG.target,
  TAG.source,
  TAG.legalHold,
  TAG.verifiedAt,
] as const;

interface History {
  readonly inventory: SnapshotRecord[];
  readonly recorded: Map<string, RecordedSnapshot>;
  readonly held: Map<string, HoldRecord>;
}

/** Daily snapshots of two databases, copied to DR, all recorded; some held by a tag and a record. */
function history(days: number, holds: readonly number[]): History {
  const inventory: SnapshotRecord[] = [];
  const recorded = new Map<string, RecordedSnapshot>();
  const held = new Map<string, HoldRecord>();
  for (const target of ['orders-db', 'billing-db']) {
    for (let day = 0; day < days; day += 1) {
      const slot = slotOf(new Date(START + day * DAY));
      const id = snapshotIdentifier(target, slot);
      for (const region of [PRIMARY, DR]) {
        const arn = `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`;
        const source =
          region === DR ? `arn:aws:rds:${PRIMARY}:${ACCOUNT}:snapshot:${id}` : undefined;
        const hold = region === PRIMARY && holds.includes(day);
        const tags = new Map<string, string>([
          [TAG.managed, 'true'],
          [TAG.policy, policy.name],
          [TAG.slot, slot.id],
          [TAG.target, target],
          ...(hold ? [[TAG.legalHold, 'case-1'] as [string, string]] : []),
        ]);
        inventory.push(
          labelled({
            id,
            arn,
            region,
            kind: 'instance',
            target,
            database: target,
            copiedFrom: source,
            time: slot.time,
            createdAt: slot.time,
            slot: slot.id,
            status: 'available',
            engine: 'postgres',
            encrypted: true,
            kmsKeyId: undefined,
            managedBy: policy.name,
            source,
            legalHold: hold,
            verifiedAt: undefined,
            tags,
          }),
        );
        recorded.set(arn, {
          arn,
          region,
          kind: 'instance',
          target,
          slot,
          sourceArn: source,
          encrypted: true,
          kmsKeyId: null,
          runId: `snapshots-${slot.id}`,
        });
        if (hold) {
          held.set(arn, {
            format: 'lifeboat-hold/1',
            policy: policy.name,
            account: ACCOUNT,
            snapshotArn: arn,
            action: 'place',
            at: new Date(slot.time.getTime() + DAY).toISOString(),
            by: 'tag',
            reason: 'tagged',
          });
        }
      }
    }
  }
  return { inventory, recorded, held };
}

/** A snapshot record whose label fields say what its tags say, as the RDS adapter reads them. */
function labelled(s: SnapshotRecord): SnapshotRecord {
  const tags = s.tags;
  const slotId = tags.get(TAG.slot);
  const verified = new Date(tags.get(TAG.verifiedAt) ?? '');
  return {
    ...s,
    time: parseSlotId(slotId ?? '')?.time ?? s.createdAt,
    target: tags.get(TAG.target) ?? s.database,
    managedBy: tags.get(TAG.managed) === 'true' ? tags.get(TAG.policy) : undefined,
    slot: slotId,
    source: tags.get(TAG.source),
    legalHold: isLegalHold(tags),
    verifiedAt: Number.isNaN(verified.getTime()) ? undefined : verified,
  };
}

const edit = fc.record({
  at: fc.nat(),
  key: fc.constantFrom(...LABEL_KEYS),
  value: fc.option(
    fc.oneof(
      fc.constantFrom('true', 'false', policy.name, 'another-policy', 'billing-db', 'orders-db'),
      fc.integer({ min: 0, max: 90 }).map((d) => slotOf(new Date(START + d * DAY)).id),
      fc
        .date({ min: new Date(START), max: new Date(START + 100 * DAY), noInvalidDate: true })
        .map((d) => d.toISOString()),
    ),
    { nil: undefined },
  ),
});

const deletedBy = (inventory: readonly SnapshotRecord[], h: History, now: Date) =>
  new Set(
    planRetention(
      attributeInventory(inventory, h.recorded, { held: h.held }, policy.name),
      policy,
      now,
    )
      .decisions.filter((d) => d.action === 'delete')
      .map((d) => d.snapshot.arn),
  );

describe('retention and tags', () => {
  it('deletes nothing it would keep, whatever anyone does to the tags', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 90 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 89 }), { maxLength: 4 }),
        fc.array(edit, { minLength: 1, maxLength: 40 }),
        (days, holds, edits) => {
          // Prepare
          const h = history(days, holds);
          const now = new Date(START + days * DAY + 3 * 3_600_000);
          const before = deletedBy(h.inventory, h, now);

          // Act: tags set, changed or removed on any snapshots, in both regions
          const edited = h.inventory.map((s) => ({ ...s, tags: new Map(s.tags) }));
          for (const e of edits) {
            const target = edited[e.at % edited.length] as SnapshotRecord;
            const tags = target.tags as Map<string, string>;
            if (e.value === undefined) tags.delete(e.key);
            else tags.set(e.key, e.value);
          }
          const after = deletedBy(edited.map(labelled), h, now);

          // Assess: every deletion after the edits was one before them
          expect([...after].filter((arn) => !before.has(arn))).toEqual([]);
          for (const day of holds.filter((d) => d < days)) {
            const id = snapshotIdentifier('orders-db', slotOf(new Date(START + day * DAY)));
            expect(after.has(`arn:aws:rds:${PRIMARY}:${ACCOUNT}:snapshot:${id}`)).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
