import { objectiveSeconds } from './objective.js';
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
