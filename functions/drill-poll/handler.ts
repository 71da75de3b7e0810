import { rdsIn } from '../../shared/aws/clients.js';
import { pollRestore } from '../../shared/drills/restore-poll.js';
import { readTaskConfig } from '../../shared/jobs/task-config.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readTaskConfig();
const { logger } = jobObservability('drill-poll');
const rds = rdsIn(config.region);

/** Restore drill, PollRestore: one look at the restoring database. */
export const handler = stateMachineTask(logger, (event) => pollRestore(rds, event, new Date()));
