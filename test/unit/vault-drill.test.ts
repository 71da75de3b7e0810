import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DrillPlan } from '../../shared/drills/drill-contract.js';
import { planDrill } from '../../shared/drills/drill-plan.js';
import { reportDrill } from '../../shared/drills/drill-report.js';
import { parsePolicyText } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { recoveryPolicyText } from '../support/recovery-policy.js';

const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';
const VAULT = '444455556666';
const ROLE = `arn:aws:iam::${VAULT}:role/lifeboat-vault-${ACCOUNT}-test`;

const vaultClient = new RDSClient({ region: REGION });
const vaultRds = mockClient(vaultClient);

function vaultPolicy(extra = ''): Policy {
  const text = recoveryPolicyText({
    subnetGroup: 'db-subnets',
    securityGroup: 'sg-0123456789abcdef0',
  }).replace(/^drills:\n/m, `drills:\n  site: vault\n${extra}`);
  return parsePolicyText(
    `${text}\nvault:\n  account: "${VAULT}"\n  region: ${REGION}\n  kmsKeyArn: arn:aws:kms:${REGION}:${VAULT}:key/v\n  roleArn: ${ROLE}\n`,
    'policy.yml',
  );
}

const copyOf = (day: number, status = 'available') => {
  const id = `lifeboat-${ACCOUNT}-orders-db-202611${String(day).padStart(2, '0')}0300`;
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:${REGION}:${VAULT}:snapshot:${id}`,
    DBInstanceIdentifier: 'orders-db',
    Status: status,
    Engine: 'postgres',
    Encrypted: true,
  };
};

const deps = () => ({
  rds: { region: REGION, client: new RDSClient({ region: REGION }) },
  alertTopicArn: 'arn:aws:sns:eu-central-1:123456789012:alerts',
  vault: {
    account: {
      account: VAULT,
      region: REGION,
      kmsKeyArn: '',
      rds: { region: REGION, client: vaultClient },
      s3: new S3Client({ region: REGION }),
    },
    ownAccount: async () => ACCOUNT,
  },
});

beforeEach(() => {
  vaultRds.reset();
  vaultRds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  vaultRds.on(ModifyDBSnapshotAttributeCommand).resolves({});
});

describe('a drill of the vault’s copy', () => {
  it('picks the newest available copy of this account, and shares it with this account', async () => {
    // Prepare
    vaultRds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [copyOf(20), copyOf(21), copyOf(22, 'copying')],
    });

    // Act
    const plan = await planDrill(
      deps(),
      vaultPolicy(),
      { target: 'orders-db' },
      new Date('2026-11-23T00:00:00Z'),
    );

    // Assess
    expect(plan.snapshot).toMatchObject({
      id: `lifeboat-${ACCOUNT}-orders-db-202611210300`,
      arn: `arn:aws:rds:${REGION}:${VAULT}:snapshot:lifeboat-${ACCOUNT}-orders-db-202611210300`,
      verifiedAt: null,
    });
    expect(plan.vaultCopy).toEqual({
      account: VAULT,
      roleArn: ROLE,
      kind: 'instance',
      snapshotId: `lifeboat-${ACCOUNT}-orders-db-202611210300`,
      sharedWith: ACCOUNT,
    });
    expect(vaultRds.commandCalls(ModifyDBSnapshotAttributeCommand)[0]?.args[0].input).toEqual({
      DBSnapshotIdentifier: `lifeboat-${ACCOUNT}-orders-db-202611210300`,
      AttributeName: 'restore',
      ValuesToAdd: [ACCOUNT],
    });
  });

  it('finds no restore point when the vault holds no copy of this account’s database', async () => {
    // Prepare: another account's copy only
    vaultRds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        { ...copyOf(20), DBSnapshotIdentifier: 'lifeboat-999988887777-orders-db-202611200300' },
      ],
    });

    // Act
    const act = planDrill(
      deps(),
      vaultPolicy(),
      { target: 'orders-db' },
      new Date('2026-11-23T00:00:00Z'),
    );

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'NoRestorePointError' });
    expect(vaultRds.commandCalls(ModifyDBSnapshotAttributeCommand)).toHaveLength(0);
  });

  it('refuses a point-in-time pick, and a policy without a vault, before sharing anything', async () => {
    // Act
    const pitr = planDrill(
      deps(),
      vaultPolicy(),
      { target: 'orders-db', pick: 'point-in-time' },
      new Date(),
    );
    const { vault: _, ...noVault } = deps();
    const none = planDrill(noVault, vaultPolicy(), { target: 'orders-db' }, new Date());
    const invalid = () => vaultPolicy('  pick: point-in-time\n');

    // Assess
    await expect(pitr).rejects.toMatchObject({ name: 'DrillConfigError' });
    await expect(none).rejects.toMatchObject({ name: 'DrillConfigError' });
    expect(invalid).toThrow('the vault holds snapshot copies only');
    expect(vaultRds.calls()).toHaveLength(0);
  });

  it('fails the drill’s report when the share cannot be ended, naming the copy', async () => {
    // Prepare: a drill that passed, of a vault copy
    vaultRds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [copyOf(21)] });
    const plan: DrillPlan = await planDrill(
      deps(),
      vaultPolicy(),
      { target: 'orders-db' },
      new Date('2026-11-23T00:00:00Z'),
    );
    const state = {
      plan,
      poll: { count: 1, state: 'available', observedAt: '2026-11-23T00:10:00.000Z' },
      checks: { passed: true, checkedAt: '2026-11-23T00:11:00.000Z', checks: [], newestData: null },
      teardown: { done: true, deleted: [plan.instanceId], gone: [], pending: [], attempts: 1 },
    };
    const s3 = new S3Client({ region: REGION });
    const sns = new SNSClient({ region: REGION });
    mockClient(s3).on(PutObjectCommand).resolves({});
    mockClient(sns).on(PublishCommand).resolves({});
    const sink = { s3, sns, bucket: 'reports', topicArn: 'arn:aws:sns:eu-central-1:1:t' };

    // Act
    const { report } = await reportDrill(
      sink,
      state,
      new Date('2026-11-23T00:12:00Z'),
      async () => {
        throw Object.assign(new Error('no'), { name: 'AccessDenied' });
      },
    );
    const ended = await reportDrill(sink, state, new Date('2026-11-23T00:12:00Z'), async () => {});

    // Assess
    expect(report.succeeded).toBe(false);
    expect(report.failure).toBe(
      `the vault's copy ${plan.snapshot.id} is still shared with this account (AccessDenied: no): stop sharing it in the vault account`,
    );
    expect(ended.report).toMatchObject({
      succeeded: true,
      vaultCopy: { account: VAULT, snapshotId: plan.snapshot.id, shareEnded: true, error: null },
    });
  });
});
