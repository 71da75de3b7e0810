import type { Policy } from '../shared/policy/schema.js';
import type { SnapshotRecord } from '../shared/rds/snapshots.js';
import type { RetentionPlan } from '../shared/retention/retention-planner.js';
import { type Io, line, localTime, table } from './output.js';

/** The plan as JSON: one decision per snapshot, with its reasons. */
export function planJson(plan: RetentionPlan) {
  return {
    now: plan.now.toISOString(),
    keep: plan.keep,
    delete: plan.delete,
    decisions: plan.decisions.map((d) => ({
      region: d.snapshot.region,
      kind: d.snapshot.kind,
      target: d.snapshot.target,
      snapshotId: d.snapshot.id,
      time: d.snapshot.time?.toISOString(),
      action: d.action,
      reasons: d.reasons,
    })),
  };
}

/** The plan as a table, one row per snapshot, newest first within each target and region. */
export function printPlan(
  io: Io,
  plan: RetentionPlan,
  policy: Policy,
  only?: (s: SnapshotRecord) => boolean,
): void {
  const decisions = plan.decisions.filter((d) => !only || only(d.snapshot));
  line(
    io.out,
    `Retention plan for ${policy.name} at ${localTime(plan.now, policy.timeZone)} (${policy.timeZone}): keep ${plan.keep}, delete ${plan.delete}`,
  );
  line(io.out);
  line(
    io.out,
    table(
      ['REGION', 'TARGET', 'SNAPSHOT', 'TIME', 'ACTION', 'WHY'],
      decisions.map((d) => [
        d.snapshot.region,
        d.snapshot.target,
        d.snapshot.id,
        localTime(d.snapshot.time, policy.timeZone),
        d.action.toUpperCase(),
        d.reasons.join('; '),
      ]),
    ),
  );
}
