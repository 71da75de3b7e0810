import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, subtractDuration } from '../../shared/policy/duration.js';
import { type GfsRules, retentionKeepsSomething } from '../../shared/policy/schema.js';
import { isInProgress, type SnapshotRecord } from '../../shared/rds/snapshots.js';
import { type PlanPolicy, planRetention } from '../../shared/retention/retention-planner.js';
import { ZonedCalendar } from '../../shared/retention/zoned-calendar.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe'];
const START = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
// Histories over a few days (hourly buckets compete), two months, or two years.
const SPANS = [3 * DAY, 60 * DAY, 730 * DAY];
const SPAN = SPANS[2] as number;

// Most rules are off in any one policy, so that rules leave snapshots to delete.
const sometimes = (max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max }) },
  );

const rulesArb: fc.Arbitrary<GfsRules> = fc
  .record({
    last: sometimes(3),
    hourly: sometimes(6),
    daily: sometimes(7),
    weekly: sometimes(4),
    monthly: sometimes(4),
    yearly: sometimes(2),
    lastVerified: sometimes(2),
    within: fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('12h', '2d', '1w', '1m') },
    ),
    minimumAge: fc.constantFrom('1h', '1d', '3d', '2w'),
  })
  .filter(retentionKeepsSomething);

interface Raw {
  target: number;
  kind: 'instance' | 'cluster';
  offset: number;
  status: string;
  owner: 'us' | 'other' | 'nobody';
  legalHold: boolean;
  verified: boolean;
  copy: 'none' | 'available' | 'copying' | 'failed';
}

const rawArb = (span: number): fc.Arbitrary<Raw> =>
  fc.record({
    target: fc.integer({ min: 0, max: 1 }),
    kind: fc.constantFrom('instance' as const, 'cluster' as const),
    offset: fc.integer({ min: 0, max: span }),
    status: fc.constantFrom(
      'available',
      'available',
      'available',
      'available',
      'creating',
      'failed',
    ),
    owner: fc.constantFrom(
      'us' as const,
      'us' as const,
      'us' as const,
      'other' as const,
      'nobody' as const,
    ),
    legalHold: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    verified: fc.boolean(),
    copy: fc.constantFrom(
      'none' as const,
      'available' as const,
      'available' as const,
      'copying' as const,
      'failed' as const,
    ),
  });

const historyArb = fc.record({
  raws: fc
    .constantFrom(...SPANS)
    .chain((span) => fc.array(rawArb(span), { minLength: 0, maxLength: 80, size: 'medium' })),
  primary: rulesArb,
  dr: rulesArb,
  timeZone: fc.constantFrom(...ZONES),
  nowAfter: fc.integer({ min: 0, max: 30 * DAY }),
});

function build(raws: readonly Raw[]): SnapshotRecord[] {
  const out: SnapshotRecord[] = [];
  raws.forEach((r, i) => {
    const time = new Date(START + r.offset);
    const id = `snap-${i}`;
    const type = r.kind === 'instance' ? 'snapshot' : 'cluster-snapshot';
    const base: SnapshotRecord = {
      id,
      arn: `arn:aws:rds:${PRIMARY}:123456789012:${type}:${id}`,
      region: PRIMARY,
      kind: r.kind,
      target: `db-${r.target}`,
      database: `db-${r.target}`,
      copiedFrom: undefined,
      tags: new Map(),
      time,
      createdAt: time,
      slot: undefined,
      status: r.status,
      engine: 'postgres',
      encrypted: true,
      kmsKeyId: undefined,
      managedBy:
        r.owner === 'us' ? 'test-policy' : r.owner === 'other' ? 'other-policy' : undefined,
      source: undefined,
      legalHold: r.legalHold,
      verifiedAt: r.verified ? new Date(time.getTime() + 3_600_000) : undefined,
    };
    out.push(base);
    if (r.copy !== 'none' && r.owner === 'us' && r.status === 'available') {
      out.push({
        ...base,
        arn: base.arn.replace(PRIMARY, DR),
        region: DR,
        status: r.copy,
        source: base.arn,
        verifiedAt: r.verified && r.copy === 'available' ? base.verifiedAt : undefined,
      });
    }
  });
  return out;
}

function policyOf(h: { primary: GfsRules; dr: GfsRules; timeZone: string }): PlanPolicy {
  return {
    name: 'test-policy',
    timeZone: h.timeZone,
    regions: { primary: PRIMARY, dr: DR },
    retention: { schedule: 'rate(1 day)', primary: h.primary, dr: h.dr },
  };
}

function nowOf(snapshots: readonly SnapshotRecord[], after: number): Date {
  const newest = Math.max(START, ...snapshots.map((s) => s.time?.getTime() ?? 0));
  return new Date(newest + after);
}

const RUNS = { numRuns: 1000 };

