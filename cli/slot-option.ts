import { scheduledTimeProblem } from '../shared/jobs/scheduled-event.js';
import type { Policy } from '../shared/policy/schema.js';
import { UsageError } from './cli-errors.js';

/**
 * The time a command runs a scheduled job as: `--slot`, or now. Refused as the scheduled jobs
 * refuse their events: not a date-time, in the future, or older than the policy's lookback.
 */
export function slotTime(
  text: string | undefined,
  policy: Pick<Policy, 'verification'>,
  now = new Date(),
): Date {
  if (text === undefined) return now;
  const at = new Date(text);
  const problem = Number.isNaN(at.getTime())
    ? 'not a date-time (use ISO 8601, e.g. 2026-11-21T03:00:00Z)'
    : scheduledTimeProblem(at, policy.verification.lookback, now);
  if (problem) throw new UsageError(`--slot ${text}: ${problem}`);
  return at;
}
