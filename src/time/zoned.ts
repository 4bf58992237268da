/**
 * Wall-clock parts of an instant in an IANA time zone, with Intl (no libraries). Intl applies the
 * zone's rules for the instant given, so daylight-saving changes are handled. Storage is UTC;
 * merchant-local time is for rules, receipts and the fields the terminal shows (12, 13).
 */

export interface ZonedParts {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  /** 0..23 */
  hour: number;
  minute: number;
  second: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone name this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock parts of `at` in `timeZone` from Intl (the slow path). */
function intlParts(at: Date, timeZone: string): ZonedParts {
  const parts: Record<string, string> = {};
  for (const p of formatFor(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const n = (k: string): number => Number(parts[k] ?? '0');
  return { year: n('year'), month: n('month'), day: n('day'), hour: n('hour') % 24, minute: n('minute'), second: n('second') };
}

/** The zone's offset from UTC (ms) at the instant `ms`, which is a whole second. */
function offsetAt(ms: number, timeZone: string): number {
  const p = intlParts(new Date(ms), timeZone);
  const wall = new Date(0);
  wall.setUTCFullYear(p.year, p.month - 1, p.day); // not Date.UTC, which maps years 0-99 to 1900-1999
  wall.setUTCHours(p.hour, p.minute, p.second, 0);
  return wall.getTime() - ms;
}

/**
 * Per zone, the latest UTC minute asked about and the zone's offset during all of it. Intl's
 * formatToParts costs ~15 µs and the host needs local time for every response, so the offset is
 * looked up once per zone and minute and the parts are then plain arithmetic. Only a minute whose
 * first and last second have the same offset is cached (a zone's rule change inside a UTC minute —
 * only old local-mean-time offsets have seconds — goes to Intl for every call).
 */
const minuteOffsets = new Map<string, { minute: number; offset: number | null }>();

/** Forget the cached offsets (for tests: the cache never needs clearing otherwise). */
export function clearZoneCache(): void {
  minuteOffsets.clear();
}

/** The wall-clock parts of `at` in `timeZone`; RangeError for an unknown zone. */
export function zonedParts(at: Date, timeZone: string): ZonedParts {
  const ms = at.getTime();
  const minute = Math.floor(ms / 60_000);
  let entry = minuteOffsets.get(timeZone);
  // An earlier minute (a report over past entries) is one Intl call, and leaves the cache to "now".
  if (entry !== undefined && minute < entry.minute) return intlParts(at, timeZone);
  if (entry === undefined || entry.minute !== minute) {
    const start = offsetAt(minute * 60_000, timeZone);
    entry = { minute, offset: start === offsetAt(minute * 60_000 + 59_000, timeZone) ? start : null };
    if (minuteOffsets.size >= 1000 && !minuteOffsets.has(timeZone)) minuteOffsets.clear();
    minuteOffsets.set(timeZone, entry);
  }
  if (entry.offset === null || !Number.isFinite(ms)) return intlParts(at, timeZone);
  const local = new Date(ms + entry.offset);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  };
}

/** As zonedParts, falling back to `fallback` (default Asia/Shanghai) for an unknown zone. */
export function zonedPartsOr(at: Date, timeZone: string, fallback = 'Asia/Shanghai'): ZonedParts {
  return zonedParts(at, isTimeZone(timeZone) ? timeZone : fallback);
}

/** Zero-padded decimal. */
export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
