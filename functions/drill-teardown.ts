import { type RegionalRds, rdsIn } from '../shared/aws/clients.js';
import type { TeardownResult } from '../shared/drills/drill-contract.js';
import { tearDownDrill } from '../shared/drills/teardown.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { taskHandler } from '../shared/jobs/task-handler.js';

/** Restore drill, Teardown: deletes the drill's temporary database, and nothing else. */
export const definition: StateMachineTask<RegionalRds, TeardownResult> = {
  kind: 'task',
  name: 'drillTeardown',
  machine: 'restore-drill',
  description: "Restore drill - deletes the drill's temporary database, and only it",
  timeout: 60,
  wire: (env) => rdsIn(env.region),
  run: async (rds, event, env) => {
    const result = await tearDownDrill(rds, event);
    env.log.info('teardown', { ...result });
    return result;
  },
};

export const handler = taskHandler(definition);
