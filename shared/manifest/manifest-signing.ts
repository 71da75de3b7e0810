import { createHash } from 'node:crypto';
import {
  GenerateMacCommand,
  type KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { canonicalJson } from './canonical-json.js';
import type { Manifest, ManifestSignature, SignedManifest } from './manifest.js';

/**
 * Signs a document: the SHA-256 of its canonical JSON is MACed with the KMS HMAC key (GenerateMac
 * takes at most 4,096 bytes, so the digest is signed, not the document). Manifests and hold
 * records are signed alike.
 */
export async function signDocument(
  kms: KMSClient,
  keyArn: string,
  document: unknown,
): Promise<ManifestSignature> {
  const digest = documentDigest(document);
  const out = await kms.send(
    new GenerateMacCommand({ KeyId: keyArn, MacAlgorithm: 'HMAC_SHA_256', Message: digest }),
  );
  return {
    algorithm: 'HMAC_SHA_256',
    keyId: out.KeyId ?? keyArn,
    digest: digest.toString('hex'),
    mac: Buffer.from(out.Mac ?? new Uint8Array()).toString('base64'),
  };
}

/** Signs a manifest. */
export async function signManifest(
  kms: KMSClient,
  keyArn: string,
  manifest: Manifest,
): Promise<SignedManifest> {
  return { manifest, signature: await signDocument(kms, keyArn, manifest) };
}

export type SignatureCheck =
  | { readonly valid: true }
  | { readonly valid: false; readonly reason: string };

/**
 * Checks a stored document against its signature with the manifest key of the verifying region
 * (the multi-Region key's replica verifies what the primary signed).
 */
export async function checkDocument(
  kms: KMSClient,
  keyArn: string,
  document: unknown,
  signature: ManifestSignature,
): Promise<SignatureCheck> {
  const digest = documentDigest(document);
  if (digest.toString('hex') !== signature.digest) {
    return {
      valid: false,
      reason: `altered: its content hashes to ${digest.toString('hex').slice(0, 16)}..., not the signed ${signature.digest.slice(0, 16)}...`,
    };
  }
  try {
    const out = await kms.send(
      new VerifyMacCommand({
        KeyId: keyArn,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: digest,
        Mac: Buffer.from(signature.mac, 'base64'),
      }),
    );
    return out.MacValid ? { valid: true } : { valid: false, reason: 'the MAC does not verify' };
  } catch (error) {
    if (error instanceof KMSInvalidMacException) {
      return {
        valid: false,
        reason: 'the MAC does not verify: the content or its signature was altered',
      };
    }
    throw error;
  }
}

/** Checks a stored manifest against its signature. */
export function checkSignature(
  kms: KMSClient,
  keyArn: string,
  signed: SignedManifest,
): Promise<SignatureCheck> {
  return checkDocument(kms, keyArn, signed.manifest, signed.signature);
}

/** SHA-256 of a document's canonical JSON, the bytes that are signed. */
function documentDigest(document: unknown): Buffer {
  return createHash('sha256').update(canonicalJson(document)).digest();
}
