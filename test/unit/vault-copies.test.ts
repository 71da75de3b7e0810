import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  type DBSnapshot,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { keyBook } from '../../shared/aws/key-states.js';
import { RateLimiter } from '../../shared/aws/rate-limiter.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { VaultAccountPolicy } from '../../shared/policy/schema.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import type { Target } from '../../shared/rds/targets.js';
import { planVaultCopies, sendToVault } from '../../shared/snapshots/vault-copies.js';
import { vaultAccountOf } from '../../shared/vault-account/vault-account.js';
import { nov, snapshot } from '../support/snapshots.js';

const ACCOUNT = '123456789012';
const VAULT = '222233334444';
const DR = 'eu-west-1';
const VAULT_KEY = `arn:aws:kms:${DR}:${VAULT}:key/vault`;
const DR_KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/dr`;
const vaultPolicy: VaultAccountPolicy = {
  account: VAULT,
  kmsKeyArn: VAULT_KEY,
  roleArn: `arn:aws:iam::${VAULT}:role/lifeboat-vault-writer`,
  copyCaps: { instance: 20, cluster: 5 },
  quotas: { instanceSnapshots: 100, clusterSnapshots: 100 },
};
const policy = { name: 'test-policy', vault: vaultPolicy };
const targets: Target[] = [
  { kind: 'instance', identifier: 'orders-db', arn: '', engine: 'postgres' } as Target,
  { kind: 'cluster', identifier: 'billing', arn: '', engine: 'aurora-postgresql' } as Target,
];

const sourceClient = new RDSClient({ region: DR });
const vaultClient = new RDSClient({ region: DR });
const kmsClient = new KMSClient({ region: DR });
const source = mockClient(sourceClient);
const vault = mockClient(vaultClient);
const kms = mockClient(kmsClient);

/** A DR copy of orders-db (or billing) in the vault's region, under the DR key. */
const drCopy = (day: number, overrides: Partial<SnapshotRecord> = {}) =>
  snapshot({ time: nov(day), region: DR, kmsKeyId: DR_KEY, ...overrides });
const vaultCopy = (target: string, day: number, overrides: Partial<DBSnapshot> = {}) => {
  const id = `lifeboat-${ACCOUNT}-${target}-202611${String(day).padStart(2, '0')}0200`;
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:${DR}:${VAULT}:snapshot:${id}`,
    DBInstanceIdentifier: target,
    Status: 'available',
    Encrypted: true,
    KmsKeyId: VAULT_KEY,
    ...overrides,
  };
};

function vaultHolds(copies: DBSnapshot[], shared: DBSnapshot[] = []) {
  vault
    .on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' })
    .resolves({ DBSnapshots: copies });
  vault
    .on(DescribeDBSnapshotsCommand, { SnapshotType: 'shared' })
    .resolves({ DBSnapshots: shared });
  vault.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
}

const deps = (
  account = {
    account: VAULT,
    region: DR,
    kmsKeyArn: VAULT_KEY,
    rds: { region: DR, client: vaultClient },
    s3: new S3Client({ region: DR }),
  },
) => ({
  source: { region: DR, client: sourceClient },
  keys: keyBook(() => kmsClient, DR, silentLog),
  vault: account,
  limiter: new RateLimiter({ perSecond: 1000, burst: 100 }),
  log: silentLog,
});

