/** Fields 12 (hhmmss) and 13 (MMDD) in a merchant's time zone. */
import { pad, zonedPartsOr } from '../time/zoned.js';

export interface LocalTimeFields {
  time: string;
  date: string;
}

/** Local time and date of `at` in `timeZone` (an IANA name; unknown names fall back to Asia/Shanghai). */
export function localTimeFields(at: Date, timeZone: string): LocalTimeFields {
  const p = zonedPartsOr(at, timeZone);
  return { time: pad(p.hour) + pad(p.minute) + pad(p.second), date: pad(p.month) + pad(p.day) };
}
