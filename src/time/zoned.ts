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

/** The wall-clock parts of `at` in `timeZone`; RangeError for an unknown zone. */
export function zonedParts(at: Date, timeZone: string): ZonedParts {
  const parts: Record<string, string> = {};
  for (const p of formatFor(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const n = (k: string): number => Number(parts[k] ?? '0');
  return { year: n('year'), month: n('month'), day: n('day'), hour: n('hour') % 24, minute: n('minute'), second: n('second') };
}

/** As zonedParts, falling back to `fallback` (default Asia/Shanghai) for an unknown zone. */
export function zonedPartsOr(at: Date, timeZone: string, fallback = 'Asia/Shanghai'): ZonedParts {
  return zonedParts(at, isTimeZone(timeZone) ? timeZone : fallback);
}

/** Zero-padded decimal. */
export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
