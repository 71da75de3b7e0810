import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { definition as exportSecrets } from '../../functions/export-secrets.js';
import { clientIn } from '../../shared/aws/clients.js';
import { parseRunId } from '../../shared/naming/run-ids.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { prepareRestore, type RestoreOutcome } from '../../shared/secrets/restore.js';
import { type Site, vaultAt } from '../../shared/vault/vault.js';
import { type Io, line, printJson, table } from '../../terminal/output.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';
import { cliLog } from '../cli-log.js';
import { slotTime } from '../slot-option.js';

/** `lifeboat secrets export`: the scheduled export job, now. */
export async function secretsExportCommand(
  options: { policy?: string; slot?: string; bucket?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  if (!policy.secrets) throw new UsageError('the policy has no secrets section: nothing to export');
  const at = slotTime(options.slot, policy);
  const env = await cliJobEnvironment(policy, { ...options, log: cliLog(io) });
  const result = await exportSecrets.run(exportSecrets.wire(env), policy, at);
  if (options.json) printJson(io, result);
  else {
    line(
      io.out,
      `Run ${result.runId}: ${result.outcome}, ${result.exported} secrets exported, manifest ${result.manifest}`,
    );
    if (result.export) {
      line(
        io.out,
        `  s3://${result.export.bucket}/${result.export.key} (${result.export.size} bytes, SHA-256 ${result.export.sha256})`,
      );
    }
    for (const f of result.failures) line(io.out, `  failed: ${f.subject}: ${f.error}`);
  }
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * `lifeboat secrets restore --run <id>`: decrypts a run's export in the chosen region and shows,
 * per secret, what restoring would do; with --apply, does it. Values are never printed.
 */
export async function secretsRestoreCommand(
  options: {
    policy?: string;
    run?: string;
    region?: string;
    only?: string[];
    apply?: boolean;
    bucket?: string;
    json?: boolean;
  },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  if (!options.run || parseRunId(options.run)?.job !== 'export-secrets') {
    throw new UsageError(
      `--run ${options.run ?? ''}: give a secrets export run id such as secrets-202611210200`,
    );
  }
  const site = siteOf(policy, options.region);
  const region = policy.regions[site];
  // Restoring in the DR region reads only the DR region: its copy of the vault, its keys.
  const vault = vaultAt((await cliJobEnvironment(policy, { ...options, site })).vault(), site);
  const prepared = await prepareRestore(
    {
      s3: clientIn(S3Client, region),
      kms: clientIn(KMSClient, region),
      sm: clientIn(SecretsManagerClient, region),
      vault,
      site,
    },
    policy,
    options.run,
    options.only ?? [],
  );
  const outcomes: RestoreOutcome[] | undefined = options.apply ? await prepared.apply() : undefined;
  // A secret that failed, or was blocked and skipped, was not restored: the restore did not pass.
  const notRestored = [
    ...(outcomes?.filter((o) => o.result === 'failed') ?? []),
    ...prepared.items.filter((i) => i.action === 'blocked'),
  ];
  if (options.json) {
    printJson(io, {
      runId: prepared.runId,
      region,
      applied: Boolean(options.apply),
      items: outcomes ?? prepared.items,
    });
  } else {
    line(
      io.out,
      `Restore of ${prepared.runId} into ${region} (${options.apply ? 'applied' : 'plan only; --apply writes it'})`,
    );
    line(
      io.out,
      table(
        ['SECRET', 'ACTION', outcomes ? 'RESULT' : 'NOTE'],
        outcomes
          ? outcomes.map((o) => [o.name, o.action, [o.result, o.error].filter(Boolean).join(': ')])
          : prepared.items.map((o) => [o.name, o.action, o.reason ?? '']),
      ),
    );
  }
  if (!options.json && notRestored.length > 0) {
    line(
      io.err,
      `lifeboat: ${notRestored.length} secret(s) not restored: ${notRestored.map((o) => o.name).join(', ')}`,
    );
  }
  return notRestored.length > 0 ? EXIT.failed : EXIT.ok;
}

/** Which of the policy's regions a --region names (default: the primary). */
export function siteOf(policy: Pick<Policy, 'regions'>, region: string | undefined): Site {
  if (region === undefined || region === policy.regions.primary || region === 'primary')
    return 'primary';
  if (region === policy.regions.dr || region === 'dr') return 'dr';
  throw new UsageError(
    `--region ${region}: the policy's regions are ${policy.regions.primary} (primary) and ${policy.regions.dr} (DR)`,
  );
}
