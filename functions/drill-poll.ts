import { type RegionalRds, rdsIn } from '../shared/aws/clients.js';
import type { RestorePoll } from '../shared/drills/drill-contract.js';
import { pollRestore } from '../shared/drills/restore-poll.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { taskHandler } from '../shared/jobs/task-handler.js';

/** Restore drill, PollRestore: one look at the restoring database. */
export const definition: StateMachineTask<RegionalRds, RestorePoll> = {
  kind: 'task',
  name: 'drillPoll',
  machine: 'restore-drill',
  description: 'Restore drill - looks at the restoring drill database',
  timeout: 60,
  wire: (env) => rdsIn(env.region),
  run: (rds, event, env) => pollRestore(rds, event, env.now()),
};

export const handler = taskHandler(definition);
