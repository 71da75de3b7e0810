import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import type { RegionalRds } from '../aws/clients.js';
import { clientIn } from '../aws/clients.js';
import type { DrVault } from '../manifest/dr-copy.js';
import type { VaultAccountPolicy } from '../policy/schema.js';

/** Lifeboat could not act in the vault account as the role the policy names. */
export class VaultRoleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultRoleError';
  }
}

/** The vault account as Lifeboat reaches it: its id, region, key, RDS and S3 as the assumed role. */
export interface VaultAccount {
  readonly account: string;
  readonly region: string;
  readonly kmsKeyArn: string;
  readonly rds: RegionalRds;
  readonly s3: S3Client;
}

// Credentials are renewed this long before they expire.
const RENEW_MS = 5 * 60_000;

/**
 * The vault account, reached through the role the policy names. The role is assumed when the
 * first call needs it, and again before its credentials expire. `sessionName` says in the vault's
 * CloudTrail which job acted.
 */
export function vaultAccountOf(
  vault: Pick<VaultAccountPolicy, 'account' | 'roleArn' | 'kmsKeyArn'>,
  region: string,
  sessionName: string,
  sts: STSClient = clientIn(STSClient, region),
): VaultAccount {
  let current:
    | Promise<{
        accessKeyId: string;
        secretAccessKey: string;
        sessionToken: string;
        expiration: Date;
      }>
    | undefined;
  let expires = 0;
  const credentials = () => {
    if (!current || Date.now() > expires - RENEW_MS) {
      current = assume(sts, vault, sessionName).then((c) => {
        expires = c.expiration.getTime();
        return c;
      });
      current.catch(() => {
        current = undefined;
      });
    }
    return current;
  };
  return {
    account: vault.account,
    region,
    kmsKeyArn: vault.kmsKeyArn,
    rds: {
      region,
      client: new RDSClient({ region, retryMode: 'adaptive', maxAttempts: 6, credentials }),
    },
    s3: new S3Client({ region, retryMode: 'adaptive', maxAttempts: 6, credentials }),
  };
}

/**
 * The vault account's bucket as a copy of this account's vault: every export and record
 * revision written there too, under `sources/<this account>/`, with the vault's key (its
 * Object Lock, COMPLIANCE, keeps it). Undefined when the policy names no vault bucket.
 */
export function vaultBucketOf(
  vault: Pick<VaultAccountPolicy, 'bucket'>,
  account: string,
  reached: VaultAccount,
): DrVault | undefined {
  if (!vault.bucket) return undefined;
  return {
    s3: reached.s3,
    bucket: vault.bucket,
    kmsKeyId: reached.kmsKeyArn,
    prefix: `sources/${account}/`,
    label: `the vault account ${reached.account}`,
  };
}

async function assume(
  sts: STSClient,
  vault: Pick<VaultAccountPolicy, 'account' | 'roleArn'>,
  sessionName: string,
) {
  let out: AssumeRoleCommandOutput;
  try {
    out = await sts.send(
      new AssumeRoleCommand({ RoleArn: vault.roleArn, RoleSessionName: sessionName }),
    );
  } catch (error) {
    throw new VaultRoleError(
      `cannot assume ${vault.roleArn} in the vault account ${vault.account} (${(error as Error).name}): deploy the vault stack with this account among its sourceAccounts, and give this function's role sts:AssumeRole on it`,
    );
  }
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new VaultRoleError(`assuming ${vault.roleArn} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration ?? new Date(Date.now() + 3600_000),
  };
}