describe('retention planner properties', () => {
  it('never deletes what a safety rail protects', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const snapshots = build(h.raws);
        const policy = policyOf(h);
        const now = nowOf(snapshots, h.nowAfter);
        const plan = planRetention(snapshots, policy, now);
        const deleted = plan.decisions.filter((d) => d.action === 'delete').map((d) => d.snapshot);

        for (const s of deleted) {
          const rules = s.region === PRIMARY ? h.primary : h.dr;
          const youngFrom = subtractDuration(
            now,
            parseDuration(rules.minimumAge) ?? { years: 0, months: 0, days: 0, hours: 0 },
          );
          expect(s.managedBy).toBe('test-policy');
          expect(s.legalHold).toBe(false);
          expect(isInProgress(s)).toBe(false);
          if (s.status === 'failed') continue;
          expect(s.time?.getTime()).toBeLessThanOrEqual(youngFrom.getTime());
          const group = snapshots.filter(
            (o) =>
              o.region === s.region &&
              o.kind === s.kind &&
              o.target === s.target &&
              o.managedBy === 'test-policy' &&
              o.status === 'available',
          );
          const newestVerified = group
            .filter((o) => o.verifiedAt)
            .sort(
              (a, b) =>
                (b.time?.getTime() ?? 0) - (a.time?.getTime() ?? 0) || a.id.localeCompare(b.id),
            )[0];
          const newest = [...group].sort(
            (a, b) =>
              (b.time?.getTime() ?? 0) - (a.time?.getTime() ?? 0) || a.id.localeCompare(b.id),
          )[0];
          expect(s).not.toBe(newestVerified ?? newest);
          if (s.region === PRIMARY) {
            const copies = snapshots.filter(
              (o) => o.region === DR && o.managedBy === 'test-policy',
            );
            const copy = copies.find((o) => o.source === s.arn);
            if (copy) expect(isInProgress(copy)).toBe(false);
            else {
              const newestCopy = Math.max(
                0,
                ...copies
                  .filter(
                    (o) => o.kind === s.kind && o.target === s.target && o.status !== 'failed',
                  )
                  .map((o) => o.time?.getTime() ?? 0),
              );
              expect(s.time?.getTime()).toBeLessThanOrEqual(newestCopy);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('gives every snapshot exactly one decision with at least one reason', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const snapshots = build(h.raws);
        const plan = planRetention(snapshots, policyOf(h), nowOf(snapshots, h.nowAfter));

        expect(plan.decisions).toHaveLength(snapshots.length);
        expect(new Set(plan.decisions.map((d) => d.snapshot)).size).toBe(snapshots.length);
        expect(plan.decisions.every((d) => d.reasons.length > 0)).toBe(true);
        expect(plan.keep + plan.delete).toBe(snapshots.length);
      }),
      RUNS,
    );
  });

  it('plans the same whatever order the inventory comes in', () => {
    fc.assert(
      fc.property(historyArb, fc.integer(), (h, seed) => {
        const snapshots = build(h.raws);
        const shuffled =
          fc.sample(fc.shuffledSubarray(snapshots, { minLength: snapshots.length }), {
            seed,
            numRuns: 1,
          })[0] ?? [];
        const now = nowOf(snapshots, h.nowAfter);
        const summary = (list: readonly SnapshotRecord[]) =>
          planRetention(list, policyOf(h), now).decisions.map(
            (d) => `${d.snapshot.region}/${d.snapshot.id}:${d.action}:${d.reasons.join('|')}`,
          );

        expect(summary(shuffled)).toEqual(summary(snapshots));
      }),
      RUNS,
    );
  });

  it('deletes nothing more when planned again after its deletions', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const snapshots = build(h.raws);
        const policy = policyOf(h);
        const now = nowOf(snapshots, h.nowAfter);
        const first = planRetention(snapshots, policy, now);
        const remaining = first.decisions.filter((d) => d.action === 'keep').map((d) => d.snapshot);

        const second = planRetention(remaining, policy, now);

        expect(second.delete).toBe(0);
      }),
      RUNS,
    );
  });
});

describe('zoned calendar', () => {
  it('agrees with Intl on the local date and hour of any instant', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: START, max: START + SPAN }),
        (zone, ms) => {
          const calendar = new ZonedCalendar(zone);
          const parts = Object.fromEntries(
            new Intl.DateTimeFormat('en-US', {
              timeZone: zone,
              hourCycle: 'h23',
              year: 'numeric',
              month: 'numeric',
              day: 'numeric',
              hour: 'numeric',
            })
              .formatToParts(ms)
              .map((p) => [p.type, p.value]),
          );

          const local = calendar.local(new Date(ms));

          expect([local.year, local.month, local.day, local.hour]).toEqual([
            Number(parts.year),
            Number(parts.month),
            Number(parts.day),
            Number(parts.hour),
          ]);
        },
      ),
      RUNS,
    );
  });
});

describe('zoned calendar instants', () => {
  it('finds the instant a wall clock shows, or the hour after when the clocks skip it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.date({ min: new Date(START), max: new Date(START + SPAN), noInvalidDate: true }),
        fc.integer({ min: 0, max: 23 }),
        (zone, day, hour) => {
          const calendar = new ZonedCalendar(zone);
          const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];

          const local = calendar.local(calendar.instantOf(y, m, d, hour));

          expect([local.year, local.month, local.day]).toEqual([y, m, d]);
          expect([hour, hour + 1]).toContain(local.hour);
        },
      ),
      RUNS,
    );
  });
});
