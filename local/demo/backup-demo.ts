import {
  AddTagsToResourceCommand,
  CreateDBSnapshotCommand,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { definition as enforceRetention } from '../../functions/enforce-retention.js';
import { definition as snapshotRds } from '../../functions/snapshot-rds.js';
import { type RegionalRds, rdsIn } from '../../shared/aws/clients.js';
import { type Slot, slotOf } from '../../shared/naming/slot.js';
import { TAG } from '../../shared/naming/tags.js';
import { firesBetween, parseSchedule } from '../../shared/policy/schedule-expression.js';
import type { Policy } from '../../shared/policy/schema.js';
import { listManualSnapshots } from '../../shared/rds/snapshots.js';
import { readAttributedInventory } from '../../shared/retention/retention-job.js';
import { planRetention } from '../../shared/retention/retention-planner.js';
import { line, localTime, table } from '../../terminal/output.js';
import { printPlan } from '../../terminal/retention-plan.js';
import type { LocalPipeline } from '../aws/local-pipeline.js';
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
  await seedInstance(rds, 'shop-db', {}, 'mysql');
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
  line(
    io.out,
    '    rds-instance shop-db (MySQL), rds-instance scratch-db (not in the policy), aurora-cluster billing',
  );
  line(io.out, '    and a manual snapshot taken by hand: before-upgrade');
}

/** When a schedule of the policy fired in (from, until], oldest first. */
export function scheduledSlots(
  policy: Policy,
  expression: string,
  from: Date,
  until: Date,
): Slot[] {
  return firesBetween(
    parseSchedule(expression, policy.timeZone),
    new Date(from.getTime() + 1),
    until,
  ).map(slotOf);
}

/**
 * The last `days` days of the policy's schedules, up to `now`: snapshot-rds and enforce-retention
 * at the very times their schedules fire, the job code the Lambdas run, against the local AWS.
 * Puts a legal hold on one snapshot on day 5 (by tag), and takes the tag off again later.
 */
