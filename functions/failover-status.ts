import { type RegionalRds, rdsIn } from '../shared/aws/clients.js';
import type { PromotionCheck } from '../shared/failover/failover-contract.js';
import { checkPromotion } from '../shared/failover/promotion.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { taskHandler } from '../shared/jobs/task-handler.js';

/** Regional failover, CheckPromotion: whether the DR database takes writes yet. */
export const definition: StateMachineTask<RegionalRds, PromotionCheck> = {
  kind: 'task',
  name: 'failoverStatus',
  machine: 'regional-failover',
  description: 'Failover - watches the promotion of the DR database',
  timeout: 60,
  wire: (env) => rdsIn(env.region),
  run: (rds, event, env) => checkPromotion(rds, event, env.now()),
};

export const handler = taskHandler(definition);
