import { GenerateMacCommand, KMSServiceException } from '@aws-sdk/client-kms';
import {
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { SignedManifestSchema } from '../../shared/manifest/manifest.js';
import { silentLog } from '../../shared/observability/job-log.js';
import {
  applyRetentionPlan,
  type RetentionJobResult,
  runRetentionJob,
} from '../../shared/retention/retention-job.js';
import scheduled from '../events/scheduled.json' with { type: 'json' };
import { lambdaContext } from '../support/lambda-context.js';
import { fixturePolicy, packagedPolicyFile } from '../support/policy.js';
import {
  clusterSnapshot,
  emptyRegion,
  instanceSnapshot,
  lifeboatTags,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';
import { recordSnapshotRuns, testRecorder } from '../support/records.js';
import { nov, snapshot } from '../support/snapshots.js';
import { type Bucket, simulateKms, simulateS3, TEST_VAULT_ENV } from '../support/vault-world.js';

type Handler = (event: unknown, context: unknown) => Promise<RetentionJobResult>;

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';

const sns = mockClient(SNSClient);
let handler: Handler;
let primary: RegionState;
let dr: RegionState;
let primaryRds: ReturnType<typeof simulateRegion>;
let drRds: ReturnType<typeof simulateRegion>;

beforeAll(async () => {
  // orders-db's history is this file's world: the fixture's other database (billing) has no
  // snapshot here, which retention would rightly report as a failure of its own.
  const policy = fixturePolicy();
  vi.stubEnv(
    'LIFEBOAT_POLICY_PATH',
    packagedPolicyFile({
      ...policy,
      targets: policy.targets.filter((t) => t.identifier !== 'billing'),
    }),
  );
  for (const [key, value] of Object.entries(TEST_VAULT_ENV)) vi.stubEnv(key, value);
  ({ handler } = (await import('../../functions/enforce-retention.js')) as unknown as {
    handler: Handler;
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

/** Two weeks of daily Lifeboat snapshots of orders-db (1-14 Nov), each with its DR copy. */
function twoWeeks(state: RegionState, region: string) {
  for (let day = 1; day <= 14; day += 1) {
    const slot = `202611${String(day).padStart(2, '0')}0200`;
    const id = `lifeboat-orders-db-${slot}`;
    const source = region === DR ? `arn:aws:rds:${PRIMARY}:123456789012:snapshot:${id}` : undefined;
    state.snapshots.push(
      instanceSnapshot(id, region, 'orders-db', {
        SnapshotCreateTime: new Date(Date.UTC(2026, 10, day, 2)),
        TagList: lifeboatTags('orders-db', slot, 'test-policy', source),
      }),
    );
  }
}

let bucket: Bucket;
let kms: ReturnType<typeof simulateKms>;

/** Sets (or, with undefined, removes) a tag on a snapshot, as anyone with rds:AddTagsToResource can. */
function retag(state: RegionState, id: string, key: string, value: string | undefined) {
  const s = state.snapshots.find((x) => x.DBSnapshotIdentifier === id);
  if (!s) throw new Error(`no ${id}`);
  s.TagList = [
    ...(s.TagList ?? []).filter((t) => t.Key !== key),
    ...(value === undefined ? [] : [{ Key: key, Value: value }]),
  ];
}

const ids = (state: RegionState) =>
  state.snapshots.map((s) => s.DBSnapshotIdentifier?.slice(-6, -4) ?? s.DBSnapshotIdentifier);

beforeEach(async () => {
  bucket = simulateS3().bucket;
  kms = simulateKms();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-14T03:30:00Z'));
  primary = emptyRegion();
  dr = emptyRegion();
  twoWeeks(primary, PRIMARY);
  twoWeeks(dr, DR);
  // Each day's snapshot run recorded its snapshot and copy, signed.
  await recordSnapshotRuns(primary, dr);
  primaryRds = simulateRegion(rdsIn(PRIMARY).client, PRIMARY, primary);
  drRds = simulateRegion(rdsIn(DR).client, DR, dr);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const run = (event: unknown = { scheduledTime: '2026-11-14T03:30:00Z' }) =>
  handler(event, lambdaContext());

describe('enforce-retention handler', () => {
  it('deletes in both regions what the policy no longer keeps, and reports each deletion', async () => {
    // Act
    const result = await run();

    // Assess: the primary keeps 8-14 Nov (last 2, daily 7) and 1 Nov (weekly: ISO week 44);
    // the DR region keeps 12-14 Nov (daily 3, monthly 2)
    expect(result.failures).toEqual([]);
    expect(primary.snapshots.map((s) => s.DBSnapshotIdentifier?.slice(-6, -4))).toEqual([
      '01',
      '08',
      '09',
      '10',
      '11',
      '12',
      '13',
      '14',
    ]);
    expect(dr.snapshots.map((s) => s.DBSnapshotIdentifier?.slice(-6, -4))).toEqual([
      '12',
      '13',
      '14',
    ]);
    expect(result.deletions).toHaveLength(6 + 11);
    expect(result.deletions.every((d) => d.outcome === 'deleted' && d.reasons.length > 0)).toBe(
      true,
    );
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it("records every deletion and its reason in the run's signed manifest", async () => {
    // Act
    const result = await run();

    // Assess
    expect(result.manifest).toBe('written');
    const stored = bucket.get('manifests/test-policy/retention-202611140330.json');
    const { manifest } = SignedManifestSchema.parse(
      JSON.parse(stored?.body.toString('utf8') ?? '{}'),
    );
    expect(manifest.job).toBe('enforce-retention');
    expect(manifest.artifacts.deletions).toHaveLength(17);
    expect(manifest.artifacts.deletions).toContainEqual({
      arn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:lifeboat-orders-db-202611110200',
      region: DR,
      kind: 'instance',
      target: 'orders-db',
      reasons: ['no rule keeps it (daily 3, monthly 2)'],
    });
  });

  it('plans and deletes nothing more when run again', async () => {
    // Prepare
    await run();
    primaryRds.resetHistory();
    drRds.resetHistory();

    // Act
    const again = await run();

    // Assess
    expect(again.deletions).toEqual([]);
    expect(primaryRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    expect(drRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('never touches snapshots it did not create', async () => {
    // Prepare
    primary.snapshots.push(instanceSnapshot('before-upgrade', PRIMARY, 'orders-db'));
    primary.clusterSnapshots.push(
      clusterSnapshot('lifeboat-billing-202601010200', PRIMARY, 'billing', {
        TagList: lifeboatTags('billing', '202601010200', 'another-policy'),
      }),
    );

    // Act
    await run();

    // Assess
    expect(primaryRds).not.toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'before-upgrade',
    });
    expect(primaryRds).not.toHaveReceivedCommand(DeleteDBClusterSnapshotCommand);
  });

  it('counts a snapshot already gone as deleted', async () => {
    // Prepare
    primaryRds
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: 'lifeboat-orders-db-202611020200' })
      .rejects(new DBSnapshotNotFoundFault({ message: 'gone', $metadata: {} }));

    // Act
    const result = await run();

    // Assess
    expect(result.failures).toEqual([]);
    expect(
      result.deletions.find(
        (d) => d.snapshotId === 'lifeboat-orders-db-202611020200' && d.region === PRIMARY,
      ),
    ).toMatchObject({ outcome: 'already-gone' });
  });

  it('fails a throttled deletion, deletes the others, and alerts once naming it', async () => {
    // Prepare
    drRds
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: 'lifeboat-orders-db-202611050200' })
      .rejects(
        new RDSServiceException({
          name: 'Throttling',
          $fault: 'client',
          $metadata: {},
          message: 'Rate exceeded',
        }),
      );

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow(
      'enforce-retention: 1 failed: lifeboat-orders-db-202611050200 in eu-west-1',
    );
    expect(dr.snapshots).toHaveLength(4);
    expect(primary.snapshots).toHaveLength(8);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('still fails the run when the alert cannot be sent', async () => {
    // Prepare
    drRds.on(DeleteDBSnapshotCommand).rejects(
      new RDSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message: 'no',
      }),
    );
    sns.on(PublishCommand).rejects(new Error('SNS down'));

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'JobFailedError' });
  });

  it('deletes nothing, fails and says why when it cannot record its deletions first', async () => {
    // Prepare: the role may not sign (kms:GenerateMac denied)
    kms.on(GenerateMacCommand).rejects(
      new KMSServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: {},
        message: 'not authorized to perform kms:GenerateMac',
      }),
    );

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('manifest of retention-202611140330');
    expect(primaryRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    expect(drRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      'nothing was deleted, since the deletions could not be recorded first',
    );
  });

  it('records its deletions before it deletes: a deletion that fails is still listed', async () => {
    // Prepare
    drRds.on(DeleteDBSnapshotCommand).rejects(
      new RDSServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: {},
        message: 'Rate exceeded',
      }),
    );

    // Act
    await expect(run()).rejects.toThrow('enforce-retention');

    // Assess
    const stored = bucket.get('manifests/test-policy/retention-202611140330.json');
    const { manifest } = SignedManifestSchema.parse(
      JSON.parse(stored?.body.toString('utf8') ?? '{}'),
    );
    expect(manifest.artifacts.deletions.filter((d) => d.region === DR)).toHaveLength(11);
    expect(dr.snapshots).toHaveLength(14);
  });

  it('deletes the same whatever Lifeboat’s tags on its snapshots say', async () => {
    // Prepare: slot tags rewritten to make old snapshots look new, and the reverse; the target
    // and policy of others changed or removed
    retag(primary, 'lifeboat-orders-db-202611020200', 'lifeboat:slot', '202611140200');
    retag(primary, 'lifeboat-orders-db-202611030200', 'lifeboat:slot', '202611150200');
    retag(primary, 'lifeboat-orders-db-202611130200', 'lifeboat:slot', '202611020200');
    retag(primary, 'lifeboat-orders-db-202611120200', 'lifeboat:target', 'another-db');
    retag(primary, 'lifeboat-orders-db-202611110200', 'lifeboat:managed', undefined);
    retag(dr, 'lifeboat-orders-db-202611130200', 'lifeboat:policy', 'another-policy');

    // Act
    const result = await run();

    // Assess: exactly what the untouched test above keeps
    expect(result.failures).toEqual([]);
    expect(ids(primary)).toEqual(['01', '08', '09', '10', '11', '12', '13', '14']);
    expect(ids(dr)).toEqual(['12', '13', '14']);
  });

  it('keeps a hold once a tag placed it, though the tag is then set to false or removed', async () => {
    // Prepare: a hold by tag on 2 November, recorded by a retention run that keeps it
    retag(primary, 'lifeboat-orders-db-202611020200', 'lifeboat:legal-hold', 'case-4711');
    const placing = await run();
    retag(primary, 'lifeboat-orders-db-202611020200', 'lifeboat:legal-hold', 'false');
    vi.setSystemTime(new Date('2026-11-15T03:30:00Z'));

    // Act
    const after = await run({ scheduledTime: '2026-11-15T03:30:00Z' });
    retag(primary, 'lifeboat-orders-db-202611020200', 'lifeboat:legal-hold', undefined);
    vi.setSystemTime(new Date('2026-11-16T03:30:00Z'));
    const later = await run({ scheduledTime: '2026-11-16T03:30:00Z' });

    // Assess
    expect(placing.holdsRecorded).toBe(1);
    expect(after.holdsRecorded).toBe(0);
    expect(later.failures).toEqual([]);
    expect(ids(primary)).toContain('02');
    expect([...bucket.keys()].filter((k) => k.startsWith('holds/test-policy/'))).toHaveLength(1);
  });

  it('never deletes a copy someone made with Lifeboat’s tags, nor a snapshot no record lists', async () => {
    // Prepare: a copy made by hand with --copy-tags, and a snapshot whose record is gone
    primary.snapshots.push(
      instanceSnapshot('orders-db-manual-copy', PRIMARY, 'orders-db', {
        TagList: lifeboatTags('orders-db', '202611010200'),
      }),
      instanceSnapshot('lifeboat-orders-db-202610010200', PRIMARY, 'orders-db', {
        SnapshotCreateTime: new Date('2026-10-01T02:00:00Z'),
        TagList: lifeboatTags('orders-db', '202610010200'),
      }),
    );

    // Act
    const result = await run();

    // Assess
    expect(result.failures).toEqual([]);
    expect(primaryRds).not.toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'orders-db-manual-copy',
    });
    expect(primaryRds).not.toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'lifeboat-orders-db-202610010200',
    });
  });

  it.each([
    ['a missing time', {}, 'scheduledTime: is required'],
    ['a malformed time', { scheduledTime: '30/11/2026' }, 'must be an ISO-8601 date-time'],
    ['a time in the future', { scheduledTime: '2027-01-01T00:00:00Z' }, 'is in the future'],
    [
      'extra fields',
      { ...structuredClone(scheduled), dryRun: false },
      'dryRun: is not a known field',
    ],
  ])('rejects %s and deletes nothing', async (_, event, message) => {
    // Act
    const act = run(event);

    // Assess
    await expect(act).rejects.toThrow(message);
    expect(primaryRds.calls()).toHaveLength(0);
    expect(drRds.calls()).toHaveLength(0);
  });
});

