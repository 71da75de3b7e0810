import { KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { RegionalRds } from '../../shared/aws/clients.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { readLedger, readRun } from '../../shared/manifest/manifest-ledger.js';
import { slotOf } from '../../shared/naming/slot.js';
import { silentLog } from '../../shared/observability/job-log.js';
import { runSnapshotJob } from '../../shared/snapshots/snapshot-job.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { fixturePolicy } from '../support/policy.js';
import {
  type Around,
  cluster,
  emptyRegion,
  instance,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';
import { testRecorder } from '../support/records.js';
import { Bucket, simulateKms, simulateS3, TEST_VAULT } from '../support/vault-world.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const policy = fixturePolicy();
const slot = slotOf(new Date('2026-11-21T02:00:00Z'));

/** A connection dropped after the call took effect: the caller never learns that it did. */
class LostResponseError extends Error {
  constructor(operation: string) {
    super(`${operation}: the connection was reset before the answer arrived`);
    this.name = 'TimeoutError';
  }
}

/** Throttled before it took effect. */
class ThrottledError extends Error {
  constructor(operation: string) {
    super(`${operation}: Rate exceeded`);
    this.name = 'ThrottlingException';
  }
}

interface World {
  readonly primary: RegionState;
  readonly dr: RegionState;
  readonly bucket: Bucket;
}

function newWorld(): World {
  const primary = emptyRegion();
  primary.instances.push(
    instance('orders-db', PRIMARY),
    instance('tagged-db', PRIMARY, [{ Key: 'backup', Value: 'lifeboat' }]),
  );
  primary.clusters.push(cluster('billing', PRIMARY));
  return { primary, dr: emptyRegion(), bucket: new Bucket() };
}

/** One delivery of the slot: RDS clients of its own over the shared world, calls going `around`. */
function delivery(world: World, around: Around) {
  const regional = (region: string, state: RegionState): RegionalRds => {
    const client = new RDSClient({ region });
    simulateRegion(client, region, state, { createdStatus: 'available', around });
    return { region, client };
  };
  return runSnapshotJob(
    {
      primary: regional(PRIMARY, world.primary),
      dr: regional(DR, world.dr),
      limiter: new RateLimiter({ perSecond: 1_000_000, burst: 1_000_000 }),
      recorder: testRecorder(),
      log: silentLog,
      kmsIn: (region: string) => new KMSClient({ region }),
    },
    policy,
    slot,
    new Date('2026-11-21T02:05:00Z'),
  );
}

/** The snapshots and copies the regions hold for the slot, by their deterministic identifiers. */
function heldForSlot(world: World): string[] {
  return [
    ...world.primary.snapshots.map((s) => s.DBSnapshotArn ?? ''),
    ...world.primary.clusterSnapshots.map((s) => s.DBClusterSnapshotArn ?? ''),
    ...world.dr.snapshots.map((s) => s.DBSnapshotArn ?? ''),
    ...world.dr.clusterSnapshots.map((s) => s.DBClusterSnapshotArn ?? ''),
  ]
    .filter((arn) => arn.endsWith(`-${slot.id}`))
    .sort();
}

/** Every snapshot and copy the slot's record lists, over all its trustworthy revisions. */
async function recordedForSlot(): Promise<string[]> {
  const s3 = new S3Client({ region: PRIMARY });
  const ledger = await readLedger(s3, TEST_VAULT.bucket, policy.name);
  const record = await readRun(
    {
      s3,
      bucket: TEST_VAULT.bucket,
      kms: new KMSClient({}),
      manifestKeyArn: TEST_VAULT.manifestKeys.primary,
    },
    ledger,
    `snapshots-${slot.id}`,
  );
  return [
    ...(record?.artifacts.snapshots ?? []).map((a) => a.arn),
    ...(record?.artifacts.drCopies ?? []).map((a) => a.arn),
  ].sort();
}

/** The checks verification makes of the slot's run. */
async function verificationOf(world: World) {
  const rds = (region: string, state: RegionState): RegionalRds => {
    const client = new RDSClient({ region });
    simulateRegion(client, region, state);
    return { region, client };
  };
  const result = await runVerificationJob(
    {
      s3: new S3Client({ region: PRIMARY }),
      kms: new KMSClient({ region: PRIMARY }),
      site: 'primary',
      primary: rds(PRIMARY, world.primary),
      dr: rds(DR, world.dr),
      vault: TEST_VAULT,
      limiter: new RateLimiter({ perSecond: 1_000_000, burst: 1_000_000 }),
      log: silentLog,
    },
    policy,
    new Date('2026-11-21T06:00:00Z'),
    { runIds: [`snapshots-${slot.id}`] },
  );
  return result.runs[0]?.checks ?? [];
}

afterEach(() => {
  simulateS3();
  simulateKms();
});

describe('concurrent deliveries of one slot, with responses lost', () => {
  it('leave every snapshot and copy of the slot recorded, or named unrecorded, and the next delivery records them all', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 64, maxLength: 64 }),
        fc.integer({ min: 0, max: 60 }),
        async (scheduler, deliveries, dice, faultPercent) => {
          // Prepare: every call waits for the scheduler, then may be throttled, or take effect
          // and lose its answer
          const world = newWorld();
          let call = 0;
          const faulty: Around = async (operation, effect) => {
            await scheduler.schedule(Promise.resolve(), operation);
            const roll = dice[call++ % dice.length] as number;
            if (roll < faultPercent / 2) throw new ThrottledError(operation);
            const result = effect();
            if (roll < faultPercent) throw new LostResponseError(operation);
            return result;
          };
          simulateS3(world.bucket, faulty);
          simulateKms(faulty);

          // Act
          const runs = Promise.allSettled(
            Array.from({ length: deliveries }, () => delivery(world, faulty)),
          );
          await scheduler.waitFor(runs);
          await runs;
          simulateS3(world.bucket);
          simulateKms();
          const recorded = await recordedForSlot();
          const unrecorded = (await verificationOf(world))
            .filter((c) => c.reason.startsWith('unrecorded:'))
            .map((c) => c.artifact);
          const held = heldForSlot(world);
          await delivery(world, (_, effect) => effect());
          const afterClean = await recordedForSlot();
          const failedAfterClean = (await verificationOf(world)).filter(
            (c) => c.status === 'failed',
          );

          // Assess
          expect([...new Set([...recorded, ...unrecorded])].sort()).toEqual(
            expect.arrayContaining(held),
          );
          expect(afterClean).toEqual(heldForSlot(world));
          expect(failedAfterClean).toEqual([]);
          expect(heldForSlot(world).filter((arn) => arn.includes(':eu-central-1:'))).toHaveLength(
            3,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
