import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { newManifest, SignedManifestSchema } from '../../shared/manifest/manifest.js';
import { runRecorder } from '../../shared/manifest/run-recorder.js';
import { slotOf } from '../../shared/naming/slot.js';
import { fixturePolicy } from './policy.js';
import { instanceSnapshot, lifeboatTags, type RegionState } from './rds-world.js';
import { type Bucket, TEST_VAULT } from './vault-world.js';

// The snapshot job's snapshots and records as the handlers' unit tests arrange them, in the
// simulated primary region (eu-central-1) and bucket of account 123456789012.

const PRIMARY = 'eu-central-1';
const ACCOUNT = '123456789012';

/** The instant a slot id names. */
export function timeOf(slot: string): Date {
  return new Date(
    `${slot.slice(0, 4)}-${slot.slice(4, 6)}-${slot.slice(6, 8)}T${slot.slice(8, 10)}:${slot.slice(10)}:00Z`,
  );
}

/** A Lifeboat snapshot of the given target, taken in an earlier slot, ready to be copied. */
export function earlierSnapshot(target: string, slot: string) {
  return instanceSnapshot(`lifeboat-${target}-${slot}`, PRIMARY, target, {
    SnapshotCreateTime: timeOf(slot),
    TagList: lifeboatTags(target, slot),
  });
}

/** The signed record of a run, as stored at its key (revision 1 unless told). */
export function storedRecord(bucket: Bucket, runId: string, revision = 1) {
  const key = `manifests/test-policy/${runId}${revision === 1 ? '' : `.${revision}`}.json`;
  const stored = bucket.get(key);
  return stored ? SignedManifestSchema.parse(JSON.parse(stored.body.toString('utf8'))) : undefined;
}

/** Records an earlier run of the slot as its delivery would have: the snapshots it holds. */
export async function recordEarlierRun(primary: RegionState, slot: string): Promise<void> {
  const recorder = runRecorder({
    s3: new S3Client({ region: PRIMARY }),
    kms: new KMSClient({ region: PRIMARY }),
    vault: TEST_VAULT,
    account: ACCOUNT,
  });
  const snapshots = primary.snapshots
    .filter((s) => s.DBSnapshotIdentifier?.endsWith(slot))
    .map((s) => ({
      arn: s.DBSnapshotArn ?? '',
      region: PRIMARY,
      kind: 'instance' as const,
      target: s.DBInstanceIdentifier ?? '',
      slot,
      engine: 'postgres',
      encrypted: true,
      kmsKeyId: null,
      createdAt: timeOf(slot).toISOString(),
    }));
  await recorder.record(
    newManifest(
      'snapshot-rds',
      slotOf(timeOf(slot)),
      fixturePolicy(),
      ACCOUNT,
      { snapshots },
      [],
      timeOf(slot),
    ),
  );
}
