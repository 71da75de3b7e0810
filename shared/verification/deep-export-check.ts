import type { S3Client } from '@aws-sdk/client-s3';
import type { ExportArtifact } from '../manifest/manifest.js';
import type { RunRecord } from '../manifest/manifest-ledger.js';
import type { ArtifactCheck } from '../manifest/record-checks.js';
import { errorSummary } from '../observability/job-log.js';
import { openExport } from '../secrets/open-export.js';
import type { DeepExportCheck } from './verify-run.js';

/**
 * The deep check of `lifeboat verify --deep`: downloads each export, decrypts it with the given
 * region's data key (the DR replica proves the DR region can read it alone), and compares the
 * secrets inside with the manifest's inventory. Values are never part of a result.
 */
export function deepExportCheck(
  s3: S3Client,
  dataKeyArn: string,
  bucket?: string,
): DeepExportCheck {
  return async (
    record: Pick<RunRecord, 'runId' | 'artifacts'>,
    recorded: ExportArtifact,
  ): Promise<ArtifactCheck[]> => {
    // Read where this vault copy holds it (the DR region's bucket, when verifying there).
    const artifact = bucket ? { ...recorded, bucket } : recorded;
    const name = `s3://${artifact.bucket}/${artifact.key}`;
    let payload: Awaited<ReturnType<typeof openExport>>;
    try {
      payload = await openExport(s3, artifact, dataKeyArn);
    } catch (error) {
      return [
        {
          kind: 'secrets',
          artifact: name,
          status: 'failed',
          reason: `cannot be opened: ${errorSummary(error)}`,
        },
      ];
    }
    const entry = (s: { name: string; arn: string; versionId: string }) =>
      `${s.name} ${s.arn} ${s.versionId}`;
    const inside = new Set(payload.secrets.map(entry));
    const listed = new Set(record.artifacts.secrets.map(entry));
    const missing = [...listed].filter((e) => !inside.has(e)).map((e) => e.split(' ')[0]);
    const extra = [...inside].filter((e) => !listed.has(e)).map((e) => e.split(' ')[0]);
    if (payload.runId !== record.runId) {
      return [
        {
          kind: 'secrets',
          artifact: name,
          status: 'failed',
          reason: `holds run ${payload.runId}, not ${record.runId}`,
        },
      ];
    }
    if (missing.length + extra.length > 0) {
      return [
        {
          kind: 'secrets',
          artifact: name,
          status: 'failed',
          reason: `secret inventory differs from the manifest: missing ${missing.join(', ') || 'none'}; not listed ${extra.join(', ') || 'none'}`,
        },
      ];
    }
    return [
      {
        kind: 'secrets',
        artifact: name,
        status: 'passed',
        reason: `decrypted with ${dataKeyArn}; ${payload.secrets.length} secrets match the manifest`,
      },
    ];
  };
}
