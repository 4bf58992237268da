/**
 * CSV (RFC 4180): fields with a comma, quote, CR or LF are quoted and quotes doubled; lines end
 * in CRLF. A field that a spreadsheet would run as a formula (starting with = + - @ or a tab/CR)
 * gets a leading apostrophe (OWASP "CSV injection").
 */
export function csvField(value: unknown): string {
  let s: string;
  if (value === null || value === undefined) s = '';
  else if (value instanceof Date) s = value.toISOString();
  else if (typeof value === 'object') s = JSON.stringify(value);
  else s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}
