import { vaultJobHandler } from '../../shared/jobs/vault-job-handler.js';
import { retentionReport, runVaultRetention } from '../../shared/vault-account/vault-retention.js';

/**
 * The vault's own retention, in the vault account: plans its copies per source account and
 * database, stores the plan in the vault bucket (locked), then deletes what the plan deletes.
 */
export const handler = vaultJobHandler('vault-retention', (env, policy, scheduledTime) => {
  const stamp = scheduledTime.toISOString().replace(/[:.]/g, '-');
  return runVaultRetention(env, policy, scheduledTime, {
    apply: true,
    beforeDeleting: (plan) => env.store(`reports/retention/${stamp}.json`, retentionReport(plan)),
  });
});
