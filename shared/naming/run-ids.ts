import type { Slot } from './slot.js';

/**
 * The names of runs and of what they store: run ids, and the keys of records, verification
 * records and exports in the backup bucket. Derived from the job, the slot and the policy's name
 * alone, so that every delivery of a slot names the same things.
 */

/** The job that produced a run. */
export type ProducingJob = 'snapshot-rds' | 'export-secrets' | 'enforce-retention';

const RUN_PREFIX: Record<ProducingJob, string> = {
  'snapshot-rds': 'snapshots',
  'export-secrets': 'secrets',
  'enforce-retention': 'retention',
};

/** The run id of a job's run in a slot, e.g. `secrets-202611210200`. */
export function runIdOf(job: ProducingJob, slot: Slot): string {
  return `${RUN_PREFIX[job]}-${slot.id}`;
}

/** The prefix every run id of a job starts with, e.g. `snapshots-`. */
export function runIdPrefix(job: ProducingJob): string {
  return `${RUN_PREFIX[job]}-`;
}

/** The job and slot id a run id names, or undefined when it is not a run id. */
export function parseRunId(runId: string): { job: ProducingJob; slotId: string } | undefined {
  const match = /^(snapshots|secrets|retention)-(\d{12})$/.exec(runId);
  if (!match) return undefined;
  const job = (Object.keys(RUN_PREFIX) as ProducingJob[]).find((j) => RUN_PREFIX[j] === match[1]);
  return job ? { job, slotId: match[2] as string } : undefined;
}

/** Where manifests of a policy live: one predictable prefix. */
export function manifestPrefix(policyName: string): string {
  return `manifests/${policyName}/`;
}

/**
 * Where a revision of a run's record is stored: `<runId>.json` for the first, `<runId>.<n>.json`
 * for the n-th.
 */
export function manifestKey(policyName: string, runId: string, revision = 1): string {
  return `${manifestPrefix(policyName)}${runId}${revision === 1 ? '' : `.${revision}`}.json`;
}

/** The run and revision a key under the manifest prefix stores, or undefined when it is stray. */
export function parseManifestKey(
  policyName: string,
  key: string,
): { runId: string; job: ProducingJob; slotId: string; revision: number } | undefined {
  const prefix = manifestPrefix(policyName);
  if (!key.startsWith(prefix)) return undefined;
  const match = /^([a-z]+-\d{12})(?:\.([2-9]|[1-9]\d{1,3}))?\.json$/.exec(key.slice(prefix.length));
  const run = match ? parseRunId(match[1] as string) : undefined;
  if (!match || !run) return undefined;
  return { runId: match[1] as string, ...run, revision: match[2] ? Number(match[2]) : 1 };
}

/** Verification records live apart from the signed run records, one per run. */
export function verificationKey(policyName: string, runId: string): string {
  return `verifications/${policyName}/${runId}.json`;
}

/** Where a run's exports live; anything else under it is an artifact the manifest does not list. */
export function exportPrefix(policyName: string, slot: Slot): string {
  return `exports/${policyName}/${slot.id}/`;
}

/** The object key of a slot's export. */
export function exportKey(policyName: string, slot: Slot): string {
  return `${exportPrefix(policyName, slot)}secrets.esdk`;
}

/** Where the pipeline notes the slots it has settled: each snapshot through every step. */
export function settledPrefix(policyName: string): string {
  return `pipeline/${policyName}/settled/`;
}

/** The note that a slot is settled: nothing of it is left to copy, share or unshare. */
export function settledKey(policyName: string, slotId: string): string {
  return `${settledPrefix(policyName)}${slotId}.json`;
}
