import { beforeAll, describe, expect, it } from 'vitest';
import { definition as snapshotRds } from '../../functions/snapshot-rds.js';
import {
  type LocalPipeline,
  localPipeline,
  type PassEntry,
} from '../../local/aws/local-pipeline.js';
import { seedCluster, seedInstance, seedKey, seedVault } from '../../local/demo/seed.js';
import { rdsIn } from '../../shared/aws/clients.js';
import { localJobEnvironment } from '../../shared/jobs/local-environment.js';
import { type Slot, slotOf } from '../../shared/naming/slot.js';
import type { Policy } from '../../shared/policy/schema.js';
import { listManualSnapshots } from '../../shared/rds/snapshots.js';
import type { Vault } from '../../shared/vault/vault.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy } from '../support/policy.js';

// 100 databases, more than RDS lets copy at once (20 instance copies, 5 cluster copies in flight
// into a region), at durations like AWS's: a snapshot takes 10 minutes, a copy 20. The local
// AWS refuses a copy past the caps, as AWS does; the clock moves on at once, so hours take
// seconds.

const ACCOUNT = '123456789012';
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const INSTANCES = 92;
const CLUSTERS = 8;
const SNAPSHOT_SECONDS = 600;
const COPY_SECONDS = 1200;
const DAY = 86_400;

// Two slots of 100 databases in each region: more than moto's default of 100 manual snapshots.
process.env.MOTO_RDS_SNAPSHOT_LIMIT = '1000';
const local = useLocalAws();

let policy: Policy;
let vault: Vault;
const clusterIds = Array.from({ length: CLUSTERS }, (_, i) => `ledger-${i}`);

beforeAll(async () => {
  await local.aws.setTiming({ snapshot: SNAPSHOT_SECONDS, copy: COPY_SECONDS });
  const fixture = fixturePolicy();
  const { vault: _none, ...base } = fixture;
  policy = {
    ...base,
    targets: [
      { kind: 'rds-instance', tags: { fleet: 'scale' } },
      ...clusterIds.map((identifier) => ({ kind: 'aurora-cluster' as const, identifier })),
    ],
    snapshots: {
      ...fixture.snapshots,
      drKmsKeyArn: await seedKey(DR),
      quotas: { instanceSnapshots: 1000, clusterSnapshots: 1000 },
    },
  };
  vault = await seedVault(policy, ACCOUNT);
  const rds = rdsIn(PRIMARY).client;
  for (let i = 0; i < INSTANCES; i += 1) {
    await seedInstance(rds, `shop-${String(i).padStart(3, '0')}`, { fleet: 'scale' });
  }
  for (const id of clusterIds) await seedCluster(rds, id);
}, 120_000);

/** What is copying into the DR region, of each kind, after each pass. */
interface InFlight {
  instance: number;
  cluster: number;
}

async function pipelineFrom(start: Date) {
  const inFlight: InFlight[] = [];
  const pipeline = await localPipeline(
    local.aws,
    environment(() => start),
    {
      start,
      afterPass: async (_entry: PassEntry) => {
        const { pending } = await local.aws.clock.read();
        const copying = pending.filter((p) => p.kind === 'copy' && p.region === DR);
        inFlight.push({
          instance: copying.filter((p) => p.family === 'instance').length,
          cluster: copying.filter((p) => p.family === 'cluster').length,
        });
      },
    },
  );
  return { pipeline, inFlight };
}

function environment(now: () => Date) {
  return localJobEnvironment(policy, ACCOUNT, vault, undefined, now);
}

async function snapshotRun(slot: Slot): Promise<void> {
  const env = environment(() => slot.time);
  const run = await snapshotRds.run(snapshotRds.wire(env), policy, slot.time);
  expect(run.failures).toEqual([]);
  expect(run.targets.filter((t) => t.outcome === 'created')).toHaveLength(INSTANCES + CLUSTERS);
}

/** The DR copies started (of one kind, or all), in the order the passes started them. */
function started(pipeline: LocalPipeline, kind?: 'instance' | 'cluster'): string[] {
  return pipeline.history.flatMap(({ pass }) =>
    pass.copies
      .filter((c) => c.outcome === 'started' && (kind === undefined || c.kind === kind))
      .map((c) => c.snapshotId),
  );
}

const max = (list: readonly InFlight[], kind: keyof InFlight) =>
  Math.max(0, ...list.map((f) => f[kind]));

