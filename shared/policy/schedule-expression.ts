/**
 * Checks an EventBridge Scheduler expression: `rate(<n> <unit>)` or a six-field
 * `cron(minutes hours day-of-month month day-of-week year)` where exactly one of the two day
 * fields is `?`. Returns the reason it is wrong, or undefined when it is well formed.
 */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) return 'a rate must be at least 1';
    const singular = !rate[2]?.endsWith('s');
    if (n === 1 && !singular) return `write rate(1 ${rate[2]?.slice(0, -1)}), singular`;
    if (n > 1 && singular) return `write rate(${n} ${rate[2]}s), plural`;
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return 'must be rate(<n> <minutes|hours|days>) or cron(<6 fields>)';
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6) {
    return `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const numeric = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\d+(-\d+)?)(\/\d+)?)*$/;
  if (!numeric.test(minutes) || !inRange(minutes, 0, 59))
    return `cron minutes "${minutes}" invalid`;
  if (!numeric.test(hours) || !inRange(hours, 0, 23)) return `cron hours "${hours}" invalid`;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'cron needs "?" in exactly one of day-of-month and day-of-week';
  }
  if (dayOfMonth !== '?' && !/^[\d*,\-/LW]+$/.test(dayOfMonth)) {
    return `cron day-of-month "${dayOfMonth}" invalid`;
  }
  if (!/^[\d*,\-/A-Za-z]+$/.test(month)) return `cron month "${month}" invalid`;
  if (dayOfWeek !== '?' && !/^[\d*,\-/A-Za-z#L]+$/.test(dayOfWeek)) {
    return `cron day-of-week "${dayOfWeek}" invalid`;
  }
  if (!/^[\d*,\-/]+$/.test(year)) return `cron year "${year}" invalid`;
  return undefined;
}

function inRange(field: string, min: number, max: number): boolean {
  return field.split(',').every((part) => {
    const [base = '', step] = part.split('/');
    if (step !== undefined && Number(step) < 1) return false;
    if (base === '*') return true;
    return base.split('-').every((n) => Number(n) >= min && Number(n) <= max);
  });
}
