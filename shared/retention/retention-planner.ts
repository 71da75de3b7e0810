import { type CalendarDuration, parseDuration, subtractDuration } from '../policy/duration.js';
import { type GfsRules, type Policy, retentionKeepsSomething } from '../policy/schema.js';
import { isInProgress, type SnapshotRecord } from '../rds/snapshots.js';
import { type LocalTime, ZonedCalendar } from './zoned-calendar.js';

export type Role = 'primary' | 'dr';

/** What retention will do with one snapshot, and why. */
export interface RetentionDecision {
  readonly snapshot: SnapshotRecord;
  readonly role: Role;
  readonly action: 'keep' | 'delete';
  /** The rules that keep it, the safety rail that protects it, or why it goes. Never empty. */
  readonly reasons: readonly string[];
}

export interface RetentionPlan {
  readonly now: Date;
  readonly decisions: readonly RetentionDecision[];
  readonly keep: number;
  readonly delete: number;
}

export type PlanPolicy = Pick<Policy, 'name' | 'timeZone' | 'regions' | 'retention'>;

/** Refused: a retention rule set that keeps nothing would delete every snapshot. */
export class EmptyRetentionPolicyError extends Error {
  constructor(role: Role) {
    super(`retention.${role} keeps nothing; refusing to plan deletions with it`);
    this.name = 'EmptyRetentionPolicyError';
  }
}

interface Bucketed {
  readonly name: string;
  readonly count: number;
  readonly key: (t: LocalTime) => number;
  readonly label: (t: LocalTime) => string;
}

const pad = (n: number) => String(n).padStart(2, '0');

// restic's buckets: the newest snapshot in each of the `count` most recent non-empty buckets.
function bucketRules(rules: GfsRules): Bucketed[] {
  const all: Bucketed[] = [
    {
      name: 'hourly',
      count: rules.hourly,
      key: (t) => ((t.year * 100 + t.month) * 100 + t.day) * 100 + t.hour,
      label: (t) => `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}h`,
    },
    {
      name: 'daily',
      count: rules.daily,
      key: (t) => (t.year * 100 + t.month) * 100 + t.day,
      label: (t) => `${t.year}-${pad(t.month)}-${pad(t.day)}`,
    },
    {
      name: 'weekly',
      count: rules.weekly,
      key: (t) => t.isoYear * 100 + t.isoWeek,
      label: (t) => `${t.isoYear}-W${pad(t.isoWeek)}`,
    },
    {
      name: 'monthly',
      count: rules.monthly,
      key: (t) => t.year * 100 + t.month,
      label: (t) => `${t.year}-${pad(t.month)}`,
    },
    { name: 'yearly', count: rules.yearly, key: (t) => t.year, label: (t) => String(t.year) },
  ];
  return all.filter((b) => b.count > 0);
}

/**
 * Plans retention for every snapshot in the primary and DR regions: restic `forget` semantics per
 * (region, target), then safety rails that only ever turn a deletion into a keep. Pure: the same
 * inventory and `now` always give the same plan.
 */
export function planRetention(
  snapshots: readonly SnapshotRecord[],
  policy: PlanPolicy,
  now: Date,
): RetentionPlan {
  for (const role of ['primary', 'dr'] as const) {
    if (!retentionKeepsSomething(policy.retention[role])) throw new EmptyRetentionPolicyError(role);
  }
  const calendar = new ZonedCalendar(policy.timeZone);
  const context = copyContext(snapshots, policy);
  const compiled = {
    primary: compile('primary', policy.retention.primary, now),
    dr: compile('dr', policy.retention.dr, now),
  };

  const groups = new Map<string, SnapshotRecord[]>();
  for (const s of snapshots) {
    const key = `${s.region}\u0000${s.kind}\u0000${s.target}`;
    const group = groups.get(key);
    if (group) group.push(s);
    else groups.set(key, [s]);
  }

  const decisions: RetentionDecision[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key) ?? [];
    const region = group[0]?.region;
    const role: Role | undefined =
      region === policy.regions.primary
        ? 'primary'
        : region === policy.regions.dr
          ? 'dr'
          : undefined;
    if (!role) {
      for (const s of group) {
        decisions.push({
          snapshot: s,
          role: 'primary',
          action: 'keep',
          reasons: [`in ${s.region}, outside the policy's regions`],
        });
      }
      continue;
    }
    planGroup(group, compiled[role], policy, calendar, context, decisions);
  }
  const deletions = decisions.filter((d) => d.action === 'delete').length;
  return { now, decisions, keep: decisions.length - deletions, delete: deletions };
}

