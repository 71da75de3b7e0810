import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientIn } from '../shared/aws/clients.js';
import { type RunRecorder, runRecorder } from '../shared/manifest/run-recorder.js';
import type { Policy } from '../shared/policy/schema.js';
import { resolveVault, type Vault } from '../shared/vault/vault.js';

/** The account the AWS environment points to. */
export async function callerAccount(region: string): Promise<string> {
  const out = await clientIn(STSClient, region).send(new GetCallerIdentityCommand({}));
  return out.Account ?? '';
}

/** The deployed vault of a policy, found by its names, and a recorder writing manifests to it. */
export async function openVault(
  policy: Policy,
  options: { bucket?: string } = {},
): Promise<{ account: string; vault: Vault; recorder: RunRecorder }> {
  const account = await callerAccount(policy.regions.primary);
  const kmsIn = (region: string) => clientIn(KMSClient, region);
  const vault = await resolveVault(policy, account, kmsIn, options.bucket);
  const recorder = runRecorder({
    s3: clientIn(S3Client, policy.regions.primary),
    kms: kmsIn(policy.regions.primary),
    vault,
    account,
  });
  return { account, vault, recorder };
}
