import { createHash } from 'node:crypto';
import type { KMS, KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ExportArtifact } from '../manifest/manifest.js';
import {
  type LedgerReading,
  type RunRecord,
  readLedger,
  readRuns,
  runIdsOf,
} from '../manifest/manifest-ledger.js';
import { ManifestNotFoundError } from '../manifest/manifest-store.js';
import { chainAnchors, chainChecks, recordChecks } from '../manifest/record-checks.js';
import { manifestKey } from '../naming/run-ids.js';
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

/** Production's copy of a run at the restoring site: its bucket there, and its keys there. */
export interface ProductionCopy {
  readonly s3: S3Client;
  /** KMS of the restoring region: its manifest key verifies, its data key decrypts. */
  readonly kms: KMSClient;
  /** The vault as the site reads it: its bucket is that site's copy. */
  readonly vault: Vault;
}

/**
 * The isolated vault account's copy of a run, for when production's keys or buckets are lost:
 * the vault bucket below this account's prefix, read and opened as an identity of the vault
 * account with the vault's key. The records there are judged without their MACs (the vault
 * holds none of production's keys): by their first versions, locked since they were written,
 * their identity and their chain.
 */
export interface VaultAccountCopy {
  readonly s3: S3Client;
  readonly bucket: string;
  /** `sources/<this account>/`: where the vault keeps this account's copies. */
  readonly root: string;
  readonly keyArn: string;
  readonly kms: KMS;
}

export interface RestoreDeps {
  /** Secrets Manager of the restoring region. */
  readonly sm: SecretsManagerClient;
  /** Which region restores. */
  readonly site: Site;
  /** Where the run is read from. */
  readonly from:
    | { readonly production: ProductionCopy }
    | { readonly vaultAccount: VaultAccountCopy };
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
  const record = await checkedRecord(deps, policy, runId);
  const artifact = record.artifacts.exports[0];
  if (record.job !== 'export-secrets' || !artifact) {
    throw new RestoreRefusedError(`${runId} is not a secrets export run`);
  }
  const payload =
    'production' in deps.from
      ? // The export as this site's bucket holds it: the DR region's copy, restoring there.
        await openExport(
          deps.from.production.s3,
          { ...artifact, bucket: deps.from.production.vault.bucket },
          deps.from.production.vault.dataKeys[deps.site],
        )
      : await openFromVaultAccount(deps.from.vaultAccount, artifact);
  const missing = record.failures
    .filter((f) => f.subject.startsWith('secret '))
    .map((f) => ({ name: f.subject.slice('secret '.length), error: f.error }));
  const unknown = only.filter(
    (name) =>
      !payload.secrets.some((s) => s.name === name) && !missing.some((m) => m.name === name),
  );
  if (unknown.length > 0) throw new UnknownSecretError(runId, unknown);
  const chosen = payload.secrets.filter((s) => only.length === 0 || only.includes(s.name));
  const region = policy.regions[deps.site];
  const items = [
    ...(await Promise.all(chosen.map((secret) => planOne(deps.sm, secret)))),
    // What the export could not read is not in it: named, and the restore does not pass.
    ...missing
      .filter((m) => only.length === 0 || only.includes(m.name))
      .map(
        (m): RestoreItem => ({
          name: m.name,
          action: 'blocked',
          reason: `not in the export: the run could not read it (${m.error})`,
        }),
      ),
  ];
  return {
    runId,
    region,
    items,
    apply: async () => [
      ...(await Promise.all(
        chosen.map((secret, i) => applyOne(deps.sm, runId, secret, items[i] as RestoreItem)),
      )),
      ...items.slice(chosen.length).map((item): RestoreOutcome => ({ ...item, result: 'skipped' })),
    ],
  };
}

/**
 * The run's record, refused unless it is genuine and unbroken: every revision's MAC verifies
 * with the restoring region's key, none is signed for another run, overwritten or hidden, and
 * its place in the chain of export runs checks (the run it follows, and the run that follows it).
 */
async function checkedRecord(deps: RestoreDeps, policy: Policy, runId: string): Promise<RunRecord> {
  const { access, root } = ledgerAccessOf(deps);
  const ledger = await readLedger(access.s3, access.bucket, policy.name, 'export-secrets', root);
  if (!ledger.runs.has(runId)) throw new ManifestNotFoundError(manifestKey(policy.name, runId));
  const runs = runIdsOf(ledger);
  const next = runs[runs.indexOf(runId) + 1];
  const window = next ? [runId, next] : [runId];
  const records = await readRuns(access, ledger, window);
  for (const [id, r] of await readRuns(access, ledger, chainAnchors(ledger, window, records)))
    records.set(id, r);
  const record = records.get(runId) as RunRecord;
  const chains = chainChecks(ledger, window, records);
  const problems = [
    ...recordChecks(record),
    ...(chains.get(runId) ?? []),
    ...(next ? (chains.get(next) ?? []).filter((c) => c.reason.includes(runId)) : []),
  ].filter((c) => c.status === 'failed');
  if (problems.length > 0) {
    throw new RestoreRefusedError(
      `${runId}: ${problems.map((p) => `${p.artifact}: ${p.reason}`).join('; ')}; refusing to restore from it`,
    );
  }
  return record;
}

/** Where the run's records are read, and how they are judged. */
function ledgerAccessOf(deps: RestoreDeps): { access: LedgerReading; root: string } {
  if ('production' in deps.from) {
    const { s3, kms, vault } = deps.from.production;
    return {
      access: { s3, bucket: vault.bucket, kms, manifestKeyArn: vault.manifestKeys[deps.site] },
      root: '',
    };
  }
  const { s3, bucket, root } = deps.from.vaultAccount;
  return { access: { s3, bucket, macs: false }, root };
}

/** The vault account's copy of an export, opened with the vault's key as the vault. */
function openFromVaultAccount(copy: VaultAccountCopy, artifact: ExportArtifact) {
  return openExport(
    copy.s3,
    { ...artifact, bucket: copy.bucket, key: `${copy.root}${artifact.key}` },
    copy.keyArn,
    () => copy.kms,
  );
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