/** A role's rules, parsed once per plan rather than once per group or snapshot. */
interface CompiledRules {
  readonly role: Role;
  readonly rules: GfsRules;
  readonly buckets: readonly Bucketed[];
  readonly within: CalendarDuration | undefined;
  /** Snapshots after this instant are younger than the minimum age. */
  readonly youngFrom: number;
  /** Why a snapshot no rule keeps is deleted. */
  readonly deletion: readonly string[];
}

function compile(role: Role, rules: GfsRules, now: Date): CompiledRules {
  const buckets = bucketRules(rules);
  const described = [
    rules.last > 0 ? `last ${rules.last}` : '',
    ...buckets.map((b) => `${b.name} ${b.count}`),
    rules.within ? `within ${rules.within}` : '',
    rules.lastVerified > 0 ? `last ${rules.lastVerified} verified` : '',
  ].filter(Boolean);
  return {
    role,
    rules,
    buckets,
    within: rules.within === undefined ? undefined : parseDuration(rules.within),
    youngFrom: subtractDuration(now, parseDuration(rules.minimumAge) as CalendarDuration).getTime(),
    deletion: [`no rule keeps it (${described.join(', ')})`],
  };
}

interface CopyContext {
  /** Primary snapshot ARNs with a copy of this policy in the DR region, by the copy's status. */
  readonly copyStatus: ReadonlyMap<string, string>;
  /** Per kind/target, the time of the newest DR copy that did not fail. */
  readonly newestCopy: ReadonlyMap<string, number>;
}

function copyContext(snapshots: readonly SnapshotRecord[], policy: PlanPolicy): CopyContext {
  const copyStatus = new Map<string, string>();
  const newestCopy = new Map<string, number>();
  for (const s of snapshots) {
    if (s.region !== policy.regions.dr || s.managedBy !== policy.name) continue;
    if (s.source) copyStatus.set(s.source, s.status);
    if (s.status !== 'failed' && s.time) {
      const key = `${s.kind}/${s.target}`;
      newestCopy.set(key, Math.max(newestCopy.get(key) ?? 0, s.time.getTime()));
    }
  }
  return { copyStatus, newestCopy };
}

