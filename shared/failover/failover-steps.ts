import { caughtText } from '../reports/report-text.js';
import type { FailoverPlan, FailoverState } from './failover-contract.js';

/** How one step of a failover went, as the report tells it. */
export interface FailoverStep {
  readonly step: string;
  readonly outcome: 'done' | 'already done' | 'failed' | 'not reached';
  readonly detail: string;
}

/** What the report knows of a finished (or stopped) failover, step by step. */
interface Progress {
  readonly state: FailoverState;
  readonly promoted: boolean;
  readonly dnsDone: boolean;
  readonly healthy: boolean;
  readonly endpoint: string;
}

/**
 * One step of the regional-failover machine, described once: the ASL states it is made of, what
 * a dry run says it would do (`lifeboat failover plan`), and, for the steps that change
 * something, how the report says it went.
 */
interface StepDescription {
  readonly step: string;
  /** The states of state-machines/regional-failover.asl.yml this step runs through. */
  readonly states: readonly string[];
  planned(plan: FailoverPlan): string;
  reported?(progress: Progress): FailoverStep;
}

const outcomeOf = (reached: boolean, done: boolean): FailoverStep['outcome'] =>
  done ? 'done' : reached ? 'failed' : 'not reached';

/** The failover's steps, in the order the machine takes them. */
export const FAILOVER_STEPS: readonly StepDescription[] = [
  {
    step: 'preflight',
    states: ['Preflight', 'PreconditionsFailed'],
    planned: (plan) =>
      `Preflight: the ${plan.preconditions.length} preconditions above, again, in the DR region`,
  },
  {
    step: 'promote',
    states: [
      'PromotionNeeded',
      'PromoteReadReplica',
      'SwitchoverGlobalCluster',
      'FailoverGlobalCluster',
    ],
    planned: (plan) =>
      plan.promotion === 'promoted'
        ? `Promote: skipped, ${plan.drDatabase} is already promoted`
        : plan.promotion === 'promoting'
          ? `Promote: already in progress for ${plan.drDatabase}; wait for it`
          : plan.kind === 'replica'
            ? `Promote: PromoteReadReplica ${plan.drDatabase} in ${plan.region}`
            : plan.planned
              ? `Promote: SwitchoverGlobalCluster ${plan.globalCluster} to ${plan.drDatabase} (no data loss)`
              : `Promote: FailoverGlobalCluster ${plan.globalCluster} to ${plan.drDatabase}, allowing data loss`,
    reported: ({ state, promoted }) => {
      const { preflight, promotion } = state;
      const already = preflight.promotion === 'promoted';
      return {
        step: 'promote',
        outcome: already
          ? 'already done'
          : outcomeOf(state.promoteCall !== undefined || !!state.error, promoted),
        detail: already
          ? `${preflight.drDatabase} was already promoted`
          : `${state.promoteCall?.action ?? 'promotion'} of ${preflight.drDatabase}${promotion ? `: ${promotion.status} after ${promotion.count} poll(s)` : ''}`,
      };
    },
  },
  {
    step: 'wait-for-promotion',
    states: ['WaitForPromotion', 'CheckPromotion', 'PromotionState', 'PromotionTimedOut'],
    planned: (plan) =>
      `Wait until promoted: every ${plan.pollSeconds}s, at most ${plan.maxPolls} times`,
  },
  {
    step: 'dns',
    states: ['DnsNeeded', 'SwitchDns', 'WaitForDns', 'CheckDns', 'DnsState'],
    planned: (plan) =>
      plan.dns.switched
        ? `DNS: skipped, ${plan.dns.recordName} already points at ${plan.endpoint}`
        : `DNS: UPSERT CNAME ${plan.dns.recordName} -> ${plan.endpoint || '(the DR endpoint)'} (TTL ${plan.dns.ttl}s) in zone ${plan.dns.hostedZoneId}, then wait for INSYNC`,
    reported: ({ state, promoted, dnsDone, endpoint }) => ({
      step: 'dns',
      outcome: state.preflight.dns.switched ? 'already done' : outcomeOf(promoted, dnsDone),
      detail: `${state.preflight.dns.recordName} → ${endpoint}${state.dnsStatus ? ` (${state.dnsStatus.status})` : ''}`,
    }),
  },
  {
    step: 'verify',
    states: ['VerifyHealth'],
    planned: (plan) =>
      `Verify: ${'url' in plan.verify ? plan.verify.url : `Route 53 health check ${plan.verify.route53HealthCheckId}`} must answer healthy (retried for about 5 minutes)`,
    reported: ({ state, dnsDone, healthy }) => ({
      step: 'verify',
      outcome: outcomeOf(dnsDone, healthy),
      detail:
        state.health?.detail ?? (dnsDone && state.error ? caughtText(state.error) : 'not checked'),
    }),
  },
  {
    step: 'report',
    states: ['Report', 'ReportFailed', 'Outcome', 'FailoverSucceeded', 'FailoverFailed'],
    planned: () =>
      `Report: JSON and Markdown to the DR region's bucket, FailoverRTO metric, one SNS summary`,
  },
];

/** What the failover would do, step by step, given what is already done (a dry run). */
export function plannedSteps(plan: FailoverPlan): string[] {
  return FAILOVER_STEPS.map((s) => s.planned(plan));
}

/** How each step that changes something went, from the failover's final state. */
export function reportedSteps(progress: Progress): FailoverStep[] {
  return FAILOVER_STEPS.flatMap((s) => (s.reported ? [s.reported(progress)] : []));
}
