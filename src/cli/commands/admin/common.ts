/** Shared helpers for the administration commands: argument formats and store-error wording. */
import { userInfo } from 'node:os';
import { isStoreError, type TerminalRef } from '../../../store/index.js';
import { CliError } from '../../errors.js';

export const MERCHANT_RE = /^[0-9A-Za-z]{15}$/;
export const TERMINAL_RE = /^[0-9A-Za-z]{8}$/;
export const MCC_RE = /^[0-9]{4}$/;

/** Value of a required option, or exit 2 naming it. */
export function required(value: string | undefined, name: string, usage: string): string {
  if (value === undefined || value === '') throw new CliError(`--${name} is required\nUsage: ${usage}`);
  return value;
}

export function merchantNo(value: string | undefined, usage: string): string {
  const v = required(value, 'merchant', usage);
  if (!MERCHANT_RE.test(v)) throw new CliError(`--merchant must be 15 letters or digits (field 42), got '${v}' (${v.length} characters)`);
  return v;
}

export function terminalNo(value: string | undefined, usage: string): string {
  const v = required(value, 'terminal', usage);
  if (!TERMINAL_RE.test(v)) throw new CliError(`--terminal must be 8 letters or digits (field 41), got '${v}' (${v.length} characters)`);
  return v;
}

export function mcc(value: string | undefined, usage: string): string {
  const v = required(value, 'mcc', usage);
  if (!MCC_RE.test(v)) throw new CliError(`--mcc must be 4 digits, got '${v}'`);
  return v;
}

export function oneOf<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new CliError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

export function merchantNotFound(no: string): CliError {
  return new CliError(`merchant ${no} not found`);
}

export function terminalNotFound(ref: TerminalRef): CliError {
  return new CliError(`terminal ${ref.terminalNo} of merchant ${ref.merchantNo} not found`);
}

/** Turn a store NOT_FOUND into a clear CLI error; anything else passes through. */
export async function orTerminalNotFound<T>(ref: TerminalRef, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isStoreError(e, 'NOT_FOUND')) throw terminalNotFound(ref);
    throw e;
  }
}

/** ISO-8601 text of a date, or '-' */
export function when(d: Date | null | undefined): string {
  return d ? d.toISOString() : '-';
}

/** Print aligned "label  value" lines. */
export function printFields(rows: readonly (readonly [string, string])[]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

/** Print a table with a header row; columns padded to the widest cell. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  process.stdout.write(line(header) + '\n');
  for (const r of rows) process.stdout.write(line(r) + '\n');
}

/** Who acts in the audit trail when an administrator uses the CLI: `cli:<OS user>`, origin `cli`. */
export function cliActor(): { actor: string; origin: string } {
  let user = 'unknown';
  try {
    user = userInfo().username || 'unknown';
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return { actor: `cli:${user}`.slice(0, 200), origin: 'cli' };
}
