import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { RegionalRds } from '../aws/clients.js';
import { secondsFrom } from '../policy/duration.js';
import type { FailoverDatabase, FailoverPolicy, Policy } from '../policy/schema.js';
import { parseEvent } from '../validation/parse-event.js';
import {
  confirmationPhrase,
  FailoverConfigError,
  type FailoverInput,
  FailoverInputSchema,
  type FailoverPlan,
  FailoverPreconditionError,
  type FailoverStart,
  FailoverStartSchema,
  type Precondition,
} from './failover-contract.js';
import type { HttpProbe } from './health.js';
import {
  checkConfirmation,
  checkLag,
  checkPrimaryDown,
  checkRegion,
  currentRecord,
  inspectGlobal,
  inspectReplica,
  probeOf,
  sameName,
} from './preflight-checks.js';

/**
 * The failover's preflight: runs every check of preflight-checks.ts in order, and turns what they
 * found into the plan the state machine follows. Changes nothing.
 */

export interface PreflightDeps {
  /** RDS in the region this runs in, which must be the DR region. */
  readonly rds: RegionalRds;
  readonly route53: Route53Client;
  readonly cloudwatch: CloudWatchClient;
  readonly probe: HttpProbe;
  /** Pause between probes of the primary's health. */
  readonly pause?: (ms: number) => Promise<void>;
}

/** The failover section's entry for a target, or an error naming the configured ones. */
export function failoverDatabaseOf(
  policy: Policy,
  target: string,
): { section: FailoverPolicy; database: FailoverDatabase } {
  const section = policy.failover;
  if (!section) throw new FailoverConfigError(`policy ${policy.name} has no failover section`);
  const database = section.databases[target];
  if (!database) {
    throw new FailoverConfigError(
      `no failover is configured for ${target}; the policy fails over ${Object.keys(section.databases).join(', ')}`,
    );
  }
  return { section, database };
}

/**
 * Looks at everything a failover depends on and says where it stands, changing nothing: the
 * plan for the state machine, with every precondition's status. `input.confirm` is checked
 * only when given (a dry run has none).
 */
export async function assessFailover(
  deps: PreflightDeps,
  policy: Policy,
  input: Omit<FailoverInput, 'confirm'> & { readonly confirm?: string },
  failoverId: string,
  startedAt: Date,
): Promise<FailoverPlan> {
  const { section, database } = failoverDatabaseOf(policy, input.target);
  const region = policy.regions.dr;
  const preconditions: Precondition[] = [];
  const phrase = confirmationPhrase(input.target, region);
  preconditions.push(checkConfirmation(input.confirm, phrase));
  preconditions.push(checkRegion(deps.rds.region, region));

  const replica =
    database.replica !== undefined
      ? await inspectReplica(deps.rds, database.replica)
      : await inspectGlobal(deps.rds, database.globalCluster ?? '', database.drCluster ?? '');
  preconditions.push(...replica.preconditions);
  const promoted = replica.promotion !== 'replica';

  preconditions.push(
    promoted
      ? {
          name: 'lag',
          status: 'skipped',
          detail: `the DR database is already ${replica.promotion}`,
        }
      : input.force
        ? { name: 'lag', status: 'skipped', detail: 'forced: replica lag not checked' }
        : await checkLag(deps.cloudwatch, database, startedAt),
  );
  preconditions.push(
    promoted
      ? {
          name: 'primary-unhealthy',
          status: 'skipped',
          detail: `the DR database is already ${replica.promotion}`,
        }
      : input.planned
        ? {
            name: 'primary-unhealthy',
            status: 'skipped',
            detail: 'planned: the primary may be healthy',
          }
        : await checkPrimaryDown(deps, database),
  );

  const dns = await currentRecord(deps.route53, database.dns.hostedZoneId, database.dns.recordName);
  preconditions.push(dns.precondition);
  const switched =
    dns.value !== null && replica.endpoint !== '' && sameName(dns.value, replica.endpoint);
  const promotionSeconds = secondsFrom(startedAt, section.promotionTimeout);
  return {
    failoverId,
    policy: policy.name,
    target: input.target,
    region,
    kind: database.replica !== undefined ? 'replica' : 'global',
    planned: input.planned,
    force: input.force,
    startedAt: startedAt.toISOString(),
    drDatabase: database.replica ?? database.drCluster ?? '',
    globalCluster: database.globalCluster ?? null,
    drClusterArn: replica.clusterArn,
    promotion: replica.promotion,
    endpoint: replica.endpoint,
    dns: {
      ...database.dns,
      // Route 53 takes the bare zone id; the policy may give it as /hostedzone/<id>.
      hostedZoneId: database.dns.hostedZoneId.replace(/^\/hostedzone\//, ''),
      current: dns.value,
      switched,
    },
    verify: probeOf(database.verify),
    pollSeconds: section.pollSeconds,
    maxPolls: Math.max(1, Math.ceil(promotionSeconds / section.pollSeconds)),
    preconditions,
  };
}

/**
 * The failover state machine's first step: assesses (with the input's confirmation) and stops
 * with FailoverPreconditionError, naming every failing precondition, unless all hold.
 */
export async function preflightFailover(
  deps: PreflightDeps,
  policy: Policy,
  event: unknown,
  failoverId: string,
  startedAt: Date,
): Promise<FailoverPlan> {
  const input = parseEvent(FailoverInputSchema, event);
  const plan = await assessFailover(deps, policy, input, failoverId, startedAt);
  if (plan.preconditions.some((p) => p.status === 'fail'))
    throw new FailoverPreconditionError(input.target, plan.preconditions);
  return plan;
}

/** The Preflight task: checks every precondition and starts the failover's state. */
export async function startFailover(
  deps: PreflightDeps,
  policy: Policy,
  event: unknown,
  now: Date,
): Promise<FailoverStart> {
  const { input, failoverId, startedAt } = parseEvent(FailoverStartSchema, event);
  const preflight = await preflightFailover(deps, policy, input, failoverId, new Date(startedAt));
  return {
    input,
    preflight,
    promotion: {
      state: preflight.promotion === 'promoted' ? 'promoted' : 'waiting',
      status: preflight.promotion,
      endpoint: preflight.endpoint,
      count: 0,
      observedAt: now.toISOString(),
    },
  };
}
