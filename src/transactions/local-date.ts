/** Merchant-local calendar date (YYYYMMDD) of an instant: part of the journal's duplicate key. */
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formats.set(timeZone, f);
  }
  return f;
}

/** `at` as YYYYMMDD in `timeZone` (an IANA name; unknown names fall back to Asia/Shanghai). */
export function localDate(at: Date, timeZone: string): string {
  let f: Intl.DateTimeFormat;
  try {
    f = formatFor(timeZone);
  } catch {
    f = formatFor('Asia/Shanghai');
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  return (parts['year'] ?? '0000').padStart(4, '0') + (parts['month'] ?? '01').padStart(2, '0') + (parts['day'] ?? '01').padStart(2, '0');
}
