import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../cli/main.js';
import { definition as postureReport } from '../../functions/posture-report.js';
import { seedLifeboatSnapshot } from '../../local/demo/recovery-seed.js';
import { seedCluster, seedInstance, seedKey, seedVault } from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { localJobEnvironment } from '../../shared/jobs/local-environment.js';
import { slotOf } from '../../shared/naming/slot.js';
import type { Policy } from '../../shared/policy/schema.js';
import { readPosture } from '../../shared/posture/posture.js';
import { postureKey } from '../../shared/posture/posture-job.js';
import type { Vault } from '../../shared/vault/vault.js';
import { captureIo } from '../support/capture-io.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy, tieredObjectives } from '../support/policy.js';

// Where each database stands against its objectives, measured against moto: continuous
// backups (moto keeps an instance's automated backups and its latest restorable time), Lifeboat
// snapshots and DR copies, verified restore points, and drill reports in the bucket.

const local = useLocalAws();
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const HOUR = 3_600_000;
let policy: Policy;
let vault: Vault;
let policyFile: string;
const now = new Date();

beforeAll(async () => {
  const base = fixturePolicy();
  policy = {
    ...base,
    snapshots: { ...base.snapshots, drKmsKeyArn: await seedKey(DR) },
    targets: [
      { kind: 'rds-instance', identifier: 'orders-db', tier: 'critical' },
      { kind: 'rds-instance', identifier: 'reports-db' },
      { kind: 'aurora-cluster', identifier: 'billing' },
    ],
    objectives: tieredObjectives(),
  };
  vault = await seedVault(policy, ACCOUNT);
  policyFile = join(tmpdir(), 'posture.policy.yml');
  writeFileSync(policyFile, stringify(policy));
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  // orders-db keeps continuous backups; reports-db has only snapshots.
  await rds.send(
    new ModifyDBInstanceCommand({
      DBInstanceIdentifier: 'orders-db',
      BackupRetentionPeriod: 7,
      ApplyImmediately: true,
    }),
  );
  await seedInstance(rds, 'reports-db');
  await rds.send(
    new ModifyDBInstanceCommand({
      DBInstanceIdentifier: 'reports-db',
      BackupRetentionPeriod: 0,
      ApplyImmediately: true,
    }),
  );
  await seedCluster(rds, 'billing');
  await seedInstance(rds, 'scratch-db');
  // reports-db: a verified snapshot 30 hours ago (misses the standard day), no DR copy.
  const old = slotOf(new Date(now.getTime() - 30 * HOUR));
  await seedLifeboatSnapshot(PRIMARY, policy.name, 'instance', 'reports-db', old, new Date());
  // orders-db: a verified snapshot 2 hours ago; billing: none at all.
  const recent = slotOf(new Date(now.getTime() - 2 * HOUR));
  await seedLifeboatSnapshot(PRIMARY, policy.name, 'instance', 'orders-db', recent, new Date());
  // Both become available, at the local AWS's pace.
  await local.aws.clock.advanceToNext();
  // orders-db's last drill: 40 minutes to a restore that passed its checks.
  await clientIn(S3Client, PRIMARY).send(
    new PutObjectCommand({
      Bucket: vault.bucket,
      Key: `drills/${policy.name}/lb-drill-orders-db-261101040000/report.json`,
      Body: JSON.stringify({
        drillId: 'lb-drill-orders-db-261101040000',
        target: 'orders-db',
        startedAt: '2026-11-01T04:00:00.000Z',
        succeeded: true,
        rtoSeconds: 2400,
        rpoSeconds: 600,
      }),
    }),
  );
}, 120_000);

describe('posture', () => {
  it('measures each database against its tier: restore points, their age, the last drill', async () => {
    // Act
    const env = localJobEnvironment(policy, ACCOUNT, vault);
    const posture = await readPosture(postureReport.wire(env), policy, now);

    // Assess
    const orders = posture.databases.find((d) => d.identifier === 'orders-db');
    const reports = posture.databases.find((d) => d.identifier === 'reports-db');
    expect(orders).toMatchObject({
      objectives: { tier: 'critical', rpoSeconds: 900, rtoSeconds: 3600 },
      primary: { continuousDays: 7 },
      lastDrill: { succeeded: true, rtoSeconds: 2400 },
      holds: { rpo: true, rto: true, verified: true },
      gaps: [
        'automated backups are not replicated to the DR region; tier critical replicates them',
        // No pipeline ran here: the snapshot's copy waits with room under the cap.
        expect.stringMatching(
          /^its newest snapshot lifeboat-orders-db-\d{12} has waited .* the pipeline is not starting it/,
        ),
      ],
    });
    expect(orders?.primary.rpoSeconds).toBeLessThan(900);
    expect(reports).toMatchObject({
      objectives: { tier: 'standard', rpoSeconds: 86_400 },
      primary: { continuousDays: 0, newestVerified: { id: expect.stringContaining('reports-db') } },
      // 30 hours is within the day of snapshots and the day of verification; no DR copy at all.
      holds: { rpo: false, drRpo: false, rto: null, verified: true },
      lastDrill: null,
    });
    expect(reports?.primary.rpoSeconds).toBeGreaterThan(29 * 3600);
    const billing = posture.databases.find((d) => d.identifier === 'billing');
    expect(billing).toMatchObject({ verifiedAgeSeconds: null, holds: { verified: false } });
    expect(posture.unprotected).toEqual([{ kind: 'instance', identifier: 'scratch-db' }]);
  });

  it('publishes the posture and counts the databases that miss an objective', async () => {
    // Act
    const env = localJobEnvironment(policy, ACCOUNT, vault);
    const result = await postureReport.run(postureReport.wire(env), policy, now);

    // Assess
    expect(result.failures).toEqual([]);
    // reports-db's restore point is too old; billing has no verified restore point at all;
    // orders-db's tier replicates to the DR region, where it has nothing to restore.
    expect([...result.missed].sort()).toEqual(['billing', 'orders-db', 'reports-db']);
    const stored = await clientIn(S3Client, PRIMARY).send(
      new GetObjectCommand({ Bucket: vault.bucket, Key: postureKey(policy.name, 'posture.json') }),
    );
    const text = (await stored.Body?.transformToString()) ?? '{}';
    expect(JSON.parse(text).posture.databases).toHaveLength(3);
    // The DR region's bucket holds the same page, to read with the primary region gone.
    const copy = await clientIn(S3Client, DR).send(
      new GetObjectCommand({
        Bucket: vault.drBucket,
        Key: postureKey(policy.name, 'posture.json'),
      }),
    );
    expect(await copy.Body?.transformToString()).toBe(text);
  });

  it('shows it with lifeboat status, and exits 1 while an objective is missed', async () => {
    // Act
    const io = captureIo();
    const code = await runCli(['status', '--policy', policyFile, '--bucket', vault.bucket], io);

    // Assess
    expect(code).toBe(1);
    const out = io.stdout();
    expect(out).toMatch(/instance orders-db\s+critical\s+15m\s+\S+/);
    expect(out).toMatch(/instance reports-db\s+standard\s+1d\s+1d 6h/);
    expect(out).toContain('RPO MISSED');
    expect(out).toContain('Unprotected (no target covers them): instance scratch-db');
    expect(out).toContain(
      'gap: orders-db: automated backups are not replicated to the DR region; tier critical replicates them',
    );
  });
});
