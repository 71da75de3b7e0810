import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import {
  type DrCopyArtifact,
  newManifest,
  type SnapshotArtifact,
} from '../../shared/manifest/manifest.js';
import { type RunRecorder, runRecorder } from '../../shared/manifest/run-recorder.js';
import { parseSlotId } from '../../shared/naming/slot.js';
import type { Policy } from '../../shared/policy/schema.js';
import { fixturePolicy } from './policy.js';
import { ACCOUNT, type RegionState } from './rds-world.js';
import { TEST_VAULT } from './vault-world.js';

/** A recorder writing to the simulated vault (simulateS3 and simulateKms must be in place). */
export function testRecorder(): RunRecorder {
  return runRecorder({
    s3: new S3Client({ region: 'eu-central-1' }),
    kms: new KMSClient({ region: 'eu-central-1' }),
    vault: TEST_VAULT,
    account: ACCOUNT,
  });
}

/**
 * Records, as the snapshot job's deliveries would have, every Lifeboat snapshot of the regions'
 * states (`lifeboat-<db>-<slot>`) in the signed record of its slot's run, with its DR copies.
 * Slots are recorded oldest first, so each record follows the one before.
 */
export async function recordSnapshotRuns(
  primary: RegionState,
  dr: RegionState,
  policy: Policy = fixturePolicy(),
): Promise<void> {
  const bySlot = new Map<string, { snapshots: SnapshotArtifact[]; drCopies: DrCopyArtifact[] }>();
  const entry = (slot: string) => {
    const found = bySlot.get(slot) ?? { snapshots: [], drCopies: [] };
    bySlot.set(slot, found);
    return found;
  };
  const all = [
    ...primary.snapshots.map((s) => ({
      region: policy.regions.primary,
      kind: 'instance' as const,
      id: s.DBSnapshotIdentifier ?? '',
      arn: s.DBSnapshotArn ?? '',
      db: s.DBInstanceIdentifier ?? '',
      key: s.KmsKeyId,
    })),
    ...primary.clusterSnapshots.map((s) => ({
      region: policy.regions.primary,
      kind: 'cluster' as const,
      id: s.DBClusterSnapshotIdentifier ?? '',
      arn: s.DBClusterSnapshotArn ?? '',
      db: s.DBClusterIdentifier ?? '',
      key: s.KmsKeyId,
    })),
    ...dr.snapshots.map((s) => ({
      region: policy.regions.dr,
      kind: 'instance' as const,
      id: s.DBSnapshotIdentifier ?? '',
      arn: s.DBSnapshotArn ?? '',
      db: s.DBInstanceIdentifier ?? '',
      key: s.KmsKeyId,
    })),
    ...dr.clusterSnapshots.map((s) => ({
      region: policy.regions.dr,
      kind: 'cluster' as const,
      id: s.DBClusterSnapshotIdentifier ?? '',
      arn: s.DBClusterSnapshotArn ?? '',
      db: s.DBClusterIdentifier ?? '',
      key: s.KmsKeyId,
    })),
  ];
  for (const s of all) {
    const slot = /^lifeboat-.+-(\d{12})$/.exec(s.id)?.[1];
    if (!slot) continue;
    if (s.region === policy.regions.primary) {
      entry(slot).snapshots.push({
        arn: s.arn,
        region: s.region,
        kind: s.kind,
        target: s.db,
        slot,
        engine: s.kind === 'instance' ? 'postgres' : 'aurora-postgresql',
        encrypted: true,
        kmsKeyId: s.key ?? null,
        createdAt: parseSlotId(slot)?.time.toISOString() ?? null,
      });
    } else {
      entry(slot).drCopies.push({
        arn: s.arn,
        sourceArn: s.arn.replace(`:${policy.regions.dr}:`, `:${policy.regions.primary}:`),
        region: s.region,
        kind: s.kind,
        target: s.db,
        slot,
        kmsKeyId: s.key ?? null,
        status: 'available',
      });
    }
  }
  const recorder = testRecorder();
  for (const [slotId, artifacts] of [...bySlot].sort(([a], [b]) => a.localeCompare(b))) {
    const slot = parseSlotId(slotId);
    if (!slot) continue;
    await recorder.record(
      newManifest('snapshot-rds', slot, policy, ACCOUNT, artifacts, [], slot.time),
    );
  }
}