describe('applyRetentionPlan', () => {
  beforeEach(() => {
    vi.useRealTimers();
  });

  it('refuses to delete a snapshot of another policy even if a plan says so', async () => {
    // Prepare
    const foreign = snapshot({ time: nov(1), managedBy: 'another-policy' });
    const plan = {
      now: nov(30),
      keep: 0,
      delete: 1,
      decisions: [
        {
          snapshot: foreign,
          role: 'primary' as const,
          action: 'delete' as const,
          reasons: ['forged'],
        },
      ],
    };
    const deps = {
      primary: rdsIn(PRIMARY),
      dr: rdsIn(DR),
      limiter: new RateLimiter({ perSecond: 100 }),
      log: silentLog,
    };

    // Act
    const outcomes = await applyRetentionPlan(deps, plan, fixturePolicy());

    // Assess
    expect(outcomes).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.stringContaining('UnsafeDeletionError'),
      }),
    ]);
    expect(primaryRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('paces deletions through the limiter', async () => {
    // Prepare
    const snaps = [1, 2, 3, 4].map((d) =>
      snapshot({ time: nov(d), id: `lifeboat-orders-db-2026110${d}0200` }),
    );
    const plan = {
      now: nov(30),
      keep: 0,
      delete: 4,
      decisions: snaps.map((s) => ({
        snapshot: s,
        role: 'primary' as const,
        action: 'delete' as const,
        reasons: ['test'],
      })),
    };
    const waits: number[] = [];
    const limiter = new RateLimiter({
      perSecond: 2,
      now: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const deps = { primary: rdsIn(PRIMARY), dr: rdsIn(DR), limiter, log: silentLog };

    // Act
    await applyRetentionPlan(deps, plan, fixturePolicy());

    // Assess
    expect(waits).toEqual([500, 1000, 1500]);
  });
});

describe('a retention run over a target with no snapshot', () => {
  it('fails naming it, instead of keeping and deleting nothing in silence', async () => {
    // Act: the whole fixture policy, whose billing cluster has no snapshot in this world
    const result = await runRetentionJob(
      {
        primary: rdsIn(PRIMARY),
        dr: rdsIn(DR),
        limiter: new RateLimiter({ perSecond: 100 }),
        recorder: testRecorder(),
        log: silentLog,
      },
      fixturePolicy(),
      new Date('2026-11-14T03:30:00Z'),
    );

    // Assess
    expect(result.failures).toContainEqual({
      subject: 'aurora-cluster billing',
      error:
        'no snapshot of it in either region, so retention keeps and deletes nothing for it (is the identifier right, and does snapshot-rds snapshot it?)',
    });
  });
});
