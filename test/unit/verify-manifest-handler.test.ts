import { KMSClient } from '@aws-sdk/client-kms';
import {
  AddTagsToResourceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import { newManifest } from '../../shared/manifest/manifest.js';
import { signManifest } from '../../shared/manifest/manifest-signing.js';
import { putManifest } from '../../shared/manifest/manifest-store.js';
import { slotOf } from '../../shared/snapshots/slot.js';
import type { VerificationJobResult } from '../../shared/verification/verification-job.js';
import { lambdaContext } from '../support/lambda-context.js';
import { fixturePolicy, packagedPolicyFile } from '../support/policy.js';
import {
  emptyRegion,
  instanceSnapshot,
  lifeboatTags,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';
import {
  type Bucket,
  simulateKms,
  simulateS3,
  TEST_VAULT,
  TEST_VAULT_ENV,
} from '../support/vault-world.js';

type Handler = (event: unknown, context: unknown) => Promise<VerificationJobResult>;

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const policy = fixturePolicy();
const sns = mockClient(SNSClient);
let handler: Handler;
let bucket: Bucket;
let s3: ReturnType<typeof simulateS3>['stub'];
let primary: RegionState;
let dr: RegionState;
let primaryRds: ReturnType<typeof simulateRegion>;
let drRds: ReturnType<typeof simulateRegion>;

beforeAll(async () => {
  vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile());
  for (const [key, value] of Object.entries(TEST_VAULT_ENV)) vi.stubEnv(key, value);
  ({ handler } = (await import('../../functions/verify-manifest/handler.js')) as unknown as {
    handler: Handler;
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

/** A snapshot run on `day` (of November) that took orders-db's snapshot. */
async function recordSnapshotRun(day: number) {
  const slot = slotOf(new Date(Date.UTC(2026, 10, day, 2)));
  const id = `lifeboat-orders-db-${slot.id}`;
  primary.snapshots.push(
    instanceSnapshot(id, PRIMARY, 'orders-db', { TagList: lifeboatTags('orders-db', slot.id) }),
  );
  const manifest = newManifest('snapshot-rds', slot, policy, '123456789012', {
    snapshots: [
      {
        arn: `arn:aws:rds:${PRIMARY}:123456789012:snapshot:${id}`,
        region: PRIMARY,
        kind: 'instance',
        target: 'orders-db',
        engine: 'postgres',
        encrypted: true,
        kmsKeyId: null,
        createdAt: slot.time.toISOString(),
      },
    ],
  });
  const kms = new KMSClient({ region: PRIMARY });
  await putManifest(
    new S3Client({}),
    TEST_VAULT.bucket,
    await signManifest(kms, TEST_VAULT.manifestKeys.primary, manifest),
    TEST_VAULT.dataKeys.primary,
  );
  return { slot, id };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-21T06:00:30Z'));
  ({ bucket, stub: s3 } = simulateS3());
  simulateKms();
  primary = emptyRegion();
  dr = emptyRegion();
  primaryRds = simulateRegion(rdsIn(PRIMARY).client, PRIMARY, primary);
  drRds = simulateRegion(rdsIn(DR).client, DR, dr);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const run = () => handler({ scheduledTime: '2026-11-21T06:00:00Z' }, lambdaContext());

describe('verify-manifest handler', () => {
  it('verifies the runs within the lookback, records each verification beside its manifest', async () => {
    // Prepare
    await recordSnapshotRun(10);
    await recordSnapshotRun(19);
    await recordSnapshotRun(20);

    // Act
    const result = await run();

    // Assess
    expect(result.runs.map((r) => [r.runId, r.status])).toEqual([
      ['snapshots-202611190200', 'passed'],
      ['snapshots-202611200200', 'passed'],
    ]);
    const record = JSON.parse(
      bucket
        .get('manifests/test-policy/snapshots-202611200200.verification.json')
        ?.body.toString('utf8') ?? '{}',
    );
    expect(record).toMatchObject({
      runId: 'snapshots-202611200200',
      mode: 'default',
      status: 'passed',
    });
    expect(bucket.has('manifests/test-policy/snapshots-202611100200.verification.json')).toBe(
      false,
    );
  });

  it('downloads nothing but the manifests', async () => {
    // Prepare
    await recordSnapshotRun(20);

    // Act
    await run();

    // Assess
    const gets = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key);
    expect(gets).toEqual(['manifests/test-policy/snapshots-202611200200.json']);
  });

  it('describes only what the manifests name, one call per 100 snapshots', async () => {
    // Prepare
    await recordSnapshotRun(20);
    for (let i = 0; i < 249; i += 1)
      primary.snapshots.push(instanceSnapshot(`other-${i}`, PRIMARY, 'x'));

    // Act
    await run();

    // Assess
    expect(primaryRds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 3);
    expect(primaryRds).not.toHaveReceivedCommand(DescribeDBClusterSnapshotsCommand);
    expect(drRds.calls()).toHaveLength(0);
  });

  it('tags what passed as verified, which retention then protects, and reports its age', async () => {
    // Prepare
    const { id } = await recordSnapshotRun(20);

    // Act
    const result = await run();

    // Assess
    expect(primaryRds).toHaveReceivedCommandWith(AddTagsToResourceCommand, {
      ResourceName: `arn:aws:rds:${PRIMARY}:123456789012:snapshot:${id}`,
      Tags: [{ Key: 'lifeboat:verified-at', Value: '2026-11-21T06:00:00.000Z' }],
    });
    expect(result.restorePoints).toEqual([
      {
        region: PRIMARY,
        kind: 'instance',
        target: 'orders-db',
        snapshotId: id,
        ageSeconds: 28 * 3600,
      },
    ]);
  });

  it('tags a restore point once: verifying it again writes no tag', async () => {
    // Prepare
    await recordSnapshotRun(20);
    await run();
    primaryRds.resetHistory();

    // Act
    const again = await run();

    // Assess
    expect(again.runs[0]?.status).toBe('passed');
    expect(again.tagged).toBe(0);
    expect(primaryRds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
  });

  it('alerts once, naming each failing artifact and why, and fails the invocation', async () => {
    // Prepare
    const { id } = await recordSnapshotRun(20);
    primary.snapshots.splice(0, 1);

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('verify-manifest: 1 failed');
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      `- snapshots-202611200200 snapshot arn:aws:rds:${PRIMARY}:123456789012:snapshot:${id}: deleted: the snapshot no longer exists`,
    );
  });

  it('fails a run whose stored manifest is not a manifest', async () => {
    // Prepare
    await recordSnapshotRun(20);
    const key = 'manifests/test-policy/snapshots-202611200200.json';
    const stored = JSON.parse(bucket.get(key)?.body.toString('utf8') ?? '{}');
    delete stored.signature;
    bucket.set(key, { body: Buffer.from(JSON.stringify(stored)), sha256: undefined });

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('snapshots-202611200200 manifest snapshots-202611200200');
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      'altered: manifests/test-policy/snapshots-202611200200.json: not a Lifeboat manifest',
    );
  });
});
