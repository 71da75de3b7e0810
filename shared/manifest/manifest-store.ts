import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  manifestKey,
  manifestPrefix,
  parseRunId,
  type SignedManifest,
  SignedManifestSchema,
} from './manifest.js';

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
 * (If-None-Match) and counts as done.
 */
export async function storeObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
  extra: { once: boolean; contentType?: string; kmsKeyId?: string },
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
      }),
    );
    return 'written';
  } catch (error) {
    if (isPreconditionFailed(error)) return 'already-exists';
    throw error;
  }
}

function isPreconditionFailed(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412;
}

/** Stores a signed manifest under the policy's manifest prefix, once per run. */
export async function putManifest(
  s3: S3Client,
  bucket: string,
  signed: SignedManifest,
  kmsKeyId: string,
): Promise<WriteOutcome> {
  const body = Buffer.from(`${JSON.stringify(signed, null, 2)}\n`);
  return storeObject(
    s3,
    bucket,
    manifestKey(signed.manifest.policy.name, signed.manifest.runId),
    body,
    {
      once: true,
      contentType: 'application/json',
      kmsKeyId,
    },
  );
}

/** Reads a JSON object; undefined when there is none. */
export async function getJson(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<unknown | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await out.Body?.transformToString('utf8')) ?? '';
    try {
      return JSON.parse(text);
    } catch {
      throw new ManifestFormatError(key, 'not JSON');
    }
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    throw error;
  }
}

/** Reads and shape-checks a run's manifest. */
export async function readManifest(
  s3: S3Client,
  bucket: string,
  policyName: string,
  runId: string,
): Promise<SignedManifest> {
  const key = manifestKey(policyName, runId);
  const raw = await getJson(s3, bucket, key);
  if (raw === undefined) throw new ManifestNotFoundError(key);
  const parsed = SignedManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestFormatError(key, `${issue?.path.join('.') || 'document'}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Run ids of every manifest of the policy, oldest slot first. */
export async function listRunIds(
  s3: S3Client,
  bucket: string,
  policyName: string,
): Promise<string[]> {
  const prefix = manifestPrefix(policyName);
  const runs: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: bucket, Prefix: prefix },
  )) {
    for (const object of page.Contents ?? []) {
      const name = (object.Key ?? '').slice(prefix.length);
      if (!name.endsWith('.json') || name.endsWith('.verification.json')) continue;
      const runId = name.slice(0, -'.json'.length);
      if (parseRunId(runId)) runs.push(runId);
    }
  }
  return runs.sort(
    (a, b) =>
      (parseRunId(a)?.slotId ?? '').localeCompare(parseRunId(b)?.slotId ?? '') ||
      a.localeCompare(b),
  );
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
