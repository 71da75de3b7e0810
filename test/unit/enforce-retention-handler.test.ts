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
  vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile());
  for (const [key, value] of Object.entries(TEST_VAULT_ENV)) vi.stubEnv(key, value);
  ({ handler } = (await import('../../functions/enforce-retention/handler.js')) as unknown as {
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
        TagList: lifeboatTags('orders-db', slot, 'test-policy', source),
      }),
    );
  }
}

let bucket: Bucket;

beforeEach(() => {
  bucket = simulateS3().bucket;
  simulateKms();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-14T03:30:00Z'));
  primary = emptyRegion();
  dr = emptyRegion();
  twoWeeks(primary, PRIMARY);
  twoWeeks(dr, DR);
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
