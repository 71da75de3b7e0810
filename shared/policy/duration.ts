/**
 * Calendar durations in restic's notation: a sequence of `<n><unit>` parts where the unit is
 * `y` (years), `m` (months), `w` (weeks), `d` (days) or `h` (hours), e.g. `1y6m`, `30d`, `12h`.
 */
export interface CalendarDuration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

const PART = /(\d+)([ymwdh])/g;
// Six digits per part: more than any bound below needs, and far from the dates JavaScript loses.
const WHOLE = /^(\d{1,6}[ymwdh])+$/;

/** Parses `1y6m` into its parts; returns undefined when the text is not a duration. */
export function parseDuration(text: string): CalendarDuration | undefined {
  if (!WHOLE.test(text)) return undefined;
  const d = { years: 0, months: 0, days: 0, hours: 0 };
  for (const [, n, unit] of text.matchAll(PART)) {
    const value = Number(n);
    if (unit === 'y') d.years += value;
    else if (unit === 'm') d.months += value;
    else if (unit === 'w') d.days += 7 * value;
    else if (unit === 'd') d.days += value;
    else d.hours += value;
  }
  return d;
}

/**
 * The instant `duration` before `from`, counting years, months and days on the UTC calendar
 * (restic does the same with Go's AddDate).
 *
 * @example subtractDuration(new Date('2026-03-31T00:00:00Z'), parseDuration('1m')!) // 2026-03-03
 */
export function subtractDuration(from: Date, duration: CalendarDuration): Date {
  return shift(from, duration, -1);
}

/** The instant `duration` after `from`, on the UTC calendar. */
export function addDuration(from: Date, duration: CalendarDuration): Date {
  return shift(from, duration, 1);
}

function shift(from: Date, d: CalendarDuration, sign: 1 | -1): Date {
  const t = new Date(from.getTime());
  t.setUTCFullYear(
    t.getUTCFullYear() + sign * d.years,
    t.getUTCMonth() + sign * d.months,
    t.getUTCDate() + sign * d.days,
  );
  t.setUTCHours(t.getUTCHours() + sign * d.hours);
  return t;
}

/** Whether the duration is zero in every part. */
export function isZeroDuration(d: CalendarDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;
}

/**
 * How many seconds a validated duration lasts when it starts at `from` (months and years vary).
 *
 * @example secondsFrom(new Date('2026-11-21T00:00:00Z'), '2h') // 7200
 */
export function secondsFrom(from: Date, text: string): number {
  const d = parseDuration(text);
  if (!d) throw new Error(`not a duration: ${text}`);
  return Math.round((addDuration(from, d).getTime() - from.getTime()) / 1000);
}

// A fixed instant to measure calendar durations from when comparing them with bounds.
const REFERENCE = new Date('2000-01-01T00:00:00Z');

/**
 * Whether a duration lies within [min, max], both durations themselves, measured from a fixed
 * reference instant (months and years vary a little; bounds are coarse).
 *
 * @example durationWithin(parseDuration('2y')!, '1h', '1y') // false
 */
export function durationWithin(d: CalendarDuration, min: string, max: string): boolean {
  const length = addDuration(REFERENCE, d).getTime() - REFERENCE.getTime();
  const bound = (text: string) =>
    addDuration(REFERENCE, parseDuration(text) as CalendarDuration).getTime() - REFERENCE.getTime();
  return Number.isFinite(length) && length >= bound(min) && length <= bound(max);
}
