import { objectiveSeconds } from './objective.js';
import { longestGapMs, parseSchedule } from './schedule-expression.js';
import type { Policy } from './schema.js';

/** What a database must meet: its tier and the tier's objectives, in seconds. */
export interface Objectives {
  readonly tier: string;
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  readonly retentionDays: number | null;
  readonly replicateToDr: boolean;
}

/** A target's tier and its objectives: its own tier, else the policy's default; null without. */
export function objectivesOf(
  policy: Pick<Policy, 'objectives'>,
  target: { readonly tier?: string | undefined },
): Objectives | null {
  const name = target.tier ?? policy.objectives?.default;
  const tier = name === undefined ? undefined : policy.objectives?.tiers[name];
  if (!name || !tier) return null;
  return {
    tier: name,
    rpoSeconds: objectiveSeconds(tier.rpo) ?? 0,
    rtoSeconds: objectiveSeconds(tier.rto) ?? 0,
    retentionDays: tier.continuousBackups?.retentionDays ?? null,
    replicateToDr: tier.continuousBackups?.replicateToDr ?? false,
  };
}

/**
 * How old a database's newest verified restore point may be, given its RPO. Verified restore points are
 * snapshots, so they come no more often than the snapshot schedule (or the RPO, when that is
 * longer), and are verified only when verification runs: the longer of the two, plus the longest
 * gap between verification runs.
 */
export function verifiedRestorePointLimits(
  policy: Pick<Policy, 'verification' | 'snapshots' | 'timeZone'>,
  now: Date = new Date(),
): (rpoSeconds: number) => number {
  // The schedules' gaps, worked out once for every database asked about.
  const gapS = (expression: string) =>
    Math.round(longestGapMs(parseSchedule(expression, policy.timeZone), now) / 1000);
  const snapshots = gapS(policy.snapshots.schedule);
  const verification = gapS(policy.verification.schedule);
  return (rpoSeconds) => Math.max(rpoSeconds, snapshots) + verification;
}