beforeEach(() => {
  source.reset();
  vault.reset();
  kms.reset();
  kms
    .on(DescribeKeyCommand)
    .resolves({ KeyMetadata: { KeyId: 'dr', KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
  source.on(ModifyDBSnapshotAttributeCommand).resolves({});
  source.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
  vault.on(CopyDBSnapshotCommand).callsFake((input) => ({
    DBSnapshot: vaultCopy('orders-db', 1, {
      DBSnapshotIdentifier: input.TargetDBSnapshotIdentifier,
      Status: 'copying',
    }),
  }));
});

describe('sending snapshots to the vault account', () => {
  it('shares, copies under the vault key, and keeps sharing only while the copy is under way', async () => {
    // Prepare
    vaultHolds([]);

    // Act
    const result = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(1)]);

    // Assess
    expect(result.failures).toEqual([]);
    expect(result.outcomes).toEqual([
      expect.objectContaining({
        snapshotId: 'lifeboat-orders-db-202611010200',
        vaultSnapshotId: `lifeboat-${ACCOUNT}-orders-db-202611010200`,
        outcome: 'started',
      }),
    ]);
    expect(
      source.commandCalls(ModifyDBSnapshotAttributeCommand).map((c) => c.args[0].input),
    ).toEqual([
      {
        DBSnapshotIdentifier: 'lifeboat-orders-db-202611010200',
        AttributeName: 'restore',
        ValuesToAdd: [VAULT],
      },
    ]);
    expect(vault.commandCalls(CopyDBSnapshotCommand)[0]?.args[0].input).toMatchObject({
      SourceDBSnapshotIdentifier: `arn:aws:rds:${DR}:${ACCOUNT}:snapshot:lifeboat-orders-db-202611010200`,
      KmsKeyId: VAULT_KEY,
    });
  });

  it('stops sharing on a later run, once the vault’s copy is done', async () => {
    // Prepare: the copy finished; the source is still shared
    vaultHolds(
      [vaultCopy('orders-db', 1)],
      [
        {
          DBSnapshotArn: drCopy(1).arn,
          DBSnapshotIdentifier: drCopy(1).id,
          DBInstanceIdentifier: 'orders-db',
        },
      ],
    );

    // Act
    const result = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(1)]);

    // Assess
    expect(result.failures).toEqual([]);
    expect(vault.commandCalls(CopyDBSnapshotCommand)).toHaveLength(0);
    expect(source.commandCalls(ModifyDBSnapshotAttributeCommand)[0]?.args[0].input).toMatchObject({
      ValuesToRemove: [VAULT],
    });
  });

  it('reports a refused share, and copies nothing', async () => {
    // Prepare
    vaultHolds([]);
    source
      .on(ModifyDBSnapshotAttributeCommand)
      .rejects(Object.assign(new Error('quota'), { name: 'SharedSnapshotQuotaExceeded' }));

    // Act
    const result = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(1)]);

    // Assess
    expect(result.failures).toEqual([
      {
        subject: 'vault copy of lifeboat-orders-db-202611010200 (instance orders-db)',
        error: `VaultCopyError: RDS refused to share lifeboat-orders-db-202611010200 with the vault account ${VAULT}: the snapshot is shared with as many accounts as RDS allows (20)`,
      },
    ]);
    expect(vault.commandCalls(CopyDBSnapshotCommand)).toHaveLength(0);
  });

  it('says the vault cannot use the key, and stops sharing what it could not copy', async () => {
    // Prepare
    vaultHolds([]);
    vault
      .on(CopyDBSnapshotCommand)
      .rejects(Object.assign(new Error('key'), { name: 'KMSKeyNotAccessibleFault' }));

    // Act
    const result = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(1)]);

    // Assess
    expect(result.failures[0]?.error).toContain(
      `the vault account ${VAULT} cannot use a key lifeboat-orders-db-202611010200 needs (${DR_KEY}, or the vault key)`,
    );
    const changes = source
      .commandCalls(ModifyDBSnapshotAttributeCommand)
      .map((c) => c.args[0].input);
    expect(changes).toEqual([
      expect.objectContaining({ ValuesToAdd: [VAULT] }),
      expect.objectContaining({ ValuesToRemove: [VAULT] }),
    ]);
  });

  it('refuses a snapshot under aws/rds with that reason, before sharing it', async () => {
    // Prepare
    vaultHolds([]);
    kms
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: 'rds', KeyManager: 'AWS', KeyState: 'Enabled' } });

    // Act
    const result = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(1)]);

    // Assess
    expect(result.outcomes[0]).toMatchObject({ outcome: 'refused' });
    expect(result.failures[0]?.error).toContain(
      'is encrypted with the AWS-managed key aws/rds, which RDS cannot share with another account',
    );
    expect(source.commandCalls(ModifyDBSnapshotAttributeCommand)).toHaveLength(0);
  });

  it('reports the vault account’s snapshot quota, from its count and from RDS', async () => {
    // Prepare: 100 copies held (the quota), then a vault whose RDS refuses anyway
    const full = Array.from({ length: 100 }, (_, i) => vaultCopy(`db${i}`, 1));
    vaultHolds(full);

    // Act
    const counted = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(2)]);
    vault.reset();
    vaultHolds([]);
    vault
      .on(CopyDBSnapshotCommand)
      .rejects(Object.assign(new Error('quota'), { name: 'SnapshotQuotaExceededFault' }));
    const refused = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(2)]);

    // Assess
    expect(counted.failures[0]?.error).toContain(
      `would take the vault account ${VAULT} to 101, past its quota of 100 (vault.quotas.instanceSnapshots)`,
    );
    expect(refused.failures[0]?.error).toContain(
      `the vault account ${VAULT} has reached its manual snapshot quota`,
    );
  });

  it('fails the run, naming the role, when the vault role cannot be assumed', async () => {
    // Prepare
    const sts = new STSClient({ region: DR });
    mockClient(sts)
      .on(AssumeRoleCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDenied' }));
    const unreachable = vaultAccountOf(vaultPolicy, DR, 'test', sts);

    // Act
    const result = await sendToVault(deps(unreachable), policy, ACCOUNT, targets, [drCopy(1)]);

    // Assess
    expect(result.failures).toEqual([
      {
        subject: `the vault account ${VAULT}`,
        error: `VaultRoleError: cannot assume ${vaultPolicy.roleArn} in the vault account ${VAULT} (AccessDenied): deploy the vault stack with this account among its sourceAccounts, and give this function's role sts:AssumeRole on it`,
      },
    ]);
    expect(source.commandCalls(ModifyDBSnapshotAttributeCommand)).toHaveLength(0);
  });

  it('refuses to treat the production account as the vault', async () => {
    // Act
    const result = await sendToVault(deps(), policy, VAULT, targets, [drCopy(1)]);

    // Assess
    expect(result.failures[0]?.error).toContain('is the account this job runs in');
    expect(vault.calls()).toHaveLength(0);
  });

  it('reports a copy the vault account failed to make', async () => {
    // Prepare
    vaultHolds([vaultCopy('orders-db', 1, { Status: 'failed' })]);

    // Act
    const result = await sendToVault(deps(), policy, ACCOUNT, targets, [drCopy(1)]);

    // Assess
    expect(result.failures).toEqual([
      {
        subject: 'vault copy of lifeboat-orders-db-202611010200 (instance orders-db)',
        error: expect.stringContaining(
          `the vault account's copy lifeboat-${ACCOUNT}-orders-db-202611010200 failed`,
        ),
      },
    ]);
  });

  it('shares and copies Aurora cluster snapshots with the cluster calls', async () => {
    // Prepare
    vaultHolds([]);
    vault.on(CopyDBClusterSnapshotCommand).resolves({
      DBClusterSnapshot: { DBClusterSnapshotIdentifier: 'x', Status: 'available' },
    });
    const billing = drCopy(1, { kind: 'cluster', target: 'billing', database: 'billing' });

    // Act
    const result = await sendToVault(deps(), policy, ACCOUNT, targets, [billing]);

    // Assess: done at once, so shared and unshared in the same run
    expect(result.failures).toEqual([]);
    expect(vault.commandCalls(CopyDBClusterSnapshotCommand)[0]?.args[0].input).toMatchObject({
      TargetDBClusterSnapshotIdentifier: `lifeboat-${ACCOUNT}-billing-202611010200`,
      KmsKeyId: VAULT_KEY,
    });
    expect(
      source
        .commandCalls(ModifyDBClusterSnapshotAttributeCommand)
        .map((c) => Object.keys(c.args[0].input)),
    ).toEqual([
      ['DBClusterSnapshotIdentifier', 'AttributeName', 'ValuesToAdd'],
      ['DBClusterSnapshotIdentifier', 'AttributeName', 'ValuesToRemove'],
    ]);
  });
});

