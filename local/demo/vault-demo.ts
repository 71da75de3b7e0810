import { KMS } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { HeadObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { rdsLimiter } from '../../shared/aws/rate-limiter.js';
import { planDrill } from '../../shared/drills/drill-plan.js';
import { silentLog } from '../../shared/observability/job-log.js';
import type { Policy } from '../../shared/policy/schema.js';
import { parseVaultPolicy } from '../../shared/policy/vault-policy.js';
import { listManualSnapshots } from '../../shared/rds/snapshots.js';
import { duration } from '../../shared/reports/report-text.js';
import { prepareRestore } from '../../shared/secrets/restore.js';
import { vaultAccountOf } from '../../shared/vault-account/vault-account.js';
import { runVaultRetention } from '../../shared/vault-account/vault-retention.js';
import { runVaultVerification } from '../../shared/vault-account/vault-verification.js';
import { line, table } from '../../terminal/output.js';
import type { PgEndpoint } from '../postgres/local-postgres.js';
import { type RecoveryDemoContext, runDemoDrill } from './recovery-demo.js';
import { seedBucket, seedCredentials } from './recovery-seed.js';
import { clientAs, seedDbNetwork, seedTopic } from './seed.js';

/**
 * The vault bucket: what production's runs wrote there, locked; and a secret lost in production
 * restored from the vault's copy of the newest export (values stay in memory).
 */
async function vaultBucketDemo(
  ctx: RecoveryDemoContext,
  vault: NonNullable<Policy['vault']>,
  region: string,
): Promise<void> {
  const { io, account, policy } = ctx;
  const bucket = vault.bucket as string;
  const s3 = await clientAs(vault.roleArn, S3Client, region);
  const prefix = `sources/${account}/`;
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: bucket, Prefix: prefix },
  )) {
    for (const o of page.Contents ?? []) keys.push((o.Key ?? '').slice(prefix.length));
  }
  const byFolder = new Map<string, number>();
  for (const k of keys)
    byFolder.set(k.split('/')[0] ?? '', (byFolder.get(k.split('/')[0] ?? '') ?? 0) + 1);
  const first = keys[0]
    ? await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${keys[0]}` }))
    : undefined;
  line(
    io.out,
    `The vault bucket ${bucket} holds, below ${prefix}: ${[...byFolder].map(([f, n]) => `${n} ${f}`).join(', ')}; each locked in ${first?.ObjectLockMode ?? 'no'} mode until ${first?.ObjectLockRetainUntilDate?.toISOString().slice(0, 10) ?? '-'}.`,
  );
  const [run] = (await ctx.recorder.readRuns(policy.name, 'export-secrets', () => true)).slice(-1);
  if (!run) return;
  // Production's keys and buckets are what an attacker there reaches: a secret deleted in the
  // primary region is restored from the vault's copy, opened with the vault's key alone.
  const lost = 'prod/reports/tls-key';
  const sm = clientIn(SecretsManagerClient, policy.regions.primary);
  await sm.send(new DeleteSecretCommand({ SecretId: lost, ForceDeleteWithoutRecovery: true }));
  const prepared = await prepareRestore(
    {
      sm,
      site: 'primary',
      from: {
        vaultAccount: {
          s3,
          bucket,
          root: prefix,
          keyArn: vault.kmsKeyArn,
          kms: await clientAs(vault.roleArn, KMS, region),
        },
      },
    },
    policy,
    run.runId,
  );
  const outcomes = await prepared.apply();
  line(
    io.out,
    `${lost} is deleted in ${policy.regions.primary}; restored from the vault's copy of ${run.runId} (lifeboat secrets restore --vault-profile), its record as first written there, its export opened with the vault's key:`,
  );
  line(
    io.out,
    table(
      ['SECRET', 'ACTION', 'RESULT'],
      outcomes.map((o) => [o.name, o.action, [o.result, o.error].filter(Boolean).join(': ')]),
    ),
  );
}

/** The demo's vault account: a second account of the local AWS. */
export const DEMO_VAULT_ACCOUNT = '444455556666';

/**
 * The isolated vault account: what the month's snapshot runs sent it, seen as the vault; its own
 * verification and retention plan, grouped by source account; and a drill of its copy of
 * orders-db, shared back to production for the drill and restored in the DR region.
 */
export async function vaultDemo(
  ctx: RecoveryDemoContext,
  production: PgEndpoint | undefined,
  now: Date,
): Promise<void> {
  const { policy, io, account } = ctx;
  const vault = policy.vault as NonNullable<Policy['vault']>;
  const region = vault.region ?? policy.regions.dr;
  const asVault = { region, client: await clientAs(vault.roleArn, RDSClient, region) };
  const copies = await listManualSnapshots(asVault);
  const own = await listManualSnapshots(rdsIn(region));
  line(
    io.out,
    `The vault account holds ${copies.length} copies under its own key; production's ${region} lists none of them (${own.length} snapshots of its own).`,
  );

  // The vault's own policy, as its stack would run it: this account is its one source.
  const vaultPolicy = parseVaultPolicy({
    version: 1,
    name: 'demo-vault',
    account: vault.account,
    region,
    timeZone: policy.timeZone,
    sources: [{ account, label: 'demo production' }],
    retention: { rules: { daily: 7, weekly: 4, monthly: 12, minimumAge: '7d' } },
  });
  const { verification } = await runVaultVerification(asVault, vaultPolicy, vault.kmsKeyArn, now);
  for (const source of verification.sources) {
    line(io.out, `Vault verification, account ${source.account} (${source.label}):`);
    line(
      io.out,
      table(
        ['DATABASE', 'COPIES', 'NEWEST', 'PROBLEMS'],
        source.databases.map((d) => [
          `${d.kind} ${d.database}`,
          String(d.copies),
          d.newest ?? '-',
          d.problems.join('; ') || 'none',
        ]),
      ),
    );
  }
  line(io.out, `  outcome: ${verification.outcome}`);
  const retention = await runVaultRetention(
    { rds: asVault, limiter: rdsLimiter(12), log: silentLog },
    vaultPolicy,
    now,
    { apply: false },
  );
  line(
    io.out,
    `Vault retention (its own rules, daily 7, weekly 4, monthly 12): keeps ${retention.plan.keep}, would delete ${retention.plan.delete}; production's roles can delete none of them.`,
  );
  if (vault.bucket) await vaultBucketDemo(ctx, vault, region);
  line(io.out);

  if (!production) {
    line(io.out, 'No production data to drill against (the first drill did not run).');
    return;
  }
  // Drills at site vault run from the stack in the vault's region: its network, secret, topic.
  const drillPolicy: Policy = {
    ...policy,
    drills: { ...(policy.drills as NonNullable<Policy['drills']>), site: 'vault' },
  };
  await seedDbNetwork(region, 'demo-private');
  await seedCredentials(region, 'demo/orders-db/master', ctx.postgres);
  const topic = await seedTopic(region, 'lifeboat-demo-alerts');
  const bucket = ctx.vault.drBucket ?? ctx.vault.bucket;
  await seedBucket(region, bucket).catch(() => undefined);
  const preview = await planDrill(
    {
      rds: rdsIn(region),
      alertTopicArn: topic,
      vault: {
        account: vaultAccountOf(vault, region, 'lifeboat-demo'),
        ownAccount: async () => account,
      },
    },
    drillPolicy,
    { target: 'orders-db' },
    now,
  );
  // orders-db as the copy holds it: production's orders up to the copy's slot.
  const atCopy = await ctx.postgres.snapshot(production, 'orders_at_vault_copy');
  await ctx.postgres.query(atCopy, 'delete from orders where created_at > $1', [
    preview.snapshot.time,
  ]);
  line(
    io.out,
    `Drill of the vault's copy ${preview.snapshot.id} (slot ${preview.snapshot.time}), shared with ${account} for the drill and restored in ${region}:`,
  );
  const drilled = await runDemoDrill(ctx, 'orders-db', preview, atCopy, topic, now, undefined, {
    policy: drillPolicy,
    region,
    bucket,
  });
  if (!drilled) return;
  const { report } = drilled;
  line(
    io.out,
    `  The vault's copy restores: ${report.succeeded ? 'the data proven' : 'NOT proven'} (RTO ${duration(report.rtoSeconds)}, RPO ${duration(report.rpoSeconds)} from a daily copy); the share ${report.vaultCopy?.shareEnded ? 'has ended' : 'is STILL ON'}; teardown ${report.teardown.done ? 'done' : 'NOT done'}`,
  );
}
