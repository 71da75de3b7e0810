import { performance } from 'node:perf_hooks';
import { KMS, KMSClient } from '@aws-sdk/client-kms';
import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { seedInstance, seedKey, seedSecret, seedVault } from '../local/demo/seed.js';
import { clientIn, rdsIn } from '../shared/aws/clients.js';
import { RateLimiter } from '../shared/aws/rate-limiter.js';
import { newManifest } from '../shared/manifest/manifest.js';
import { runRecorder } from '../shared/manifest/run-recorder.js';
import { slotOf } from '../shared/naming/slot.js';
import { TAG } from '../shared/naming/tags.js';
import { silentLog } from '../shared/observability/job-log.js';
import { parsePolicyText } from '../shared/policy/policy-file.js';
import type { Policy } from '../shared/policy/schema.js';
import { runRetentionJob } from '../shared/retention/retention-job.js';
import { runExportJob } from '../shared/secrets/export-job.js';
import { deepExportCheck } from '../shared/verification/deep-export-check.js';
import { runVerificationJob } from '../shared/verification/verification-job.js';
import { benchAws, countCalls, verdict } from './measure.js';

const PRIMARY = 'eu-central-1';
const DR = 'eu-west-1';
const SECRETS = 1_000;
const EXPORT_RUNS = 100;
const DATABASES = 50;
const SNAPSHOT_RUNS = 9;

function benchPolicy(drKey: string): Policy {
  return parsePolicyText(
    `version: 1
name: bench
timeZone: UTC
regions: { primary: ${PRIMARY}, dr: ${DR} }
targets: [{ kind: rds-instance, tags: { bench: "yes" } }]
snapshots: { schedule: cron(0 3 * * ? *), drKmsKeyArn: ${drKey}, quotas: { instanceSnapshots: 5000 } }
retention: { schedule: cron(0 4 * * ? *), primary: { daily: 7 }, dr: { daily: 7 } }
secrets: { schedule: cron(0 2 * * ? *), namePrefixes: [bench/] }
verification: { lookback: 1y }
`,
    'bench policy',
  );
}

/**
 * Against a local AWS: an export of 1,000 secrets (calls and time), then verification of 1,000
 * artifacts (100 exports, 450 snapshots, 450 DR copies) in default and deep mode.
 */