export async function simulateMonth(
  ctx: DemoContext,
  pipeline: LocalPipeline,
  days: number,
  now: Date,
): Promise<void> {
  const { policy, io } = ctx;
  // Each run is its own invocation, wired afresh (its own request budget) at its own time, as
  // in Lambda.
  const at = (time: Date) => ({ ...ctx.env, now: () => time });
  const from = new Date(now.getTime() - days * DAY);
  const snapshotSlots = scheduledSlots(policy, policy.snapshots.schedule, from, now);
  const retentionSlots = scheduledSlots(
    policy,
    policy.retention.schedule,
    snapshotSlots[0]?.time ?? now,
    now,
  );
  const rows: string[][] = [];
  let held = '';
  let totalDeleted = 0;
  for (const [day, slot] of snapshotSlots.entries()) {
    ctx.progress.state(
      `day ${day + 1} of ${snapshotSlots.length}: ${localTime(slot.time, policy.timeZone)}`,
    );
    const snapshots = await snapshotRds.run(snapshotRds.wire(at(slot.time)), policy, slot.time);
    // The pipeline takes each snapshot on from there: its DR copy, then its vault copy.
    await pipeline.setNow(slot.time);
    const passes = await pipeline.settle();
    const started = (kind: 'copies' | 'vault') =>
      passes.flatMap((p) => p[kind]).filter((c) => c.outcome === 'started').length;
    if (day === 4) {
      held = snapshots.targets.find((t) => t.target === 'orders-db')?.snapshotId ?? '';
      await tagHold(rdsIn(policy.regions.primary), held, 'case-4711');
    }
    // Retention runs when its schedule fires, before the next snapshot slot.
    const next = snapshotSlots[day + 1]?.time ?? new Date(now.getTime() + 1);
    const retentions = [];
    for (const { time } of retentionSlots.filter((r) => r.time > slot.time && r.time < next)) {
      retentions.push(await enforceRetention.run(enforceRetention.wire(at(time)), policy, time));
    }
    if (day === 10) await tagHold(rdsIn(policy.regions.primary), held, undefined);
    const deleted = retentions.flatMap((r) => r.deletions);
    totalDeleted += deleted.length;
    const count = (list: readonly { outcome: string }[], outcome: string) =>
      list.filter((o) => o.outcome === outcome).length;
    const failed =
      snapshots.failures.length +
      passes.reduce((n, p) => n + p.failures.length, 0) +
      retentions.reduce((n, r) => n + r.failures.length, 0);
    rows.push([
      localTime(slot.time, policy.timeZone),
      String(count(snapshots.targets, 'created')),
      String(started('copies')),
      policy.vault ? String(started('vault')) : '-',
      retentions.length
        ? String(deleted.filter((d) => d.region === policy.regions.primary).length)
        : '-',
      retentions.length
        ? String(deleted.filter((d) => d.region === policy.regions.dr).length)
        : '-',
      retentions.length ? String(retentions.at(-1)?.plan.keep) : '-',
      failed > 0 ? 'FAILED' : 'ok',
    ]);
  }
  line(
    io.out,
    table(
      ['SLOT', 'CREATED', 'COPIED', 'TO VAULT', 'DELETED PRIMARY', 'DELETED DR', 'KEPT', 'RUN'],
      rows,
    ),
  );
  line(io.out);
  line(
    io.out,
    `Deleted over the ${days} days: ${totalDeleted} snapshots, each recorded with its reason before it was deleted:`,
  );
  await printDeletions(ctx);
  if (held) {
    line(
      io.out,
      `Day 5: ${held} was put under legal hold (tag ${TAG.legalHold}); the next retention run signed a hold record.`,
    );
    if (snapshotSlots.length > 10) {
      line(
        io.out,
        'Day 11: the tag was removed; the signed hold stands until `lifeboat hold release` lifts it.',
      );
    }
  }
  line(
    io.out,
    'Each run wrote a signed record that names the one before it; retention recorded what it would delete before deleting it.',
  );

  const { snapshots } = await readAttributedInventory(enforceRetention.wire(at(now)), policy);
  const plan = planRetention(snapshots, policy, now);
  line(io.out);
  line(io.out, 'What is kept now, and why (the newest first, per target and region):');
  printPlan(io, plan, policy, (s) => s.target === 'orders-db' || s.id === 'before-upgrade');
  line(io.out, '(reports-db, shop-db and billing follow the same rules.)');
}

/** What retention deleted and why, from its signed records: a few, and the count per reason. */
async function printDeletions(ctx: DemoContext): Promise<void> {
  const { policy, io } = ctx;
  const records = await ctx.recorder.readRuns(policy.name, 'enforce-retention', () => true);
  const deletions = records.flatMap((r) =>
    r.artifacts.deletions.map((d) => ({ run: r.runId, ...d })),
  );
  const shown = deletions.filter((d) => d.target === 'orders-db').slice(0, 4);
  line(
    io.out,
    table(
      ['RUN', 'REGION', 'SNAPSHOT', 'WHY'],
      shown.map((d) => [d.run, d.region, d.arn.split(':').pop() ?? d.arn, d.reasons.join('; ')]),
    ),
  );
  const byReason = new Map<string, number>();
  for (const d of deletions) {
    const why = d.reasons.join('; ');
    byReason.set(why, (byReason.get(why) ?? 0) + 1);
  }
  for (const [why, n] of [...byReason].sort((a, b) => b[1] - a[1])) line(io.out, `  ${n} x ${why}`);
}

/** Tags a snapshot with a legal hold, as a compliance officer would, or (undefined) removes it. */
async function tagHold(rds: RegionalRds, snapshotId: string, value: string | undefined) {
  const snapshot = (await listManualSnapshots(rds)).find((s) => s.id === snapshotId);
  if (!snapshot) return;
  if (value === undefined) {
    await rds.client.send(
      new RemoveTagsFromResourceCommand({ ResourceName: snapshot.arn, TagKeys: [TAG.legalHold] }),
    );
  } else {
    await rds.client.send(
      new AddTagsToResourceCommand({
        ResourceName: snapshot.arn,
        Tags: [{ Key: TAG.legalHold, Value: value }],
      }),
    );
  }
}
