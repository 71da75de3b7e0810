import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startLocalAws } from '../../local/aws/local-aws.js';
import { type LocalPostgres, startLocalPostgres } from '../../local/postgres/local-postgres.js';
import { recorderFor } from '../../shared/jobs/job-wiring.js';
import { parsePolicyText } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { callerAccount, localJobEnvironment } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';
import { seedDemoDatabases, simulateMonth } from '../demo/backup-demo.js';
import { type HealthServer, startHealthServer } from '../demo/health-server.js';
import { drillDemo, failoverDemo, type RecoveryDemoContext } from '../demo/recovery-demo.js';
import { seedZone } from '../demo/recovery-seed.js';
import { secretsAndVerificationDemo, seedDemoSecrets } from '../demo/secrets-demo.js';
import { seedDbNetwork, seedKey, seedVault } from '../demo/seed.js';
import { type Io, line } from '../output.js';

const DEMO_POLICY = fileURLToPath(new URL('../demo/demo.policy.yml', import.meta.url));

/**
 * `lifeboat demo`: starts a local AWS (moto), seeds a demo account, and runs Lifeboat's jobs
 * against it. Touches nothing outside the moto server it starts and stops.
 */
export async function demoCommand(options: { days?: string }, io: Io): Promise<number> {
  const days = Number(options.days ?? 30);
  if (!Number.isInteger(days) || days < 1 || days > 400) {
    throw new UsageError(`--days ${options.days}: must be a whole number from 1 to 400`);
  }
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
  const postgres = await startLocalPostgres().catch(async (error: unknown) => {
    await aws.stop();
    throw error;
  });
  const health = await startHealthServer();
  try {
    line(io.out, `Lifeboat demo against a local AWS (moto on ${aws.endpoint})`);
    line(io.out);
    const ctx = await seedDemoAccount(io, health, postgres);
    const now = new Date();
    line(io.out);
    line(
      io.out,
      `1. The last ${days} days of the schedules: snapshot-rds at ${ctx.policy.snapshots.schedule}, enforce-retention at ${ctx.policy.retention.schedule} (${ctx.policy.timeZone})`,
    );
    line(io.out);
    await simulateMonth(ctx, days, now);
    line(io.out);
    line(io.out, `2. Secrets: export-secrets at ${ctx.policy.secrets?.schedule}`);
    await secretsAndVerificationDemo(ctx, now);
    line(io.out);
    line(
      io.out,
      `6. Restore drill of orders-db with real smoke checks (${ctx.policy.drills?.databases['orders-db']?.checks.length} checks and a freshness query)`,
    );
    await drillDemo(ctx, new Date());
    line(io.out);
    line(
      io.out,
      `7. Planned failover of orders-db to ${ctx.policy.regions.dr}, with the DNS switch`,
    );
    await failoverDemo(ctx);
    return EXIT.ok;
  } finally {
    await health.stop();
    await postgres.stop();
    await aws.stop();
  }
}

async function seedDemoAccount(
  io: Io,
  health: HealthServer,
  postgres: LocalPostgres,
): Promise<RecoveryDemoContext> {
  const drKey = await seedKey('eu-west-1', 'Lifeboat demo: DR snapshot copies');
  const network = await seedDbNetwork('eu-central-1', 'demo-private');
  const zoneId = await seedZone('db.demo.internal');
  const policy: Policy = parsePolicyText(
    readFileSync(DEMO_POLICY, 'utf8')
      .replace('DEMO_DR_KEY_ARN', drKey)
      .replace('DEMO_SECURITY_GROUP', network.securityGroupId)
      .replace('DEMO_HOSTED_ZONE', zoneId)
      .replace('DEMO_PRIMARY_HEALTH_URL', health.url('/orders/health'))
      .replace('DEMO_DR_HEALTH_URL', health.url('/orders-dr/health')),
    'demo.policy.yml',
  );
  const account = await callerAccount(policy.regions.primary);
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
  return ctx;
}
