/**
 * Host clock from fields 12 (hhmmss) and 13 (MMDD) of a response. The year is not sent; it is
 * taken as the one that puts the host time closest to the local clock (handles New Year).
 * The host writes its local time; `utcOffsetMinutes` is the host's offset (China: +480).
 */

/** The instant the host's 12/13 denote, or null when they are missing or not a valid date/time. */
export function parseHostTime(time: string | undefined, date: string | undefined, now: Date, utcOffsetMinutes: number): Date | null {
  if (time === undefined || date === undefined || !/^\d{6}$/.test(time) || !/^\d{4}$/.test(date)) return null;
  const hh = Number(time.slice(0, 2));
  const mi = Number(time.slice(2, 4));
  const ss = Number(time.slice(4, 6));
  const mm = Number(date.slice(0, 2));
  const dd = Number(date.slice(2, 4));
  if (hh > 23 || mi > 59 || ss > 59 || mm < 1 || mm > 12 || dd < 1 || dd > 31) return null;
  const offsetMs = utcOffsetMinutes * 60_000;
  const hostYear = new Date(now.getTime() + offsetMs).getUTCFullYear();
  let best: Date | null = null;
  for (const y of [hostYear - 1, hostYear, hostYear + 1]) {
    const ms = Date.UTC(y, mm - 1, dd, hh, mi, ss);
    const check = new Date(ms);
    if (check.getUTCMonth() !== mm - 1 || check.getUTCDate() !== dd) continue; // e.g. 0230, or 0229 off leap years
    const instant = new Date(ms - offsetMs);
    if (best === null || Math.abs(instant.getTime() - now.getTime()) < Math.abs(best.getTime() - now.getTime())) best = instant;
  }
  return best;
}

/** Fields 12 and 13 for `instant` as a host at `utcOffsetMinutes` writes them. */
export function formatHostTime(instant: Date, utcOffsetMinutes: number): { time: string; date: string } {
  const d = new Date(instant.getTime() + utcOffsetMinutes * 60_000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return {
    time: p(d.getUTCHours()) + p(d.getUTCMinutes()) + p(d.getUTCSeconds()),
    date: p(d.getUTCMonth() + 1) + p(d.getUTCDate()),
  };
}
