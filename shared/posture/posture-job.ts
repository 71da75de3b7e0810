import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobFailure } from '../alerts/failure-alert.js';
import { type DrVault, storeCopy } from '../manifest/dr-copy.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import { readAgeHistory } from './age-history.js';
import {
  type ContinuousProtectionDeps,
  enforceContinuousProtection,
  type ProtectionChange,
} from './continuous-protection.js';
import { type DrillPoint, drillHistory } from './drill-history.js';
import { missesObjective, type Posture, type PostureDeps, readPosture } from './posture.js';
import { type PostureReportData, renderPostureReport } from './report-page.js';

export interface PostureJobDeps extends ContinuousProtectionDeps, PostureDeps {
  /** Where the posture is published: the stack's bucket. */
  readonly store: { readonly s3: S3Client; readonly bucket: string };
  /** Where it is copied: the DR region's bucket, and the vault account's. */
  readonly copies?: readonly DrVault[];
  /** Where the posture's history is read: the metrics it published before. */
  readonly metrics: CloudWatchClient;
  readonly log: JobLog;
}

/** Days of restore-point age the report charts. */
export const REPORT_AGE_DAYS = 30;

/**
 * Everything the posture report shows: the posture now, every drill report of each database
 * (read once: the posture's last drills come from them), and each database's restore-point age
 * per region per day, from the metrics published before.
 */
export async function readReportData(
  deps: PostureDeps & { readonly metrics: CloudWatchClient },
  policy: Policy,
  now: Date,
): Promise<PostureReportData> {
  const history = await drillHistory(deps.reports, policy.name);
  const posture = await readPosture(deps, policy, now, history);
  return reportData(posture, history, await readAges(deps.metrics, posture, now));
}

/** Each database's restore-point age in both regions, per day of the report's window. */
function readAges(metrics: CloudWatchClient, posture: Posture, now: Date) {
  const series = posture.databases.flatMap((d) =>
    [d.primary.region, d.dr.region].map((region) => ({ target: d.identifier, region })),
  );
  return readAgeHistory(metrics, series, now, REPORT_AGE_DAYS);
}

function reportData(
  posture: Posture,
  history: ReadonlyMap<string, readonly DrillPoint[]>,
  ages: PostureReportData['ages'],
): PostureReportData {
  return {
    posture,
    drills: Object.fromEntries(
      posture.databases.map((d) => [d.identifier, history.get(d.identifier) ?? []]),
    ),
    ages,
    ageDays: REPORT_AGE_DAYS,
  };
}

export interface PostureJobResult {
  readonly posture: Posture;
  readonly changes: readonly ProtectionChange[];
  /** Databases that miss an objective now. */
  readonly missed: readonly string[];
  /** Where the posture went: its data, and the page for people. */
  readonly keys: { readonly json: string; readonly html: string };
  readonly failures: readonly JobFailure[];
}

/** Where the posture of a policy is published in the bucket. */
export const postureKey = (policyName: string, name: 'posture.json' | 'posture.html') =>
  `reports/${policyName}/${name}`;

/**
 * The posture job: brings continuous backups up to each tier where the policy enforces them,
 * then measures every database against its objectives and publishes the posture. A database
 * that misses an objective is counted (its alarm fires), not a failure of the run: the run did
 * its work.
 */
export async function runPostureJob(
  deps: PostureJobDeps,
  policy: Policy,
  now: Date,
): Promise<PostureJobResult> {
  const { changes, failures } = await enforceContinuousProtection(deps, policy);
  for (const change of changes) deps.log.info('continuous backups', { ...change });
  const history = await drillHistory(deps.reports, policy.name);
  const posture = await readPosture(deps, policy, now, history);
  const missed = posture.databases.filter(missesObjective).map((d) => d.identifier);
  const json = postureKey(policy.name, 'posture.json');
  const html = postureKey(policy.name, 'posture.html');
  const all: JobFailure[] = [...failures];
  const put = async (key: string, body: string, contentType: string) => {
    try {
      await deps.store.s3.send(
        new PutObjectCommand({
          Bucket: deps.store.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
        }),
      );
    } catch (error) {
      all.push({ subject: `the posture report ${key}`, error: errorSummary(error) });
    }
    for (const site of deps.copies ?? []) {
      try {
        await storeCopy(site, key, Buffer.from(body), { once: false, contentType });
      } catch (error) {
        all.push({
          subject: `${site.label ?? 'the DR region'}'s copy of the posture report ${key}`,
          error: errorSummary(error),
        });
      }
    }
  };
  let ages: PostureReportData['ages'] = [];
  try {
    ages = await readAges(deps.metrics, posture, now);
  } catch (error) {
    // The posture stands without its age history: publish it, and say what is missing.
    all.push({ subject: 'the posture history', error: errorSummary(error) });
  }
  const data = reportData(posture, history, ages);
  await put(json, `${JSON.stringify({ ...data, changes }, null, 2)}\n`, 'application/json');
  await put(html, renderPostureReport(data), 'text/html; charset=utf-8');
  return { posture, changes, missed, keys: { json, html }, failures: all };
}
