import { rdsIn } from '../../shared/aws/clients.js';
import { startDrill } from '../../shared/drills/drill-plan.js';
import { readLambdaJobConfig } from '../../shared/jobs/lambda-job.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readLambdaJobConfig();
const { logger } = jobObservability('drill-plan');
const rds = rdsIn(config.region);

/** Restore drill, Plan: picks the restore point and names the temporary database. */
export const handler = stateMachineTask(logger, (event) =>
  startDrill({ rds, alertTopicArn: config.alertTopicArn }, config.policy, event),
);
