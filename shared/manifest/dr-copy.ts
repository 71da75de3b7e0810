import type { S3Client } from '@aws-sdk/client-s3';
import type { Vault } from '../vault/vault.js';
import { getVersionBytes, listVersions, objectExists, storeObject } from './manifest-store.js';

/**
 * A copy of the vault's artifacts elsewhere: the DR region's bucket (written under the DR replica
 * of the data key), or the vault account's (under its key, below a prefix naming this account).
 */
export interface DrVault {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly kmsKeyId: string;
  /** Before each key there (the vault account's `sources/<account>/`); none in the DR region. */
  readonly prefix?: string;
  /** What the copy is, for errors: "the DR region" (default) or "the vault account ...". */
  readonly label?: string;
}

/** Where a key of the vault is in one of its copies. */
export function copyKeyOf(site: Pick<DrVault, 'prefix'>, key: string): string {
  return `${site.prefix ?? ''}${key}`;
}

/** Stores bytes at one of the vault's keys in a copy of the vault: there, under its key. */
export function storeCopy(
  site: DrVault,
  key: string,
  body: Uint8Array,
  extra: Omit<Parameters<typeof storeObject>[4], 'kmsKeyId'>,
): ReturnType<typeof storeObject> {
  return storeObject(site.s3, site.bucket, copyKeyOf(site, key), body, {
    ...extra,
    kmsKeyId: site.kmsKeyId,
  });
}

/** The vault's DR copy, with a client in the DR region; undefined when the vault has none. */
export function drVaultOf(vault: Vault, drS3: S3Client): DrVault | undefined {
  return vault.drBucket
    ? { s3: drS3, bucket: vault.drBucket, kmsKeyId: vault.dataKeys.dr }
    : undefined;
}

/** A copy to the DR region that could not be made: the primary's object stands. */
export class DrCopyError extends Error {
  constructor(key: string, why: string, label = 'the DR region') {
    super(
      `${label}'s copy of ${key} was not written (${why}); verification fails it after the copy deadline unless a later delivery of the run writes it`,
    );
    this.name = 'DrCopyError';
  }
}

/**
 * Makes sure the DR bucket holds each key as the primary first stored it: a key it lacks is
 * read from the primary (its first version: the one that counts) and written once, with the
 * same SHA-256. Keys already there are left alone; the DR bucket is never overwritten.
 */
export async function ensureDrCopies(
  primary: { readonly s3: S3Client; readonly bucket: string },
  dr: DrVault,
  keys: readonly string[],
  extra: {
    readonly contentType?: string;
    readonly ownKmsContext?: boolean;
    /** Records are versioned and their first version counts; exports have only one. */
    readonly firstVersion?: boolean;
  } = {},
): Promise<{ readonly copied: readonly string[] }> {
  const copied: string[] = [];
  for (const key of keys) {
    const target = copyKeyOf(dr, key);
    try {
      if (await objectExists(dr.s3, dr.bucket, target)) continue;
      const first = extra.firstVersion
        ? (await listVersions(primary.s3, primary.bucket, key)).get(key)?.versions[0]
        : 'null';
      const bytes = first
        ? await getVersionBytes(primary.s3, primary.bucket, key, first)
        : undefined;
      if (!bytes) throw new Error('the primary holds no readable first version');
      // Written whatever hides the key there (a delete marker): the DR region must hold it.
      await storeCopy(dr, key, bytes, {
        once: false,
        ...(extra.contentType ? { contentType: extra.contentType } : {}),
        ...(extra.ownKmsContext ? { ownKmsContext: true } : {}),
      });
      copied.push(key);
    } catch (error) {
      throw new DrCopyError(key, (error as Error).message, dr.label);
    }
  }
  return { copied };
}
