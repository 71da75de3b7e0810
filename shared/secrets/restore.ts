import { createHash } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { checkSignature } from '../manifest/manifest-signing.js';
import { readManifest } from '../manifest/manifest-store.js';
import { errorSummary } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import type { Site, Vault } from '../vault/vault.js';
import { type ExportedSecret, secretValueOf } from './export-payload.js';
import { openExport } from './open-export.js';

/** A restore that must not go on: its manifest does not verify, or the run is not an export. */
export class RestoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefusedError';
  }
}

/** --only named secrets the export does not hold. */
export class UnknownSecretError extends Error {
  constructor(runId: string, names: readonly string[]) {
    super(`${runId} holds no secret named ${names.join(', ')}`);
    this.name = 'UnknownSecretError';
  }
}

export type RestoreAction = 'create' | 'update' | 'unchanged' | 'blocked';

/** What restoring would do to one secret. Never its value. */
export interface RestoreItem {
  readonly name: string;
  readonly action: RestoreAction;
  readonly reason?: string;
}

export interface RestoreOutcome extends RestoreItem {
  readonly result: 'done' | 'skipped' | 'failed';
  readonly error?: string;
}

export interface PreparedRestore {
  readonly runId: string;
  readonly region: string;
  readonly items: readonly RestoreItem[];
  /** Writes the plan: CreateSecret for new secrets, PutSecretValue for changed ones. */
  apply(): Promise<RestoreOutcome[]>;
}

export interface RestoreDeps {
  readonly s3: S3Client;
  /** KMS of the target region, to verify the manifest with that region's key. */
  readonly kms: KMSClient;
  /** Secrets Manager of the target region. */
  readonly sm: SecretsManagerClient;
  readonly vault: Vault;
  /** Which region restores: its manifest key verifies, its data key decrypts. */
  readonly site: Site;
}

/**
 * Plans the restore of a run's secrets export into the site's region: verifies the manifest's MAC,
 * checks the export against it, decrypts it with that region's key, and compares each secret with
 * what the region holds. Nothing is written until apply().
 */
export async function prepareRestore(
  deps: RestoreDeps,
  policy: Policy,
  runId: string,
  only: readonly string[] = [],
): Promise<PreparedRestore> {
  const signed = await readManifest(deps.s3, deps.vault.bucket, policy.name, runId);
  const signature = await checkSignature(deps.kms, deps.vault.manifestKeys[deps.site], signed);
  if (!signature.valid)
    throw new RestoreRefusedError(`${runId}: ${signature.reason}; refusing to restore from it`);
  const artifact = signed.manifest.artifacts.exports[0];
  if (signed.manifest.job !== 'export-secrets' || !artifact) {
    throw new RestoreRefusedError(`${runId} is not a secrets export run`);
  }
  const payload = await openExport(deps.s3, artifact, deps.vault.dataKeys[deps.site]);
  const unknown = only.filter((name) => !payload.secrets.some((s) => s.name === name));
  if (unknown.length > 0) throw new UnknownSecretError(runId, unknown);
  const chosen = payload.secrets.filter((s) => only.length === 0 || only.includes(s.name));
  const region = policy.regions[deps.site];
  const items = await Promise.all(chosen.map((secret) => planOne(deps.sm, secret)));
  return {
    runId,
    region,
    items,
    apply: () =>
      Promise.all(
        chosen.map((secret, i) => applyOne(deps.sm, runId, secret, items[i] as RestoreItem)),
      ),
  };
}

async function planOne(sm: SecretsManagerClient, secret: ExportedSecret): Promise<RestoreItem> {
  try {
    const described = await sm.send(new DescribeSecretCommand({ SecretId: secret.name }));
    if (described.DeletedDate) {
      return {
        name: secret.name,
        action: 'blocked',
        reason: 'scheduled for deletion in this region; restore or purge it first',
      };
    }
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return { name: secret.name, action: 'create' };
    return { name: secret.name, action: 'blocked', reason: errorSummary(error) };
  }
  const current = await sm.send(new GetSecretValueCommand({ SecretId: secret.name }));
  const same =
    secret.string !== null
      ? current.SecretString === secret.string
      : current.SecretBinary !== undefined &&
        Buffer.from(current.SecretBinary).equals(Buffer.from(secret.binary ?? '', 'base64'));
  return { name: secret.name, action: same ? 'unchanged' : 'update' };
}

async function applyOne(
  sm: SecretsManagerClient,
  runId: string,
  secret: ExportedSecret,
  item: RestoreItem,
): Promise<RestoreOutcome> {
  if (item.action === 'unchanged' || item.action === 'blocked')
    return { ...item, result: 'skipped' };
  // The same run restoring the same secret writes the same version: a retry adds nothing.
  const token = createHash('sha256')
    .update(`${runId}/${secret.name}/${secret.versionId}`)
    .digest('hex')
    .slice(0, 64);
  try {
    if (item.action === 'create') {
      await sm.send(
        new CreateSecretCommand({
          Name: secret.name,
          ClientRequestToken: token,
          ...(secret.description !== null ? { Description: secret.description } : {}),
          ...(secret.tags.length > 0 ? { Tags: secret.tags } : {}),
          ...secretValueOf(secret),
        }),
      );
    } else {
      await sm.send(
        new PutSecretValueCommand({
          SecretId: secret.name,
          ClientRequestToken: token,
          ...secretValueOf(secret),
        }),
      );
    }
    return { ...item, result: 'done' };
  } catch (error) {
    return { ...item, result: 'failed', error: errorSummary(error) };
  }
}
