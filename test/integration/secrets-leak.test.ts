import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../cli/main.js';
import { seedKey, seedSecret, seedTopic, seedVault } from '../../local/demo/seed.js';
import { clientIn } from '../../shared/aws/clients.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { Vault } from '../../shared/vault/vault.js';
import { captureIo } from '../support/capture-io.js';
import { lambdaContext } from '../support/lambda-context.js';
import { useLocalAws } from '../support/local-aws.js';
import { fixturePolicy, packagedPolicyFile } from '../support/policy.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const ACCOUNT = '123456789012';

// Distinctive values that appear nowhere but in the secrets themselves.
const canary = () => `canary-${randomBytes(12).toString('hex')}`;
const STRINGS = [canary(), canary(), canary()];
const BINARY = Buffer.concat([
  Buffer.from([0, 1, 2]),
  Buffer.from(canary()),
  Buffer.from([254, 255]),
]);

useLocalAws();

let policy: Policy;
let vault: Vault;
let policyFile: string;
const written: string[] = [];
const tmpBefore = new Set<string>();

function listTree(dir: string, out: string[] = []): string[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    try {
      if (statSync(path).isDirectory()) listTree(path, out);
      else out.push(path);
    } catch {
      // Removed meanwhile by another test.
    }
  }
  return out;
}

beforeAll(async () => {
  for (const path of listTree(tmpdir())) tmpBefore.add(path);
  const drKey = await seedKey(DR);
  const base = fixturePolicy();
  policy = {
    ...base,
    targets: [{ kind: 'rds-instance', tags: { none: 'none' } }],
    snapshots: { ...base.snapshots, drKmsKeyArn: drKey },
    secrets: { schedule: 'cron(0 2 * * ? *)', namePrefixes: ['prod/'], allowEmpty: false },
  };
  vault = await seedVault(policy, ACCOUNT);
  await seedSecret(PRIMARY, 'prod/a', STRINGS[0] as string);
  await seedSecret(PRIMARY, 'prod/b', JSON.stringify({ password: STRINGS[1] }));
  await seedSecret(PRIMARY, 'prod/c', BINARY);
  await seedSecret(PRIMARY, 'prod/d', STRINGS[2] as string);
  policyFile = join(tmpdir(), `lifeboat-leak-${process.pid}.yml`);
  writeFileSync(policyFile, stringify(policy));

  // Everything the process writes, Powertools' structured logs included: kept here, not shown.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write);
  }
});

afterAll(() => {
  vi.restoreAllMocks();
});

async function everyObjectVersion(): Promise<Buffer[]> {
  const s3 = clientIn(S3Client, PRIMARY);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: vault.bucket }));
  const bodies: Buffer[] = [];
  for (const v of versions.Versions ?? []) {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: vault.bucket, Key: v.Key, VersionId: v.VersionId }),
    );
    bodies.push(Buffer.from((await out.Body?.transformToByteArray()) ?? []));
  }
  return bodies;
}

/** Every reading of bytes in which a value could hide: raw, as text, and base64-decoded. */
function readings(bytes: Buffer): Buffer[] {
  const text = bytes.toString('utf8');
  const decoded = (text.match(/[A-Za-z0-9+/=]{16,}/g) ?? []).map((b64) =>
    Buffer.from(b64, 'base64'),
  );
  return [bytes, ...decoded];
}

function leaks(bytes: Buffer): string[] {
  const found: string[] = [];
  for (const reading of readings(bytes)) {
    for (const value of STRINGS) if (reading.includes(value)) found.push(value);
    if (reading.includes(BINARY.subarray(3, BINARY.length - 2))) found.push('binary canary');
  }
  return found;
}

describe('no secret value outside process memory', () => {
  it('appears in no log, object, manifest, CLI output or temp file of a whole cycle', async () => {
    // Act: the Lambda faces at DEBUG level, then the CLI
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('LIFEBOAT_POLICY_PATH', packagedPolicyFile(policy));
    vi.stubEnv('ALERT_TOPIC_ARN', await seedTopic(PRIMARY));
    vi.stubEnv('BACKUP_BUCKET', vault.bucket);
    vi.stubEnv('DR_BACKUP_BUCKET', vault.drBucket ?? '');
    vi.stubEnv('DATA_KEY_ARN', vault.dataKeys.primary);
    vi.stubEnv('DR_DATA_KEY_ARN', vault.dataKeys.dr);
    vi.stubEnv('MANIFEST_KEY_ARN', vault.manifestKeys.primary);
    vi.stubEnv('DR_MANIFEST_KEY_ARN', vault.manifestKeys.dr);
    const exporter = await import('../../functions/export-secrets.js');
    const verifier = await import('../../functions/verify-manifest.js');
    const now = new Date().toISOString();
    const exported = await exporter.handler({ scheduledTime: now }, lambdaContext());
    await verifier.handler({ scheduledTime: now }, lambdaContext());

    const outputs: string[] = [];
    const cli = async (...argv: string[]) => {
      const io = captureIo();
      const code = await runCli([...argv, '--policy', policyFile], io);
      outputs.push(io.stdout(), io.stderr());
      return code;
    };
    const codes = [
      await cli('verify', '--deep', '--region', DR, '--json'),
      await cli('verify', '--deep'),
      await cli('secrets', 'restore', '--run', exported.runId, '--region', DR),
      await cli('secrets', 'restore', '--run', exported.runId, '--region', DR, '--apply', '--json'),
      await cli('secrets', 'restore', '--run', exported.runId, '--region', DR, '--json'),
      await cli('secrets', 'export', '--json'),
    ];
    vi.unstubAllEnvs();

    // Assess: the cycle really ran
    expect(exported.exported).toBe(4);
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(outputs.join('')).toContain('prod/c');
    expect(written.join('')).toContain('"service":"export-secrets"');

    // Assess: no value anywhere
    const objects = await everyObjectVersion();
    expect(objects.length).toBeGreaterThanOrEqual(4);
    const newTempFiles = listTree(tmpdir()).filter((p) => !tmpBefore.has(p));
    const places: [string, Buffer][] = [
      ['process output', Buffer.from(written.join(''))],
      ['CLI output', Buffer.from(outputs.join(''))],
      ...objects.map((body, i) => [`S3 object version ${i}`, body] as [string, Buffer]),
      ...newTempFiles.flatMap((path): [string, Buffer][] => {
        try {
          return [[path, readFileSync(path)]];
        } catch {
          return [];
        }
      }),
    ];
    const found = places.flatMap(([where, bytes]) =>
      leaks(bytes).map((value) => `${value} in ${where}`),
    );
    expect(found).toEqual([]);
  });

  it('would notice a value if one leaked (the scan itself works)', () => {
    // Act
    const plain = leaks(Buffer.from(`log line ${STRINGS[0]}`));
    const encoded = leaks(
      Buffer.from(`{"v":"${Buffer.from(`xx${STRINGS[1]}yy`).toString('base64')}"}`),
    );
    const binary = leaks(BINARY);

    // Assess
    expect(plain).toEqual([STRINGS[0]]);
    expect(encoded).toEqual([STRINGS[1]]);
    expect(binary).toContain('binary canary');
  });
});
