import * as z from 'zod/mini';
import '../validation/zod.js';
import { CLOCK_SKEW_MS } from '../naming/slot.js';
import { parseDuration, subtractDuration } from '../policy/duration.js';
import { InvalidEventError, parseEvent } from '../validation/parse-event.js';

/**
 * What EventBridge Scheduler sends Lifeboat's scheduled jobs: the tick's scheduled time, from
 * the `<aws.scheduler.scheduled-time>` context attribute. Two deliveries of one tick carry the
 * same time, which is what makes the jobs idempotent.
 */
export const ScheduledEventSchema = z.strictObject({
  scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }).check(
    // A tick from the future would let retention age snapshots early.
    z.refine((t) => Date.parse(t) <= Date.now() + CLOCK_SKEW_MS, 'is in the future'),
  ),
});

export type ScheduledEvent = z.output<typeof ScheduledEventSchema>;

/**
 * Why a scheduled time cannot be acted on: in the future beyond the tolerance, or older than the
 * policy's lookback (a tick that late, or a forged one, would act on a schedule long past).
 * Undefined when it is fine.
 */
export function scheduledTimeProblem(time: Date, lookback: string, now: Date): string | undefined {
  if (Number.isNaN(time.getTime())) return 'is not a date-time';
  if (time.getTime() > now.getTime() + CLOCK_SKEW_MS) return 'is in the future';
  const oldest = subtractDuration(
    now,
    parseDuration(lookback) ?? { years: 0, months: 0, days: 7, hours: 0 },
  );
  if (time < oldest) {
    return `is older than the policy's verification lookback (${lookback}); a run that late is not acted on`;
  }
  return undefined;
}

/**
 * The scheduled time of a Scheduler event, refused when malformed, in the future, or older than
 * the policy's lookback.
 */
export function parseScheduledEvent(event: unknown, lookback: string, now = new Date()): Date {
  const { scheduledTime } = parseEvent(ScheduledEventSchema, event);
  const time = new Date(scheduledTime);
  const problem = scheduledTimeProblem(time, lookback, now);
  if (problem) throw new InvalidEventError(`invalid event: scheduledTime: ${problem}`);
  return time;
}
