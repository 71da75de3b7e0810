import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { callerAccount } from '../../shared/aws/account.js';
import { recorderFor } from '../../shared/jobs/job-wiring.js';
import { localJobEnvironment } from '../../shared/jobs/local-environment.js';
import { parsePolicyText } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { type Io, line } from '../../terminal/output.js';
import { type Progress, progressOn } from '../../terminal/progress.js';
import { type LocalAws, startLocalAws } from '../aws/local-aws.js';
import { localPipeline } from '../aws/local-pipeline.js';
import { type LocalMariadb, mariadbBinaries, startLocalMariadb } from '../mariadb/local-mariadb.js';
import { type LocalPostgres, startLocalPostgres } from '../postgres/local-postgres.js';
import { createLocalAuthority, type LocalAuthority } from '../tls/local-authority.js';
import { seedDemoDatabases, simulateMonth } from './backup-demo.js';
import { type HealthServer, startHealthServer } from './health-server.js';
import { objectivesDemo } from './objectives-demo.js';
import {
  drillDemo,
  failoverDemo,
  mysqlDrillDemo,
  pointInTimeDrillDemo,
  type RecoveryDemoContext,
} from './recovery-demo.js';
import { seedZone } from './recovery-seed.js';
import { regionLossDemo } from './region-loss-demo.js';
import { secretsAndVerificationDemo, seedDemoSecrets } from './secrets-demo.js';
import { seedDbNetwork, seedKey, seedKeyAs, seedVault, seedVaultBucketAs } from './seed.js';
import { DEMO_VAULT_ACCOUNT, vaultDemo } from './vault-demo.js';

const DEMO_POLICY = fileURLToPath(new URL('./demo.policy.yml', import.meta.url));

/**
 * The demo: starts a local AWS (moto), a local PostgreSQL and a health endpoint, seeds a demo
 * account, and runs Lifeboat's jobs and both state machines against it, `days` days of
 * schedules. Touches nothing outside the servers it starts and stops.
 */
export async function runDemo(days: number, io: Io): Promise<void> {
  const progress = progressOn(io.err);
  progress.step('starting the local AWS, PostgreSQL and MariaDB');
  const aws = await startLocalAws();
  // The demo's own dummy account: every client this process creates from here on talks to moto.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: 'demo',
    AWS_SECRET_ACCESS_KEY: 'demo',
    AWS_REGION: 'eu-central-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  // The local databases serve TLS with certificates of an authority made for this run.
  const authority = createLocalAuthority();
  const postgres = await startLocalPostgres({ tls: authority }).catch(async (error: unknown) => {
    await aws.stop();
    authority.remove();
    throw error;
  });
  const mariadb = mariadbBinaries() ? await startLocalMariadb({ tls: authority }) : undefined;
  const health = await startHealthServer();
  try {
    line(io.out, `Lifeboat demo against a local AWS (moto on ${aws.endpoint})`);
    line(io.out);
    progress.step('seeding the demo account');
    const ctx = await seedDemoAccount(io, aws, progress, health, postgres, mariadb, authority);
    const now = new Date();
    line(io.out);
    line(
      io.out,
      `1. The last ${days} days of the schedules: snapshot-rds at ${ctx.policy.snapshots.schedule}, enforce-retention at ${ctx.policy.retention.schedule} (${ctx.policy.timeZone})`,
    );
    line(io.out);
    ctx.progress.step(`1. ${days} days of snapshot and retention runs`);
    await simulateMonth(ctx, await localPipeline(aws, ctx.env), days, now);
    line(io.out);
    line(io.out, `2. Secrets: export-secrets at ${ctx.policy.secrets?.schedule}`);
    ctx.progress.step('2-5. secrets, verification, restore and tampering');
    await secretsAndVerificationDemo(ctx, now);
    line(io.out);
    const critical = ctx.policy.objectives?.tiers.critical;
    line(
      io.out,
      `6. Restore drill of orders-db from its newest verified snapshot, with real smoke checks (${ctx.policy.drills?.databases['orders-db']?.checks.length} checks and a freshness query), against tier critical (RPO ${critical?.rpo}, RTO ${critical?.rto})`,
    );
    ctx.progress.step('6. restore drill of orders-db');
    const production = await drillDemo(ctx, new Date());
    line(io.out);
    line(
      io.out,
      '7. Point-in-time drill of orders-db: its continuous backups, restored to their latest restorable time',
    );
    ctx.progress.step('7. point-in-time drill of orders-db');
    if (production) await pointInTimeDrillDemo(ctx, production, new Date());
    line(io.out);
    line(
      io.out,
      `8. Restore drill of shop-db, a MySQL database, over TLS that proves the server (${ctx.policy.drills?.tls})`,
    );
    ctx.progress.step('8. restore drill of shop-db');
    await mysqlDrillDemo(ctx, new Date());
    line(io.out);
    line(
      io.out,
      `9. Planned failover of orders-db to ${ctx.policy.regions.dr}, with the DNS switch`,
    );
    ctx.progress.step('9. planned failover of orders-db');
    await failoverDemo(ctx);
    line(io.out);
    line(
      io.out,
      '10. Recovery objectives: every database against its tier, and the posture report',
    );
    ctx.progress.step('10. objectives and the posture report');
    await objectivesDemo(ctx, new Date());
    line(io.out);
    line(
      io.out,
      `11. The primary region ${ctx.policy.regions.primary} is lost: verification and the secrets' restore from the DR region alone`,
    );
    ctx.progress.step('11. the primary region lost');
    await regionLossDemo(ctx, aws);
    line(io.out);
    line(
      io.out,
      `12. The isolated vault account ${DEMO_VAULT_ACCOUNT}: what it holds, verifies and keeps on its own, and a drill that restores its copy of orders-db`,
    );
    ctx.progress.step('12. the vault account');
    await vaultDemo(ctx, production, new Date());
    ctx.progress.done();
  } finally {
    await health.stop();
    await postgres.stop();
    await mariadb?.stop();
    await aws.stop();
    authority.remove();
  }
}

