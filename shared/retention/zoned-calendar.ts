/** A moment's wall-clock fields in a time zone, with its ISO-8601 week. */
export interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly isoYear: number;
  readonly isoWeek: number;
}

// Every time zone changes its UTC offset on a quarter hour, so one lookup per quarter hour
// serves every moment in it.
const QUARTER_HOUR = 15 * 60_000;
const HOUR = 60 * 60_000;

/**
 * Wall-clock fields of instants in one IANA time zone. Intl is slow, so offsets are computed once
 * per quarter hour and reused.
 */
export class ZonedCalendar {
  private readonly format: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();
  // Every field of LocalTime is fixed by the local hour, and snapshots cluster on schedule slots.
  private readonly hours = new Map<number, LocalTime>();

  constructor(readonly timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The local wall-clock time of `date`. */
  local(date: Date): LocalTime {
    const ms = date.getTime();
    const hourIndex = Math.floor((ms + this.offset(ms)) / HOUR);
    let time = this.hours.get(hourIndex);
    if (!time) {
      const local = new Date(hourIndex * HOUR);
      const year = local.getUTCFullYear();
      const month = local.getUTCMonth() + 1;
      const day = local.getUTCDate();
      const { isoYear, isoWeek } = isoWeekOf(year, month, day);
      time = { year, month, day, hour: local.getUTCHours(), isoYear, isoWeek };
      this.hours.set(hourIndex, time);
    }
    return time;
  }

  /**
   * The instant at which the zone's wall clock shows the given date and hour (the later one when
   * the clocks go back, the hour after when they skip it).
   *
   * @example new ZonedCalendar('Europe/Berlin').instantOf(2026, 11, 21, 3) // 02:00 UTC
   */
  instantOf(year: number, month: number, day: number, hour: number): Date {
    const wall = Date.UTC(year, month - 1, day, hour);
    const guess = wall - this.offset(wall);
    return new Date(wall - this.offset(guess));
  }

  /** The zone's offset from UTC at `ms`, in milliseconds. */
  private offset(ms: number): number {
    const key = Math.floor(ms / QUARTER_HOUR);
    let offset = this.offsets.get(key);
    if (offset === undefined) {
      const at = key * QUARTER_HOUR;
      const p: Record<string, number> = {};
      for (const part of this.format.formatToParts(at)) {
        if (part.type !== 'literal') p[part.type] = Number(part.value);
      }
      const wall = Date.UTC(
        p.year ?? 1970,
        (p.month ?? 1) - 1,
        p.day ?? 1,
        p.hour ?? 0,
        p.minute ?? 0,
        p.second ?? 0,
      );
      offset = wall - at;
      this.offsets.set(key, offset);
    }
    return offset;
  }
}

function isoWeekOf(year: number, month: number, day: number): { isoYear: number; isoWeek: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  const weekday = d.getUTCDay() || 7;
  // The Thursday of this week decides which year the week belongs to.
  d.setUTCDate(d.getUTCDate() + 4 - weekday);
  const isoYear = d.getUTCFullYear();
  const isoWeek = Math.ceil(((d.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 + 1) / 7);
  return { isoYear, isoWeek };
}
