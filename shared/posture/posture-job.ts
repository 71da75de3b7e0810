import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobFailure } from '../alerts/failure-alert.js';
import { errorSummary, type JobLog } from '../observability/job-log.js';
import type { Policy } from '../policy/schema.js';
import {
  type ContinuousProtectionDeps,
  enforceContinuousProtection,
  type ProtectionChange,
} from './continuous-protection.js';
import { type Posture, type PostureDeps, readPosture } from './posture.js';

export interface PostureJobDeps extends ContinuousProtectionDeps, PostureDeps {
  /** Where the posture is published: the stack's bucket. */
  readonly store: { readonly s3: S3Client; readonly bucket: string };
  readonly log: JobLog;
}

export interface PostureJobResult {
  readonly posture: Posture;
  readonly changes: readonly ProtectionChange[];
  /** Databases that miss an objective now. */
  readonly missed: readonly string[];
  /** Where the posture went. */
  readonly keys: { readonly json: string };
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
  const posture = await readPosture(deps, policy, now);
  const missed = posture.databases
    .filter((d) => d.holds.rpo === false || d.holds.rto === false || d.holds.verified === false)
    .map((d) => d.identifier);
  const json = postureKey(policy.name, 'posture.json');
  const all: JobFailure[] = [...failures];
  try {
    await deps.store.s3.send(
      new PutObjectCommand({
        Bucket: deps.store.bucket,
        Key: json,
        Body: `${JSON.stringify({ ...posture, changes }, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    all.push({ subject: `the posture report ${json}`, error: errorSummary(error) });
  }
  return { posture, changes, missed, keys: { json }, failures: all };
}
