import {
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { definition as snapshotRds } from '../../functions/snapshot-rds.js';
import { verificationDeps } from '../../functions/verify-manifest.js';
import { AWS_PACE } from '../../local/aws/local-aws.js';
import { type LocalPipeline, localPipeline } from '../../local/aws/local-pipeline.js';
import { seedInstance } from '../../local/demo/seed.js';
import { rdsIn } from '../../shared/aws/clients.js';
import type { JobEnvironment } from '../../shared/jobs/job-definition.js';
import { localJobEnvironment } from '../../shared/jobs/local-environment.js';
import { slotOf } from '../../shared/naming/slot.js';
import type { Policy } from '../../shared/policy/schema.js';
import { listManualSnapshots, listSharedSnapshots } from '../../shared/rds/snapshots.js';
import type { Vault } from '../../shared/vault/vault.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { useLocalAws } from '../support/local-aws.js';
import { seedPipelineWorld } from '../support/pipeline.js';

// The pipeline at AWS's pace: snapshots and copies take time (AWS_PACE), RDS tells EventBridge
// when each is available, and the pipeline's queue and sweep take it from there.

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const VAULT = '222233334444';
const VAULT_BUCKET = 'lifeboat-vault-test-222233334444-eu-west-1';
const HOUR = 3_600_000;
// Seconds of the local clock a pass may take on a busy machine: far below a sweep's 300.
const MARGIN = 60;

const local = useLocalAws();

let policy: Policy;
let vault: Vault;
let vaultRds: RDSClient;
let day = 0;

beforeAll(async () => {
  ({ policy, vault, vaultRds } = await seedPipelineWorld(VAULT, VAULT_BUCKET));
});

afterEach(async () => {
  await local.aws.setDelivery({ drop: 0, duplicate: 0, delaySeconds: 0 });
});

/** A day's slot (each test its own), its snapshot run, and the pipeline as it stood then. */
async function slotRun(): Promise<{ slot: ReturnType<typeof slotOf>; pipeline: LocalPipeline }> {
  day += 1;
  const slot = slotOf(new Date(Date.UTC(2026, 10, day, 2)));
  const env: JobEnvironment = localJobEnvironment(
    policy,
    ACCOUNT,
    vault,
    undefined,
    () => slot.time,
  );
  const pipeline = await localPipeline(local.aws, env, { start: slot.time });
  const run = await snapshotRds.run(snapshotRds.wire(env), policy, slot.time);
  expect(run.failures).toEqual([]);
  return { slot, pipeline };
}

/** When (in seconds after its slot) the pipeline started each copy of the slot. */
function starts(pipeline: LocalPipeline, slot: ReturnType<typeof slotOf>, to: 'dr' | 'vault') {
  return pipeline.history.flatMap(({ at, by, pass }) =>
    (to === 'dr' ? pass.copies : pass.vault)
      .filter((c) => c.outcome === 'started' && c.snapshotId.endsWith(slot.id))
      .map((c) => ({ id: c.snapshotId, by, after: (at.getTime() - slot.time.getTime()) / 1000 })),
  );
}

const ofSlot = (slot: ReturnType<typeof slotOf>) => (s: { id: string }) => s.id.endsWith(slot.id);

describe('the pipeline at AWS’s pace', () => {
  it('starts each DR copy when RDS says its snapshot is available, and the vault copy when the DR copy is', async () => {
    // Prepare
    const { slot, pipeline } = await slotRun();
    const creating = (await listManualSnapshots(rdsIn(PRIMARY))).filter(ofSlot(slot));

    // Act
    await pipeline.settle();

    // Assess: the snapshots were creating; each copy started on the event of the step before,
    // within the slot (seconds of AWS_PACE after it), not at the next slot's run.
    expect(creating.map((s) => s.status)).toEqual(['creating', 'creating', 'creating']);
    const dr = starts(pipeline, slot, 'dr');
    const toVault = starts(pipeline, slot, 'vault');
    expect(dr.map((c) => c.id).sort()).toEqual([
      `lifeboat-billing-${slot.id}`,
      `lifeboat-orders-db-${slot.id}`,
      `lifeboat-reports-db-${slot.id}`,
    ]);
    // The local clock runs with real time too: a margin far below the sweep's 5 minutes.
    expect(dr.every((c) => c.by === 'events' && c.after <= AWS_PACE.snapshot + MARGIN)).toBe(true);
    expect(toVault).toHaveLength(3);
    expect(
      toVault.every(
        (c) => c.by === 'events' && c.after <= AWS_PACE.snapshot + AWS_PACE.copy + MARGIN,
      ),
    ).toBe(true);
    const drCopies = (await listManualSnapshots(rdsIn(DR))).filter(ofSlot(slot));
    const vaultCopies = (await listManualSnapshots({ region: DR, client: vaultRds })).filter(
      ofSlot(slot),
    );
    expect(drCopies.map((s) => s.status)).toEqual(['available', 'available', 'available']);
    expect(vaultCopies.map((s) => s.status)).toEqual(['available', 'available', 'available']);
    expect(
      (await listSharedSnapshots({ region: DR, client: vaultRds })).filter(ofSlot(slot)),
    ).toEqual([]);
    // Settled: the sweeps after it look at it no more.
    expect(pipeline.history.at(-1)?.pass.open).not.toContain(slot.id);
  });

  it('passes verification within the copy deadline, the record listing every copy', async () => {
    // Prepare
    const { slot, pipeline } = await slotRun();
    await pipeline.settle();

    // Act: an hour after the slot, well within copyDeadline (12h)
    const result = await runVerificationJob(
      verificationDeps(localJobEnvironment(policy, ACCOUNT, vault)),
      policy,
      new Date(slot.time.getTime() + HOUR),
      { runIds: [`snapshots-${slot.id}`] },
    );

    // Assess
    const run = result.runs.find((r) => r.runId === `snapshots-${slot.id}`);
    const failing = run?.checks.filter((c) => c.status !== 'passed') ?? [];
    expect(failing).toEqual([]);
    expect(run?.checks.filter((c) => c.kind === 'dr-copy')).toHaveLength(3);
    expect(run?.checks.filter((c) => c.kind === 'vault-account').length).toBeGreaterThanOrEqual(3);
  });

  it('copies all the same when every event is lost: the sweep does it', async () => {
    // Prepare
    await local.aws.setDelivery({ drop: 1 });
    const { slot, pipeline } = await slotRun();

    // Act
    await pipeline.settle();

    // Assess: each copy started by a sweep, within one sweep (5 minutes) of availability
    const dr = starts(pipeline, slot, 'dr');
    expect(dr).toHaveLength(3);
    expect(dr.every((c) => c.by === 'sweep' && c.after <= AWS_PACE.snapshot + 300)).toBe(true);
    expect(starts(pipeline, slot, 'vault')).toHaveLength(3);
    const drCopies = (await listManualSnapshots(rdsIn(DR))).filter(ofSlot(slot));
    expect(drCopies.map((s) => s.status)).toEqual(['available', 'available', 'available']);
  });

  it('copies nothing twice when every event comes twice, or late', async () => {
    // Prepare
    await local.aws.setDelivery({ duplicate: 1, delaySeconds: 30 });
    const { slot, pipeline } = await slotRun();

    // Act
    await pipeline.settle();

    // Assess
    const dr = starts(pipeline, slot, 'dr');
    expect(dr.map((c) => c.id).sort()).toEqual([...new Set(dr.map((c) => c.id))].sort());
    expect(dr).toHaveLength(3);
    expect(starts(pipeline, slot, 'vault')).toHaveLength(3);
    const events = (await local.aws.events()).filter((e) =>
      e.detail.SourceIdentifier.endsWith(slot.id),
    );
    expect(events.every((e) => e.delivered === 2 && e.late)).toBe(true);
  });

  it('starts nothing for an event about a snapshot that is not Lifeboat’s, whatever its name', async () => {
    // Prepare: someone takes a snapshot of another database under a Lifeboat name
    const { slot, pipeline } = await slotRun();
    await pipeline.settle();
    const rds = rdsIn(PRIMARY).client;
    await seedInstance(rds, 'intruder-db');
    const later = slotOf(new Date(slot.time.getTime() + 6 * HOUR));
    const forged = `lifeboat-orders-db-${later.id}`;
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'intruder-db',
        DBSnapshotIdentifier: forged,
      }),
    );
    await local.aws.clock.advance(AWS_PACE.snapshot);

    // Act
    const passes = await pipeline.drain();

    // Assess
    expect(passes.map((p) => [p.ignored, p.copies.length, p.vault.length])).toEqual([[1, 0, 0]]);
    const copied = await rdsIn(DR)
      .client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: forged }))
      .catch((e: Error) => e.name);
    expect(copied).toBe('DBSnapshotNotFoundFault');
  });
});
