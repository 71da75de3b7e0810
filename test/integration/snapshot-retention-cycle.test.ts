import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  CreateDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
} from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { seedCluster, seedInstance, seedKey, seedTopic, seedVault } from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { type RunRecorder, runRecorder } from '../../shared/manifest/run-recorder.js';
import { slotOf } from '../../shared/naming/slot.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { runRetentionJob } from '../../shared/retention/retention-job.js';
import { settledSlotsIn } from '../../shared/snapshots/settled-slots.js';
import { runSnapshotJob } from '../../shared/snapshots/snapshot-job.js';
import { resolveVault, type Vault } from '../../shared/vault/vault.js';
import { lambdaContext } from '../support/lambda-context.js';
import { useLocalAws } from '../support/local-aws.js';
import { sweepUntilSettled } from '../support/pipeline.js';
import { fixturePolicy, packagedPolicyFile } from '../support/policy.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';

const local = useLocalAws();

let policy: Policy;
let recorder: RunRecorder;
let vault: Vault;

beforeAll(async () => {
  const key = await seedKey(DR);
  policy = { ...fixturePolicy(), snapshots: { ...fixturePolicy().snapshots, drKmsKeyArn: key } };
  vault = await seedVault(policy, ACCOUNT);
  recorder = runRecorder({
    s3: clientIn(S3Client, PRIMARY),
    kms: clientIn(KMSClient, PRIMARY),
    vault,
    account: ACCOUNT,
  });
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await seedInstance(rds, 'reports-db', { backup: 'lifeboat' });
  await seedInstance(rds, 'scratch-db');
  await seedCluster(rds, 'billing');
});

const deps = () => ({
  primary: rdsIn(PRIMARY),
  dr: rdsIn(DR),
  limiter: new RateLimiter({ perSecond: 1000, burst: 100 }),
  recorder,
  log: silentLog,
  kmsIn: (region: string) => clientIn(KMSClient, region),
  settled: settledSlotsIn(
    clientIn(S3Client, PRIMARY),
    vault.bucket,
    policy.name,
    vault.dataKeys.primary,
  ),
});

async function snapshotIds(region: string): Promise<string[]> {
  const rds = rdsIn(region).client;
  const instances = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
  const clusters = await rds.send(
    new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }),
  );
  return [
    ...(instances.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier ?? ''),
    ...(clusters.DBClusterSnapshots ?? []).map((s) => s.DBClusterSnapshotIdentifier ?? ''),
  ].sort();
}

