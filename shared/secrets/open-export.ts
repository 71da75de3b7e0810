import type { KMS } from '@aws-sdk/client-kms';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { decryptMessage } from '../crypto/envelope.js';
import { type ExportArtifact, sha256Hex } from '../manifest/manifest.js';
import { decodePayload, type ExportPayload } from './export-payload.js';

/** A downloaded export is not what its manifest recorded. */
export class ExportTamperedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportTamperedError';
  }
}

/**
 * Downloads an export, checks it byte for byte against its manifest entry, and decrypts it with
 * the given region's data key, checking the encryption context the manifest recorded. The
 * plaintext exists only in the returned object, in memory.
 */
export async function openExport(
  s3: S3Client,
  artifact: ExportArtifact,
  dataKeyArn: string,
  /** KMS as another identity: the vault account opening its copy with its own key. */
  kmsIn?: (region: string) => KMS,
): Promise<ExportPayload> {
  let ciphertext: Uint8Array | undefined;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: artifact.bucket, Key: artifact.key }));
    ciphertext = await out.Body?.transformToByteArray();
  } catch (error) {
    if (error instanceof NoSuchKey) {
      throw new ExportTamperedError(
        `missing: s3://${artifact.bucket}/${artifact.key} is gone (deleted, or hidden behind a delete marker)`,
      );
    }
    throw error;
  }
  if (!ciphertext) throw new ExportTamperedError('changed: the object is empty');
  const digest = sha256Hex(ciphertext);
  if (digest !== artifact.sha256) {
    throw new ExportTamperedError(
      `changed: downloaded bytes hash to ${digest.slice(0, 16)}..., not the manifest's ${artifact.sha256.slice(0, 16)}...`,
    );
  }
  const plaintext = await decryptMessage(
    ciphertext,
    dataKeyArn,
    artifact.encryptionContext,
    ...(kmsIn ? [kmsIn] : []),
  );
  try {
    return decodePayload(plaintext);
  } finally {
    plaintext.fill(0);
  }
}
