import { callerAccount } from '../shared/aws/account.js';
import { type RegionalRds, rdsIn } from '../shared/aws/clients.js';
import type { DrillStart } from '../shared/drills/drill-contract.js';
import { startDrill } from '../shared/drills/drill-plan.js';
import type { StateMachineTask } from '../shared/jobs/job-definition.js';
import { packagedPolicy } from '../shared/jobs/packaged-policy.js';
import { taskHandler } from '../shared/jobs/task-handler.js';
import { type VaultAccount, vaultAccountOf } from '../shared/vault-account/vault-account.js';

/** Restore drill, Plan: picks the restore point and names the temporary database. */
export const definition: StateMachineTask<
  {
    readonly rds: RegionalRds;
    readonly alertTopicArn: string;
    readonly vault?: { readonly account: VaultAccount; readonly ownAccount: () => Promise<string> };
  },
  DrillStart
> = {
  kind: 'task',
  name: 'drillPlan',
  machine: 'restore-drill',
  description: 'Restore drill - picks the restore point and names the drill database',
  timeout: 60,
  wire: (env) => {
    const policy = env.policy();
    // Drills of the vault's copies pick and share them as the vault's role for this account.
    const vault =
      policy.drills?.site === 'vault' && policy.vault
        ? {
            account: vaultAccountOf(policy.vault, env.region, 'lifeboat-drill-plan'),
            ownAccount: () => callerAccount(env.region),
          }
        : undefined;
    return {
      rds: rdsIn(env.region),
      alertTopicArn: env.alertTopicArn,
      ...(vault ? { vault } : {}),
    };
  },
  run: (deps, event, env) => startDrill(deps, env.policy(), event),
};

export const handler = taskHandler(definition, { policy: packagedPolicy });
