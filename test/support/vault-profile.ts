import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { vi } from 'vitest';
import { clientIn } from '../../shared/aws/clients.js';

/**
 * Points the SDK's shared files at a credentials file of the test's own, as people of the vault
 * account would have: profile `vault` with the credentials of a role of the vault account (the
 * local AWS gives an assumed role's calls to the role's account), and profile `production` with
 * the environment's. Undone with vi.unstubAllEnvs, or by stubbing the two variables back.
 */
export async function stubVaultProfile(roleArn: string, region: string): Promise<void> {
  const assumed = await clientIn(STSClient, region).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'lifeboat-restore' }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-vault-profile-'));
  const credentials = join(dir, 'credentials');
  writeFileSync(
    credentials,
    [
      '[vault]',
      `aws_access_key_id = ${assumed.Credentials?.AccessKeyId}`,
      `aws_secret_access_key = ${assumed.Credentials?.SecretAccessKey}`,
      `aws_session_token = ${assumed.Credentials?.SessionToken}`,
      '[production]',
      `aws_access_key_id = ${process.env.AWS_ACCESS_KEY_ID}`,
      `aws_secret_access_key = ${process.env.AWS_SECRET_ACCESS_KEY}`,
      '',
    ].join('\n'),
  );
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', credentials);
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
}
