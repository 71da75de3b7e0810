import { describe, expect, it } from 'vitest';
import type { GfsRules } from '../../shared/policy/schema.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import {
  EmptyRetentionPolicyError,
  type PlanPolicy,
  planRetention,
} from '../../shared/retention/retention-planner.js';
import { drCopyOf, nov, snapshot } from '../support/snapshots.js';

const NONE: GfsRules = {
  last: 0,
  hourly: 0,
  daily: 0,
  weekly: 0,
  monthly: 0,
  yearly: 0,
  lastVerified: 0,
  minimumAge: '1h',
};

function policy(
  primary: Partial<GfsRules>,
  dr: Partial<GfsRules> = primary,
  timeZone = 'UTC',
): PlanPolicy {
  return {
    name: 'test-policy',
    timeZone,
    regions: { primary: 'eu-central-1', dr: 'eu-west-1' },
    retention: {
      schedule: 'cron(0 4 * * ? *)',
      primary: { ...NONE, ...primary },
      dr: { ...NONE, ...dr },
    },
  };
}

// GFS semantics are checked on DR copies: the primary's copy rails do not apply there.
const dr = (time: Date, overrides: Partial<SnapshotRecord> = {}) =>
  snapshot({ region: 'eu-west-1', time, ...overrides });

const LATER = new Date('2027-06-01T00:00:00Z');

function kept(snapshots: readonly SnapshotRecord[], p: PlanPolicy, now = LATER): string[] {
  return planRetention(snapshots, p, now)
    .decisions.filter((d) => d.action === 'keep')
    .map((d) => d.snapshot.id);
}

function reasonsOf(snapshots: readonly SnapshotRecord[], p: PlanPolicy, id: string, now = LATER) {
  return planRetention(snapshots, p, now).decisions.find((d) => d.snapshot.id === id);
}

