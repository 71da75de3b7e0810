import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Route53Client } from '@aws-sdk/client-route-53';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { httpProbe } from '../../shared/failover/health.js';
import { startFailover } from '../../shared/failover/preflight.js';
import { readLambdaJobConfig } from '../../shared/jobs/lambda-job.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readLambdaJobConfig();
const { logger } = jobObservability('failover-preflight');
const deps = {
  rds: rdsIn(config.region),
  route53: clientIn(Route53Client, 'us-east-1'),
  cloudwatch: clientIn(CloudWatchClient, config.region),
  probe: httpProbe,
};

/** Regional failover, Preflight: every precondition, and what a previous run already did. */
export const handler = stateMachineTask(logger, async (event) => {
  const state = await startFailover(deps, config.policy, event, new Date());
  logger.info('preflight', { preconditions: state.preflight.preconditions });
  return state;
});
