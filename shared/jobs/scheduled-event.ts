import * as z from 'zod/mini';
import '../validation/zod.js';
import { fieldProblems } from '../validation/zod-issues.js';

const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * What EventBridge Scheduler sends Lifeboat's scheduled jobs: the tick's scheduled time, from
 * the `<aws.scheduler.scheduled-time>` context attribute. Two deliveries of one tick carry the
 * same time, which is what makes the jobs idempotent.
 */
export const ScheduledEventSchema = z.strictObject({
  scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }).check(
    // A tick from the future would let retention age snapshots early.
    z.refine((t) => Date.parse(t) <= Date.now() + FUTURE_TOLERANCE_MS, 'is in the future'),
  ),
});

export type ScheduledEvent = z.output<typeof ScheduledEventSchema>;

/** The event is not what the job accepts. Names each bad field. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** Parses an event against a strict schema, naming every bad field in the error. */
export function parseEvent<S extends z.ZodMiniType>(schema: S, event: unknown): z.output<S> {
  const result = schema.safeParse(event, { reportInput: true });
  if (result.success) return result.data;
  const problems = fieldProblems(result.error.issues).map(
    (p) => `${p.path || '(event)'}: ${p.message}`,
  );
  throw new InvalidEventError(`invalid event: ${problems.join('; ')}`);
}