describe('planRetention: restic forget semantics', () => {
  it('keeps the newest snapshot of each of the n most recent days', () => {
    // Prepare
    const snaps = [1, 2, 3, 4, 5].map((d) => dr(nov(d)));

    // Act
    const result = kept(snaps, policy({ daily: 3 }));

    // Assess
    expect(result).toEqual(
      snaps
        .slice(2)
        .reverse()
        .map((s) => s.id),
    );
  });

  it('counts only buckets that hold a snapshot, not calendar days', () => {
    // Prepare: gaps between the days
    const snaps = [1, 5, 9].map((d) => dr(nov(d)));

    // Act
    const result = kept(snaps, policy({ daily: 2 }));

    // Assess
    expect(result).toEqual([snaps[2]?.id, snaps[1]?.id]);
  });

  it('keeps only the newest snapshot within a bucket', () => {
    // Prepare
    const morning = dr(nov(3, 1));
    const noon = dr(nov(3, 12));
    const evening = dr(nov(3, 20));

    // Act
    const result = kept([morning, noon, evening], policy({ daily: 1 }));

    // Assess
    expect(result).toEqual([evening.id]);
  });

  it("cuts days in the policy's time zone", () => {
    // Prepare: 22:30 and 23:30 UTC on 3 Nov are 23:30 on the 3rd and 00:30 on the 4th in Berlin
    const before = dr(new Date('2026-11-03T22:30:00Z'));
    const after = dr(new Date('2026-11-03T23:30:00Z'));

    // Act
    const inUtc = kept([before, after], policy({ daily: 2 }, undefined, 'UTC'));
    const inBerlin = kept([before, after], policy({ daily: 2 }, undefined, 'Europe/Berlin'));
    const inTokyo = kept([before, after], policy({ daily: 2 }, undefined, 'Asia/Tokyo'));

    // Assess
    expect(inUtc).toEqual([after.id]);
    expect(inBerlin).toEqual([after.id, before.id]);
    expect(inTokyo).toEqual([after.id]);
  });

  it('uses ISO weeks, months and years as buckets', () => {
    // Prepare: Sun 1 Nov, Mon 2 Nov (new ISO week), 1 Dec, 1 Jan
    const sun = dr(new Date('2026-11-01T12:00:00Z'));
    const mon = dr(new Date('2026-11-02T12:00:00Z'));
    const dec = dr(new Date('2026-12-01T12:00:00Z'));
    const jan = dr(new Date('2027-01-01T12:00:00Z'));
    const all = [sun, mon, dec, jan];

    // Act
    const weekly = kept(all, policy({ weekly: 4 }));
    const monthly = kept(all, policy({ monthly: 2 }));
    const yearly = kept(all, policy({ yearly: 2 }));

    // Assess
    expect(weekly).toEqual([jan.id, dec.id, mon.id, sun.id]);
    expect(monthly).toEqual([jan.id, dec.id]);
    expect(yearly).toEqual([jan.id, dec.id]);
  });

  it('keeps the last n whatever their age, and hourly buckets', () => {
    // Prepare
    const snaps = [1, 2, 3].map((h) => dr(new Date(Date.UTC(2026, 10, 5, h, 30))));
    const twice = dr(new Date(Date.UTC(2026, 10, 5, 3, 45)));

    // Act
    const last = kept(snaps, policy({ last: 2 }));
    const hourly = kept([...snaps, twice], policy({ hourly: 2 }));

    // Assess
    expect(last).toEqual([snaps[2]?.id, snaps[1]?.id]);
    expect(hourly).toEqual([twice.id, snaps[1]?.id]);
  });

  it('keeps everything within a duration of the newest snapshot, not of now', () => {
    // Prepare
    const snaps = [1, 2, 3, 4].map((d) => dr(nov(d)));

    // Act
    const result = kept(snaps, policy({ within: '2d' }), new Date('2030-01-01T00:00:00Z'));

    // Assess
    expect(result).toEqual([snaps[3]?.id, snaps[2]?.id]);
  });

  it('ORs the rules and names every rule that keeps a snapshot', () => {
    // Prepare
    const snaps = [1, 2, 3].map((d) => dr(nov(d)));

    // Act
    const decision = reasonsOf(
      snaps,
      policy({ last: 1, daily: 2, monthly: 1 }),
      snaps[2]?.id ?? '',
    );
    const second = reasonsOf(snaps, policy({ last: 1, daily: 2, monthly: 1 }), snaps[1]?.id ?? '');

    // Assess
    expect(decision?.reasons).toEqual(['last 1', 'daily 2: 2026-11-03', 'monthly 1: 2026-11']);
    expect(second?.reasons).toEqual(['daily 2: 2026-11-02']);
  });

  it('keeps the last n verified snapshots', () => {
    // Prepare
    const old = dr(nov(1), { verifiedAt: nov(1, 5) });
    const mid = dr(nov(2), { verifiedAt: nov(2, 5) });
    const fresh = dr(nov(3));

    // Act
    const decision = reasonsOf([old, mid, fresh], policy({ lastVerified: 1 }), mid.id);
    const result = kept([old, mid, fresh], policy({ lastVerified: 1 }));

    // Assess
    expect(decision?.reasons).toContain('last 1 verified');
    expect(result).not.toContain(old.id);
  });

  it('gives every deletion its reason', () => {
    // Prepare
    const snaps = [1, 2, 3].map((d) => dr(nov(d)));

    // Act
    const decision = reasonsOf(snaps, policy({ daily: 1, monthly: 1 }), snaps[0]?.id ?? '');

    // Assess
    expect(decision?.action).toBe('delete');
    expect(decision?.reasons).toEqual(['no rule keeps it (daily 1, monthly 1)']);
  });

  it('plans each target and region on its own, with its own rules', () => {
    // Prepare
    const billing = [1, 2, 3].map((d) => dr(nov(d), { target: 'billing', kind: 'cluster' }));
    const primary = [1, 2, 3].map((d) => snapshot({ time: nov(d), target: 'orders-db' }));
    const copies = primary.map((s) => drCopyOf(s, { target: 'orders-db' }));

    // Act
    const plan = planRetention(
      [...billing, ...primary, ...copies],
      policy({ daily: 3 }, { daily: 1 }),
      LATER,
    );

    // Assess
    const keptIn = (region: string, target: string) =>
      plan.decisions.filter(
        (d) => d.action === 'keep' && d.snapshot.region === region && d.snapshot.target === target,
      ).length;
    expect(keptIn('eu-central-1', 'orders-db')).toBe(3);
    expect(keptIn('eu-west-1', 'orders-db')).toBe(1);
    expect(keptIn('eu-west-1', 'billing')).toBe(1);
    expect(plan.keep + plan.delete).toBe(9);
  });
});

