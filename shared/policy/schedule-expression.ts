import { Cron } from 'croner';

/**
 * EventBridge Scheduler expressions: `rate(<n> <unit>)`, or a six-field
 * `cron(minutes hours day-of-month month day-of-week year)` where exactly one of the two day
 * fields is `?`, evaluated in the policy's time zone. Croner evaluates the cron fields; the
 * checks here name the field that is wrong in Scheduler's terms.
 */

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Whole list items allowed besides values, ranges and `*` (`?`, a lone `L`). */
  readonly special: RegExp;
  /** What may follow a single value: L (last), W (nearest weekday), # (nth weekday). */
  readonly qualifier?: RegExp;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, special: /^$/ },
  { name: 'hours', min: 0, max: 23, special: /^$/ },
  { name: 'day-of-month', min: 1, max: 31, special: /^(\?|L|LW)$/, qualifier: /^(L|W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS, special: /^$/ },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: WEEKDAYS,
    special: /^(\?|L)$/,
    qualifier: /^(L|#[1-5])$/,
  },
  // Scheduler accepts years 1970-2199.
  { name: 'year', min: 1970, max: 2199, special: /^$/ },
];

const RATE = /^rate\((\d{1,9}) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
/** A rate longer than a year would outlive every lookback and deadline Lifeboat has. */
const MAX_RATE_MS = 366 * UNIT_MS.day;

/** A schedule as Lifeboat reasons about it. */
export type Schedule =
  | { readonly kind: 'cron'; readonly expression: string; readonly fires: Cron }
  | { readonly kind: 'rate'; readonly expression: string; readonly periodMs: number };

/**
 * Checks an EventBridge Scheduler expression. Returns the reason it is wrong, or undefined when
 * it is well formed.
 *
 * @example scheduleExpressionProblem('cron(0 3 32 * ? *)') // 'cron day-of-month "32" ...'
 */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const parsed = parse(expression, 'UTC');
  return typeof parsed === 'string' ? parsed : undefined;
}

/** The schedule an expression describes, in a time zone; throws when it is not well formed. */
export function parseSchedule(expression: string, timeZone: string): Schedule {
  const parsed = parse(expression, timeZone);
  if (typeof parsed === 'string') throw new RangeError(`${expression}: ${parsed}`);
  return parsed;
}

/**
 * Every time a cron schedule fires in [from, to], oldest first. Rates have no fixed times
 * (Scheduler starts them when the schedule is created): they return none.
 *
 * @example firesBetween(parseSchedule('cron(0 3 * * ? *)', 'Europe/Berlin'), a, b)
 */
export function firesBetween(schedule: Schedule, from: Date, to: Date): Date[] {
  if (schedule.kind === 'rate' || from > to) return [];
  const times: Date[] = [];
  // nextRun is exclusive of its reference: start just before `from`.
  let at: Date | null = new Date(from.getTime() - 1);
  for (;;) {
    at = schedule.fires.nextRun(at);
    if (!at || at > to) return times;
    times.push(at);
  }
}

/** The longest gap between two runs of a schedule, as far as it can be known from the text. */
export function longestGapMs(schedule: Schedule, around: Date): number {
  if (schedule.kind === 'rate') return schedule.periodMs;
  const next = schedule.fires.nextRuns(13, around);
  const previous = schedule.fires.previousRuns(13, around).reverse();
  const times = [...previous, ...next];
  let longest = 0;
  for (let i = 1; i < times.length; i += 1) {
    longest = Math.max(longest, (times[i] as Date).getTime() - (times[i - 1] as Date).getTime());
  }
  return longest;
}

function parse(expression: string, timeZone: string): Schedule | string {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] as keyof typeof UNIT_MS | `${keyof typeof UNIT_MS}s`;
    if (n < 1) return 'a rate must be at least 1';
    const singular = !unit.endsWith('s');
    if (n === 1 && !singular) return `write rate(1 ${unit.slice(0, -1)}), singular`;
    if (n > 1 && singular) return `write rate(${n} ${unit}s), plural`;
    const periodMs = n * UNIT_MS[unit.replace(/s$/, '') as keyof typeof UNIT_MS];
    if (periodMs > MAX_RATE_MS) return 'a rate must be at most a year';
    return { kind: 'rate', expression, periodMs };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return 'must be rate(<n> <minutes|hours|days>) or cron(<6 fields>)';
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6) {
    return `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  }
  const [, , dayOfMonth, , dayOfWeek] = fields as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'cron needs "?" in exactly one of day-of-month and day-of-week';
  }
  const croner: string[] = [];
  for (const [i, field] of FIELDS.entries()) {
    const text = fields[i] as string;
    const problem = fieldProblem(field, text);
    if (problem) return `cron ${field.name} "${text}" invalid: ${problem}`;
    croner.push(openStepStarts(field, text));
  }
  try {
    const fires = new Cron(`0 ${croner.join(' ')}`, {
      timezone: timeZone,
      alternativeWeekdays: true,
      mode: '7-part',
      paused: true,
    });
    // A valid pattern that never fires (30 February, a year gone by) is no schedule.
    if (!fires.nextRun(new Date('1970-01-01T00:00:00Z'))) return 'cron never fires';
    return { kind: 'cron', expression, fires };
  } catch (error) {
    return `cron "${fields.join(' ')}" invalid: ${error instanceof Error ? error.message.replace(/^CronPattern: /, '') : 'unreadable'}`;
  }
}

/** Why one field is wrong, in Scheduler's terms; undefined when it is well formed. */
function fieldProblem(field: CronField, text: string): string | undefined {
  for (const part of text.split(',')) {
    if (part === '') return 'an empty list item';
    if (field.special.test(part)) continue;
    const [base = '', step, ...rest] = part.split('/');
    if (rest.length > 0) return `"${part}" has more than one step`;
    if (step !== undefined && !(/^\d{1,4}$/.test(step) && Number(step) >= 1)) {
      return `the step "${step}" must be a whole number of at least 1`;
    }
    if (base === '*') continue;
    const qualified = /^(.+?)(L|W|#\d+)$/.exec(base);
    if (qualified && !field.qualifier?.test(qualified[2] as string)) {
      return `"${part}": ${qualified[2]} is not allowed here`;
    }
    const value = qualified ? (qualified[1] as string) : base;
    for (const end of value.split('-')) {
      const n = numberOf(field, end);
      if (n === undefined) {
        const names = field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : '';
        return `"${end}" is not a value (${field.min}-${field.max}${names})`;
      }
      if (n < field.min || n > field.max) {
        return `${n} is out of range (${field.min}-${field.max})`;
      }
    }
  }
  return undefined;
}

function numberOf(field: CronField, text: string): number | undefined {
  if (/^\d{1,4}$/.test(text)) return Number(text);
  const at = field.names?.indexOf(text.toUpperCase()) ?? -1;
  return at >= 0 ? at + field.min : undefined;
}

/** Scheduler's `5/15` (from 5, every 15) is croner's `5-<max>/15`. */
function openStepStarts(field: CronField, text: string): string {
  return text
    .split(',')
    .map((part) => part.replace(/^(\d+|[A-Za-z]{3})\/(\d+)$/, `$1-${field.max}/$2`))
    .join(',');
}
