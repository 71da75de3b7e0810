import { createHash } from 'node:crypto';
import { AddTagsToResourceCommand, RemoveTagsFromResourceCommand } from '@aws-sdk/client-rds';
import * as z from 'zod/mini';
import '../validation/zod.js';
import type { RegionalRds } from '../aws/clients.js';
import { mapWithLimit } from '../aws/concurrency.js';
import { DrCopyError, type DrVault, storeCopy } from '../manifest/dr-copy.js';
import { ManifestSignatureSchema } from '../manifest/manifest.js';
import type { LedgerAccess } from '../manifest/manifest-ledger.js';
import { checkDocument, signDocument } from '../manifest/manifest-signing.js';
import { getVersionBytes, listVersions, storeObject } from '../manifest/manifest-store.js';
import { TAG } from '../naming/tags.js';
import { errorSummary } from '../observability/job-log.js';
import type { SnapshotRecord } from '../rds/snapshots.js';

/**
 * Legal holds, as signed records in the vault. A hold is placed by a tag (anyone may add one: the
 * safe direction) or by `lifeboat hold place`; it is lifted only by `lifeboat hold release`, which
 * signs the release. A tag removed or changed lifts nothing: the signed placement stands.
 */
export const HOLD_FORMAT = 'lifeboat-hold/1';

const HoldRecordSchema = z.strictObject({
  format: z.literal(HOLD_FORMAT),
  policy: z.string(),
  account: z.string(),
  snapshotArn: z.string(),
  action: z.enum(['place', 'release']),
  at: z.iso.datetime({ offset: true }),
  /** tag: found carrying the hold tag; command: placed or released with `lifeboat hold`. */
  by: z.enum(['tag', 'command']),
  reason: z.string().check(z.maxLength(1024)),
});

const SignedHoldSchema = z.strictObject({
  hold: HoldRecordSchema,
  signature: ManifestSignatureSchema,
});

export type HoldRecord = z.output<typeof HoldRecordSchema>;

/** The holds of a policy: the latest signed word on each snapshot, and records that failed. */
export interface HoldBook {
  /** Snapshots under hold, with the record that placed it. */
  readonly held: ReadonlyMap<string, HoldRecord>;
  /** Snapshots whose hold a signed release lifted, with that release. */
  readonly released: ReadonlyMap<string, HoldRecord>;
  /** Stored hold records that are not genuine (altered, unsigned, unreadable): none is trusted. */
  readonly problems: readonly { readonly key: string; readonly reason: string }[];
}

export function holdPrefix(policyName: string): string {
  return `holds/${policyName}/`;
}

/** One object per record: `holds/<policy>/<snapshot hash>/<time>-<action>.json`. */
export function holdKey(record: HoldRecord): string {
  const snapshot = createHash('sha256').update(record.snapshotArn).digest('hex').slice(0, 16);
  const at = record.at.replace(/[-:.]/g, '');
  return `${holdPrefix(record.policy)}${snapshot}/${at}-${record.action}.json`;
}

/**
 * Reads every version of every hold record (a deleted or overwritten record still counts as first
 * written; only signed records count at all), and settles each snapshot's hold: the latest
 * record wins, and of two at one instant the placement.
 */
export async function readHolds(access: LedgerAccess, policyName: string): Promise<HoldBook> {
  const versions = await listVersions(access.s3, access.bucket, holdPrefix(policyName));
  const stored = [...versions].flatMap(([key, { versions: ids }]) =>
    ids.map((versionId) => ({ key, versionId })),
  );
  const problems: { key: string; reason: string }[] = [];
  const records = await mapWithLimit(stored, 16, async ({ key, versionId }) => {
    try {
      const bytes = await getVersionBytes(access.s3, access.bucket, key, versionId);
      const parsed = SignedHoldSchema.safeParse(
        bytes ? JSON.parse(Buffer.from(bytes).toString('utf8')) : undefined,
      );
      if (!parsed.success) {
        problems.push({ key, reason: 'altered: not a Lifeboat hold record' });
        return undefined;
      }
      const check = await checkDocument(
        access.kms,
        access.manifestKeyArn,
        parsed.data.hold,
        parsed.data.signature,
      );
      if (!check.valid || parsed.data.hold.policy !== policyName) {
        problems.push({ key, reason: check.valid ? 'of another policy' : check.reason });
        return undefined;
      }
      return parsed.data.hold;
    } catch (error) {
      problems.push({ key, reason: `could not be read: ${errorSummary(error)}` });
      return undefined;
    }
  });
  const latest = new Map<string, HoldRecord>();
  for (const record of records) {
    if (!record) continue;
    const seen = latest.get(record.snapshotArn);
    const later =
      !seen ||
      record.at > seen.at ||
      (record.at === seen.at && record.action === 'place' && seen.action === 'release');
    if (later) latest.set(record.snapshotArn, record);
  }
  const held = new Map<string, HoldRecord>();
  const released = new Map<string, HoldRecord>();
  for (const [arn, record] of latest)
    (record.action === 'place' ? held : released).set(arn, record);
  return { held, released, problems };
}