async function seedDemoAccount(
  io: Io,
  aws: LocalAws,
  progress: Progress,
  health: HealthServer,
  postgres: LocalPostgres,
  mariadb: LocalMariadb | undefined,
  authority: LocalAuthority,
): Promise<RecoveryDemoContext> {
  const drKey = await seedKey('eu-west-1', 'Lifeboat demo: DR snapshot copies');
  const account = await callerAccount('eu-central-1');
  // The vault stack's writer role for this account, and its key, in the vault account.
  const vaultRole = `arn:aws:iam::${DEMO_VAULT_ACCOUNT}:role/lifeboat-vault-${account}-demo-vault`;
  const vaultKey = await seedKeyAs(vaultRole, 'eu-west-1');
  const vaultBucket = `lifeboat-vault-demo-vault-${DEMO_VAULT_ACCOUNT}-eu-west-1`;
  await seedVaultBucketAs(vaultRole, 'eu-west-1', vaultBucket);
  const network = await seedDbNetwork('eu-central-1', 'demo-private');
  const zoneId = await seedZone('db.demo.internal');
  const policy: Policy = parsePolicyText(
    readFileSync(DEMO_POLICY, 'utf8')
      .replace('DEMO_DR_KEY_ARN', drKey)
      .replace('DEMO_VAULT_KEY_ARN', vaultKey)
      .replace('DEMO_VAULT_ROLE_ARN', vaultRole)
      .replace('DEMO_VAULT_BUCKET', vaultBucket)
      .replace('DEMO_TLS', postgres.kind === 'postgresql' ? 'verify-full' : 'disable')
      .replace('DEMO_SECURITY_GROUP', network.securityGroupId)
      .replace('DEMO_HOSTED_ZONE', zoneId)
      .replace('DEMO_PRIMARY_HEALTH_URL', health.url('/orders/health'))
      .replace('DEMO_DR_HEALTH_URL', health.url('/orders-dr/health')),
    'demo.policy.yml',
  );
  const vault = await seedVault(policy, account);
  const env = localJobEnvironment(policy, account, vault);
  const ctx: RecoveryDemoContext = {
    policy,
    account,
    vault,
    env,
    recorder: recorderFor(env),
    io,
    postgres,
    mariadb,
    trustedAuthorities: [authority.caPem],
    progress,
    clock: (seconds) => aws.clock.advance(seconds),
    health,
    zoneId,
  };
  line(io.out, `Demo account ${account}, policy "${policy.name}":`);
  await seedDemoDatabases(ctx);
  await seedDemoSecrets(ctx);
  line(
    io.out,
    `  ${policy.regions.dr}: KMS key for the encrypted DR copies ${policy.snapshots.drKmsKeyArn}`,
  );
  line(
    io.out,
    `  the stack's vault: bucket ${vault.bucket} (Object Lock), data and manifest keys in both regions`,
  );
  line(
    io.out,
    `  the isolated vault account ${DEMO_VAULT_ACCOUNT} (a second account of the local AWS): its key ${vaultKey}, its bucket ${vaultBucket} (Object Lock, COMPLIANCE), reached as ${vaultRole}`,
  );
  return ctx;
}