describe('the pipeline with 100 databases', () => {
  it('copies every database’s slot to the DR region within the slot’s period, the caps full and never passed', async () => {
    // Prepare
    const slot = slotOf(new Date(Date.UTC(2026, 10, 10, 2)));
    const clockAtSlot = Date.parse((await local.aws.clock.read()).now);
    const { pipeline, inFlight } = await pipelineFrom(slot.time);
    await snapshotRun(slot);

    // Act
    await pipeline.settle({ maxSeconds: DAY });

    // Assess: one DR copy of every snapshot, each available well within the day's period.
    const drCopies = (await listManualSnapshots(rdsIn(DR))).filter((s) => s.id.endsWith(slot.id));
    expect(drCopies).toHaveLength(INSTANCES + CLUSTERS);
    expect(drCopies.every((s) => s.status === 'available')).toBe(true);
    expect(new Set(started(pipeline)).size).toBe(started(pipeline).length);
    expect(pipeline.history.flatMap((h) => h.pass.failures)).toEqual([]);
    // RDS refuses a copy past its caps: none was refused, and the caps were kept full.
    expect(max(inFlight, 'instance')).toBe(20);
    expect(max(inFlight, 'cluster')).toBe(5);
    const copied = (await local.aws.events()).filter(
      (e) => e.region === DR && e.detail.SourceIdentifier.endsWith(slot.id),
    );
    expect(copied).toHaveLength(INSTANCES + CLUSTERS);
    const ages = copied.map((e) => (Date.parse(e.detail.Date) - clockAtSlot) / 1000);
    expect(Math.max(...ages)).toBeLessThan(DAY);
    // Five rounds of 20 instance copies after the snapshots: the caps, not the schedule, pace it.
    const rounds = Math.ceil(INSTANCES / 20);
    expect(Math.max(...ages)).toBeGreaterThanOrEqual(SNAPSHOT_SECONDS + rounds * COPY_SECONDS);
    expect(pipeline.history.at(-1)?.pass.open).not.toContain(slot.id);
  }, 600_000);

  it('copies the newest slot first when behind, then the older one its retention keeps', async () => {
    // Prepare: two slots snapshotted while the pipeline was down (their events lost).
    const older = slotOf(new Date(Date.UTC(2026, 10, 12, 2)));
    const newer = slotOf(new Date(Date.UTC(2026, 10, 13, 2)));
    await local.aws.setDelivery({ drop: 1 });
    await snapshotRun(older);
    await snapshotRun(newer);
    await local.aws.clock.advance(SNAPSHOT_SECONDS);
    await local.aws.setDelivery({ drop: 0 });
    const { pipeline, inFlight } = await pipelineFrom(
      new Date(newer.time.getTime() + SNAPSHOT_SECONDS * 1000),
    );

    // Act
    await pipeline.settle({ maxSeconds: DAY });

    // Assess: both slots copied, and no pass started a copy of the older slot while one of the
    // newer slot's, of the same kind (each kind has its cap), waited.
    for (const [kind, count] of [
      ['instance', INSTANCES],
      ['cluster', CLUSTERS],
    ] as const) {
      const order = started(pipeline, kind);
      expect(order.filter((id) => id.endsWith(newer.id))).toHaveLength(count);
      expect(order.filter((id) => id.endsWith(older.id))).toHaveLength(count);
    }
    const olderBeforeNewer = pipeline.history.filter(({ pass }) =>
      pass.copies.some(
        (c) =>
          c.outcome === 'started' &&
          c.snapshotId.endsWith(older.id) &&
          pass.waiting.some((w) => w.kind === c.kind && w.slot === newer.id),
      ),
    );
    expect(olderBeforeNewer).toEqual([]);
    const firstOlderPass = pipeline.history.findIndex(({ pass }) =>
      pass.copies.some((c) => c.outcome === 'started' && c.snapshotId.endsWith(older.id)),
    );
    expect(firstOlderPass).toBeGreaterThan(0);
    expect(pipeline.history.flatMap((h) => h.pass.failures)).toEqual([]);
    expect(max(inFlight, 'instance')).toBe(20);
    expect(max(inFlight, 'cluster')).toBe(5);
    // Every pass that left copies waiting said which, and since when.
    const waited = pipeline.history.flatMap((h) => h.pass.waiting);
    expect(waited.length).toBeGreaterThan(0);
    expect(waited.every((w) => w.to === 'dr' && w.waitingSeconds >= SNAPSHOT_SECONDS)).toBe(true);
  }, 600_000);
});
