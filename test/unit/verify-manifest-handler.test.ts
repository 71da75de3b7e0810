import {
  AddTagsToResourceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
} from '@aws-sdk/client-rds';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import type { VerificationJobResult } from '../../shared/verification/verification-job.js';
import { lambdaContext } from '../support/lambda-context.js';
import { packagedPolicyFile } from '../support/policy.js';
import {
  emptyRegion,
  instanceSnapshot,
  lifeboatTags,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';
import { recordSnapshotRuns } from '../support/records.js';
import { type Bucket, simulateKms, simulateS3, TEST_VAULT_ENV } from '../support/vault-world.js';

type Handler = (event: unknown, context: unknown) => Promise<VerificationJobResult>;

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const DR_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
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
  ({ handler } = (await import('../../functions/verify-manifest.js')) as unknown as {
    handler: Handler;
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

const slotOfDay = (day: number) => `202611${String(day).padStart(2, '0')}0200`;
const idOf = (day: number) => `lifeboat-orders-db-${slotOfDay(day)}`;
const arnOf = (region: string, day: number) =>
  `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${idOf(day)}`;

/**
 * The daily snapshot runs of November `days`, as snapshot-rds leaves them: orders-db's snapshot
 * and its DR copy, labelled, and each run's signed record, oldest first.
 */
async function snapshotRuns(days: readonly number[]) {
  for (const day of days) {
    const slot = slotOfDay(day);
    const time = new Date(Date.UTC(2026, 10, day, 2));
    primary.snapshots.push(
      instanceSnapshot(idOf(day), PRIMARY, 'orders-db', {
        SnapshotCreateTime: time,
        TagList: [
          ...lifeboatTags('orders-db', slot),
          { Key: 'lifeboat:source', Value: `arn:aws:rds:${PRIMARY}:${ACCOUNT}:db:orders-db` },
        ],
      }),
    );
    dr.snapshots.push(
      instanceSnapshot(idOf(day), DR, 'orders-db', {
        SnapshotCreateTime: time,
        KmsKeyId: DR_KEY,
        TagList: lifeboatTags('orders-db', slot, 'test-policy', arnOf(PRIMARY, day)),
      }),
    );
  }
  await recordSnapshotRuns(primary, dr);
}

const WEEK = [13, 14, 15, 16, 17, 18, 19, 20, 21];

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

/** Every failure the last alert named, one line each. */
const alerted = () =>
  (sns.commandCalls(PublishCommand).at(-1)?.args[0].input.Message ?? '').split('\n');

const manifestKey = (day: number) => `manifests/test-policy/snapshots-${slotOfDay(day)}.json`;

describe('verify-manifest handler', () => {
  it('verifies the runs within the lookback and records each verification', async () => {
    // Prepare
    await snapshotRuns([10, ...WEEK]);

    // Act
    const result = await run();

    // Assess: the lookback (7d) starts 14 Nov 06:00
    expect(result.failures).toEqual([]);
    expect(result.runs.map((r) => [r.runId, r.status])).toEqual(
      [15, 16, 17, 18, 19, 20, 21].map((d) => [`snapshots-${slotOfDay(d)}`, 'passed']),
    );
    const record = JSON.parse(
      bucket.get('verifications/test-policy/snapshots-202611200200.json')?.body.toString('utf8') ??
        '{}',
    );
    expect(record).toMatchObject({ runId: 'snapshots-202611200200', status: 'passed' });
    expect(bucket.has('verifications/test-policy/snapshots-202611100200.json')).toBe(false);
    // No retention run is recorded yet: said, not failed.
    expect(result.ledger).toContainEqual({
      kind: 'schedule',
      artifact: 'enforce-retention',
      status: 'pending',
      reason: 'no run of enforce-retention is recorded yet (cron(30 4 * * ? *))',
    });
  });

  it('downloads nothing but the records', async () => {
    // Prepare
    await snapshotRuns([20, 21]);

    // Act
    await run();

    // Assess
    const gets = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key);
    expect(new Set(gets)).toEqual(new Set([manifestKey(20), manifestKey(21)]));
  });

  it('lists each region once, one call per 100 snapshots of each kind', async () => {
    // Prepare
    await snapshotRuns([20, 21]);
    for (let i = 0; i < 248; i += 1)
      primary.snapshots.push(instanceSnapshot(`other-${i}`, PRIMARY, 'x'));

    // Act
    await run();

    // Assess
    expect(primaryRds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 3);
    expect(primaryRds).toHaveReceivedCommandTimes(DescribeDBClusterSnapshotsCommand, 1);
    expect(drRds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 1);
  });

  it('tags what passed as verified, once, and reports the age of the newest', async () => {
    // Prepare
    await snapshotRuns([20, 21]);

    // Act
    const result = await run();
    primaryRds.resetHistory();
    const again = await run();

    // Assess
    expect(primaryRds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
    expect(again.tagged).toBe(0);
    expect(result.tagged).toBe(4);
    expect(result.restorePoints).toEqual([
      {
        region: PRIMARY,
        kind: 'instance',
        target: 'orders-db',
        snapshotId: idOf(21),
        ageSeconds: 4 * 3600,
      },
      {
        region: DR,
        kind: 'instance',
        target: 'orders-db',
        snapshotId: idOf(21),
        ageSeconds: 4 * 3600,
      },
    ]);
  });

  it('alerts once, naming each failing artifact and why, and fails the invocation', async () => {
    // Prepare
    await snapshotRuns([20, 21]);
    primary.snapshots.splice(0, 1);

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('verify-manifest: 1 failed');
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(alerted()).toContain(
      `- snapshots-202611200200 snapshot ${arnOf(PRIMARY, 20)}: deleted: the snapshot no longer exists`,
    );
  });

  it('fails a run whose stored record is not a manifest', async () => {
    // Prepare
    await snapshotRuns([20]);
    const key = manifestKey(20);
    const stored = JSON.parse(bucket.get(key)?.body.toString('utf8') ?? '{}');
    delete stored.signature;
    bucket.history.delete(key);
    bucket.set(key, { body: Buffer.from(JSON.stringify(stored)), sha256: undefined });

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('snapshots-202611200200 manifest snapshots-202611200200');
    expect(alerted().join('\n')).toContain(
      'altered: not a Lifeboat manifest (signature: Invalid input',
    );
  });
});

describe('verify-manifest handler, against an adversary', () => {
  it('names a run the schedule ran but no record shows', async () => {
    // Prepare: the run of 18 November left no record
    await snapshotRuns([13, 14, 15, 16, 17, 19, 20, 21]);

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('snapshots-202611180200');
    expect(alerted()).toContain(
      '- snapshots-202611180200 schedule snapshots-202611180200: missing: cron(0 3 * * ? *) ran snapshot-rds at 2026-11-18T02:00:00.000Z, and there is no record of that run (deleted, or it never ran)',
    );
  });

  it('names a record hidden behind a delete marker, and the chain that still points to it', async () => {
    // Prepare
    await snapshotRuns(WEEK);
    bucket.delete(manifestKey(18));

    // Act
    await expect(run()).rejects.toThrow('verify-manifest');

    // Assess
    expect(alerted()).toContain(
      '- snapshots-202611180200 manifest snapshots-202611180200: hidden: a delete marker hides it',
    );
  });

  it('names the previous run’s record copied over a run’s, and the snapshot then deleted', async () => {
    // Prepare: the 19th's record replaced by the 18th's, then the 19th's snapshot and copy deleted
    await snapshotRuns(WEEK);
    bucket.set(manifestKey(19), bucket.get(manifestKey(18)) as never);
    primary.snapshots = primary.snapshots.filter((s) => s.DBSnapshotIdentifier !== idOf(19));
    dr.snapshots = dr.snapshots.filter((s) => s.DBSnapshotIdentifier !== idOf(19));

    // Act
    await expect(run()).rejects.toThrow('verify-manifest');

    // Assess: the first version of the 19th's record is what is checked
    const lines = alerted();
    expect(lines).toContain(
      '- snapshots-202611190200 manifest snapshots-202611190200: overwritten: 1 later version replace the one first written (the first is what is checked)',
    );
    expect(lines).toContain(
      `- snapshots-202611190200 snapshot ${arnOf(PRIMARY, 19)}: deleted: the snapshot no longer exists`,
    );
    expect(lines).toContain(
      `- snapshots-202611190200 dr-copy ${arnOf(DR, 19)}: deleted: the DR copy no longer exists`,
    );
  });

  it('names a genuine record copied to a new run key, and any stray object', async () => {
    // Prepare
    await snapshotRuns(WEEK);
    bucket.set(
      'manifests/test-policy/snapshots-202611201200.json',
      bucket.get(manifestKey(20)) as never,
    );
    bucket.set('manifests/test-policy/notes.txt', { body: Buffer.from('hi'), sha256: undefined });

    // Act
    await expect(run()).rejects.toThrow('verify-manifest');

    // Assess
    const lines = alerted();
    expect(lines).toContain(
      '- snapshots-202611201200 manifest snapshots-202611201200: replayed: manifests/test-policy/snapshots-202611201200.json holds the signed record of snapshots-202611200200 revision 1, not of snapshots-202611201200 revision 1',
    );
    expect(lines).toContain(
      '- stray manifests/test-policy/notes.txt: extra: an object among the manifests that is no run’s record',
    );
  });

  it('names Lifeboat labels changed or removed, and trusts none of them', async () => {
    // Prepare
    await snapshotRuns(WEEK);
    const snapshot = primary.snapshots.find((s) => s.DBSnapshotIdentifier === idOf(20));
    if (!snapshot) throw new Error('no snapshot of the 20th');
    snapshot.TagList = (snapshot.TagList ?? [])
      .filter((t) => t.Key !== 'lifeboat:managed')
      .map((t) => (t.Key === 'lifeboat:slot' ? { ...t, Value: '202611010200' } : t));

    // Act
    await expect(run()).rejects.toThrow('verify-manifest');

    // Assess
    expect(alerted()).toContain(
      `- snapshots-202611200200 labels ${arnOf(PRIMARY, 20)}: labels changed behind Lifeboat's back: lifeboat:managed removed (was true); lifeboat:slot is 202611010200, was 202611200200 (the signed record is what counts)`,
    );
  });

  it('names a snapshot that carries Lifeboat’s name for a slot but that no record lists', async () => {
    // Prepare: someone took a snapshot of billing named as Lifeboat would have
    await snapshotRuns(WEEK);
    primary.snapshots.push(
      instanceSnapshot('lifeboat-billing-db-202611200200', PRIMARY, 'billing-db', {
        TagList: lifeboatTags('billing-db', '202611200200'),
      }),
    );

    // Act
    await expect(run()).rejects.toThrow('verify-manifest');

    // Assess
    expect(alerted()).toContain(
      `- snapshots-202611200200 snapshot arn:aws:rds:${PRIMARY}:${ACCOUNT}:snapshot:lifeboat-billing-db-202611200200: unrecorded: it carries Lifeboat's name for billing-db in this slot, but no record lists it (lifeboat backup run --slot 2026-11-20T02:00:00.000Z records what a lost delivery made)`,
    );
  });

  it('holds a snapshot without a DR copy pending until its copy deadline, then fails it', async () => {
    // Prepare: the copy of the 21st's snapshot never started
    await snapshotRuns(WEEK);
    const copy = dr.snapshots.findIndex((s) => s.DBSnapshotIdentifier === idOf(21));
    dr.snapshots.splice(copy, 1);
    bucket.history.clear();
    bucket.clear();
    await recordSnapshotRuns(primary, dr);

    // Act
    const early = await run();
    vi.setSystemTime(new Date('2026-11-21T14:30:00Z'));
    const late = handler({ scheduledTime: '2026-11-21T14:30:00Z' }, lambdaContext());

    // Assess
    expect(early.runs.at(-1)?.checks).toContainEqual({
      kind: 'dr-copy',
      artifact: arnOf(PRIMARY, 21),
      status: 'pending',
      reason: 'no copy in eu-west-1 yet; due by 2026-11-21T14:00:00.000Z',
    });
    await expect(late).rejects.toThrow('verify-manifest');
    expect(alerted()).toContain(
      `- snapshots-202611210200 dr-copy ${arnOf(PRIMARY, 21)}: not copied to eu-west-1 within 12h of its slot`,
    );
  });
});
