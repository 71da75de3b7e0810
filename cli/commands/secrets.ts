import { KMS, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  GetCallerIdentityCommand,
  type GetCallerIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import { definition as exportSecrets } from '../../functions/export-secrets.js';
import { callerAccount } from '../../shared/aws/account.js';
import { clientIn } from '../../shared/aws/clients.js';
import { parseRunId } from '../../shared/naming/run-ids.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import { vaultRegionOf } from '../../shared/policy/regions.js';
import type { Policy } from '../../shared/policy/schema.js';
import {
  prepareRestore,
  type RestoreDeps,
  type RestoreOutcome,
  type VaultAccountCopy,
} from '../../shared/secrets/restore.js';
import { type Site, vaultAt } from '../../shared/vault/vault.js';
import { type Io, line, printJson, table } from '../../terminal/output.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';
import { cliLog } from '../cli-log.js';
import { credentialsProblem } from '../failure-text.js';
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
    vaultProfile?: string;
    sourceAccount?: string;
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
  if (options.sourceAccount !== undefined) {
    if (!options.vaultProfile) {
      throw new UsageError(
        '--source-account: only with --vault-profile (the vault keeps copies by source account)',
      );
    }
    if (!/^\d{12}$/.test(options.sourceAccount)) {
      throw new UsageError(
        `--source-account ${options.sourceAccount}: must be a 12-digit AWS account id`,
      );
    }
  }
  const vaultAccount = options.vaultProfile
    ? await vaultAccountCopy(policy, options.vaultProfile, options.sourceAccount, region)
    : undefined;
  const from: RestoreDeps['from'] = vaultAccount
    ? { vaultAccount }
    : {
        production: {
          s3: clientIn(S3Client, region),
          kms: clientIn(KMSClient, region),
          // Restoring in the DR region reads only the DR region: its copy of the vault, its keys.
          vault: vaultAt((await cliJobEnvironment(policy, { ...options, site })).vault(), site),
        },
      };
  const prepared = await prepareRestore(
    { sm: clientIn(SecretsManagerClient, region), site, from },
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
      readFrom:
        'vaultAccount' in from
          ? `s3://${from.vaultAccount.bucket}/${from.vaultAccount.root}`
          : `s3://${from.production.vault.bucket}/`,
      applied: Boolean(options.apply),
      items: outcomes ?? prepared.items,
    });
  } else {
    line(
      io.out,
      `Restore of ${prepared.runId} into ${region} (${options.apply ? 'applied' : 'plan only; --apply writes it'})`,
    );
    if (vaultAccount) {
      line(
        io.out,
        `  read from the vault account's copy, s3://${vaultAccount.bucket}/${vaultAccount.root}, opened with the vault's key; each record as first written there (locked since), its chain checked: production's MACs cannot be checked there`,
      );
    }
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

/**
 * The vault account's copy of this account's runs, read with the credentials of an AWS profile
 * of the vault account (production's own may be lost with it): refused unless the policy has a
 * vault bucket and the profile is for the vault account.
 */
async function vaultAccountCopy(
  policy: Policy,
  profile: string,
  sourceAccount: string | undefined,
  restoring: string,
): Promise<VaultAccountCopy> {
  const vault = policy.vault;
  if (!vault?.bucket) {
    throw new UsageError(
      `--vault-profile ${profile}: the policy's vault section names no bucket (vault.bucket): the vault account holds no exports to restore from`,
    );
  }
  const region = vaultRegionOf(policy);
  // The profile's credentials only, whatever else the environment holds (those are for the
  // account restored into).
  const asVault = { region, credentials: fromIni({ profile }) };
  let identity: GetCallerIdentityCommandOutput;
  try {
    identity = await new STSClient(asVault).send(new GetCallerIdentityCommand({}));
  } catch (error) {
    const problem = credentialsProblem(error);
    if (!problem) throw error;
    throw new UsageError(
      `--vault-profile ${profile}: its credentials cannot be used (${problem}): check the profile in the AWS config and credentials files, or sign in again (aws sso login --profile ${profile})`,
    );
  }
  if (identity.Account !== vault.account) {
    throw new UsageError(
      `--vault-profile ${profile}: its credentials are for account ${identity.Account}, not the vault account ${vault.account}`,
    );
  }
  // Whose copies: the account named, or the account this restore writes into.
  const source = sourceAccount ?? (await callerAccount(restoring));
  return {
    s3: new S3Client(asVault),
    bucket: vault.bucket,
    root: `sources/${source}/`,
    keyArn: vault.kmsKeyArn,
    kms: new KMS(asVault),
  };
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
