/** Tag keys Lifeboat writes on what it creates and reads back to decide what it may touch. */
export const TAG = {
  managed: 'lifeboat:managed',
  policy: 'lifeboat:policy',
  slot: 'lifeboat:slot',
  target: 'lifeboat:target',
  source: 'lifeboat:source',
  legalHold: 'lifeboat:legal-hold',
  verifiedAt: 'lifeboat:verified-at',
} as const;

export interface Tag {
  Key: string;
  Value: string;
}

/** Turns an SDK tag list into a map; later duplicates win, as they cannot occur on AWS. */
export function tagMap(
  tags: readonly { Key?: string; Value?: string }[] | undefined,
): Map<string, string> {
  const map = new Map<string, string>();
  for (const t of tags ?? []) if (t.Key !== undefined) map.set(t.Key, t.Value ?? '');
  return map;
}

/** A legal hold is any value but an explicit "false". */
export function isLegalHold(tags: ReadonlyMap<string, string>): boolean {
  const value = tags.get(TAG.legalHold);
  return value !== undefined && value.toLowerCase() !== 'false';
}

/** The drill's tag: the janitor and teardown delete nothing without it. */
export const DRILL_TAG = 'lifeboat:drill';
/** Drill databases are named lb-drill-*: IAM lets teardown and the janitor delete no other. */
export const DRILL_PREFIX = 'lb-drill';
export const DRILL_STARTED_TAG = 'lifeboat:drill-started';
/** The snapshot a drill database was restored from. */
export const DRILL_RESTORED_FROM_TAG = 'lifeboat:restored-from';
