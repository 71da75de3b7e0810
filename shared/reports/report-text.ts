import * as z from 'zod/mini';
import '../validation/zod.js';

/** An error a Catch recorded in the state: Step Functions' Error and Cause. */
export const CaughtSchema = z.object({
  Error: z.string(),
  Cause: z.optional(z.nullable(z.string())),
});

export type Caught = z.output<typeof CaughtSchema>;

const MAX_CAUSE = 500;

/**
 * A caught error in one line. Lambda errors arrive with a JSON cause ({errorMessage, ...}), SDK
 * errors with plain text.
 */
export function caughtText(caught: Caught): string {
  let cause = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // plain text
  }
  if (cause.length > MAX_CAUSE) cause = `${cause.slice(0, MAX_CAUSE - 3)}...`;
  return cause ? `${caught.Error}: ${cause}` : caught.Error;
}

/**
 * Seconds as people read them in reports.
 *
 * @example duration(7384) // '2h 3m 4s'
 */
export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}
