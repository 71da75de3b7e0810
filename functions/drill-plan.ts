import { type RegionalRds, rdsIn } from '../shared/aws/clients.js';
import type { DrillStart } from '../shared/drills/drill-contract.js';
import { startDrill } from '../shared/drills/drill-plan.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { taskHandler } from '../shared/jobs/task-handler.js';

/** Restore drill, Plan: picks the restore point and names the temporary database. */
export const definition: StateMachineTask<
  { readonly rds: RegionalRds; readonly alertTopicArn: string },
  DrillStart
> = {
  kind: 'task',
  name: 'drillPlan',
  machine: 'restore-drill',
  description: 'Restore drill - picks the restore point and names the drill database',
  timeout: 60,
  wire: (env) => ({ rds: rdsIn(env.region), alertTopicArn: env.alertTopicArn }),
  run: (deps, event, env) => startDrill(deps, env.policy(), event),
};

export const handler = taskHandler(definition, { policy: packagedPolicy });