function byNewest(a: SnapshotRecord, b: SnapshotRecord): number {
  return (
    (b.time?.getTime() ?? 0) - (a.time?.getTime() ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function planGroup(
  group: readonly SnapshotRecord[],
  compiled: CompiledRules,
  policy: PlanPolicy,
  calendar: ZonedCalendar,
  context: CopyContext,
  out: RetentionDecision[],
): void {
  const { role } = compiled;
  const sorted = [...group].sort(byNewest);
  const pool: SnapshotRecord[] = [];
  const settled = new Map<SnapshotRecord, RetentionDecision>();
  for (const s of sorted) {
    if (s.managedBy === undefined) {
      settled.set(s, { snapshot: s, role, action: 'keep', reasons: ['not created by Lifeboat'] });
    } else if (s.managedBy !== policy.name) {
      settled.set(s, {
        snapshot: s,
        role,
        action: 'keep',
        reasons: [`created by another policy (${s.managedBy})`],
      });
    } else if (s.status === 'failed') {
      settled.set(
        s,
        s.legalHold
          ? {
              snapshot: s,
              role,
              action: 'keep',
              reasons: ['under legal hold (lifted only by lifeboat hold release)'],
            }
          : { snapshot: s, role, action: 'delete', reasons: ['failed: holds no restore point'] },
      );
    } else if (isInProgress(s)) {
      settled.set(s, {
        snapshot: s,
        role,
        action: 'keep',
        reasons: [`still being ${role === 'dr' ? 'copied' : 'created'} (${s.status})`],
      });
    } else if (s.status !== 'available' || !s.time) {
      settled.set(s, {
        snapshot: s,
        role,
        action: 'keep',
        reasons: [`not a usable restore point yet (${s.status})`],
      });
    } else pool.push(s);
  }

  const kept = gfsKeeps(pool, compiled, calendar);
  const rails = safetyRails(pool, compiled, policy, context);
  for (const s of sorted) {
    const decided = settled.get(s);
    if (decided) {
      out.push(decided);
      continue;
    }
    const reasons = kept.get(s);
    if (reasons && reasons.length > 0) {
      out.push({ snapshot: s, role, action: 'keep', reasons });
      continue;
    }
    const rail = rails(s);
    out.push(
      rail.length > 0
        ? { snapshot: s, role, action: 'keep', reasons: rail }
        : { snapshot: s, role, action: 'delete', reasons: compiled.deletion },
    );
  }
}

/** restic's ApplyPolicy over snapshots sorted newest first. */
function gfsKeeps(
  pool: readonly SnapshotRecord[],
  { rules, buckets: bucketed, within }: CompiledRules,
  calendar: ZonedCalendar,
): Map<SnapshotRecord, string[]> {
  const reasons = new Map<SnapshotRecord, string[]>();
  for (const s of pool) reasons.set(s, []);
  const latest = pool[0]?.time;
  if (!latest) return reasons;

  const withinFrom = within ? subtractDuration(latest, within).getTime() : undefined;
  const buckets = bucketed.map((b) => ({ rule: b, left: b.count, last: Number.NaN }));
  let lastLeft = rules.last;
  let verifiedLeft = rules.lastVerified;

  for (const s of pool) {
    const why = reasons.get(s) ?? [];
    const time = s.time as Date;
    if (lastLeft > 0) {
      lastLeft -= 1;
      why.push(`last ${rules.last}`);
    }
    if (withinFrom !== undefined && time.getTime() > withinFrom) {
      why.push(`within ${rules.within} of the newest`);
    }
    if (verifiedLeft > 0 && s.verifiedAt) {
      verifiedLeft -= 1;
      why.push(`last ${rules.lastVerified} verified`);
    }
    if (buckets.length > 0) {
      const local = calendar.local(time);
      for (const b of buckets) {
        if (b.left <= 0) continue;
        const key = b.rule.key(local);
        if (key !== b.last) {
          b.last = key;
          b.left -= 1;
          why.push(`${b.rule.name} ${b.rule.count}: ${b.rule.label(local)}`);
        }
      }
    }
  }
  return reasons;
}

/** The rails that protect a snapshot the rules would delete; empty when none does. */
function safetyRails(
  pool: readonly SnapshotRecord[],
  { role, rules, youngFrom }: CompiledRules,
  policy: PlanPolicy,
  context: CopyContext,
): (s: SnapshotRecord) => string[] {
  const newestVerified = pool.find((s) => s.verifiedAt !== undefined);
  const newestRestorePoint = newestVerified ?? pool[0];
  return (s) => {
    const rails: string[] = [];
    if (s.legalHold) rails.push('under legal hold (lifted only by lifeboat hold release)');
    if ((s.time?.getTime() ?? 0) > youngFrom)
      rails.push(`younger than the minimum age ${rules.minimumAge}`);
    if (s === newestRestorePoint) {
      rails.push(
        newestVerified
          ? 'the newest verified restore point of its target'
          : 'the newest restore point of its target (none verified yet)',
      );
    }
    if (role === 'primary') {
      const copy = context.copyStatus.get(s.arn);
      if (copy !== undefined && isInProgress({ status: copy })) {
        rails.push(`its copy to ${policy.regions.dr} is in progress`);
      } else if (
        copy === undefined &&
        (s.time?.getTime() ?? 0) > (context.newestCopy.get(`${s.kind}/${s.target}`) ?? 0)
      ) {
        rails.push(`not yet copied to ${policy.regions.dr}`);
      }
    }
    return rails;
  };
}
