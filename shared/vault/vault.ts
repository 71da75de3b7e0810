import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { backupBucketName, keyAlias } from '../naming/stack.js';
import type { Policy } from '../policy/schema.js';

/**
 * Where a policy's backups and keys are: the backup bucket and its DR copy, and per region the
 * data key (exports) and the manifest key (HMAC). The DR keys are replicas of the primary's
 * multi-Region keys.
 */
export interface Vault {
  readonly bucket: string;
  /**
   * The DR region's backup bucket, where every export and record is written too, so that the DR
   * region holds a complete vault when the primary region is lost. Absent: nothing is copied.
   */
  readonly drBucket?: string;
  readonly dataKeys: { readonly primary: string; readonly dr: string };
  readonly manifestKeys: { readonly primary: string; readonly dr: string };
}

export type Site = 'primary' | 'dr';

/** The vault as a function's environment gives it (set by the stack). */
export function vaultFromEnv(): Vault {
  const need = (key: string) =>
    getStringFromEnv({
      key,
      errorMessage: `environment variable ${key} is required (set by the stack)`,
    });
  return {
    bucket: need('BACKUP_BUCKET'),
    // Set by every stack; without it (a function run by hand), nothing is copied to the DR region.
    ...(process.env.DR_BACKUP_BUCKET ? { drBucket: process.env.DR_BACKUP_BUCKET } : {}),
    dataKeys: { primary: need('DATA_KEY_ARN'), dr: need('DR_DATA_KEY_ARN') },
    manifestKeys: { primary: need('MANIFEST_KEY_ARN'), dr: need('DR_MANIFEST_KEY_ARN') },
  };
}

/** The policy's stack is not deployed where the command looks for it. */
export class StackNotDeployedError extends Error {
  constructor(policy: string, region: string, alias: string) {
    super(
      `the Lifeboat stack of policy ${policy} is not deployed in ${region} (there is no KMS key ${alias} in this account): deploy it there first (npx sls deploy --region ${region}; see Deploy in the README), or check that the AWS credentials are for the account it runs in`,
    );
    this.name = 'StackNotDeployedError';
  }
}

/** The vault as deployed, found by its names: the bucket and the key aliases in both regions. */
export async function resolveVault(
  policy: Pick<Policy, 'name' | 'regions'>,
  account: string,
  kmsIn: (region: string) => KMSClient,
  bucket = backupBucketName(policy.name, account, policy.regions.primary),
  /** dr: look in the DR region only (the primary region may be gone). */
  from: 'both' | 'dr' = 'both',
): Promise<Vault> {
  const arnOf = async (region: string, purpose: 'data' | 'manifest') => {
    const alias = keyAlias(policy.name, purpose);
    try {
      const out = await kmsIn(region).send(new DescribeKeyCommand({ KeyId: alias }));
      return out.KeyMetadata?.Arn ?? '';
    } catch (error) {
      if ((error as Error).name === 'NotFoundException')
        throw new StackNotDeployedError(policy.name, region, alias);
      throw error;
    }
  };
  // A multi-Region key and its replica share their id: from the DR region alone, the primary's
  // ARNs are the replicas' with the region changed (and nothing read in the DR region uses them).
  const inPrimary = async (purpose: 'data' | 'manifest', dr: Promise<string>) =>
    from === 'dr'
      ? (await dr).replace(`:${policy.regions.dr}:`, `:${policy.regions.primary}:`)
      : arnOf(policy.regions.primary, purpose);
  const dataDrArn = arnOf(policy.regions.dr, 'data');
  const manifestDrArn = arnOf(policy.regions.dr, 'manifest');
  const [dataPrimary, dataDr, manifestPrimary, manifestDr] = await Promise.all([
    inPrimary('data', dataDrArn),
    dataDrArn,
    inPrimary('manifest', manifestDrArn),
    manifestDrArn,
  ]);
  return {
    bucket,
    drBucket: backupBucketName(policy.name, account, policy.regions.dr),
    dataKeys: { primary: dataPrimary, dr: dataDr },
    manifestKeys: { primary: manifestPrimary, dr: manifestDr },
  };
}

/** Where a site's copy of the vault is: the primary's bucket, or the DR region's. */
export function bucketAt(vault: Vault, site: Site): string {
  if (site === 'primary') return vault.bucket;
  if (!vault.drBucket) throw new Error('the vault has no DR bucket');
  return vault.drBucket;
}

/** The vault as a site reads it: its bucket is that site's copy. */
export function vaultAt(vault: Vault, site: Site): Vault {
  return site === 'primary' ? vault : { ...vault, bucket: bucketAt(vault, site) };
}
