import type { S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { JobFailure } from '../alerts/failure-alert.js';
import { encryptMessage } from '../crypto/envelope.js';
import { type DrVault, ensureDrCopies, storeCopy } from '../manifest/dr-copy.js';
import {
  type ExportArtifact,
  newManifest,
  type SecretEntry,
  sha256Hex,
} from '../manifest/manifest.js';
import { objectExists, storeObject } from '../manifest/manifest-store.js';
import type { RecordOutcome, RunRecorder } from '../manifest/run-recorder.js';
import { recordRun } from '../manifest/run-recorder.js';
import { exportKey, manifestKey, runIdOf } from '../naming/run-ids.js';
import type { Slot } from '../naming/slot.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import type { Vault } from '../vault/vault.js';
import { EXPORT_FORMAT, type ExportedSecret, encodePayload } from './export-payload.js';
import { type SelectedSecret, selectSecrets } from './secret-selection.js';

/** BatchGetSecretValue reads at most 20 secrets a call. */
const BATCH = 20;

export const EXPORT_PURPOSE = 'lifeboat-secrets-export';

export interface ExportJobDeps {
  /** Secrets Manager in the primary region. */
  readonly sm: SecretsManagerClient;
  readonly s3: S3Client;
  readonly vault: Vault;
  readonly recorder: RunRecorder;
  readonly log: JobLog;
  /** The DR region's copy of the vault: the export is written there too. */
  readonly dr?: DrVault;
}

export interface ExportJobResult {
  readonly runId: string;
  /** already-exists: an earlier delivery of this slot wrote the export; nothing new was written. */
  readonly outcome: 'written' | 'already-exists';
  readonly exported: number;
  readonly export: ExportArtifact | undefined;
  readonly manifest: RecordOutcome | 'not-written';
  /** Secrets that could not be read, and anything else that failed; never a value. */
  readonly failures: readonly JobFailure[];
}

/** The encryption context bound to a run's export. */
export function exportContext(
  policy: Pick<Policy, 'name' | 'regions'>,
  account: string,
  runId: string,
) {
  return {
    purpose: EXPORT_PURPOSE,
    account,
    region: policy.regions.primary,
    run: runId,
    policy: policy.name,
  };
}

/**
 * One scheduled export: every selected secret read in batches of 20, encrypted as one message
 * with one data key (usable in either region), written once to the backup bucket, and listed in
 * a signed manifest. A second delivery of the same slot finds the export and writes nothing.
 */
export async function runExportJob(
  deps: ExportJobDeps,
  policy: Policy,
  slot: Slot,
  now = new Date(),
): Promise<ExportJobResult> {
  const runId = runIdOf('export-secrets', slot);
  const key = exportKey(policy.name, slot);
  const failures: JobFailure[] = [];
  if (await objectExists(deps.s3, deps.vault.bucket, key)) {
    const manifest = (await objectExists(
      deps.s3,
      deps.vault.bucket,
      manifestKey(policy.name, runId),
    ))
      ? 'already-recorded'
      : 'not-written';
    if (manifest === 'not-written') {
      failures.push({
        subject: `manifest of ${runId}`,
        error: 'the export exists but its manifest does not',
      });
    }
    // An earlier delivery wrote them; each copy gets what it lacks, as the primary holds it.
    await copyExport(deps, key, failures, (site) =>
      ensureDrCopies({ s3: deps.s3, bucket: deps.vault.bucket }, site, [key]),
    );
    if (manifest === 'already-recorded') {
      try {
        await deps.recorder.copyRunToDr(policy.name, 'export-secrets', runId);
      } catch (error) {
        failures.push({ subject: `copies of ${runId}'s record`, error: errorSummary(error) });
      }
    }
    return { runId, outcome: 'already-exists', exported: 0, export: undefined, manifest, failures };
  }

  const selected = await selectSecrets(deps.sm, policy.secrets ?? {});
  if (selected.length === 0 && !policy.secrets?.allowEmpty) {
    failures.push({
      subject: 'the selection',
      error: `no secret matches secrets.namePrefixes / secrets.tags in ${policy.regions.primary}; set secrets.allowEmpty: true if that is expected`,
    });
  }
  const secrets = await readSecrets(deps.sm, selected, failures);
  deps.log.info('secrets read', {
    selected: selected.length,
    read: secrets.length,
    failed: failures.length,
  });

  const context = exportContext(policy, deps.recorder.account, runId);
  const plaintext = encodePayload({
    format: EXPORT_FORMAT,
    runId,
    policy: policy.name,
    region: policy.regions.primary,
    exportedAt: now.toISOString(),
    secrets,
  });
  let ciphertext: Buffer;
  try {
    // Its data key is encrypted for both regions' data keys and, with a vault bucket, for the
    // vault account's key too: the vault can open its copy with production's keys gone.
    ciphertext = await encryptMessage(
      plaintext,
      deps.vault.dataKeys.primary,
      [
        deps.vault.dataKeys.dr,
        ...(policy.vault?.bucket && deps.recorder.vaultCopy ? [policy.vault.kmsKeyArn] : []),
      ],
      context,
    );
  } finally {
    plaintext.fill(0);
  }
  const written = await storeObject(deps.s3, deps.vault.bucket, key, ciphertext, {
    once: true,
    kmsKeyId: deps.vault.dataKeys.primary,
  });
  if (written === 'already-exists') {
    // An earlier delivery wrote it; each copy gets the one it wrote, if it lacks it.
    await copyExport(deps, key, failures, (site) =>
      ensureDrCopies({ s3: deps.s3, bucket: deps.vault.bucket }, site, [key]),
    );
    return {
      runId,
      outcome: 'already-exists',
      exported: 0,
      export: undefined,
      manifest: 'already-recorded',
      failures,
    };
  }
  const artifact: ExportArtifact = {
    bucket: deps.vault.bucket,
    key,
    size: ciphertext.byteLength,
    sha256: sha256Hex(ciphertext),
    kmsKeyId: deps.vault.dataKeys.primary,
    encryptionContext: context,
  };
  const inventory: SecretEntry[] = secrets.map((s) => ({
    name: s.name,
    arn: s.arn,
    versionId: s.versionId,
  }));
  const { manifest } = await recordRun(
    deps.recorder,
    newManifest(
      'export-secrets',
      slot,
      policy,
      deps.recorder.account,
      { exports: [artifact], secrets: inventory },
      failures.map((f) => ({ ...f, resolvedBy: null })),
      now,
    ),
    failures,
  );
  // The same bytes in the DR region, under its replica of the data key, and in the vault
  // account's bucket. A copy that fails is the run's failure (it alerts), not the record's:
  // verification judges the DR copy by itself.
  await copyExport(deps, key, failures, (site) => storeCopy(site, key, ciphertext, { once: true }));
  return {
    runId,
    outcome: 'written',
    exported: secrets.length,
    export: artifact,
    manifest,
    failures,
  };
}

/** Writes the export to each copy of the vault (the DR region's, the vault account's). */
async function copyExport(
  deps: ExportJobDeps,
  key: string,
  failures: JobFailure[],
  copy: (site: DrVault) => Promise<unknown>,
): Promise<void> {
  const sites = [
    { site: deps.dr, subject: `DR copy of ${key}` },
    { site: deps.recorder.vaultCopy, subject: `vault account copy of ${key}` },
  ];
  for (const { site, subject } of sites) {
    if (!site) continue;
    try {
      await copy(site);
    } catch (error) {
      failures.push({ subject, error: errorSummary(error) });
    }
  }
}

/** Reads the selected secrets' current values, 20 a call; a secret that fails is reported. */
async function readSecrets(
  sm: SecretsManagerClient,
  selected: readonly SelectedSecret[],
  failures: JobFailure[],
): Promise<ExportedSecret[]> {
  const byArn = new Map(selected.map((s) => [s.arn, s]));
  const out: ExportedSecret[] = [];
  for (let start = 0; start < selected.length; start += BATCH) {
    const batch = selected.slice(start, start + BATCH);
    try {
      const result = await sm.send(
        new BatchGetSecretValueCommand({ SecretIdList: batch.map((s) => s.arn) }),
      );
      for (const value of result.SecretValues ?? []) {
        const meta = byArn.get(value.ARN ?? '');
        out.push({
          name: value.Name ?? meta?.name ?? '',
          arn: value.ARN ?? '',
          versionId: value.VersionId ?? '',
          description: meta?.description ?? null,
          tags: [...(meta?.tags ?? [])],
          string: value.SecretString ?? null,
          binary: value.SecretBinary ? Buffer.from(value.SecretBinary).toString('base64') : null,
        });
      }
      for (const error of result.Errors ?? []) {
        const name = byArn.get(error.SecretId ?? '')?.name ?? error.SecretId ?? 'unknown secret';
        failures.push({
          subject: `secret ${name}`,
          error: `${error.ErrorCode}: ${error.Message ?? ''}`.trim(),
        });
      }
    } catch (error) {
      for (const s of batch)
        failures.push({ subject: `secret ${s.name}`, error: errorSummary(error) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
