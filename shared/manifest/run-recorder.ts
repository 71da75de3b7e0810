import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Vault } from '../vault/vault.js';
import type { Manifest } from './manifest.js';
import { signManifest } from './manifest-signing.js';
import { putManifest, type WriteOutcome } from './manifest-store.js';

/** Signs and stores the manifest of a run; the producing jobs share it. */
export interface RunRecorder {
  readonly account: string;
  record(manifest: Manifest): Promise<WriteOutcome>;
}

/**
 * A recorder writing to the vault's bucket, signed with the primary manifest key, stored once
 * per run (a repeated delivery finds it there).
 */
export function runRecorder(deps: {
  readonly s3: S3Client;
  /** KMS in the primary region. */
  readonly kms: KMSClient;
  readonly vault: Vault;
  readonly account: string;
}): RunRecorder {
  return {
    account: deps.account,
    async record(manifest) {
      const signed = await signManifest(deps.kms, deps.vault.manifestKeys.primary, manifest);
      return putManifest(deps.s3, deps.vault.bucket, signed, deps.vault.dataKeys.primary);
    },
  };
}
