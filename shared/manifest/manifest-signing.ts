import {
  GenerateMacCommand,
  type KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { type Manifest, manifestDigest, type SignedManifest } from './manifest.js';

/**
 * Signs a manifest: the SHA-256 of its canonical JSON is MACed with the KMS HMAC key (GenerateMac
 * takes at most 4,096 bytes, so the digest is signed, not the document).
 */
export async function signManifest(
  kms: KMSClient,
  keyArn: string,
  manifest: Manifest,
): Promise<SignedManifest> {
  const digest = manifestDigest(manifest);
  const out = await kms.send(
    new GenerateMacCommand({ KeyId: keyArn, MacAlgorithm: 'HMAC_SHA_256', Message: digest }),
  );
  return {
    manifest,
    signature: {
      algorithm: 'HMAC_SHA_256',
      keyId: out.KeyId ?? keyArn,
      digest: digest.toString('hex'),
      mac: Buffer.from(out.Mac ?? new Uint8Array()).toString('base64'),
    },
  };
}

export type SignatureCheck =
  | { readonly valid: true }
  | { readonly valid: false; readonly reason: string };

/**
 * Checks a stored manifest against its signature with the manifest key of the verifying region
 * (the multi-Region key's replica verifies what the primary signed).
 */
export async function checkSignature(
  kms: KMSClient,
  keyArn: string,
  signed: SignedManifest,
): Promise<SignatureCheck> {
  const digest = manifestDigest(signed.manifest);
  if (digest.toString('hex') !== signed.signature.digest) {
    return {
      valid: false,
      reason: `manifest altered: its content hashes to ${digest.toString('hex').slice(0, 16)}..., not the signed ${signed.signature.digest.slice(0, 16)}...`,
    };
  }
  try {
    const out = await kms.send(
      new VerifyMacCommand({
        KeyId: keyArn,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: digest,
        Mac: Buffer.from(signed.signature.mac, 'base64'),
      }),
    );
    return out.MacValid ? { valid: true } : { valid: false, reason: 'the MAC does not verify' };
  } catch (error) {
    if (error instanceof KMSInvalidMacException) {
      return {
        valid: false,
        reason: 'the MAC does not verify: the manifest or its signature was altered',
      };
    }
    throw error;
  }
}
