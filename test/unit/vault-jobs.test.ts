import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { PolicyError } from '../../shared/policy/errors.js';
import { parseVaultPolicy, type VaultPolicy } from '../../shared/policy/vault-policy.js';
import type { SnapshotRecord } from '../../shared/rds/snapshots.js';
import { verifyVaultCopies } from '../../shared/vault-account/vault-verification.js';
import { lambdaContext } from '../support/lambda-context.js';
import { nov, snapshot } from '../support/snapshots.js';

const SOURCE = '111122223333';
const VAULT = '444455556666';
const REGION = 'eu-west-1';
const KEY = `arn:aws:kms:${REGION}:${VAULT}:key/vault`;

const raw = {
  version: 1,
  name: 'test-vault',
  account: VAULT,
  region: REGION,
  timeZone: 'UTC',
  sources: [{ account: SOURCE }],
  retention: { rules: { last: 1, minimumAge: '0h' } },
};

function problems(input: unknown): string[] {
  try {
    parseVaultPolicy(input, 'vault.yml');
    return [];
  } catch (error) {
    if (error instanceof PolicyError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
}

describe('the vault policy', () => {
  it('fills in the lock, the schedules and the verification limits', () => {
    // Act
    const policy = parseVaultPolicy(raw);

    // Assess
    expect(policy).toMatchObject({
      objectLockDays: 35,
      retention: { schedule: 'cron(30 5 * * ? *)' },
      verification: { schedule: 'rate(1 day)', freshness: '2d', copyDeadline: '1d' },
    });
  });

  it('refuses the vault as its own source, a source twice, an unquoted id, and keeping nothing', () => {
    // Act
    const found = problems({ ...raw, account: 444455556666, retention: { rules: {} } });
    const twice = problems({ ...raw, sources: [{ account: SOURCE }, { account: SOURCE }] });
    const self = problems({ ...raw, sources: [{ account: VAULT }] });

    // Assess
    expect(found).toEqual([
      "account: must be the vault account's 12-digit id, quoted",
      'retention.rules: keeps nothing: an empty retention policy would delete every snapshot; set at least one of last, hourly, daily, weekly, monthly, yearly, within or lastVerified',
    ]);
    expect(twice).toEqual([`sources[1].account: names ${SOURCE} again`]);
    expect(self).toEqual([
      'sources[0].account: is the vault account itself: a vault keeps copies from other accounts',
    ]);
  });
});

describe('the vault’s verification', () => {
  const policy: VaultPolicy = parseVaultPolicy({
    ...raw,
    verification: { freshness: '2d', copyDeadline: '1d' },
  });
  const copy = (day: number, overrides: Partial<SnapshotRecord> = {}) =>
    snapshot({
      time: nov(day),
      region: REGION,
      id: `lifeboat-${SOURCE}-orders-db-202611${String(day).padStart(2, '0')}0200`,
      kmsKeyId: KEY,
      ...overrides,
    });

  it('names a stale database, a stuck and a failed copy, and a copy under another key', () => {
    // Act
    const result = verifyVaultCopies(
      [
        copy(1),
        copy(2, { status: 'failed' }),
        copy(3, { status: 'copying' }),
        copy(4, { status: 'available', kmsKeyId: `arn:aws:kms:${REGION}:${SOURCE}:key/other` }),
      ],
      policy,
      KEY,
      nov(8),
    );

    // Assess
    expect(result.outcome).toBe('failed');
    expect(result.sources[0]?.databases[0]?.problems).toEqual([
      'the newest copy is 4d old, past the freshness of 2d: its source has stopped sending',
      `lifeboat-${SOURCE}-orders-db-202611020200 failed`,
      `lifeboat-${SOURCE}-orders-db-202611030200 is still copying, past the copy deadline of 1d`,
      `lifeboat-${SOURCE}-orders-db-202611040200 is encrypted with arn:aws:kms:${REGION}:${SOURCE}:key/other, not the vault's key`,
    ]);
  });

  it('passes a source whose newest copy is fresh', () => {
    // Act
    const result = verifyVaultCopies([copy(6), copy(7)], policy, KEY, nov(8));

    // Assess
    expect(result.outcome).toBe('passed');
    expect(result.sources[0]?.databases).toEqual([
      { kind: 'instance', database: 'orders-db', copies: 2, newest: '202611070200', problems: [] },
    ]);
  });
});

describe('the vault’s scheduled jobs', () => {
  const rds = mockClient(RDSClient);
  const s3 = mockClient(S3Client);
  const sns = mockClient(SNSClient);
  const copies = [1, 2].map((day) => ({
    DBSnapshotIdentifier: `lifeboat-${SOURCE}-orders-db-2026110${day}0200`,
    DBSnapshotArn: `arn:aws:rds:${REGION}:${VAULT}:snapshot:lifeboat-${SOURCE}-orders-db-2026110${day}0200`,
    DBInstanceIdentifier: 'orders-db',
    Status: 'available',
    Encrypted: true,
    KmsKeyId: KEY,
  }));

  beforeEach(() => {
    rds.reset();
    s3.reset();
    sns.reset();
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: copies });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
    rds.on(DeleteDBSnapshotCommand).resolves({});
    sns.on(PublishCommand).resolves({});
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-vault-'));
    writeFileSync(join(dir, 'vault-policy.json'), JSON.stringify(parseVaultPolicy(raw)));
    vi.stubEnv('LIFEBOAT_VAULT_POLICY_PATH', join(dir, 'vault-policy.json'));
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('ALERT_TOPIC_ARN', `arn:aws:sns:${REGION}:${VAULT}:alerts`);
    vi.stubEnv('VAULT_BUCKET', 'vault-bucket');
    vi.stubEnv('VAULT_KEY_ARN', KEY);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  });

  it('stores the retention plan in the vault bucket before deleting', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await import('../../vault/functions/vault-retention.js');

    // Act
    const result = await handler(
      { scheduledTime: new Date().toISOString() },
      lambdaContext('vault-retention'),
    );

    // Assess
    expect(result.failures).toEqual([]);
    const stored = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(stored).toMatchObject({ Bucket: 'vault-bucket', SSEKMSKeyId: KEY });
    expect(JSON.parse(String(stored?.Body)).sources[SOURCE]).toHaveLength(2);
    expect(rds.commandCalls(DeleteDBSnapshotCommand).map((c) => c.args[0].input)).toEqual([
      { DBSnapshotIdentifier: `lifeboat-${SOURCE}-orders-db-202611010200` },
    ]);
  });

  it('deletes nothing, and alerts, when the plan cannot be stored', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const { handler } = await import('../../vault/functions/vault-retention.js');

    // Act
    const act = handler(
      { scheduledTime: new Date().toISOString() },
      lambdaContext('vault-retention'),
    );

    // Assess
    await expect(act).rejects.toThrow('denied');
    expect(rds.commandCalls(DeleteDBSnapshotCommand)).toHaveLength(0);
    expect(String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message)).toContain(
      'AccessDenied',
    );
  });

  it('fails verification, with one alert naming the problem, when a source goes quiet', async () => {
    // Prepare: the newest copy is from 1 November; now is much later
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await import('../../vault/functions/vault-verification.js');

    // Act
    const act = handler(
      { scheduledTime: new Date().toISOString() },
      lambdaContext('vault-verification'),
    );

    // Assess
    await expect(act).rejects.toThrow();
    expect(String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message)).toContain(
      `account ${SOURCE} instance orders-db`,
    );
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key).toMatch(
      /^reports\/verification\//,
    );
  });

  it('refuses a malformed event and changes nothing', async () => {
    // Prepare
    const { handler } = await import('../../vault/functions/vault-retention.js');

    // Act
    const act = handler({ scheduledTime: 'yesterday' }, lambdaContext('vault-retention'));

    // Assess
    await expect(act).rejects.toThrow('scheduledTime');
    expect(rds.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });
});
