/** Option parsing shared by the runtime commands (terminal sign-on, sim signon, host start). */
import { readFileSync } from 'node:fs';
import { isKeyScheme, type KeyScheme, type TerminalError } from '../../../terminal/index.js';
import { simCapacity } from '../../../terminal/sim/index.js';
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

/** parseArgs options every fleet simulator (`sim signon`, `sim trade`) takes. */
export const FLEET_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string' },
  mid: { type: 'string' },
  'tid-prefix': { type: 'string', default: '1000' },
  terminals: { type: 'string', default: '10' },
  'tmk-file': { type: 'string' },
  scheme: { type: 'string', default: '004' },
  timeout: { type: 'string', default: '30' },
  json: { type: 'boolean', default: false },
} as const;

export interface Fleet {
  host: string;
  port: number;
  merchantNo: string;
  /** Terminal-number prefix; numbers are the prefix then a counter. */
  prefix: string;
  terminals: number;
}

/** Host, port, merchant and terminal numbering of a fleet simulator, checked (exit 2 on bad input). */
export function parseFleet(values: { host?: string | undefined; port?: string | undefined; mid?: string | undefined; 'tid-prefix'?: string | undefined; terminals?: string | undefined }): Fleet {
  const host = requireString(values.host, '--host');
  const port = parsePort(values.port, '--port', false);
  const merchantNo = parseMid(values.mid);
  const prefix = values['tid-prefix'] ?? '';
  if (!/^[0-9A-Za-z]{0,7}$/.test(prefix)) throw new CliError(`--tid-prefix must be 0 to 7 characters, got '${prefix}'`);
  const terminals = parsePositiveInt(values.terminals, '--terminals');
  if (terminals > simCapacity(prefix)) {
    throw new CliError(`--terminals ${terminals} do not fit after --tid-prefix '${prefix}' (at most ${simCapacity(prefix)})`);
  }
  return { host, port, merchantNo, prefix, terminals };
}
