import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientIn } from '../shared/aws/clients.js';
import type { Connect } from '../shared/drills/database-session.js';
import { drillConnect } from '../shared/drills/drill-connect.js';
import type { SmokeResult } from '../shared/drills/drill-contract.js';
import { runSmokeChecks } from '../shared/drills/smoke-checks.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { taskHandler } from '../shared/jobs/task-handler.js';

/** Restore drill, SmokeChecks: runs inside the VPC, next to the restored database. */
export const definition: StateMachineTask<
  Parameters<typeof runSmokeChecks>[0],
  SmokeResult,
  { readonly connect: Connect }
> = {
  kind: 'task',
  name: 'drillSmoke',
  machine: 'restore-drill',
  description:
    "Restore drill - runs the policy's smoke checks against the drill database, in the VPC",
  timeout: 300,
  inVpc: true,
  wire: (env) => ({
    secrets: clientIn(SecretsManagerClient, env.region),
    connect: env.standIns.connect ?? drillConnect(),
    now: env.now,
  }),
  run: (deps, event) => runSmokeChecks(deps, event),
};

export const handler = taskHandler(definition);