describe('planning vault copies', () => {
  const plan = (
    sources: SnapshotRecord[],
    copies: SnapshotRecord[],
    vaultSettings: Partial<VaultAccountPolicy> = {},
  ) =>
    planVaultCopies({
      vault: { ...vaultPolicy, ...vaultSettings },
      account: ACCOUNT,
      targets,
      sources,
      held: { copies, shared: [] },
      awsManagedKeys: new Set(),
    });
  const inVault = (target: string, day: number, status = 'available') =>
    snapshot({
      time: nov(day),
      region: DR,
      target,
      database: target,
      id: `lifeboat-${ACCOUNT}-${target}-202611${String(day).padStart(2, '0')}0200`,
      status,
    });

  it('waits under the copy cap, the newest restore point first', () => {
    // Act
    const result = plan([drCopy(3), drCopy(1), drCopy(2)], [inVault('other-db', 1, 'copying')], {
      copyCaps: { instance: 2, cluster: 5 },
    });

    // Assess
    expect(result.copies.map((c) => c.source.id)).toEqual(['lifeboat-orders-db-202611030200']);
    expect(result.decided.map((d) => [d.snapshotId, d.outcome])).toEqual([
      ['lifeboat-orders-db-202611010200', 'pending'],
      ['lifeboat-orders-db-202611020200', 'pending'],
    ]);
    expect(result.decided[0]?.detail).toBe(
      `2 instance copies in flight into the vault account ${VAULT} (cap 2); it starts when one finishes`,
    );
  });

  it('copies an older slot the vault lacks after a newer one (a settled slot is never offered)', () => {
    // Act: the vault holds day 3; day 1's DR copy is still in a slot open in the pipeline
    const result = plan([drCopy(1), drCopy(3)], [inVault('orders-db', 3)]);

    // Assess
    expect(result.copies.map((c) => c.source.id)).toEqual(['lifeboat-orders-db-202611010200']);
    expect(result.decided).toEqual([]);
  });

  it('copies only Lifeboat’s snapshots of the policy’s targets', () => {
    // Act
    const result = plan(
      [
        drCopy(1, { id: 'manual-orders-db', target: 'orders-db' }),
        drCopy(1, { target: 'scratch-db', database: 'scratch-db' }),
      ],
      [],
    );

    // Assess
    expect(result.copies).toEqual([]);
  });
});
