/**
 * Recovery objectives as elapsed time: `<n><unit>` parts with the units `min`, `h` and `d`,
 * e.g. `15min`, `1h30min`, `4h`, `1d`. Unlike retention's calendar durations, a day here is
 * 24 hours and there are no months: an objective is a stopwatch, not a calendar.
 */
const PART = /(\d+)(min|h|d)/g;
const WHOLE = /^(\d{1,5}(min|h|d))+$/;
const SECONDS = { min: 60, h: 3600, d: 86_400 } as const;

/** Seconds in an objective, or undefined when the text is not one. */
export function objectiveSeconds(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(PART)) {
    seconds += Number(n) * SECONDS[unit as keyof typeof SECONDS];
  }
  return seconds;
}

/** An objective in words: `1h 30m`, `15m`, `2d`. */
export function objectiveText(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ') || '0m';
}
