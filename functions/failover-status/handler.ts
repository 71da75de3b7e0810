import { rdsIn } from '../../shared/aws/clients.js';
import { checkPromotion } from '../../shared/failover/promotion.js';
import { readTaskConfig } from '../../shared/jobs/task-config.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readTaskConfig();
const { logger } = jobObservability('failover-status');
const rds = rdsIn(config.region);

/** Regional failover, CheckPromotion: whether the DR database takes writes yet. */
export const handler = stateMachineTask(logger, (event) => checkPromotion(rds, event, new Date()));
