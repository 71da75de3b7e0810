import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientIn } from '../../shared/aws/clients.js';
import { connectPostgres } from '../../shared/drills/pg-session.js';
import { runSmokeChecks } from '../../shared/drills/smoke-checks.js';
import { readLambdaJobConfig } from '../../shared/jobs/lambda-job.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readLambdaJobConfig();
const { logger } = jobObservability('drill-smoke');
const secrets = clientIn(SecretsManagerClient, config.region);

/** Restore drill, SmokeChecks: runs inside the VPC, next to the restored database. */
export const handler = stateMachineTask(logger, (event) =>
  runSmokeChecks({ secrets, connect: connectPostgres }, event),
);
