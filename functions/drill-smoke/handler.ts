import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientIn } from '../../shared/aws/clients.js';
import { connectPostgres } from '../../shared/drills/pg-session.js';
import { runSmokeChecks } from '../../shared/drills/smoke-checks.js';
import { readTaskConfig } from '../../shared/jobs/task-config.js';
import { stateMachineTask } from '../../shared/jobs/task-handler.js';
import { jobObservability } from '../../shared/observability/powertools.js';

const config = readTaskConfig();
const { logger } = jobObservability('drill-smoke');
const secrets = clientIn(SecretsManagerClient, config.region);

/** Restore drill, SmokeChecks: runs inside the VPC, next to the restored database. */
export const handler = stateMachineTask(logger, (event) =>
  runSmokeChecks({ secrets, connect: connectPostgres }, event),
);
