import { Route53Client } from '@aws-sdk/client-route-53';
import { clientIn } from '../../shared/aws/clients.js';
import { httpProbe, verifyHealth } from '../../shared/failover/health.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const { logger } = jobObservability('failover-verify');
// Route 53's API lives in us-east-1 whatever the region.
const route53 = clientIn(Route53Client, 'us-east-1');

/** Regional failover, VerifyHealth: the DR endpoint must pass its health check. */
export const handler = stateMachineTask(logger, (event) =>
  verifyHealth({ route53, probe: httpProbe }, event, () => new Date()),
);