export async function benchSecretsAndVerification(): Promise<string[]> {
  const aws = await benchAws();
  try {
    const policy = benchPolicy(await seedKey(DR));
    const vault = await seedVault(policy, '123456789012');
    const s3 = clientIn(S3Client, PRIMARY);
    const recorder = runRecorder({
      s3,
      kms: clientIn(KMSClient, PRIMARY),
      vault,
      account: '123456789012',
    });
    const calls = countCalls([
      clientIn(SecretsManagerClient, PRIMARY),
      s3,
      clientIn(KMSClient, PRIMARY),
      clientIn(KMSClient, DR),
      clientIn(KMS, PRIMARY),
      clientIn(KMS, DR),
      clientIn(RDSClient, PRIMARY),
      clientIn(RDSClient, DR),
    ]);

    for (let i = 0; i < SECRETS; i += 1) {
      await seedSecret(
        PRIMARY,
        `bench/app-${String(i).padStart(4, '0')}`,
        `value-${i}-${'x'.repeat(40)}`,
      );
    }
    const exportDeps = {
      sm: clientIn(SecretsManagerClient, PRIMARY),
      s3,
      vault,
      recorder,
      log: silentLog,
    };
    calls.reset();
    const start = performance.now();
    const big = await runExportJob(exportDeps, policy, slotOf(new Date(Date.UTC(2026, 0, 1, 2))));
    const exportMs = performance.now() - start;
    const lines = [
      `Export of ${big.exported.toLocaleString('en')} secrets (local AWS), ${(big.export?.size ?? 0).toLocaleString('en')} bytes encrypted`,
      `  wall time             ${exportMs.toFixed(0)} ms`,
      `  BatchGetSecretValue   ${verdict(calls.get('BatchGetSecretValueCommand'), 50, '', 0)}`,
      `  GenerateDataKey       ${verdict(calls.get('GenerateDataKeyCommand'), 1, '', 0)} (plus ${calls.get('EncryptCommand')} Encrypt for the DR key)`,
      `  PutObject (export)    ${verdict(calls.get('PutObjectCommand') - 1, 1, '', 0)} (plus 1 for the manifest)`,
      `  ListSecrets           ${calls.get('ListSecretsCommand')}`,
      '',
    ];

    // 100 more exports (10 secrets each), and 450 snapshots with their DR copies in 9 runs.
    const small = {
      ...policy,
      secrets: {
        schedule: 'cron(0 2 * * ? *)',
        namePrefixes: ['bench/app-000'],
        allowEmpty: false,
      },
    };
    for (let run = 0; run < EXPORT_RUNS; run += 1) {
      await runExportJob(exportDeps, small, slotOf(new Date(Date.UTC(2026, 0, 2, 0, run))));
    }
    const runIds = await recordSnapshotRuns(policy, recorder);
    const allRuns = [
      ...runIds,
      ...Array.from(
        { length: EXPORT_RUNS },
        (_, run) => `secrets-${slotOf(new Date(Date.UTC(2026, 0, 2, 0, run))).id}`,
      ),
    ];

    const verify = (deep: boolean) =>
      runVerificationJob(
        {
          s3,
          kms: clientIn(KMSClient, PRIMARY),
          site: 'primary',
          primary: rdsIn(PRIMARY),
          dr: rdsIn(DR),
          vault,
          limiter: new RateLimiter({ perSecond: 10_000, burst: 10_000 }),
          log: silentLog,
          ...(deep ? { deep: deepExportCheck(s3, vault.dataKeys.primary) } : {}),
        },
        policy,
        new Date(Date.UTC(2026, 0, 20)),
        { runIds: allRuns },
      );
    await verify(false); // tags what passes, so the timed runs compare like with like
    calls.reset();
    let t = performance.now();
    const plain = await verify(false);
    const plainMs = performance.now() - t;
    const plainCalls = {
      get: calls.get('GetObjectCommand:exports'),
      records: calls.get('GetObjectCommand:manifests'),
      head: calls.get('HeadObjectCommand'),
      describe:
        calls.get('DescribeDBSnapshotsCommand') + calls.get('DescribeDBClusterSnapshotsCommand'),
    };
    t = performance.now();
    const deep = await verify(true);
    const deepMs = performance.now() - t;
    const artifacts = plain.runs.reduce(
      (n, r) =>
        n + r.checks.filter((c) => ['snapshot', 'dr-copy', 'export'].includes(c.kind)).length,
      0,
    );
    const snapshots = artifacts - EXPORT_RUNS;
    return [
      ...lines,
      `Verification of ${artifacts.toLocaleString('en')} artifacts in ${plain.runs.length} runs (${EXPORT_RUNS} exports, ${snapshots} snapshots and copies)`,
      `  GetObject of artifacts ${verdict(plainCalls.get, 0, '', 0)} (${plainCalls.records} more read the records of the ${plain.runs.length} runs and the chain's anchor)`,
      `  HeadObject            ${verdict(plainCalls.head / EXPORT_RUNS, 1, ' per S3 artifact', 2)}`,
      `  describe calls        ${plainCalls.describe} for ${snapshots} snapshots: ${verdict((plainCalls.describe / snapshots) * 100, 1, ' per 100', 2)}`,
      `  default               ${plainMs.toFixed(0)} ms, ${plain.failures.length} failures`,
      `  --deep                ${deepMs.toFixed(0)} ms, ${deep.failures.length} failures (downloads and decrypts ${EXPORT_RUNS} exports)`,
      `  deep / default        ${(deepMs / plainMs).toFixed(2)}x`,
      '',
      ...(await benchRetention(policy, recorder, calls)),
    ];
  } finally {
    await aws.stop();
  }
}

/**
 * Retention over the snapshot runs' 900 snapshots and copies, attributed from their signed
 * records: the reads it makes to know what is Lifeboat's, and its time.
 */
