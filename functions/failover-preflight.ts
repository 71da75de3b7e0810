import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Route53Client } from '@aws-sdk/client-route-53';
import { clientIn, ROUTE53_REGION, rdsIn } from '../shared/aws/clients.js';
import type { FailoverStart } from '../shared/failover/failover-contract.js';
import { type HttpProbe, httpProbe } from '../shared/failover/health.js';
import { type PreflightDeps, startFailover } from '../shared/failover/preflight.js';
import type { StateMachineTask, TaskEnvironment } from '../shared/jobs/job-definition.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { taskHandler } from '../shared/jobs/task-handler.js';

/** What a failover's preflight may be given in place of the network: a probe, a pause. */
export interface PreflightStandIns {
  readonly probe: HttpProbe;
  readonly pause: (ms: number) => Promise<void>;
}

/** The preflight's dependencies in a region: the task's, and `lifeboat failover plan`'s. */
export function preflightDeps(
  env: Pick<TaskEnvironment<PreflightStandIns>, 'region' | 'standIns'>,
): PreflightDeps {
  return {
    rds: rdsIn(env.region),
    route53: clientIn(Route53Client, ROUTE53_REGION),
    cloudwatch: clientIn(CloudWatchClient, env.region),
    probe: env.standIns.probe ?? httpProbe,
    ...(env.standIns.pause ? { pause: env.standIns.pause } : {}),
  };
}

/** Regional failover, Preflight: every precondition, and what a previous run already did. */
export const definition: StateMachineTask<PreflightDeps, FailoverStart, PreflightStandIns> = {
  kind: 'task',
  name: 'failoverPreflight',
  machine: 'regional-failover',
  description: 'Failover - checks every precondition and what a previous run already did',
  timeout: 120,
  wire: preflightDeps,
  run: async (deps, event, env) => {
    const state = await startFailover(deps, env.policy(), event, env.now());
    env.log.info('preflight', { preconditions: state.preflight.preconditions });
    return state;
  },
};

export const handler = taskHandler(definition, { policy: packagedPolicy });
