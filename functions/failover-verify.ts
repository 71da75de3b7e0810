import { Route53Client } from '@aws-sdk/client-route-53';
import { clientIn, ROUTE53_REGION } from '../shared/aws/clients.js';
import { type HttpProbe, httpProbe, verifyHealth } from '../shared/failover/health.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { taskHandler } from '../shared/jobs/task-handler.js';

/** Regional failover, VerifyHealth: the DR endpoint must pass its health check. */
export const definition: StateMachineTask<
  Parameters<typeof verifyHealth>[0],
  Awaited<ReturnType<typeof verifyHealth>>,
  { readonly probe: HttpProbe }
> = {
  kind: 'task',
  name: 'failoverVerify',
  machine: 'regional-failover',
  description: "Failover - checks the DR endpoint's health",
  timeout: 60,
  wire: (env) => ({
    route53: clientIn(Route53Client, ROUTE53_REGION),
    probe: env.standIns.probe ?? httpProbe,
  }),
  run: (deps, event, env) => verifyHealth(deps, event, env.now),
};

export const handler = taskHandler(definition);
