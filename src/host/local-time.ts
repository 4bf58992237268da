/** Fields 12 (hhmmss) and 13 (MMDD) in a merchant's time zone. */
export interface LocalTimeFields {
  time: string;
  date: string;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
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

/** Local time and date of `at` in `timeZone` (an IANA name; unknown names fall back to Asia/Shanghai). */
export function localTimeFields(at: Date, timeZone: string): LocalTimeFields {
  let f: Intl.DateTimeFormat;
  try {
    f = formatFor(timeZone);
  } catch {
    f = formatFor('Asia/Shanghai');
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  const two = (s: string | undefined): string => (s ?? '00').padStart(2, '0');
  return {
    time: two(parts['hour']) + two(parts['minute']) + two(parts['second']),
    date: two(parts['month']) + two(parts['day']),
  };
}
