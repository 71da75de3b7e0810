import type { Writable } from 'node:stream';

/** Where a command writes: results to out, progress and errors to err. */
export interface Io {
  readonly out: Writable;
  readonly err: Writable;
}

export const processIo: Io = { out: process.stdout, err: process.stderr };

export function line(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

export function printJson(io: Io, value: unknown): void {
  line(io.out, JSON.stringify(value, null, 2));
}

/** A plain-text table with a header row; columns sized to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...cells): a spread of 100,000s of rows overflows the call stack.
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i += 1) {
      widths[i] = Math.max(widths[i] ?? 0, (row[i] ?? '').length);
    }
  }
  const format = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)].join('\n');
}

/** A moment in the policy's time zone, e.g. 2026-11-21 03:00. */
export function localTime(date: Date | undefined, timeZone: string): string {
  if (!date) return '-';
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