describe('planRetention: safety rails', () => {
  const rules = policy({ last: 1 });

  it('never deletes a snapshot Lifeboat did not create, or another policy created', () => {
    // Prepare
    const mine = dr(nov(5));
    const manual = dr(nov(1), { id: 'before-upgrade', managedBy: undefined });
    const theirs = dr(nov(2), { managedBy: 'other-policy' });

    // Act
    const plan = planRetention([mine, manual, theirs], rules, LATER);

    // Assess
    expect(plan.delete).toBe(0);
    expect(reasonsOf([mine, manual, theirs], rules, manual.id)?.reasons).toEqual([
      'not created by Lifeboat',
    ]);
    expect(reasonsOf([mine, manual, theirs], rules, theirs.id)?.reasons).toEqual([
      'created by another policy (other-policy)',
    ]);
  });

  it('keeps what is under legal hold', () => {
    // Prepare
    const held = dr(nov(1), { legalHold: true });
    const newest = dr(nov(5));

    // Act
    const decision = reasonsOf([held, newest], rules, held.id);

    // Assess
    expect(decision).toMatchObject({
      action: 'keep',
      reasons: ['under legal hold (lifted only by lifeboat hold release)'],
    });
  });

  it('keeps anything younger than the minimum age', () => {
    // Prepare
    const older = dr(nov(3, 1));
    const young = dr(nov(3, 10));
    const newest = dr(nov(3, 20));
    const p = policy({ last: 1, minimumAge: '12h' });

    // Act
    const plan = planRetention([older, young, newest], p, nov(3, 21));

    // Assess
    const action = (id: string) => plan.decisions.find((d) => d.snapshot.id === id);
    expect(action(young.id)).toMatchObject({
      action: 'keep',
      reasons: ['younger than the minimum age 12h'],
    });
    expect(action(older.id)?.action).toBe('delete');
  });

  it('keeps snapshots still being created or copied', () => {
    // Prepare
    const copying = dr(nov(1), { status: 'copying' });
    const newest = dr(nov(5));

    // Act
    const decision = reasonsOf([copying, newest], rules, copying.id);

    // Assess
    expect(decision).toMatchObject({ action: 'keep', reasons: ['still being copied (copying)'] });
  });

  it('deletes failed snapshots of its own, which hold no restore point', () => {
    // Prepare
    const failed = dr(nov(1), { status: 'failed' });

    // Act
    const decision = reasonsOf([failed, dr(nov(5))], rules, failed.id);

    // Assess
    expect(decision).toMatchObject({
      action: 'delete',
      reasons: ['failed: holds no restore point'],
    });
  });

  it('never deletes the newest verified restore point, even when newer ones exist', () => {
    // Prepare
    const verified = dr(nov(1), { verifiedAt: nov(1, 6) });
    const newer = [2, 3].map((d) => dr(nov(d)));

    // Act
    const decision = reasonsOf([verified, ...newer], rules, verified.id);

    // Assess
    expect(decision).toMatchObject({
      action: 'keep',
      reasons: ['the newest verified restore point of its target'],
    });
  });

  it('keeps the newest available restore point when none is verified yet', () => {
    // Prepare: only lastVerified, which keeps nothing while nothing is verified
    const snaps = [1, 2].map((d) => dr(nov(d)));

    // Act
    const plan = planRetention(snaps, policy({ lastVerified: 3 }), LATER);

    // Assess
    expect(plan.decisions.find((d) => d.snapshot.id === snaps[1]?.id)).toMatchObject({
      action: 'keep',
      reasons: ['the newest restore point of its target (none verified yet)'],
    });
    expect(plan.delete).toBe(1);
  });

  it('keeps primary snapshots not yet copied to the DR region, and those being copied', () => {
    // Prepare
    const copied = snapshot({ time: nov(1) });
    const copying = snapshot({ time: nov(2) });
    const uncopied = snapshot({ time: nov(3) });
    const newest = snapshot({ time: nov(4) });
    const inventory = [
      copied,
      copying,
      uncopied,
      newest,
      drCopyOf(copied),
      drCopyOf(copying, { status: 'copying' }),
    ];

    // Act
    const plan = planRetention(inventory, policy({ last: 1 }, { last: 5 }), LATER);

    // Assess
    const decision = (s: SnapshotRecord) => plan.decisions.find((d) => d.snapshot === s);
    expect(decision(copied)?.action).toBe('delete');
    expect(decision(copying)).toMatchObject({
      action: 'keep',
      reasons: ['its copy to eu-west-1 is in progress'],
    });
    expect(decision(uncopied)).toMatchObject({
      action: 'keep',
      reasons: ['not yet copied to eu-west-1'],
    });
  });

  it('refuses a policy that keeps nothing', () => {
    // Prepare
    const snaps = [dr(nov(1))];

    // Act
    const act = () => planRetention(snaps, policy({}, { daily: 1 }), LATER);

    // Assess
    expect(act).toThrow(EmptyRetentionPolicyError);
    expect(act).toThrow('retention.primary keeps nothing');
  });
});
