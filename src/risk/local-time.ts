/**
 * Merchant-local wall-clock time with Intl (no libraries). Intl applies the zone's rules for the
 * instant given, so daylight-saving changes are handled: 08:00 local is a different UTC instant in
 * winter and in summer.
 */

import { isTimeZone, pad, zonedParts } from '../time/zoned.js';

export { isTimeZone };

export interface LocalTime {
  /** YYYY-MM-DD in the zone. */
  date: string;
  /** HH:MM:SS in the zone. */
  time: string;
  /** Seconds since local midnight, 0..86399. */
  secondOfDay: number;
}

/** Wall-clock date and time of `at` in `timeZone` (IANA name; throws RangeError for an unknown zone). */
export function localTime(at: Date, timeZone: string): LocalTime {
  const p = zonedParts(at, timeZone);
  return {
    date: `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`,
    time: `${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`,
    secondOfDay: p.hour * 3600 + p.minute * 60 + p.second,
  };
}

const CLOCK_RE = /^([01][0-9]|2[0-4]):([0-5][0-9])(?::([0-5][0-9]))?$/;

/** "HH:MM" or "HH:MM:SS" (24:00 allowed as end of day) as seconds since midnight, or undefined. */
export function parseClock(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = CLOCK_RE.exec(text);
  if (!m) return undefined;
  const s = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? '0');
  return s <= 86_400 ? s : undefined;
}

/**
 * Whether a local second of the day lies in the window [start, end). A window whose start is
 * after its end runs overnight (22:00–06:00); start == end means all day.
 */
export function inWindow(secondOfDay: number, start: number, end: number): boolean {
  if (start === end) return true;
  if (start < end) return secondOfDay >= start && secondOfDay < end;
  return secondOfDay >= start || secondOfDay < end;
}
