import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DrillReport } from '../drills/drill-report.js';

/** One drill, as the posture and its report show it. */
export interface DrillPoint {
  readonly drillId: string;
  readonly at: string;
  readonly succeeded: boolean;
  readonly outcome: DrillReport['outcome'];
  readonly restore: DrillReport['restore'];
  readonly rtoSeconds: number | null;
  readonly rpoSeconds: number | null;
}

type Reports = { readonly s3: S3Client; readonly bucket: string };

/** The drill reports' keys in the bucket, per database, oldest first (their names sort by time). */
async function drillReportKeys(
  reports: Reports,
  policyName: string,
): Promise<Map<string, string[]>> {
  const prefix = `drills/${policyName}/`;
  const keys = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const page = await reports.s3.send(
      new ListObjectsV2Command({
        Bucket: reports.bucket,
        Prefix: prefix,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) {
      // drills/<policy>/lb-drill-<target>-<yymmddhhmmss>/report.json
      const match = /\/lb-drill-(.+)-(\d{12})\/report\.json$/.exec(o.Key ?? '');
      if (!match?.[1] || !o.Key) continue;
      keys.set(match[1], [...(keys.get(match[1]) ?? []), o.Key]);
    }
    token = page.NextContinuationToken;
  } while (token);
  for (const list of keys.values()) list.sort();
  return keys;
}

async function readPoint(reports: Reports, key: string): Promise<DrillPoint> {
  const out = await reports.s3.send(new GetObjectCommand({ Bucket: reports.bucket, Key: key }));
  const report = JSON.parse((await out.Body?.transformToString()) ?? '{}') as Partial<DrillReport>;
  const succeeded = report.succeeded === true;
  return {
    drillId: report.drillId ?? key,
    at: report.startedAt ?? '',
    succeeded,
    // Reports written before drills knew their objectives have no outcome: their verdict is it.
    outcome: report.outcome ?? (succeeded ? 'passed' : 'failed'),
    restore: report.restore ?? 'snapshot',
    rtoSeconds: report.rtoSeconds ?? null,
    rpoSeconds: report.rpoSeconds ?? null,
  };
}

/** Reads keys a few at a time, keeping their order. */
async function readAll(reports: Reports, keys: readonly string[]): Promise<DrillPoint[]> {
  const points: DrillPoint[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      points[i] = await readPoint(reports, keys[i] as string);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
  return points;
}

/** The newest drill of each database. */
export async function lastDrills(
  reports: Reports,
  policyName: string,
): Promise<Map<string, DrillPoint>> {
  const keys = await drillReportKeys(reports, policyName);
  const targets = [...keys.keys()];
  const points = await readAll(
    reports,
    targets.map((t) => keys.get(t)?.at(-1) as string),
  );
  return new Map(targets.map((t, i) => [t, points[i] as DrillPoint]));
}

/** Every drill of each database, oldest first. */
export async function drillHistory(
  reports: Reports,
  policyName: string,
): Promise<Map<string, DrillPoint[]>> {
  const keys = [...(await drillReportKeys(reports, policyName))];
  const points = await readAll(
    reports,
    keys.flatMap(([, list]) => list),
  );
  const history = new Map<string, DrillPoint[]>();
  let at = 0;
  for (const [target, list] of keys) {
    history.set(target, points.slice(at, at + list.length));
    at += list.length;
  }
  return history;
}

/** The newest drill of each database, from its history. */
export function lastOf(
  history: ReadonlyMap<string, readonly DrillPoint[]>,
): Map<string, DrillPoint> {
  const last = new Map<string, DrillPoint>();
  for (const [target, points] of history) {
    const newest = points.at(-1);
    if (newest) last.set(target, newest);
  }
  return last;
}
