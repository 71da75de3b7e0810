import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Slot, slotOf, snapshotIdentifier } from '../../shared/naming/slot.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import type { Target } from '../../shared/rds/targets.js';
import { planCopies } from '../../shared/snapshots/snapshot-planner.js';
import { fixturePolicy } from '../support/policy.js';

// The DR copies a pass starts, for any fleet, any slots behind and any copies already there or in
// flight: never past the cap, never a second copy, the newest slot first, and within a slot the
// databases whose DR recovery point is oldest.

const policy = {
  ...fixturePolicy(),
  snapshots: {
    ...fixturePolicy().snapshots,
    quotas: { instanceSnapshots: 100_000, clusterSnapshots: 100_000 },
  },
};
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1, 2);
const NOW = new Date(START + 3 * DAY + 3_600_000);
const CAP = policy.snapshots.copyCaps.instance;

function snapshot(region: string, target: string, slot: Slot, status: string): SnapshotRecord {
  const id = snapshotIdentifier(target, slot);
  return {
    id,
    arn: `arn:aws:rds:${region}:123456789012:snapshot:${id}`,
    region,
    kind: 'instance',
    target,
    database: target,
    copiedFrom: undefined,
    time: slot.time,
    createdAt: slot.time,
    slot: slot.id,
    status,
    engine: 'postgres',
    encrypted: true,
    kmsKeyId: undefined,
    managedBy: policy.name,
    source: undefined,
    legalHold: false,
    verifiedAt: undefined,
    tags: new Map(),
  };
}

/** Per database and slot (days 0-3): not taken, taken, copied, or copy in flight. */
const fleet = fc.array(
  fc.array(fc.constantFrom('none', 'taken', 'copied', 'copying'), { minLength: 4, maxLength: 4 }),
  {
    minLength: 1,
    maxLength: 60,
  },
);

describe('planning DR copies', () => {
  it('starts within the cap, nothing twice, the newest slot first and the oldest DR recovery point first within it', () => {
    fc.assert(
      fc.property(fleet, (states) => {
        // Prepare
        const slots = [0, 1, 2, 3].map((d) => slotOf(new Date(START + d * DAY)));
        const targets: Target[] = states.map((_, i) => ({
          kind: 'instance',
          identifier: `db-${i}`,
          arn: `arn:aws:rds:${PRIMARY}:123456789012:db:db-${i}`,
          engine: 'postgres',
          status: 'available',
          continuous: { retentionDays: 0, latestRestorableTime: undefined },
        }));
        const primary: SnapshotRecord[] = [];
        const dr: SnapshotRecord[] = [];
        for (const [i, row] of states.entries()) {
          for (const [d, state] of row.entries()) {
            const slot = slots[d] as Slot;
            if (state === 'none') continue;
            primary.push(snapshot(PRIMARY, `db-${i}`, slot, 'available'));
            if (state === 'copied') dr.push(snapshot(DR, `db-${i}`, slot, 'available'));
            if (state === 'copying') dr.push(snapshot(DR, `db-${i}`, slot, 'creating'));
          }
        }

        // Act
        const plan = planCopies({
          policy,
          targets,
          primary,
          dr,
          drCount: { instance: dr.length, cluster: 0 },
          now: NOW,
        });

        // Assess
        const inFlight = dr.filter((s) => s.status !== 'available').length;
        const started = plan.copies;
        const pending = plan.decided.filter((d) => d.outcome === 'pending');
        expect(started.length).toBeLessThanOrEqual(Math.max(0, CAP - inFlight));
        const inDr = new Set(dr.map((s) => s.id));
        expect(started.filter((s) => inDr.has(s.id))).toEqual([]);
        expect(new Set(started.map((s) => s.id)).size).toBe(started.length);
        // Room left means nothing wanted waits.
        if (started.length < CAP - inFlight) expect(pending).toEqual([]);
        const point = (target: string) =>
          Math.max(
            0,
            ...dr
              .filter((s) => s.target === target && s.status === 'available')
              .map((s) => s.time?.getTime() ?? 0),
          );
        const slotTime = (id: string) => primary.find((s) => s.id === id)?.time?.getTime() ?? 0;
        for (const s of started) {
          for (const p of pending) {
            const [a, b] = [s.time?.getTime() ?? 0, slotTime(p.snapshotId)];
            expect(a).toBeGreaterThanOrEqual(b);
            if (a === b) expect(point(s.target)).toBeLessThanOrEqual(point(p.target));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
