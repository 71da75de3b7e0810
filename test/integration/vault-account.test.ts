import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedCluster, seedInstance, seedKey, seedVault } from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { type RunRecorder, runRecorder } from '../../shared/manifest/run-recorder.js';
import { runIdOf } from '../../shared/naming/run-ids.js';
import { slotOf } from '../../shared/naming/slot.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { listManualSnapshots, listSharedSnapshots } from '../../shared/rds/snapshots.js';
import { runSnapshotJob } from '../../shared/snapshots/snapshot-job.js';
import { vaultAccountOf } from '../../shared/vault/vault-account.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy } from '../support/policy.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
const VAULT = '222233334444';
const ROLE = `arn:aws:iam::${VAULT}:role/lifeboat-vault-writer`;

useLocalAws();

let policy: Policy;
let recorder: RunRecorder;
let vaultRds: RDSClient;

/** A client of the vault account: moto gives an assumed role's calls to the role's account. */
async function asVault<C>(Client: new (config: object) => C, region: string): Promise<C> {
  const out = await clientIn(STSClient, region).send(
    new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'vault-admin' }),
  );
  const c = out.Credentials;
  return new Client({
    region,
    credentials: {
      accessKeyId: c?.AccessKeyId ?? '',
      secretAccessKey: c?.SecretAccessKey ?? '',
      sessionToken: c?.SessionToken ?? '',
    },
  });
}

beforeAll(async () => {
  const drKey = await seedKey(DR);
  const vaultKms = await asVault(KMSClient, DR);
  const vaultKey =
    (await vaultKms.send(new CreateKeyCommand({ Description: 'the vault key' }))).KeyMetadata
      ?.Arn ?? '';
  const fixture = fixturePolicy();
  policy = {
    ...fixture,
    snapshots: { ...fixture.snapshots, drKmsKeyArn: drKey },
    vault: {
      account: VAULT,
      kmsKeyArn: vaultKey,
      roleArn: ROLE,
      copyCaps: { instance: 20, cluster: 5 },
      quotas: { instanceSnapshots: 100, clusterSnapshots: 100 },
    },
  };
  recorder = runRecorder({
    s3: clientIn(S3Client, PRIMARY),
    kms: clientIn(KMSClient, PRIMARY),
    vault: await seedVault(policy, ACCOUNT),
    account: ACCOUNT,
  });
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await seedInstance(rds, 'reports-db', { backup: 'lifeboat' });
  await seedCluster(rds, 'billing');
  vaultRds = await asVault(RDSClient, DR);
});

const deps = () => ({
  primary: rdsIn(PRIMARY),
  dr: rdsIn(DR),
  limiter: new RateLimiter({ perSecond: 1000, burst: 100 }),
  recorder,
  log: silentLog,
  vault: {
    account: vaultAccountOf(policy.vault as NonNullable<Policy['vault']>, DR, 'test-snapshots'),
    kms: clientIn(KMSClient, DR),
  },
});

describe('the isolated vault account, against the local AWS with two accounts', () => {
  it('copies each DR copy into the vault account under the vault key, then stops sharing it', async () => {
    // Act: three daily runs
    const results = [];
    for (let day = 1; day <= 3; day += 1) {
      results.push(
        await runSnapshotJob(deps(), policy, slotOf(new Date(Date.UTC(2026, 10, day, 2)))),
      );
    }

    // Assess: every run sent its slot's three snapshots, and nothing failed
    for (const r of results) {
      expect(r.failures).toEqual([]);
      expect(r.vault.map((o) => [o.target, o.outcome])).toEqual([
        ['billing', 'started'],
        ['orders-db', 'started'],
        ['reports-db', 'started'],
      ]);
    }
    const copies = await listManualSnapshots({ region: DR, client: vaultRds });
    expect(copies.map((c) => c.id).sort()).toEqual(
      ['billing', 'orders-db', 'reports-db']
        .flatMap((t) => ['01', '02', '03'].map((d) => `lifeboat-${ACCOUNT}-${t}-202611${d}0200`))
        .sort(),
    );
    for (const c of copies) {
      expect(c.arn).toContain(`:${VAULT}:`);
      expect(c.kmsKeyId).toBe(policy.vault?.kmsKeyArn);
    }
    // Nothing stays shared once its copy is done
    expect(await listSharedSnapshots({ region: DR, client: vaultRds })).toEqual([]);
  });

  it('records each target’s vault copy in the run’s signed record', async () => {
    // Act
    const [record] = await recorder.readRuns(
      policy.name,
      'snapshot-rds',
      (id) => id === runIdOf('snapshot-rds', slotOf(new Date(Date.UTC(2026, 10, 3, 2)))),
    );

    // Assess
    const copies = record?.artifacts.vaultCopies ?? [];
    expect(copies.map((c) => [c.kind, c.target, c.account, c.sourceArn]).sort()).toEqual([
      [
        'cluster',
        'billing',
        VAULT,
        `arn:aws:rds:${DR}:${ACCOUNT}:cluster-snapshot:lifeboat-billing-202611030200`,
      ],
      [
        'instance',
        'orders-db',
        VAULT,
        `arn:aws:rds:${DR}:${ACCOUNT}:snapshot:lifeboat-orders-db-202611030200`,
      ],
      [
        'instance',
        'reports-db',
        VAULT,
        `arn:aws:rds:${DR}:${ACCOUNT}:snapshot:lifeboat-reports-db-202611030200`,
      ],
    ]);
  });

  it('sends nothing again when a slot is delivered twice', async () => {
    // Act
    const again = await runSnapshotJob(deps(), policy, slotOf(new Date(Date.UTC(2026, 10, 3, 2))));

    // Assess
    expect(again.vault).toEqual([]);
    expect(again.failures).toEqual([]);
    expect(await listManualSnapshots({ region: DR, client: vaultRds })).toHaveLength(9);
  });
});
