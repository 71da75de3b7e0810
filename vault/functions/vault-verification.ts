import { vaultJobHandler } from '../../shared/jobs/vault-job-handler.js';
import { runVaultVerification } from '../../shared/vault-account/vault-verification.js';

/**
 * The vault's own verification, in the vault account: what each source account has sent, and
 * what is missing, stale, failed or under another key. The report is stored in the vault bucket.
 */
export const handler = vaultJobHandler('vault-verification', async (env, policy, scheduledTime) => {
  const { verification, failures } = await runVaultVerification(
    env.rds,
    policy,
    env.vaultKeyArn,
    scheduledTime,
  );
  const stamp = scheduledTime.toISOString().replace(/[:.]/g, '-');
  await env.store(`reports/verification/${stamp}.json`, verification);
  return { verification, failures };
});
