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
 * How old a database's newest verified restore point may be: its RPO, plus the longest gap
 * between verification runs (a restore point can only be verified when verification runs).
 */
export function verifiedRestorePointLimit(
  policy: Pick<Policy, 'verification' | 'timeZone'>,
  rpoSeconds: number,
  now: Date = new Date(),
): number {
  const gapMs = longestGapMs(parseSchedule(policy.verification.schedule, policy.timeZone), now);
  return rpoSeconds + Math.round(gapMs / 1000);
}
