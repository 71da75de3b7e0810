import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { storeObject } from '../manifest/manifest-store.js';
import { settledKey, settledPrefix } from '../naming/run-ids.js';
import type { Slot } from '../naming/slot.js';

/**
 * The slots the pipeline has settled: every snapshot of the slot through every step (copied to
 * the DR region and the vault, no longer shared), or past its copy deadline with nothing in
 * flight. A settled slot is not looked at again, so a pass costs nothing for it, and retention
 * deleting one of its copies never causes a second copy. A note lost only costs a second look.
 */
export interface SettledSlots {
  /** The ids of the slots settled from `since` on. */
  since(since: Slot): Promise<Set<string>>;
  /** Notes a slot settled, with what it holds (written once). */
  settle(slot: Slot, summary: SettledSummary): Promise<void>;
}

/** What a settled slot's note says. */
export interface SettledSummary {
  readonly settledAt: string;
  readonly snapshots: number;
  readonly drCopies: number;
  readonly vaultCopies: number;
  /** Why some snapshot has no copy: each named with its reason. */
  readonly without: readonly string[];
}

/** The notes in the backup bucket, under pipeline/<policy>/settled/, encrypted with its key. */
export function settledSlotsIn(
  s3: S3Client,
  bucket: string,
  policyName: string,
  kmsKeyId: string,
): SettledSlots {
  const prefix = settledPrefix(policyName);
  return {
    async since(since) {
      const ids = new Set<string>();
      // The keys sort by slot: listing starts at the oldest slot asked for.
      const startAfter = `${prefix}${since.id.slice(0, -1)}`;
      for await (const page of paginateListObjectsV2(
        { client: s3 },
        { Bucket: bucket, Prefix: prefix, StartAfter: startAfter },
      )) {
        for (const o of page.Contents ?? []) {
          const id = /(\d{12})\.json$/.exec(o.Key ?? '')?.[1];
          if (id && id >= since.id) ids.add(id);
        }
      }
      return ids;
    },
    async settle(slot, summary) {
      const body = Buffer.from(`${JSON.stringify({ slot: slot.id, ...summary }, null, 2)}\n`);
      await storeObject(s3, bucket, settledKey(policyName, slot.id), body, {
        once: true,
        contentType: 'application/json',
        kmsKeyId,
        ownKmsContext: true,
      });
    },
  };
}
