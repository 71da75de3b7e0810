import { createHash } from 'node:crypto';
import {
  DescribeKeyCommand,
  GenerateMacCommand,
  KMSClient,
  KMSServiceException,
} from '@aws-sdk/client-kms';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DBSnapshotAlreadyExistsFault,
  RDSServiceException,
  SnapshotQuotaExceededFault,
} from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rdsIn } from '../../shared/aws/clients.js';
import { checkSignature } from '../../shared/manifest/manifest-signing.js';
import type { SnapshotJobResult } from '../../shared/snapshots/snapshot-job.js';
import scheduled from '../events/scheduled.json' with { type: 'json' };
import { lambdaContext } from '../support/lambda-context.js';
import { packagedPolicyFile } from '../support/policy.js';
import {
  cluster,
  emptyRegion,
  instance,
  instanceSnapshot,
  lifeboatTags,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';
import { earlierSnapshot, recordEarlierRun, storedRecord } from '../support/snapshot-records.js';
import {
  type Bucket,
  simulateKms,
  simulateS3,
  TEST_VAULT,
  TEST_VAULT_ENV,
} from '../support/vault-world.js';

type Handler = (event: unknown, context: unknown) => Promise<SnapshotJobResult>;

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const SLOT = '202611210200';
const DR_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

const sns = mockClient(SNSClient);
let handler: Handler;
let primary: RegionState;
let dr: RegionState;
let primaryRds: ReturnType<typeof simulateRegion>;
let drRds: ReturnType<typeof simulateRegion>;

beforeAll(async () => {
  vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile());
  for (const [key, value] of Object.entries(TEST_VAULT_ENV)) vi.stubEnv(key, value);
  ({ handler } = (await import('../../functions/snapshot-rds.js')) as unknown as {
    handler: Handler;
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

let bucket: Bucket;
let kms: ReturnType<typeof simulateKms>;

beforeEach(() => {
  bucket = simulateS3().bucket;
  kms = simulateKms();
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
  primaryRds = simulateRegion(rdsIn(PRIMARY).client, PRIMARY, primary);
  drRds = simulateRegion(rdsIn(DR).client, DR, dr);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const run = (event: unknown = structuredClone(scheduled)) => handler(event, lambdaContext());

describe('snapshot-rds handler', () => {
  it('snapshots every target for the slot, tagged, and reports success', async () => {
    // Act
    const result = await run();

    // Assess
    expect(result.failures).toEqual([]);
    expect(result.targets.map((t) => [t.target, t.outcome])).toEqual([
      ['billing', 'created'],
      ['orders-db', 'created'],
      ['tagged-db', 'created'],
    ]);
    expect(primaryRds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'orders-db',
      DBSnapshotIdentifier: `lifeboat-orders-db-${SLOT}`,
      Tags: [
        ...lifeboatTags('orders-db', SLOT),
        { Key: 'lifeboat:source', Value: 'arn:aws:rds:eu-central-1:123456789012:db:orders-db' },
      ],
    });
    expect(primaryRds).toHaveReceivedCommandWith(CreateDBClusterSnapshotCommand, {
      DBClusterIdentifier: 'billing',
      DBClusterSnapshotIdentifier: `lifeboat-billing-${SLOT}`,
    });
    expect(primaryRds).not.toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'untagged-db',
    });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it("records the slot's snapshots in a signed manifest that follows the previous run", async () => {
    // Prepare
    primary.snapshots.push(earlierSnapshot('orders-db', '202611200200'));
    await recordEarlierRun(primary, '202611200200');
    const previous = bucket.get('manifests/test-policy/snapshots-202611200200.json');

    // Act
    const result = await run();

    // Assess
    expect(result.manifest).toBe('written');
    const signed = storedRecord(bucket, `snapshots-${SLOT}`);
    expect(signed?.manifest).toMatchObject({
      job: 'snapshot-rds',
      runId: `snapshots-${SLOT}`,
      revision: 1,
      account: '123456789012',
      previous: {
        runId: 'snapshots-202611200200',
        revision: 1,
        sha256: createHash('sha256')
          .update(previous?.body ?? '')
          .digest('hex'),
      },
      failures: [],
    });
    expect(signed?.manifest.artifacts.snapshots.map((a) => [a.arn, a.slot]).sort()).toEqual([
      [`arn:aws:rds:eu-central-1:123456789012:cluster-snapshot:lifeboat-billing-${SLOT}`, SLOT],
      [`arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-${SLOT}`, SLOT],
      [`arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-tagged-db-${SLOT}`, SLOT],
    ]);
    const check = await checkSignature(
      new KMSClient({}),
      TEST_VAULT.manifestKeys.dr,
      signed as never,
    );
    expect(check).toEqual({ valid: true });
  });

  it('records a failed target in the manifest, resolved by the snapshot a later delivery takes', async () => {
    // Prepare: the first delivery does not find orders-db (it is being renamed back, say)
    const orders = primary.instances.splice(0, 1);
    await expect(run()).rejects.toThrow('instance orders-db');
    primary.instances.unshift(...orders);
    const first = storedRecord(bucket, `snapshots-${SLOT}`);

    // Act
    const second = await run();

    // Assess
    expect(first?.manifest.failures).toEqual([
      {
        subject: 'instance orders-db',
        error: 'TargetNotFoundError: no rds-instance orders-db in eu-central-1',
        resolvedBy: `arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-${SLOT}`,
      },
    ]);
    expect(second.manifest).toBe('amended');
    expect(storedRecord(bucket, `snapshots-${SLOT}`, 2)?.manifest.artifacts.snapshots).toEqual([
      expect.objectContaining({
        arn: `arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-${SLOT}`,
      }),
    ]);
  });

  it('fails the run and alerts when the manifest cannot be written', async () => {
    // Prepare
    mockClient(KMSClient).on(GenerateMacCommand).rejects(new Error('KMS unavailable'));

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow(`manifest of snapshots-${SLOT}`);
    expect(primary.snapshots).toHaveLength(2);
  });

  it('creates nothing new for a duplicate delivery of the same event, and succeeds', async () => {
    // Prepare
    await run();
    primaryRds.resetHistory();

    // Act
    const result = await run();

    // Assess
    expect(result.failures).toEqual([]);
    expect(result.targets.every((t) => t.outcome === 'already-exists')).toBe(true);
    expect(primaryRds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(primaryRds).not.toHaveReceivedCommand(CreateDBClusterSnapshotCommand);
  });

  it('treats AlreadyExists from a concurrent delivery as success', async () => {
    // Prepare
    primaryRds
      .on(CreateDBSnapshotCommand)
      .rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));

    // Act
    const result = await run();

    // Assess
    expect(result.failures).toEqual([]);
    expect(result.targets.find((t) => t.target === 'orders-db')?.outcome).toBe('already-exists');
  });

  it('fails a throttled target, goes on with the others, and alerts once naming it', async () => {
    // Prepare
    const throttled = new RDSServiceException({
      name: 'Throttling',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Rate exceeded',
    });
    primaryRds
      .on(CreateDBSnapshotCommand, { DBInstanceIdentifier: 'orders-db' })
      .rejects(throttled);

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('snapshot-rds: 1 failed: instance orders-db');
    expect(primary.snapshots.map((s) => s.DBSnapshotIdentifier)).toEqual([
      `lifeboat-tagged-db-${SLOT}`,
    ]);
    expect(primary.clusterSnapshots).toHaveLength(1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('- instance orders-db: Throttling: Rate exceeded');
  });

  it('reports access denied on one target and snapshots the others', async () => {
    // Prepare
    primaryRds.on(CreateDBClusterSnapshotCommand).rejects(
      new RDSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized to perform rds:CreateDBClusterSnapshot',
      }),
    );

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('cluster billing');
    expect(primary.snapshots).toHaveLength(2);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      'AccessDenied: not authorized to perform rds:CreateDBClusterSnapshot',
    );
  });

  it('refuses before creating anything when the run would pass the manual snapshot quota', async () => {
    // Prepare: 99 manual instance snapshots (quota 100) and two instance targets to snapshot
    for (let i = 0; i < 99; i += 1) {
      primary.snapshots.push(instanceSnapshot(`manual-${i}`, PRIMARY, 'orders-db'));
    }

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('instance orders-db, instance tagged-db');
    expect(primaryRds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(primaryRds).toHaveReceivedCommandTimes(CreateDBClusterSnapshotCommand, 1);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      'SnapshotQuotaError: refused before creating anything: 2 more manual instance snapshots would take eu-central-1 to 101, past its quota of 100',
    );
  });

  it('reports the quota usage of both regions and kinds', async () => {
    // Prepare
    for (let i = 0; i < 40; i += 1) {
      primary.snapshots.push(instanceSnapshot(`manual-${i}`, PRIMARY, 'orders-db'));
    }

    // Act
    const result = await run();

    // Assess
    expect(result.quotas).toContainEqual({
      region: PRIMARY,
      kind: 'instance',
      used: 42,
      quota: 100,
      percent: 42,
    });
    expect(result.quotas).toContainEqual({
      region: DR,
      kind: 'cluster',
      used: 0,
      quota: 100,
      percent: 0,
    });
  });

  it('reports a quota fault from RDS as that target failing', async () => {
    // Prepare
    primaryRds
      .on(CreateDBSnapshotCommand, { DBInstanceIdentifier: 'tagged-db' })
      .rejects(new SnapshotQuotaExceededFault({ message: 'quota exceeded', $metadata: {} }));

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('instance tagged-db');
    expect(primary.snapshots.map((s) => s.DBSnapshotIdentifier)).toEqual([
      `lifeboat-orders-db-${SLOT}`,
    ]);
  });

  describe('the keys restore points depend on', () => {
    const ORDERS_KEY = 'arn:aws:kms:eu-central-1:123456789012:key/orders';
    const keyIn = (key: string, state: string, extra: object = {}) =>
      kms.on(DescribeKeyCommand, { KeyId: key }).resolves({
        KeyMetadata: { KeyId: key, Arn: key, KeyState: state as 'Enabled', ...extra },
      });

    it('fails the run, naming the key and what it encrypts, when a database’s key is scheduled for deletion', async () => {
      // Prepare: orders-db is encrypted with its own key, which no stack can name
      (primary.instances[0] as { KmsKeyId?: string }).KmsKeyId = ORDERS_KEY;
      keyIn(ORDERS_KEY, 'PendingDeletion', { DeletionDate: new Date('2026-12-05T10:00:00Z') });

      // Act
      const act = run();

      // Assess: the snapshots are still taken; the run fails and alerts once, naming the key
      await expect(act).rejects.toThrow(`the KMS key ${ORDERS_KEY}`);
      expect(primary.snapshots.map((s) => s.DBSnapshotIdentifier)).toContain(
        `lifeboat-orders-db-${SLOT}`,
      );
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
      const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
      expect(message).toContain(
        `KeyAtRiskError: ${ORDERS_KEY} is scheduled for deletion on 2026-12-05: what it encrypts is lost for good then; cancel the deletion (CancelKeyDeletion) and enable the key. It encrypts the snapshots of instance orders-db.`,
      );
    });

    it('fails the run when the DR key is disabled, naming the DR copies', async () => {
      // Prepare
      keyIn(DR_KEY, 'Disabled');

      // Act
      const act = run();

      // Assess
      await expect(act).rejects.toThrow(`the KMS key ${DR_KEY}`);
      const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
      expect(message).toContain(
        `${DR_KEY} is disabled: nothing it encrypts can be restored or copied until it is enabled again. It encrypts the DR region's copies.`,
      );
    });

    it('asks once per key, each in its own region, and passes while every key is enabled', async () => {
      // Prepare: two databases share a key
      for (const db of primary.instances) (db as { KmsKeyId?: string }).KmsKeyId = ORDERS_KEY;

      // Act
      const result = await run();

      // Assess
      expect(result.failures).toEqual([]);
      const asked = kms.commandCalls(DescribeKeyCommand).map((c) => String(c.args[0].input.KeyId));
      expect(asked.sort()).toEqual([ORDERS_KEY, DR_KEY].sort());
    });

    it('goes on when KMS will not describe a key (another account’s): the calls that use it tell', async () => {
      // Prepare
      const foreign = 'arn:aws:kms:eu-central-1:999988887777:key/theirs';
      (primary.instances[0] as { KmsKeyId?: string }).KmsKeyId = foreign;
      kms.on(DescribeKeyCommand, { KeyId: foreign }).rejects(
        new KMSServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'not authorized to perform kms:DescribeKey',
        }),
      );

      // Act
      const result = await run();

      // Assess
      expect(result.failures).toEqual([]);
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    });
  });

  it('fails a target that does not exist and snapshots the rest', async () => {
    // Prepare
    primary.instances.splice(0, 1);

    // Act
    const act = run();

    // Assess
    await expect(act).rejects.toThrow('instance orders-db');
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('TargetNotFoundError: no rds-instance orders-db in eu-central-1');
    expect(primary.snapshots).toHaveLength(1);
  });

  it.each([
    ['an empty event', {}, 'scheduledTime: is required'],
    [
      'a time that is not a date',
      { scheduledTime: 'yesterday' },
      'scheduledTime: must be an ISO-8601 date-time',
    ],
    [
      'a time in the future',
      { scheduledTime: '2026-12-01T00:00:00Z' },
      'scheduledTime: is in the future',
    ],
    ['an unknown field', { ...scheduled, force: true }, 'force: is not a known field'],
    ['not an object', 'run now', '(event):'],
  ])('rejects %s, naming the field, and changes nothing', async (_, event, message) => {
    // Act
    const act = run(event);

    // Assess
    await expect(act).rejects.toThrow(message);
    await expect(run(event)).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(primaryRds.calls()).toHaveLength(0);
    expect(drRds.calls()).toHaveLength(0);
  });
});
