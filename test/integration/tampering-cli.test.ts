import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddTagsToResourceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import {
  seedCluster,
  seedInstance,
  seedKey,
  seedSecret,
  seedVault,
} from '../../local/demo/seed.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { slotOf } from '../../shared/naming/slot.js';
import { parsePolicyText } from '../../shared/policy/policy-file.js';
import { firesBetween, parseSchedule } from '../../shared/policy/schedule-expression.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { Vault } from '../../shared/vault/vault.js';
import { captureIo } from '../support/capture-io.js';
import { useLocalAws } from '../support/local-aws.js';
import { FIXTURE_POLICY_FILE } from '../support/policy.js';

// An adversary with write access to the bucket and the snapshots' tags, against the lifeboat
// command and a local AWS: every tamper is named by verify with a non-zero exit, restore refuses,
// and retention deletes no differently.

const local = useLocalAws();
const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';
let policyFile: string;
let policy: Policy;
let vault: Vault;
/** The last three times each schedule fired, oldest first. */
let snapshotSlots: Date[];
let exportSlots: Date[];

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await runCli([...argv, '--policy', policyFile], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const s3 = () => clientIn(S3Client, PRIMARY);
const manifestKey = (runId: string) => `manifests/${policy.name}/${runId}.json`;
const runOf = (prefix: string, at: Date) => `${prefix}-${slotOf(at).id}`;

async function bytesOf(key: string): Promise<Uint8Array> {
  const out = await s3().send(new GetObjectCommand({ Bucket: vault.bucket, Key: key }));
  return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
}

function lastFires(expression: string, count: number): Date[] {
  const now = Date.now();
  return firesBetween(
    parseSchedule(expression, policy.timeZone),
    new Date(now - 4 * 86_400_000),
    new Date(now),
  ).slice(-count);
}

async function snapshotsOf(region: string) {
  const out = await rdsIn(region).client.send(
    new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }),
  );
  return out.DBSnapshots ?? [];
}

beforeAll(async () => {
  const drKey = await seedKey(DR);
  const text = readFileSync(FIXTURE_POLICY_FILE, 'utf8')
    .replace(/drKmsKeyArn: .*/, `drKmsKeyArn: ${drKey}`)
    .replace(
      'rdsRequestsPerSecond: 12',
      'rdsRequestsPerSecond: 12\nsecrets:\n  schedule: cron(0 2 * * ? *)\n  namePrefixes: [prod/]',
    );
  policyFile = join(mkdtempSync(join(tmpdir(), 'lifeboat-tamper-')), 'policy.yml');
  writeFileSync(policyFile, text);
  policy = parsePolicyText(text);
  vault = await seedVault(policy, ACCOUNT);
  const rds = rdsIn(PRIMARY).client;
  await seedInstance(rds, 'orders-db');
  await seedCluster(rds, 'billing');
  await seedSecret(PRIMARY, 'prod/orders/db-password', 'tamper-test-value-1');
  snapshotSlots = lastFires(policy.snapshots.schedule, 3);
  exportSlots = lastFires(policy.secrets?.schedule ?? '', 2);
  for (const at of snapshotSlots) {
    expect((await cli('backup', 'run', '--slot', at.toISOString())).code).toBe(0);
  }
  // The pipeline, by hand: a pass each time RDS finishes something, and two more for the ends
  // of the vault shares and the settling of each slot.
  for (let tail = 0; tail < 2; ) {
    const pending = (await local.aws.clock.read()).nextInSeconds !== null;
    if (pending) await local.aws.clock.advanceToNext();
    else tail += 1;
    expect((await cli('backup', 'advance')).code).toBe(0);
  }
  for (const at of exportSlots) {
    expect((await cli('secrets', 'export', '--slot', at.toISOString())).code).toBe(0);
  }
}, 120_000);

