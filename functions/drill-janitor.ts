import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type RegionalRds, rdsIn } from '../shared/aws/clients.js';
import { type JanitorResult, runJanitor } from '../shared/drills/janitor.js';
import type { ScheduledJob } from '../shared/jobs/job-definition.js';
import { scheduledJobHandler } from '../shared/jobs/job-handler.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import type { JobLog } from '../shared/observability/job-log.js';
import { drillStackOf } from '../shared/policy/regions.js';

/** Deletes the databases failed drills left behind in this region, by drill name and tag. */
export const definition: ScheduledJob<
  { readonly rds: RegionalRds; readonly log: JobLog },
  JanitorResult
> = {
  kind: 'job',
  name: 'drillJanitor',
  description: 'Deletes drill databases that failed drills left behind, chosen by drill tag',
  schedule: (policy) => policy.drills?.janitorSchedule,
  // It cleans up after drills in the region drills run in.
  runsIn: (policy) => drillStackOf(policy),
  wire: (env) => ({ rds: rdsIn(env.region), log: env.log }),
  run: (deps, policy, scheduledTime) => runJanitor(deps, policy, scheduledTime),
  publish: (result, metrics) => {
    metrics.addMetric('DrillLeftoversDeleted', MetricUnit.Count, result.deleted.length);
  },
};

export const handler = scheduledJobHandler(definition, { policy: packagedPolicy });
