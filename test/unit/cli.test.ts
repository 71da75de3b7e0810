import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerateMacCommand } from '@aws-sdk/client-kms';
import {
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { rdsIn } from '../../shared/aws/clients.js';
import { slotOf } from '../../shared/naming/slot.js';
import { captureIo } from '../support/capture-io.js';
import { FIXTURE_POLICY_FILE } from '../support/policy.js';
import {
  cluster,
  emptyRegion,
  instance,
  type RegionState,
  simulateRegion,
} from '../support/rds-world.js';
import { simulateAccount, simulateKms, simulateS3 } from '../support/vault-world.js';

const POLICY = ['--policy', FIXTURE_POLICY_FILE];

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

function tempFile(name: string, text: string): string {
  const path = join(tmpdir(), `lifeboat-${process.pid}-${name}`);
  writeFileSync(path, text);
  return path;
}

describe('lifeboat validate', () => {
  it('accepts a good policy with exit 0 and a summary', async () => {
    // Act
    const result = await cli('validate', ...POLICY);

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain('policy test-policy is valid');
    expect(result.out).toContain('eu-central-1 (primary) -> eu-west-1 (DR)');
  });

  it('rejects a bad policy with exit 2, naming every bad field', async () => {
    // Prepare
    const bad = tempFile('bad.yml', 'version: 2\nname: x\n');

    // Act
    const result = await cli('validate', '--policy', bad);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('version: must be 1');
    expect(result.err).toContain('name: must be 2-32 lowercase letters');
    expect(result.err).toContain('retention: is required');
  });

  it('prints the problems as JSON with --json', async () => {
    // Prepare
    const bad = tempFile('bad.json.yml', 'version: 2\n');

    // Act
    const result = await cli('validate', '--policy', bad, '--json');

    // Assess
    expect(result.code).toBe(2);
    const parsed = JSON.parse(result.out);
    expect(parsed.valid).toBe(false);
    expect(parsed.issues).toContainEqual({ path: 'version', message: 'must be 1' });
  });

  it('uses LIFEBOAT_POLICY when no --policy is given', async () => {
    // Prepare
    process.env.LIFEBOAT_POLICY = FIXTURE_POLICY_FILE;

    // Act
    const result = await cli('validate', '--json');

    // Assess
    delete process.env.LIFEBOAT_POLICY;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).policy.name).toBe('test-policy');
  });
});