describe('lifeboat against an adversary who can write to the bucket and tag snapshots', () => {
  it('verifies the untouched runs, with exit 0', async () => {
    // Act
    const result = await cli('verify');

    // Assess
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain(`${runOf('snapshots', snapshotSlots[2] as Date)}  PASSED`);
  });

  it('names labels rewritten on snapshots, and retention plans the same as before', async () => {
    // Prepare
    const before = JSON.parse((await cli('retention', 'plan', '--json')).out);
    const [snapshot] = await snapshotsOf(PRIMARY);
    await rdsIn(PRIMARY).client.send(
      new AddTagsToResourceCommand({
        ResourceName: snapshot?.DBSnapshotArn,
        Tags: [{ Key: 'lifeboat:slot', Value: '209901010000' }],
      }),
    );
    await rdsIn(PRIMARY).client.send(
      new RemoveTagsFromResourceCommand({
        ResourceName: snapshot?.DBSnapshotArn,
        TagKeys: ['lifeboat:managed'],
      }),
    );

    // Act
    const verified = await cli('verify');
    const after = JSON.parse((await cli('retention', 'plan', '--json')).out);

    // Assess
    expect(verified.code).toBe(1);
    expect(verified.out).toContain(
      "labels changed behind Lifeboat's back: lifeboat:managed removed (was true); lifeboat:slot is 209901010000",
    );
    const decisions = (plan: {
      decisions: { snapshotId: string; region: string; action: string }[];
    }) => plan.decisions.map((d) => `${d.region} ${d.snapshotId} ${d.action}`).sort();
    expect(decisions(after)).toEqual(decisions(before));
  });

  it('names a previous run’s record copied over a run’s, and the snapshot deleted after', async () => {
    // Prepare: the newest run's record replaced by the one before, its snapshot then deleted
    const [older, newer] = [snapshotSlots[1] as Date, snapshotSlots[2] as Date];
    await s3().send(
      new PutObjectCommand({
        Bucket: vault.bucket,
        Key: manifestKey(runOf('snapshots', newer)),
        Body: await bytesOf(manifestKey(runOf('snapshots', older))),
      }),
    );
    await rdsIn(PRIMARY).client.send(
      new DeleteDBSnapshotCommand({
        DBSnapshotIdentifier: `lifeboat-orders-db-${slotOf(newer).id}`,
      }),
    );

    // Act
    const result = await cli('verify', '--run', runOf('snapshots', newer));

    // Assess
    expect(result.code).toBe(1);
    expect(result.out).toContain(
      'overwritten: 1 later version replace the one first written (the first is what is checked)',
    );
    expect(result.out).toContain('deleted: the snapshot no longer exists');
  });

  it('names a record hidden behind a delete marker, and one copied to a new run key', async () => {
    // Prepare
    const first = snapshotSlots[0] as Date;
    await s3().send(
      new DeleteObjectCommand({
        Bucket: vault.bucket,
        Key: manifestKey(runOf('snapshots', first)),
      }),
    );
    await s3().send(
      new PutObjectCommand({
        Bucket: vault.bucket,
        Key: manifestKey('secrets-209001010000'),
        Body: await bytesOf(manifestKey(runOf('secrets', exportSlots[0] as Date))),
      }),
    );
    await s3().send(
      new PutObjectCommand({
        Bucket: vault.bucket,
        Key: `manifests/${policy.name}/README.txt`,
        Body: 'nothing to see',
      }),
    );

    // Act
    const result = await cli('verify', '--json');

    // Assess
    expect(result.code).toBe(1);
    const failures = JSON.parse(result.out).failures.map(
      (f: { subject: string; error: string }) => `${f.subject}: ${f.error}`,
    );
    expect(failures).toContain(
      `${runOf('snapshots', first)} manifest ${runOf('snapshots', first)}: hidden: a delete marker hides it`,
    );
    expect(failures).toContain(
      `stray manifests/${policy.name}/README.txt: extra: an object among the manifests that is no run’s record`,
    );
    expect(
      failures.some((f: string) =>
        f.startsWith('secrets-209001010000 manifest secrets-209001010000: replayed:'),
      ),
    ).toBe(true);
  });

  it('refuses to restore secrets from a record the previous export’s was copied over', async () => {
    // Prepare: in the DR region's copy of the vault, which a restore there reads
    const [older, newer] = [exportSlots[0] as Date, exportSlots[1] as Date];
    await clientIn(S3Client, DR).send(
      new PutObjectCommand({
        Bucket: vault.drBucket,
        Key: manifestKey(runOf('secrets', newer)),
        Body: await bytesOf(manifestKey(runOf('secrets', older))),
      }),
    );

    // Act
    const result = await cli(
      'secrets',
      'restore',
      '--run',
      runOf('secrets', newer),
      '--region',
      DR,
      '--apply',
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.err).toContain('refusing to restore from it');
    expect(result.err).toContain('overwritten');
  });

  it('exits 1, naming it, when a secret is blocked and skipped', async () => {
    // Prepare: the secret exists in the DR region, scheduled for deletion
    const sm = clientIn(SecretsManagerClient, DR);
    await sm.send(new CreateSecretCommand({ Name: 'prod/orders/db-password', SecretString: 'x' }));
    await sm.send(
      new DeleteSecretCommand({ SecretId: 'prod/orders/db-password', RecoveryWindowInDays: 7 }),
    );

    // Act
    const result = await cli(
      'secrets',
      'restore',
      '--run',
      runOf('secrets', exportSlots[0] as Date),
      '--region',
      DR,
      '--apply',
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/prod\/orders\/db-password\s+blocked\s+skipped/);
    expect(result.err).toContain('1 secret(s) not restored: prod/orders/db-password');
  });

  it('says a deleted export is missing, with exit 1, not a raw S3 error', async () => {
    // Prepare
    // the DR region's copy, which a restore there reads
    const older = exportSlots[0] as Date;
    await clientIn(S3Client, DR).send(
      new DeleteObjectCommand({
        Bucket: vault.drBucket,
        Key: `exports/${policy.name}/${slotOf(older).id}/secrets.esdk`,
      }),
    );

    // Act
    const result = await cli(
      'secrets',
      'restore',
      '--run',
      runOf('secrets', older),
      '--region',
      DR,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.err).toContain('missing: s3://');
    expect(result.err).not.toContain('NoSuchKey');
  });

  it('keeps a hold a tag placed after the tag is gone, and lifts it only by lifeboat hold release', async () => {
    // Prepare: a hold by tag, recorded by a retention run, then the tag removed
    const held = (await snapshotsOf(PRIMARY)).find((s) =>
      s.DBSnapshotIdentifier?.startsWith('lifeboat-orders-db-'),
    );
    await rdsIn(PRIMARY).client.send(
      new AddTagsToResourceCommand({
        ResourceName: held?.DBSnapshotArn,
        Tags: [{ Key: 'lifeboat:legal-hold', Value: 'case-7' }],
      }),
    );
    const applied = await cli('retention', 'apply', '--yes', '--json');
    await rdsIn(PRIMARY).client.send(
      new RemoveTagsFromResourceCommand({
        ResourceName: held?.DBSnapshotArn,
        TagKeys: ['lifeboat:legal-hold'],
      }),
    );

    // Act
    const listed = await cli('hold', 'list', '--json');
    const ambiguous = await cli(
      'hold',
      'release',
      '--snapshot',
      held?.DBSnapshotIdentifier ?? '',
      '--reason',
      'case 7 closed',
    );
    const released = await cli(
      'hold',
      'release',
      '--snapshot',
      held?.DBSnapshotArn ?? '',
      '--reason',
      'case 7 closed',
    );
    const after = await cli('hold', 'list', '--json');

    // Assess
    expect(JSON.parse(applied.out).holdsRecorded).toBe(1);
    expect(JSON.parse(listed.out).holds).toContainEqual(
      expect.objectContaining({ snapshot: held?.DBSnapshotArn, state: 'held', by: 'tag' }),
    );
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toContain(`names 2 snapshots (${PRIMARY}, ${DR}); give its ARN`);
    expect(released.code).toBe(0);
    expect(JSON.parse(after.out).holds).toContainEqual(
      expect.objectContaining({
        snapshot: held?.DBSnapshotArn,
        state: 'released',
        reason: 'case 7 closed',
      }),
    );
  });

  it('fails an export that selects no secret, saying why', async () => {
    // Prepare
    const empty = policyFile.replace(/policy\.yml$/, 'empty.yml');
    writeFileSync(empty, readFileSync(policyFile, 'utf8').replace('[prod/]', '[nothing-here/]'));

    // Act
    const io = captureIo();
    const code = await runCli(['secrets', 'export', '--policy', empty], io);

    // Assess
    expect(code).toBe(1);
    expect(io.stdout()).toContain('failed: the selection: no secret matches');
  });
});