/** Signs and stores a hold record, once (the key names its time and action). */
export async function writeHold(
  access: LedgerAccess & {
    readonly dataKeyArn: string;
    readonly dr?: DrVault | undefined;
    readonly vaultCopy?: DrVault | undefined;
  },
  record: HoldRecord,
): Promise<void> {
  const signature = await signDocument(access.kms, access.manifestKeyArn, record);
  const body = Buffer.from(`${JSON.stringify({ hold: record, signature }, null, 2)}\n`);
  const key = holdKey(record);
  const extra = { once: true, contentType: 'application/json', ownKmsContext: true } as const;
  await storeObject(access.s3, access.bucket, key, body, { ...extra, kmsKeyId: access.dataKeyArn });
  // The DR region's copy of the vault holds it too (a hold must stand wherever retention runs),
  // and the vault account's.
  for (const site of [access.dr, access.vaultCopy]) {
    if (!site) continue;
    try {
      await storeCopy(site, key, body, extra);
    } catch (error) {
      throw new DrCopyError(key, errorSummary(error), site.label);
    }
  }
}

/** What `lifeboat hold place` and `release` need: the vault, and RDS of the snapshot's region. */
export interface HoldDeps {
  readonly access: LedgerAccess & { readonly dataKeyArn: string };
  readonly account: string;
  readonly rds: RegionalRds;
}

/**
 * Places a legal hold: the tag for people (and IAM), and a signed placement that outlives it.
 * Returns the record written.
 */
export async function placeHold(
  deps: HoldDeps,
  policyName: string,
  snapshot: Pick<SnapshotRecord, 'arn'>,
  reason: string,
  now: Date,
): Promise<HoldRecord> {
  const record = holdRecord(deps, policyName, snapshot.arn, 'place', reason, now);
  await writeHold(deps.access, record);
  await deps.rds.client.send(
    new AddTagsToResourceCommand({
      ResourceName: snapshot.arn,
      Tags: [{ Key: TAG.legalHold, Value: tagValue(reason) }],
    }),
  );
  return record;
}

/**
 * Lifts a legal hold: the signed release first, then the tag (a tag left behind would hold the
 * snapshot still). Returns the record written.
 */
export async function releaseHold(
  deps: HoldDeps,
  policyName: string,
  snapshot: Pick<SnapshotRecord, 'arn' | 'tags'>,
  reason: string,
  now: Date,
): Promise<HoldRecord> {
  const record = holdRecord(deps, policyName, snapshot.arn, 'release', reason, now);
  await writeHold(deps.access, record);
  if (snapshot.tags.has(TAG.legalHold)) {
    await deps.rds.client.send(
      new RemoveTagsFromResourceCommand({ ResourceName: snapshot.arn, TagKeys: [TAG.legalHold] }),
    );
  }
  return record;
}

function holdRecord(
  deps: Pick<HoldDeps, 'account'>,
  policy: string,
  snapshotArn: string,
  action: HoldRecord['action'],
  reason: string,
  now: Date,
): HoldRecord {
  return {
    format: HOLD_FORMAT,
    policy,
    account: deps.account,
    snapshotArn,
    action,
    at: now.toISOString(),
    by: 'command',
    reason: reason.slice(0, 1024),
  };
}

// Tag values allow letters, digits, spaces and _.:/=+-@ up to 256 characters.
function tagValue(reason: string): string {
  return reason.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, ' ').slice(0, 256) || 'held';
}