describe('lifeboat usage', () => {
  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['validate', '--polcy', 'x'], "unknown option '--polcy'"],
    [['retention', 'plan', '--now'], "option '--now <time>' argument missing"],
  ])('exits 2 on %j', async (argv, message) => {
    // Act
    const result = await cli(...argv);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it.each([
    [['--help']],
    [['retention', 'plan', '--help']],
    [['backup', 'run', '--help']],
    [['demo', '--help']],
  ])('prints help for %j with exit 0', async (argv) => {
    // Act
    const result = await cli(...argv);

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain('Usage: lifeboat');
  });

  it.each([
    [['secrets', 'restore'], "required option '--run <id>' not specified"],
    [
      ['secrets', 'restore', '--run', 'snapshots-202611210200'],
      '--run snapshots-202611210200: give a secrets export run id',
    ],
    [
      ['secrets', 'restore', '--run', 'secrets-202611210200', '--region', 'us-east-1'],
      "--region us-east-1: the policy's regions are eu-central-1 (primary) and eu-west-1 (DR)",
    ],
    [
      ['secrets', 'restore', '--run', 'secrets-202611210200', '--source-account', '123456789012'],
      '--source-account: only with --vault-profile',
    ],
    [
      ['secrets', 'restore', '--run', 'secrets-202611210200', '--vault-profile', 'vault'],
      "--vault-profile vault: the policy's vault section names no bucket (vault.bucket)",
    ],
    [
      [
        'secrets',
        'restore',
        '--run',
        'secrets-202611210200',
        '--vault-profile',
        'vault',
        '--source-account',
        'prod',
      ],
      '--source-account prod: must be a 12-digit AWS account id',
    ],
    [['verify', '--run', 'yesterday'], '--run yesterday: not a run id'],
    [['secrets', 'export'], 'the policy has no secrets section: nothing to export'],
  ])('rejects %j with exit 2 before touching AWS', async (argv, message) => {
    // Act
    const result = await cli(...argv, ...POLICY);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it.each([[[]], [['backup']], [['drill']], [['failover']]])(
    'prints help and exits 2 when %j names no command to run',
    async (argv) => {
      // Act
      const result = await cli(...argv);

      // Assess
      expect(result.code).toBe(2);
      expect(result.err).toContain('Usage: lifeboat');
    },
  );

  it('prints its version', async () => {
    // Act
    const result = await cli('--version');

    // Assess
    expect(result).toEqual({ code: 0, out: '0.1.0\n', err: '' });
  });

  it('marks the options a command cannot run without', async () => {
    // Act
    const result = await cli('failover', 'plan', '--help');

    // Assess
    expect(result.out).toMatch(/--target <database>\s+\(required\) a database/);
    expect(result.out).toMatch(/--planned\s+a planned failover/);
  });

  it('refuses a demo of zero days', async () => {
    // Act
    const result = await cli('demo', '--days', '0');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('--days 0: must be a whole number from 1 to 400');
  });
});

describe('lifeboat retention plan', () => {
  it('plans on an inventory file and explains every decision', async () => {
    // Act
    const result = await cli(
      'retention',
      'plan',
      ...POLICY,
      '--inventory',
      'test/fixtures/inventory.json',
      '--now',
      '2026-11-21T04:30:00Z',
    );

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain('keep 6, delete 1');
    const row = (id: string, region: string) =>
      result.out.split('\n').find((l) => l.includes(id) && l.startsWith(region)) ?? '';
    expect(row('lifeboat-orders-db-202611190200', 'eu-central-1')).toContain(
      'DELETE  no rule keeps it',
    );
    expect(row('lifeboat-orders-db-202611190900', 'eu-central-1')).toContain(
      'KEEP    last 2; daily 7: 2026-11-19',
    );
    expect(row('before-upgrade', 'eu-central-1')).toContain('not created by Lifeboat');
    expect(row('lifeboat-orders-db-202611200200', 'eu-west-1')).toContain(
      'still being copied (copying)',
    );
    // A target with no snapshot at all is named, not planned as "keep 0".
    expect(result.out).toContain(
      'aurora-cluster billing: no snapshot of it in either region, so nothing to keep or delete (is the identifier right?)',
    );
  });

  it('prints the plan as JSON', async () => {
    // Act
    const result = await cli(
      'retention',
      'plan',
      ...POLICY,
      '--inventory',
      'test/fixtures/inventory.json',
      '--now',
      '2026-11-21T04:30:00Z',
      '--json',
    );

    // Assess
    const plan = JSON.parse(result.out);
    expect(plan).toMatchObject({
      keep: 6,
      delete: 1,
      targetsWithoutSnapshots: ['aurora-cluster billing'],
    });
    expect(plan.decisions.filter((d: { action: string }) => d.action === 'delete')).toEqual([
      expect.objectContaining({
        region: 'eu-central-1',
        snapshotId: 'lifeboat-orders-db-202611190200',
      }),
    ]);
  });

  it('rejects a malformed inventory, naming the entry and field', async () => {
    // Prepare
    const bad = tempFile(
      'inventory.json',
      JSON.stringify({
        snapshots: [{ id: 'a', region: 'eu-central-1', kind: 'volume', target: 'x', time: 'soon' }],
      }),
    );

    // Act
    const result = await cli('retention', 'plan', ...POLICY, '--inventory', bad);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('snapshots[0].kind: must be instance or cluster');
    expect(result.err).toContain('snapshots[0].time: must be an ISO-8601 date-time');
  });

  it('rejects a --now that is not a time', async () => {
    // Act
    const result = await cli(
      'retention',
      'plan',
      ...POLICY,
      '--inventory',
      'test/fixtures/inventory.json',
      '--now',
      'tomorrow',
    );

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('--now tomorrow: not a date-time');
  });
});

describe('lifeboat commands against an account', () => {
  let primary: RegionState;
  let primaryRds: ReturnType<typeof simulateRegion>;
  let drRds: ReturnType<typeof simulateRegion>;

  beforeEach(() => {
    primary = emptyRegion();
    primary.instances.push(
      instance('orders-db', 'eu-central-1'),
      instance('tagged-db', 'eu-central-1', [{ Key: 'backup', Value: 'lifeboat' }]),
    );
    primary.clusters.push(cluster('billing', 'eu-central-1'));
    primaryRds = simulateRegion(rdsIn('eu-central-1').client, 'eu-central-1', primary);
    drRds = simulateRegion(rdsIn('eu-west-1').client, 'eu-west-1', emptyRegion());
    simulateS3();
    simulateKms();
    simulateAccount();
  });

  it('backup run snapshots every target and exits 0', async () => {
    // Prepare: a slot an hour ago, well within the policy's lookback
    const slot = slotOf(new Date(Date.now() - 3_600_000));

    // Act
    const result = await cli('backup', 'run', ...POLICY, '--slot', slot.time.toISOString());

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain(`lifeboat-orders-db-${slot.id}  created`);
    expect(primary.snapshots).toHaveLength(2);
    expect(primary.clusterSnapshots).toHaveLength(1);
  });

  it('backup run exits 1 and names the target when one fails', async () => {
    // Prepare
    primary.clusters.splice(0, 1);
    primaryRds.on(CreateDBSnapshotCommand, { DBInstanceIdentifier: 'tagged-db' }).rejects(
      new RDSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message: 'denied',
      }),
    );

    // Act
    const result = await cli('backup', 'run', ...POLICY, '--json');

    // Assess
    expect(result.code).toBe(1);
    const failures = JSON.parse(result.out).failures.map((f: { subject: string }) => f.subject);
    expect(failures).toEqual(['cluster billing', 'instance tagged-db']);
  });

  it.each([
    ['not a time', 'now-ish', 'not a date-time'],
    [
      'older than the lookback',
      '1970-01-01T00:00:00Z',
      "is older than the policy's verification lookback (7d)",
    ],
    ['in the future', '2999-01-01T00:00:00Z', 'is in the future'],
  ])('backup run rejects a slot %s before touching the account', async (_, slot, reason) => {
    // Act
    const result = await cli('backup', 'run', ...POLICY, '--slot', slot);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain(`--slot ${slot}: ${reason}`);
    expect(primaryRds.calls()).toHaveLength(0);
  });

  it('retention apply refuses without --yes and deletes nothing', async () => {
    // Act
    const result = await cli('retention', 'apply', ...POLICY);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('confirm with --yes');
    expect(primaryRds.calls()).toHaveLength(0);
    expect(drRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('retention apply exits 1, deletes nothing and says why when it cannot record first', async () => {
    // Prepare: the role may not sign (kms:GenerateMac denied)
    simulateKms()
      .on(GenerateMacCommand)
      .rejects(new Error('AccessDeniedException: not authorized to perform kms:GenerateMac'));

    // Act
    const result = await cli('retention', 'apply', ...POLICY, '--yes');

    // Assess
    expect(result.code).toBe(1);
    expect(result.out).toContain(
      'nothing was deleted, since the deletions could not be recorded first',
    );
    expect(drRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    expect(primaryRds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('exits 3 with the reason when the account cannot be read', async () => {
    // Prepare
    primaryRds.onAnyCommand().rejects(new Error('connect ECONNREFUSED 127.0.0.1:9'));

    // Act
    const result = await cli('retention', 'plan', ...POLICY);

    // Assess
    expect(result.code).toBe(3);
    expect(result.err).toBe(
      'lifeboat: cannot reach the AWS endpoint http://127.0.0.1:9 (ECONNREFUSED): check the network, AWS_REGION and AWS_ENDPOINT_URL\n',
    );
  });
});
