import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  KMSKeyNotAccessibleFault,
} from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import type { PassResult } from '../../shared/snapshots/pipeline-pass.js';
import scheduled from '../events/scheduled.json' with { type: 'json' };
import { lambdaContext } from '../support/lambda-context.js';
import { packagedPolicyFile } from '../support/policy.js';
import {
  cluster,
  clusterSnapshot,
  emptyRegion,
  instance,
  instanceSnapshot,
  lifeboatTags,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';
import {
  earlierSnapshot,
  recordEarlierRun,
  storedRecord,
  timeOf,
} from '../support/snapshot-records.js';
import { type Bucket, simulateKms, simulateS3, TEST_VAULT_ENV } from '../support/vault-world.js';

type Handler = (event: unknown, context: unknown) => Promise<PassResult>;

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const _SLOT = '202611210200';
const DR_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

const sns = mockClient(SNSClient);
let handler: Handler;
let primary: RegionState;
let dr: RegionState;
let _primaryRds: ReturnType<typeof simulateRegion>;
let drRds: ReturnType<typeof simulateRegion>;

beforeAll(async () => {
  vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile());
  for (const [key, value] of Object.entries(TEST_VAULT_ENV)) vi.stubEnv(key, value);
  ({ handler } = (await import('../../functions/advance-snapshots.js')) as unknown as {
    handler: Handler;
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

let bucket: Bucket;
let _kms: ReturnType<typeof simulateKms>;

beforeEach(() => {
  bucket = simulateS3().bucket;
  _kms = simulateKms();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-21T02:00:30Z'));
  primary = emptyRegion();
  dr = emptyRegion();
  primary.instances.push(
    instance('orders-db', PRIMARY),
    instance('tagged-db', PRIMARY, [{ Key: 'backup', Value: 'lifeboat' }]),
    instance('untagged-db', PRIMARY),
  );
  primary.clusters.push(cluster('billing', PRIMARY));
  _primaryRds = simulateRegion(rdsIn(PRIMARY).client, PRIMARY, primary);
  drRds = simulateRegion(rdsIn(DR).client, DR, dr);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const run = (event: unknown = structuredClone(scheduled)) => handler(event, lambdaContext());

describe('advance-snapshots handler (the pipeline’s sweep)', () => {
  it('copies available snapshots to the DR region with the DR key, and not twice', async () => {
    // Prepare
    primary.snapshots.push(earlierSnapshot('orders-db', '202611200200'));
    await recordEarlierRun(primary, '202611200200');

    // Act
    const first = await run();
    const second = await run();

    // Assess
    expect(first.copies).toEqual([
      expect.objectContaining({
        snapshotId: 'lifeboat-orders-db-202611200200',
        outcome: 'started',
      }),
    ]);
    expect(drRds).toHaveReceivedCommandExactlyOnceWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier:
        'arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-202611200200',
      TargetDBSnapshotIdentifier: 'lifeboat-orders-db-202611200200',
      KmsKeyId: DR_KEY,
      CopyTags: false,
    });
    expect(second.copies).toEqual([]);
  });

  it("adds a copy it starts to its snapshot's slot record, as that record's next revision", async () => {
    // Prepare
    primary.snapshots.push(earlierSnapshot('orders-db', '202611200200'));
    await recordEarlierRun(primary, '202611200200');

    // Act
    const result = await run();

    // Assess
    expect(result.amended).toEqual(['snapshots-202611200200']);
    const amendment = storedRecord(bucket, 'snapshots-202611200200', 2);
    expect(amendment?.manifest).toMatchObject({
      revision: 2,
      previous: { runId: 'snapshots-202611200200', revision: 1 },
      artifacts: { snapshots: [] },
    });
    expect(amendment?.manifest.artifacts.drCopies).toEqual([
      {
        arn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:lifeboat-orders-db-202611200200',
        sourceArn: 'arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-202611200200',
        region: DR,
        kind: 'instance',
        target: 'orders-db',
        slot: '202611200200',
        kmsKeyId: DR_KEY,
        status: 'copying',
      },
    ]);
  });

  it('fails the copy with a clear error when the DR key is not accessible', async () => {
    // Prepare
    primary.snapshots.push(earlierSnapshot('orders-db', '202611200200'));
    await recordEarlierRun(primary, '202611200200');
    drRds.on(CopyDBSnapshotCommand).rejects(
      new KMSKeyNotAccessibleFault({
        message: 'The specified KMS key is not accessible',
        $metadata: {},
      }),
    );

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('copy of lifeboat-orders-db-202611200200');
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('KMSKeyNotAccessibleFault: The specified KMS key is not accessible');
    // The pass takes no snapshot of its own: the slot's run did
    expect(primary.snapshots).toHaveLength(1);
  });

  it('leaves copies pending, not failed, when the in-flight cap is reached', async () => {
    // Prepare: 5 cluster copies already in flight in DR (the cap), one instance copy free
    for (let i = 0; i < 5; i += 1) {
      dr.clusterSnapshots.push(clusterSnapshot(`someone-${i}`, DR, 'x', { Status: 'copying' }));
    }
    const slot = '202611200200';
    primary.clusterSnapshots.push(
      clusterSnapshot(`lifeboat-billing-${slot}`, PRIMARY, 'billing', {
        SnapshotCreateTime: timeOf(slot),
        TagList: lifeboatTags('billing', slot),
      }),
    );
    await recordEarlierRun(primary, slot);

    // Act
    const result = await run();

    // Assess
    expect(result.failures).toEqual([]);
    expect(result.copies).toEqual([
      expect.objectContaining({
        kind: 'cluster',
        snapshotId: `lifeboat-billing-${slot}`,
        outcome: 'pending',
        detail: '5 cluster copies in flight to eu-west-1 (cap 5); it starts when one finishes',
      }),
    ]);
    expect(drRds).not.toHaveReceivedCommand(CopyDBClusterSnapshotCommand);
  });

  it('starts no more copies than the cap allows, the newest restore point first', async () => {
    // Prepare: 18 instance copies in flight; three snapshots waiting
    for (let i = 0; i < 18; i += 1) {
      dr.snapshots.push(instanceSnapshot(`someone-${i}`, DR, 'x', { Status: 'pending' }));
    }
    for (const day of ['17', '18', '19']) {
      primary.snapshots.push(earlierSnapshot('orders-db', `202611${day}0200`));
      await recordEarlierRun(primary, `202611${day}0200`);
    }

    // Act
    const result = await run();

    // Assess
    expect(result.copies.map((c) => [c.snapshotId, c.outcome])).toEqual([
      ['lifeboat-orders-db-202611170200', 'pending'],
      ['lifeboat-orders-db-202611180200', 'started'],
      ['lifeboat-orders-db-202611190200', 'started'],
    ]);
  });
});
