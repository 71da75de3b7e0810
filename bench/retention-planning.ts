import type { Policy } from '../shared/policy/schema.js';
import type { SnapshotRecord } from '../shared/rds/snapshots.js';
import { planRetention } from '../shared/retention/retention-planner.js';
import { medianMs, verdict } from './measure.js';

const TARGETS = 1_000;
const PER_TARGET = 100;
const DR_COPIES = 30;
const DAY = 86_400_000;

/**
 * 1,000 databases with 100 snapshots each: 70 daily snapshots in the primary region and DR copies
 * of the newest 30, as a steady state of daily runs leaves them.
 */
function inventory(now: number): SnapshotRecord[] {
  const out: SnapshotRecord[] = [];
  for (let t = 0; t < TARGETS; t += 1) {
    const target = `db-${String(t).padStart(4, '0')}`;
    for (let d = 0; d < PER_TARGET - DR_COPIES; d += 1) {
      const time = new Date(now - d * DAY - (t % 60) * 60_000);
      const id = `lifeboat-${target}-${d}`;
      const arn = `arn:aws:rds:eu-central-1:123456789012:snapshot:${id}`;
      const base: SnapshotRecord = {
        id,
        arn,
        region: 'eu-central-1',
        kind: t % 10 === 0 ? 'cluster' : 'instance',
        target,
        database: target,
        copiedFrom: undefined,
        tags: new Map(),
        time,
        createdAt: time,
        slot: undefined,
        status: 'available',
        engine: 'postgres',
        encrypted: true,
        kmsKeyId: undefined,
        managedBy: 'bench',
        source: undefined,
        legalHold: d === 40,
        verifiedAt: d % 7 === 0 ? time : undefined,
      };
      out.push(base);
      if (d < DR_COPIES)
        out.push({
          ...base,
          region: 'eu-west-1',
          arn: arn.replace('eu-central-1', 'eu-west-1'),
          source: arn,
        });
    }
  }
  return out;
}

const POLICY: Pick<Policy, 'name' | 'timeZone' | 'regions' | 'retention'> = {
  name: 'bench',
  timeZone: 'Europe/Berlin',
  regions: { primary: 'eu-central-1', dr: 'eu-west-1' },
  retention: {
    schedule: 'rate(1 day)',
    primary: {
      last: 3,
      hourly: 0,
      daily: 7,
      weekly: 4,
      monthly: 12,
      yearly: 2,
      lastVerified: 1,
      minimumAge: '1d',
    },
    dr: {
      last: 0,
      hourly: 0,
      daily: 7,
      weekly: 0,
      monthly: 3,
      yearly: 0,
      lastVerified: 0,
      minimumAge: '1d',
    },
  },
};

export async function benchRetentionPlanning(): Promise<string[]> {
  const now = Date.UTC(2026, 10, 21, 4, 30);
  const snapshots = inventory(now);
  let plan = planRetention(snapshots, POLICY, new Date(now));
  const planMs = await medianMs(7, () => {
    plan = planRetention(snapshots, POLICY, new Date(now));
  });
  const sortMs = await medianMs(7, () =>
    [...snapshots].sort((a, b) => (a.time?.getTime() ?? 0) - (b.time?.getTime() ?? 0)),
  );
  return [
    `Retention planning, ${snapshots.length.toLocaleString('en')} snapshots (${TARGETS.toLocaleString('en')} databases x ${PER_TARGET}), median of 7 runs`,
    `  plan                  ${planMs.toFixed(1)} ms (keep ${plan.keep}, delete ${plan.delete})`,
    `  sort by time          ${sortMs.toFixed(1)} ms`,
    `  plan / sort           ${verdict(planMs / sortMs, 5, 'x')}`,
  ];
}