async function benchRetention(
  policy: Policy,
  recorder: ReturnType<typeof runRecorder>,
  calls: ReturnType<typeof countCalls>,
): Promise<string[]> {
  calls.reset();
  const start = performance.now();
  const result = await runRetentionJob(
    {
      primary: rdsIn(PRIMARY),
      dr: rdsIn(DR),
      limiter: new RateLimiter({ perSecond: 10_000, burst: 10_000 }),
      recorder,
      log: silentLog,
    },
    policy,
    new Date(Date.UTC(2026, 0, 20, 4)),
  );
  const ms = performance.now() - start;
  return [
    `Retention of ${result.plan.keep + result.plan.delete} snapshots and copies from ${SNAPSHOT_RUNS} runs' signed records`,
    `  records read          ${calls.get('GetObjectCommand:manifests')} (each run's revisions), ${calls.get('VerifyMacCommand')} MACs checked`,
    `  listings              ${calls.get('ListObjectVersionsCommand')} ListObjectVersions, ${calls.get('DescribeDBSnapshotsCommand') + calls.get('DescribeDBClusterSnapshotsCommand')} describe calls`,
    `  deletions             ${result.deletions.length}, recorded first in ${result.runId} (${result.manifest})`,
    `  wall time             ${ms.toFixed(0)} ms`,
  ];
}

/** Snapshot runs as snapshot-rds records them: 50 databases, one snapshot and one copy each. */
async function recordSnapshotRuns(
  policy: Policy,
  recorder: ReturnType<typeof runRecorder>,
): Promise<string[]> {
  const primary = rdsIn(PRIMARY).client;
  const dr = rdsIn(DR).client;
  for (let d = 0; d < DATABASES; d += 1) await seedInstance(primary, `db-${d}`, { bench: 'yes' });
  const runIds: string[] = [];
  for (let run = 0; run < SNAPSHOT_RUNS; run += 1) {
    const slot = slotOf(new Date(Date.UTC(2026, 0, 10 + run, 3)));
    const snapshots = [];
    const copies = [];
    for (let d = 0; d < DATABASES; d += 1) {
      const id = `lifeboat-db-${d}-${slot.id}`;
      const tags = [
        { Key: TAG.managed, Value: 'true' },
        { Key: TAG.policy, Value: policy.name },
        { Key: TAG.slot, Value: slot.id },
        { Key: TAG.target, Value: `db-${d}` },
      ];
      const made = await primary.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: `db-${d}`,
          DBSnapshotIdentifier: id,
          Tags: [
            ...tags,
            { Key: TAG.source, Value: `arn:aws:rds:${PRIMARY}:123456789012:db:db-${d}` },
          ],
        }),
      );
      const arn = made.DBSnapshot?.DBSnapshotArn ?? '';
      const copy = await dr.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: arn,
          TargetDBSnapshotIdentifier: id,
          KmsKeyId: policy.snapshots.drKmsKeyArn,
          Tags: [...tags, { Key: TAG.source, Value: arn }],
        }),
      );
      snapshots.push({
        arn,
        region: PRIMARY,
        kind: 'instance' as const,
        target: `db-${d}`,
        slot: slot.id,
        engine: 'postgres',
        encrypted: made.DBSnapshot?.Encrypted === true,
        kmsKeyId: made.DBSnapshot?.KmsKeyId ?? null,
        createdAt: slot.time.toISOString(),
      });
      copies.push({
        arn: copy.DBSnapshot?.DBSnapshotArn ?? '',
        sourceArn: arn,
        region: DR,
        kind: 'instance' as const,
        target: `db-${d}`,
        slot: slot.id,
        kmsKeyId: copy.DBSnapshot?.KmsKeyId ?? null,
        status: copy.DBSnapshot?.Status ?? 'copying',
      });
    }
    await recorder.record(
      newManifest('snapshot-rds', slot, policy, recorder.account, { snapshots, drCopies: copies }),
    );
    runIds.push(`snapshots-${slot.id}`);
  }
  return runIds;
}
