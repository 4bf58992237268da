/** Merchant-local calendar date (YYYYMMDD) of an instant: part of the journal's duplicate key. */
import { pad, zonedPartsOr } from '../time/zoned.js';

/** `at` as YYYYMMDD in `timeZone` (an IANA name; unknown names fall back to Asia/Shanghai). */
export function localDate(at: Date, timeZone: string): string {
  const p = zonedPartsOr(at, timeZone);
  return pad(p.year, 4) + pad(p.month) + pad(p.day);
}
