import type { RDSClient } from '@aws-sdk/client-rds';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { definition as snapshotRds } from '../../functions/snapshot-rds.js';
import { localPipeline } from '../../local/aws/local-pipeline.js';
import { rdsIn } from '../../shared/aws/clients.js';
import { localJobEnvironment } from '../../shared/jobs/local-environment.js';
import { runIdOf } from '../../shared/naming/run-ids.js';
import { slotOf } from '../../shared/naming/slot.js';
import type { Policy } from '../../shared/policy/schema.js';
import { listManualSnapshots, listSharedSnapshots } from '../../shared/rds/snapshots.js';
import type { Vault } from '../../shared/vault/vault.js';
import { useLocalAws } from '../support/local-aws.js';
import { seedPipelineWorld } from '../support/pipeline.js';

// Whatever becomes of RDS's events (lost, repeated, late, so out of order) and however the
// pipeline's passes fall between them (a batch off the queue, a sweep, time passing), every
// snapshot of a slot ends with one DR copy and one vault copy, each started once, and the slot's
// record lists them. Against the local AWS at its pace, so RDS refuses what is not yet available.

const _PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const VAULT = '333344445555';
const VAULT_BUCKET = 'lifeboat-vault-property-333344445555-eu-west-1';
const RUNS = 12;

const local = useLocalAws();
let policy: Policy;
let vault: Vault;
let vaultRds: RDSClient;
let day = 0;

beforeAll(async () => {
  ({ policy, vault, vaultRds } = await seedPipelineWorld(VAULT, VAULT_BUCKET));
});

type Step = { do: 'sweep' } | { do: 'drain' } | { do: 'wait'; seconds: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ do: 'sweep' as const }),
  fc.constant({ do: 'drain' as const }),
  fc.record({ do: fc.constant('wait' as const), seconds: fc.integer({ min: 1, max: 400 }) }),
);

const delivery = fc.record({
  drop: fc.constantFrom(0, 0.3, 0.7, 1),
  duplicate: fc.constantFrom(0, 0.5, 1),
  delaySeconds: fc.constantFrom(0, 4, 40),
  seed: fc.nat(1_000),
});

const copiesOf = (list: readonly { id: string; status: string }[], slotId: string) =>
  list
    .filter((s) => s.id.endsWith(slotId))
    .map((s) => [s.id, s.status])
    .sort(([a], [b]) => (a ?? '').localeCompare(b ?? ''));

describe('the pipeline, whatever becomes of the events', () => {
  it('ends with one DR copy and one vault copy of every snapshot, each started once, and the record lists them', async () => {
    await fc.assert(
      fc.asyncProperty(delivery, fc.array(step, { maxLength: 10 }), async (events, steps) => {
        // Prepare
        day += 1;
        const slot = slotOf(new Date(Date.UTC(2026, 9, day, 2)));
        const env = localJobEnvironment(policy, ACCOUNT, vault, undefined, () => slot.time);
        await local.aws.setDelivery(events);
        const pipeline = await localPipeline(local.aws, env, { start: slot.time });
        const run = await snapshotRds.run(snapshotRds.wire(env), policy, slot.time);

        // Act: the steps as drawn, then the sweeps until nothing is left to do.
        for (const s of steps) {
          if (s.do === 'sweep') await pipeline.sweep();
          else if (s.do === 'drain') await pipeline.drain();
          else await local.aws.clock.advance(s.seconds);
        }
        await pipeline.settle();

        // Assess
        const ids = run.targets.map((t) => t.snapshotId ?? '').sort();
        const startedOnce = (to: 'dr' | 'vault') =>
          pipeline.history
            .flatMap(({ pass }) => (to === 'dr' ? pass.copies : pass.vault))
            .filter((c) => c.outcome === 'started' && c.snapshotId.endsWith(slot.id))
            .map((c) => c.snapshotId)
            .sort();
        expect(run.failures).toEqual([]);
        expect(ids).toHaveLength(3);
        expect(pipeline.history.flatMap((h) => h.pass.failures)).toEqual([]);
        expect(startedOnce('dr')).toEqual(ids);
        expect(startedOnce('vault')).toEqual(ids);
        expect(copiesOf(await listManualSnapshots(rdsIn(DR)), slot.id)).toEqual(
          ids.map((id) => [id, 'available']),
        );
        const inVault = copiesOf(
          await listManualSnapshots({ region: DR, client: vaultRds }),
          slot.id,
        );
        expect(inVault).toHaveLength(3);
        expect(inVault.every(([, status]) => status === 'available')).toBe(true);
        expect(
          copiesOf(await listSharedSnapshots({ region: DR, client: vaultRds }), slot.id),
        ).toEqual([]);
        const runId = runIdOf('snapshot-rds', slot);
        const [record] = await snapshotRds
          .wire(env)
          .recorder.readRuns(policy.name, 'snapshot-rds', (id) => id === runId);
        const listed = (list: readonly { arn: string }[] = []) =>
          list.map((a) => a.arn.split(':').at(-1)).sort();
        expect(listed(record?.artifacts.drCopies)).toEqual(ids);
        expect(listed(record?.artifacts.vaultCopies)).toHaveLength(3);
        expect(record?.failures).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
