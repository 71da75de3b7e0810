import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

/** A stored manifest that is not one: unreadable JSON or the wrong shape. */
export class ManifestFormatError extends Error {
  constructor(key: string, why: string) {
    super(`${key}: not a Lifeboat manifest (${why})`);
    this.name = 'ManifestFormatError';
  }
}

/** No manifest for the run. */
export class ManifestNotFoundError extends Error {
  constructor(key: string) {
    super(`${key}: no such manifest`);
    this.name = 'ManifestNotFoundError';
  }
}

export type WriteOutcome = 'written' | 'already-exists';

/**
 * Writes an object with its SHA-256, which S3 checks and keeps (and Object Lock buckets require).
 * With `once`, a second write of the same key (a repeated delivery) is refused by S3
 * (If-None-Match) and counts as done. With `ownKmsContext`, the object is encrypted without the
 * bucket key, so that KMS sees the object's own ARN as encryption context and roles can be
 * granted decryption of some prefixes only.
 */
export async function storeObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
  extra: { once: boolean; contentType?: string; kmsKeyId?: string; ownKmsContext?: boolean },
): Promise<WriteOutcome> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ...(extra.once ? { IfNoneMatch: '*' } : {}),
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
        ContentType: extra.contentType ?? 'application/octet-stream',
        ...(extra.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: extra.kmsKeyId } : {}),
        ...(extra.ownKmsContext ? { BucketKeyEnabled: false } : {}),
      }),
    );
    return 'written';
  } catch (error) {
    if (isPreconditionFailed(error)) return 'already-exists';
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;
}

function isPreconditionFailed(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412;
}

/** What a key holds over time: its versions, and whether a delete marker hides the latest. */
export interface StoredKey {
  /** Version ids, oldest first. */
  readonly versions: readonly string[];
  /** Whether the key's latest version is a delete marker. */
  readonly hidden: boolean;
}

/**
 * Every version of every key under a prefix, and whether a delete marker hides it: what was
 * written, what overwrote it, what hides it. S3 lists a key's versions newest first; that order,
 * not the timestamps (which tie), says which came first. One call per 1,000 versions.
 */
export async function listVersions(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Map<string, StoredKey>> {
  const newestFirst = new Map<string, string[]>();
  const hidden = new Set<string>();
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
      }),
    );
    for (const v of page.Versions ?? []) {
      if (!v.Key) continue;
      const list = newestFirst.get(v.Key) ?? [];
      list.push(v.VersionId ?? 'null');
      newestFirst.set(v.Key, list);
    }
    for (const m of page.DeleteMarkers ?? []) {
      if (!m.Key) continue;
      if (!newestFirst.has(m.Key)) newestFirst.set(m.Key, []);
      if (m.IsLatest) hidden.add(m.Key);
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  return new Map(
    [...newestFirst].map(([key, ids]) => [
      key,
      { versions: ids.reverse(), hidden: hidden.has(key) },
    ]),
  );
}

/** The bytes of one version of an object; undefined when that version is gone. */
export async function getVersionBytes(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string,
): Promise<Uint8Array | undefined> {
  try {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId === 'null' ? {} : { VersionId: versionId }),
      }),
    );
    return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (error) {
    // A version that is gone answers NoSuchVersion, which the SDK models as no class of its own.
    if (error instanceof NoSuchKey || isNotFound(error)) return undefined;
    throw error;
  }
}

/** Keys of every object under a prefix. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: bucket, Prefix: prefix },
  )) {
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
  }
  return keys;
}

/** Whether a key holds an object (a delete marker does not count); one HEAD request. */
export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
