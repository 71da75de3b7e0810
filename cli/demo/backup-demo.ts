import { AddTagsToResourceCommand, CreateDBSnapshotCommand } from '@aws-sdk/client-rds';
import { rdsIn } from '../../shared/aws/clients.js';
import { rdsLimiter } from '../../shared/aws/rate-limiter.js';
import { silentLog } from '../../shared/observability/job-log.js';
import { listManualSnapshots, type RegionalRds } from '../../shared/rds/snapshots.js';
import { readInventory, runRetentionJob } from '../../shared/retention/retention-job.js';
import { planRetention } from '../../shared/retention/retention-planner.js';
import { ZonedCalendar } from '../../shared/retention/zoned-calendar.js';
import { type Slot, slotOf } from '../../shared/snapshots/slot.js';
import { runSnapshotJob } from '../../shared/snapshots/snapshot-job.js';
import { TAG } from '../../shared/snapshots/tags.js';
import { printPlan } from '../commands/retention.js';
import { line, localTime, table } from '../output.js';
import type { DemoContext } from './demo-context.js';
import { seedCluster, seedInstance } from './seed.js';

const DAY = 86_400_000;

/** The databases of the demo account, and a snapshot someone took by hand. */
export async function seedDemoDatabases(ctx: DemoContext): Promise<void> {
  const { policy, io } = ctx;
  const rds = rdsIn(policy.regions.primary).client;
  await seedInstance(rds, 'orders-db');
  await seedInstance(rds, 'reports-db', { backup: 'lifeboat' });
  await seedInstance(rds, 'scratch-db');
  await seedCluster(rds, 'billing');
  await rds.send(
    new CreateDBSnapshotCommand({
      DBInstanceIdentifier: 'orders-db',
      DBSnapshotIdentifier: 'before-upgrade',
    }),
  );
  line(
    io.out,
    `  ${policy.regions.primary}: rds-instance orders-db, rds-instance reports-db (tagged backup=lifeboat),`,
  );
  line(io.out, '    rds-instance scratch-db (not in the policy), aurora-cluster billing');
  line(io.out, '    and a manual snapshot taken by hand: before-upgrade');
}

/** The slot of `hour` o'clock, in the policy's time zone, `daysAgo` days before `today`. */
export function localSlot(timeZone: string, today: Date, daysAgo: number, hour: number): Slot {
  const calendar = new ZonedCalendar(timeZone);
  const local = calendar.local(new Date(today.getTime() - daysAgo * DAY));
  return slotOf(calendar.instantOf(local.year, local.month, local.day, hour));
}

/**
 * A simulated month of daily slots: snapshot-rds then enforce-retention each day, the very job
 * code the Lambdas run, against the local AWS. Puts a legal hold on one snapshot on day 5.
 */
export async function simulateMonth(ctx: DemoContext, days: number, today: Date): Promise<void> {
  const { policy, recorder, io } = ctx;
  // Each run is its own invocation, with its own request budget, as in Lambda.
  const deps = () => ({
    primary: rdsIn(policy.regions.primary),
    dr: rdsIn(policy.regions.dr),
    limiter: rdsLimiter(policy.rdsRequestsPerSecond),
    recorder,
    log: silentLog,
  });
  const rows: string[][] = [];
  let held = '';
  let totalDeleted = 0;
  let last = today;
  for (let day = days; day >= 1; day -= 1) {
    // The day's 03:00 in the policy's time zone, as the schedule fires it.
    const slot = localSlot(policy.timeZone, today, day, 3);
    last = slot.time;
    const snapshots = await runSnapshotJob(deps(), policy, slot);
    if (day === days - 4) {
      held = snapshots.targets.find((t) => t.target === 'orders-db')?.snapshotId ?? '';
      await holdSnapshot(rdsIn(policy.regions.primary), held);
    }
    const retention = await runRetentionJob(
      deps(),
      policy,
      new Date(slot.time.getTime() + 90 * 60_000),
    );
    totalDeleted += retention.deletions.length;
    const count = (list: readonly { outcome: string }[], outcome: string) =>
      list.filter((o) => o.outcome === outcome).length;
    rows.push([
      localTime(slot.time, policy.timeZone),
      String(count(snapshots.targets, 'created')),
      String(count(snapshots.copies, 'started')),
      String(retention.deletions.filter((d) => d.region === policy.regions.primary).length),
      String(retention.deletions.filter((d) => d.region === policy.regions.dr).length),
      String(retention.plan.keep),
      snapshots.failures.length + retention.failures.length > 0 ? 'FAILED' : 'ok',
    ]);
  }
  line(
    io.out,
    table(['SLOT', 'CREATED', 'COPIED', 'DELETED PRIMARY', 'DELETED DR', 'KEPT', 'RUN'], rows),
  );
  line(io.out);
  line(io.out, `Deleted over the month: ${totalDeleted} snapshots, each with its reason.`);
  if (held)
    line(
      io.out,
      `Day 5: ${held} was put under legal hold (tag ${TAG.legalHold}); retention keeps it.`,
    );
  line(io.out, 'Each run also wrote a signed manifest of what it produced.');

  const now = new Date(last.getTime() + 90 * 60_000);
  const plan = planRetention(await readInventory(deps()), policy, now);
  line(io.out);
  line(io.out, 'What is kept now, and why (the newest first, per target and region):');
  printPlan(io, plan, policy, (s) => s.target === 'orders-db' || s.id === 'before-upgrade');
  line(
    io.out,
    '(reports-db and billing follow the same rules; run `lifeboat retention plan` to see all.)',
  );
}

/** Puts a legal hold on a snapshot, as a compliance officer would: by tagging it. */
async function holdSnapshot(rds: RegionalRds, snapshotId: string): Promise<void> {
  const snapshot = (await listManualSnapshots(rds)).find((s) => s.id === snapshotId);
  if (!snapshot) return;
  await rds.client.send(
    new AddTagsToResourceCommand({
      ResourceName: snapshot.arn,
      Tags: [{ Key: TAG.legalHold, Value: 'case-4711' }],
    }),
  );
}
