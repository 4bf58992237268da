/** Option parsing shared by the runtime commands (terminal sign-on, sim signon, host start). */
import { readFileSync } from 'node:fs';
import { isKeyScheme, type KeyScheme, type TerminalError } from '../../../terminal/index.js';
import { CliError } from '../../errors.js';

export function parsePort(raw: string | undefined, name = '--port', allowZero = true): number {
  if (raw === undefined) throw new CliError(`${name} is required`);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new CliError(`${name} must be ${allowZero ? 0 : 1}..65535, got '${raw}'`);
  }
  return n;
}

export function parsePositiveInt(raw: string | undefined, name: string, allowZero = false): number {
  if (raw === undefined) throw new CliError(`${name} is required`);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || (!allowZero && n === 0)) {
    throw new CliError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${raw}'`);
  }
  return n;
}

export function requireString(raw: string | undefined, name: string): string {
  if (raw === undefined || raw === '') throw new CliError(`${name} is required`);
  return raw;
}

export function parseTid(raw: string | undefined): string {
  const tid = requireString(raw, '--tid');
  if (!/^[0-9A-Za-z]{8}$/.test(tid)) throw new CliError(`--tid must be 8 characters (field 41), got '${tid}' (${tid.length})`);
  return tid;
}

export function parseMid(raw: string | undefined): string {
  const mid = requireString(raw, '--mid');
  if (!/^[0-9A-Za-z]{15}$/.test(mid)) throw new CliError(`--mid must be 15 characters (field 42), got '${mid}' (${mid.length})`);
  return mid;
}

export function parseScheme(raw: string | undefined, fallback: KeyScheme = '004'): KeyScheme {
  const s = raw ?? fallback;
  if (!isKeyScheme(s)) throw new CliError(`--scheme must be 001, 003 or 004, got '${s}'`);
  return s;
}

/**
 * Read a clear TMK as hex from a file (test terminals only): whitespace, colons and a 0x prefix
 * are tolerated; 8, 16 or 24 bytes.
 */
export function readTmkFile(path: string | undefined): Buffer {
  const file = requireString(path, '--tmk-file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read --tmk-file ${file}: ${code === 'ENOENT' ? 'no such file' : ((e as Error).message ?? String(e))}`);
  }
  const hex = text.trim().replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (hex.length === 0) throw new CliError(`--tmk-file ${file} is empty: expected the clear TMK as hex`);
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new CliError(`--tmk-file ${file} contains characters that are not hex digits`);
  if (![16, 32, 48].includes(hex.length)) {
    throw new CliError(`--tmk-file ${file}: the TMK must be 8, 16 or 24 bytes (16, 32 or 48 hex digits), got ${hex.length} hex digits`);
  }
  return Buffer.from(hex, 'hex');
}

/** One-line explanation of a terminal failure that is not a refusal (e.g. connection refused). */
export function describeTerminalFailure(e: TerminalError, host: string, port: number): string {
  if (e.reason === 'CONNECT_FAILED') {
    const code = (e.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ECONNREFUSED') return `cannot connect to ${host}:${port}: connection refused (is the host running? try \`qiandao host start\`)`;
    return e.message;
  }
  if (e.reason === 'TIMEOUT') return `no response from ${host}:${port}: ${e.message}`;
  return `${e.reason}: ${e.message}`;
}
