import { rdsIn } from '../../shared/aws/clients.js';
import { tearDownDrill } from '../../shared/drills/teardown.js';
import { readTaskConfig } from '../../shared/jobs/task-config.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readTaskConfig();
const { logger } = jobObservability('drill-teardown');
const rds = rdsIn(config.region);

/** Restore drill, Teardown: deletes the drill's temporary database, and nothing else. */
export const handler = stateMachineTask(logger, async (event) => {
  const result = await tearDownDrill(rds, event);
  logger.info('teardown', { ...result });
  return result;
});