describe('snapshot and retention cycle against the local AWS', () => {
  it('snapshots, copies to DR with the DR key, and thins out two weeks of daily slots', async () => {
    // Act: two weeks of daily runs, each a snapshot run then a retention run
    for (let day = 1; day <= 14; day += 1) {
      const slot = slotOf(new Date(Date.UTC(2026, 10, day, 2)));
      const snapshots = await runSnapshotJob(deps(), policy, slot);
      expect(snapshots.failures).toEqual([]);
      const passes = await sweepUntilSettled(local.aws, deps(), policy, slot.time);
      expect(passes.flatMap((p) => p.failures)).toEqual([]);
      const retention = await runRetentionJob(
        deps(),
        policy,
        new Date(Date.UTC(2026, 10, day, 3, 30)),
      );
      expect(retention.failures).toEqual([]);
    }

    // Assess: orders-db, reports-db and billing, not scratch-db; the primary keeps 8-14 Nov and
    // 1 Nov (weekly), the DR region 12-14 Nov (daily 3; monthly 2 is the same 14 Nov)
    const primary = await snapshotIds(PRIMARY);
    const dr = await snapshotIds(DR);
    const days = (ids: string[], target: string) =>
      ids.filter((id) => id.startsWith(`lifeboat-${target}-`)).map((id) => id.slice(-6, -4));
    for (const target of ['orders-db', 'reports-db', 'billing']) {
      expect(days(primary, target)).toEqual(['01', '08', '09', '10', '11', '12', '13', '14']);
      expect(days(dr, target)).toEqual(['12', '13', '14']);
    }
    expect(primary.some((id) => id.includes('scratch-db'))).toBe(false);
  });

  it('encrypts the DR copies with the policy key and tags them as Lifeboat copies', async () => {
    // Act
    const out = await rdsIn(DR).client.send(
      new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }),
    );

    // Assess
    const copy = out.DBSnapshots?.find(
      (s) => s.DBSnapshotIdentifier === 'lifeboat-orders-db-202611140200',
    );
    expect(copy).toMatchObject({ Encrypted: true, KmsKeyId: policy.snapshots.drKmsKeyArn });
    expect(copy?.TagList).toEqual(
      expect.arrayContaining([
        { Key: 'lifeboat:managed', Value: 'true' },
        { Key: 'lifeboat:policy', Value: 'test-policy' },
        { Key: 'lifeboat:slot', Value: '202611140200' },
        { Key: 'lifeboat:target', Value: 'orders-db' },
        {
          Key: 'lifeboat:source',
          Value: 'arn:aws:rds:eu-central-1:123456789012:snapshot:lifeboat-orders-db-202611140200',
        },
      ]),
    );
  });

  it('creates nothing new when the scheduled event is delivered twice, through the handler', async () => {
    // Prepare
    vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile(policy));
    vi.stubEnv('ALERT_TOPIC_ARN', await seedTopic(PRIMARY));
    const vault = await resolveVault(policy, ACCOUNT, (region) => clientIn(KMSClient, region));
    vi.stubEnv('BACKUP_BUCKET', vault.bucket);
    vi.stubEnv('DR_BACKUP_BUCKET', vault.drBucket ?? '');
    vi.stubEnv('DATA_KEY_ARN', vault.dataKeys.primary);
    vi.stubEnv('DR_DATA_KEY_ARN', vault.dataKeys.dr);
    vi.stubEnv('MANIFEST_KEY_ARN', vault.manifestKeys.primary);
    vi.stubEnv('DR_MANIFEST_KEY_ARN', vault.manifestKeys.dr);
    const { handler } = await import('../../functions/snapshot-rds.js');
    const event = { scheduledTime: new Date().toISOString() };
    const first = await handler(structuredClone(event), lambdaContext());
    const before = await snapshotIds(PRIMARY);

    // Act
    const second = await handler(structuredClone(event), lambdaContext());

    // Assess
    expect(first.targets.map((t) => t.outcome)).toEqual(['created', 'created', 'created']);
    expect(second.targets.map((t) => t.outcome)).toEqual([
      'already-exists',
      'already-exists',
      'already-exists',
    ]);
    expect(second.failures).toEqual([]);
    expect(await snapshotIds(PRIMARY)).toEqual(before);
    vi.unstubAllEnvs();
  });

  it('fails the run when a database’s own key is scheduled for deletion, naming the key and the database', async () => {
    // Prepare: payments-db encrypted with a key of its own, which is then scheduled for deletion
    const kms = clientIn(KMSClient, PRIMARY);
    const key = await seedKey(PRIMARY, 'payments-db key');
    await rdsIn(PRIMARY).client.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'payments-db',
        Engine: 'postgres',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-real-password-1',
        StorageEncrypted: true,
        KmsKeyId: key,
      }),
    );
    // By id: moto 5.2.1 schedules no deletion of a key named by its ARN (AWS does).
    await kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: key.split('/').pop(), PendingWindowInDays: 7 }),
    );
    const payments: Policy = {
      ...policy,
      targets: [{ kind: 'rds-instance', identifier: 'payments-db' }],
    };

    // Act
    const run = await runSnapshotJob(deps(), payments, slotOf(new Date(Date.UTC(2026, 10, 20, 2))));

    // Assess: the snapshot is taken, and the run fails naming the key and what it encrypts
    expect(run.targets.map((t) => t.outcome)).toEqual(['created']);
    expect(run.failures).toEqual([
      {
        subject: `the KMS key ${key}`,
        error: expect.stringMatching(
          /^KeyAtRiskError: .* is scheduled for deletion on \d{4}-\d{2}-\d{2}: .* It encrypts the snapshots of instance payments-db\.$/,
        ),
      },
    ]);
  });
});
