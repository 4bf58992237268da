/**
 * What the one-shot terminal transaction commands share: connection options, sign-on (terminal,
 * then the operator when an operator password is given: the host's operator gate refuses
 * financial requests with Q1 without one), the optional --state file that keeps the terminal's
 * batch, last STAN and unacknowledged reversals between runs, and error mapping.
 *
 * The operator password is never an argument (see refuseOperatorPasswordArgument): it comes from
 * --operator-password-file, from the last line of standard input (--operator-password-stdin) or
 * from QIANDAO_OPERATOR_PASSWORD.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { TerminalClient, isTerminalError, type TerminalClientOptions, type TerminalError } from '../../../terminal/index.js';
import { batchSnapshot, restoreBatch, type TerminalBatch } from '../../../terminal/batch.js';
import { operatorSignOn } from '../../../terminal/operators.js';
import { clockStan, type CardSealer, type SavedReversal } from '../../../terminal/trade.js';
import { CliError } from '../../errors.js';
import { readFileArg, readSecretFile, shownValue } from '../../io.js';
import { describeTerminalFailure, parseMid, parsePort, parseScheme, parseTid, readTmkFile, requireString } from '../sim/options.js';

/** parseArgs options every `qiandao terminal …` command accepts: where the host is, who the terminal is. */
export const TERMINAL_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string' },
  tid: { type: 'string' },
  mid: { type: 'string' },
  'tmk-file': { type: 'string' },
  scheme: { type: 'string', default: '004' },
  operator: { type: 'string', default: '01' },
  timeout: { type: 'string', default: '30' },
  'tls-ca': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** parseArgs options every `qiandao terminal <transaction>` accepts. */
export const CONNECTION_OPTIONS = {
  ...TERMINAL_OPTIONS,
  'operator-password-file': { type: 'string' },
  'operator-password-stdin': { type: 'boolean', default: false },
  state: { type: 'string' },
} as const;

/** How the operator password may be given, for usage strings. */
export const OPERATOR_PASSWORD_USAGE = '[--operator 01 (--operator-password-file FILE | --operator-password-stdin)]';

export const CONNECTION_USAGE = `--host 127.0.0.1 --port 5000 --tid 12345678 --mid 898110070110001 --tmk-file tmk.hex [--scheme 004] ${OPERATOR_PASSWORD_USAGE} [--timeout 30] [--tls-ca host-cert.pem] [--state terminal.json] [--json]`;

/** Appended to usage strings: the other way to give the operator password. */
export const OPERATOR_PASSWORD_NOTE =
  '  (operator password: the first line of --operator-password-file (mode 600), the last line of standard input with --operator-password-stdin, or QIANDAO_OPERATOR_PASSWORD; never an argument)';

export interface ConnectionValues {
  host?: string;
  port?: string;
  tid?: string;
  mid?: string;
  'tmk-file'?: string;
  scheme?: string;
  operator?: string;
  'operator-password-file'?: string;
  'operator-password-stdin'?: boolean;
  timeout?: string;
  'tls-ca'?: string;
  state?: string;
}

export interface Connected {
  client: TerminalClient;
  /** Seals card data of saved reversals under a key derived from the TMK (the TMK itself is wiped). */
  sealer: CardSealer;
  host: string;
  port: number;
  terminalNo: string;
  merchantNo: string;
}

export const OPERATOR_PASSWORD_ENV = 'QIANDAO_OPERATOR_PASSWORD';
/** How the operator password's line of standard input is named in prompts and errors. */
export const OPERATOR_PASSWORD_LINE = 'the operator password (--operator-password-stdin)';

/**
 * Refuse `--operator-password VALUE` (or `=VALUE`, or without a value) on raw argv, before the
 * parser can quote it: a cashier's password in argv is readable by every local user (ps,
 * /proc/PID/cmdline) and kept in shell history, and refusing is what makes scripts change. The
 * message names the alternatives and never the value.
 */
export function refuseOperatorPasswordArgument(argv: readonly string[]): void {
  // exact name or `=`: --operator-password-file and --operator-password-stdin share the prefix
  if (argv.some((a) => a === '--operator-password' || a.startsWith('--operator-password='))) {
    throw new CliError(
      '--operator-password is not accepted: a password on the command line is visible to other users (ps) and kept in shell history. ' +
        `Use --operator-password-file FILE (first line, file mode 600), --operator-password-stdin (the last line of standard input) or the ${OPERATOR_PASSWORD_ENV} environment variable`,
    );
  }
}

/**
 * Where this run's operator password comes from, settled before standard input is read so that a
 * bad option fails before anyone is asked for a secret. `stdin`: the caller reads it as the last
 * line of standard input and passes it to operatorPassword().
 */
export type OperatorPasswordPlan =
  | { from: 'none' }
  | { from: 'stdin' }
  | { from: 'file' | 'env'; password: string; source: string };

export function planOperatorPassword(
  values: Pick<ConnectionValues, 'operator' | 'operator-password-file' | 'operator-password-stdin'>,
  env: NodeJS.ProcessEnv = process.env,
): OperatorPasswordPlan {
  const file = values['operator-password-file'];
  const stdin = values['operator-password-stdin'] === true;
  if (file !== undefined && stdin) throw new CliError('give the operator password once: --operator-password-file or --operator-password-stdin, not both');
  let plan: OperatorPasswordPlan;
  // an explicit option wins over the environment, which may be left over from another shell
  if (stdin) plan = { from: 'stdin' };
  else if (file !== undefined) plan = { from: 'file', password: readSecretFile(file, '--operator-password-file'), source: `the operator password in --operator-password-file ${file} (first line)` };
  else if (env[OPERATOR_PASSWORD_ENV] !== undefined) {
    if (env[OPERATOR_PASSWORD_ENV] === '') throw new CliError(`${OPERATOR_PASSWORD_ENV} is set but empty: unset it, or set it to the operator password`);
    plan = { from: 'env', password: env[OPERATOR_PASSWORD_ENV], source: OPERATOR_PASSWORD_ENV };
  } else plan = { from: 'none' };
  if (plan.from === 'none') return plan;
  if (plan.from !== 'stdin') checkOperatorPassword(plan.password, plan.source);
  const operator = values.operator ?? '01';
  if (!/^\d{2}$/.test(operator)) throw new CliError(`an operator sign-on needs a two-digit --operator (00-99), got ${shownValue(operator, 3)}`);
  return plan;
}

/** The password the plan stands for; `stdinLine` is the operator password's line (number `lineNo`) when it came from standard input. */
export function operatorPassword(plan: OperatorPasswordPlan, stdinLine?: { text: string; lineNo: number }): string | undefined {
  if (plan.from === 'none') return undefined;
  if (plan.from !== 'stdin') return plan.password;
  if (stdinLine === undefined) throw new Error('operatorPassword: the plan reads standard input but no line was given');
  return checkOperatorPassword(stdinLine.text, `the operator password on standard input (line ${stdinLine.lineNo}, --operator-password-stdin)`);
}

/**
 * 4 to 12 digits, what an operator password block can carry (the host's policy is narrower and it
 * answers that itself). `source` names where the password came from; the value is never quoted.
 */
function checkOperatorPassword(password: string, source: string): string {
  if (!/^\d{4,12}$/.test(password)) throw new CliError(`${source} must be 4 to 12 digits`);
  return password;
}

/** The connection options of one terminal command, validated, as TerminalClient options. */
export interface ClientSetup {
  options: TerminalClientOptions;
  host: string;
  port: number;
  terminalNo: string;
  merchantNo: string;
  /** --operator as given (1 to 3 characters). */
  operator: string;
  /** The clear TMK read from --tmk-file (also in `options`): the caller wipes it when done. */
  tmk: Buffer;
}

/**
 * Validate the options every `qiandao terminal …` command shares (host, port, terminal, merchant,
 * key scheme, operator, timeout, TLS CA) and read the TMK file last, so that a bad option fails
 * before the key is read. A one-shot client: no reconnect, no automatic sign-on.
 */
export function clientOptions(
  values: Omit<ConnectionValues, 'operator-password-file' | 'operator-password-stdin' | 'state'>,
  opts: { firstStan?: number; operatorSignOn?: boolean } = {},
): ClientSetup {
  const { firstStan } = opts;
  const host = requireString(values.host, '--host');
  const port = parsePort(values.port, '--port', false);
  const terminalNo = parseTid(values.tid);
  const merchantNo = parseMid(values.mid);
  const keyScheme = parseScheme(values.scheme);
  const operator = values.operator ?? '01';
  if (!/^[0-9A-Za-z ]{1,3}$/.test(operator)) throw new CliError(`--operator must be 1 to 3 characters, got ${shownValue(operator, 3)}`);
  const timeoutS = Number(values.timeout ?? '30');
  if (!(timeoutS > 0)) throw new CliError(`--timeout must be a positive number of seconds, got '${values.timeout}'`);
  if (opts.operatorSignOn === true && !/^\d{2}$/.test(operator)) throw new CliError(`an operator sign-on needs a two-digit --operator (00-99), got ${shownValue(operator, 3)}`);
  const tlsCa = values['tls-ca'] !== undefined ? readFileArg(values['tls-ca'], '--tls-ca') : undefined;
  const tmk = readTmkFile(values['tmk-file']);
  const options: TerminalClientOptions = {
    host,
    port,
    terminalNo,
    merchantNo,
    tmk,
    keyScheme,
    operatorNo: operator.padEnd(3, ' '),
    reconnect: false,
    autoSignOn: false,
    ...(firstStan !== undefined ? { firstStan } : {}),
    requestTimeoutMs: Math.round(timeoutS * 1000),
    ...(tlsCa !== undefined ? { tls: { ca: tlsCa } } : {}),
  };
  return { options, host, port, terminalNo, merchantNo, operator, tmk };
}

/**
 * Validate the connection options, connect and sign on (the operator too when `password` is
 * given, see planOperatorPassword). The caller closes the client.
 */
export async function connectAndSignOn(values: ConnectionValues, firstStan: number, password: string | undefined): Promise<Connected> {
  const { options, host, port, terminalNo, merchantNo, operator, tmk } = clientOptions(values, { firstStan, operatorSignOn: password !== undefined });
  const sealer = stateSealer(tmk, terminalNo, merchantNo);
  let client: TerminalClient | undefined;
  try {
    client = new TerminalClient(options);
    await client.connect();
    await client.signOn();
    if (password !== undefined) {
      const a = await operatorSignOn(client, operator, password);
      if (!a.approved) throw new CliError(`operator ${operator} sign-on refused: ${a.responseCode} ${a.meaning}`, 1);
      if (!a.macValid) throw new CliError(`operator ${operator} sign-on: the host's answer has a wrong or missing MAC`, 1);
    }
    return { client, host, port, terminalNo, merchantNo, sealer };
  } catch (e) {
    await client?.close().catch(() => undefined);
    if (e instanceof CliError || !isTerminalError(e)) throw e;
    if (e.reason === 'BAD_ARGUMENT') throw new CliError(e.message, 2);
    if (e.reason === 'DECLINED' && e.responseCode !== undefined) throw new CliError(`sign-on refused: ${e.responseCode} ${e.meaning ?? ''}`.trimEnd(), 1);
    throw new CliError(describeTerminalFailure(e, host, port), 1);
  } finally {
    tmk.fill(0);
  }
}

/**
 * AES-256-GCM under HMAC-SHA256(TMK, "qiandao terminal state v1|<mid>/<tid>"): whoever can read
 * the state file without the TMK file learns no card number. Sealed text: `v1.<iv>.<ct>.<tag>`
 * (base64url).
 */
export function stateSealer(tmk: Uint8Array, terminalNo: string, merchantNo: string): CardSealer {
  const key = createHmac('sha256', tmk).update(`qiandao terminal state v1|${merchantNo}/${terminalNo}`).digest();
  return {
    seal(clear) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(clear, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed) {
      const [v, iv, ct, tag] = sealed.split('.');
      if (v !== 'v1' || iv === undefined || ct === undefined || tag === undefined) throw new Error('not a sealed value');
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    },
  };
}

export interface SavedState {
  batch: TerminalBatch;
  /** Last STAN the terminal used. */
  lastStan: string | null;
  /** Reversals not acknowledged yet (card data sealed, see stateSealer); they go first in the next run. */
  reversals: SavedReversal[];
}

/** The state saved in --state, or null when the option is absent or the file does not exist yet. */
export function loadState(path: string | undefined): SavedState | null {
  if (path === undefined) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read --state ${path}: ${(e as Error).message}`);
  }
  try {
    const doc = JSON.parse(text) as { batch?: unknown; lastStan?: unknown; reversals?: unknown };
    const lastStan = typeof doc.lastStan === 'string' && /^\d{6}$/.test(doc.lastStan) ? doc.lastStan : null;
    if (doc.reversals !== undefined && !Array.isArray(doc.reversals)) throw new RangeError('reversals must be a list');
    return { batch: restoreBatch(doc.batch), lastStan, reversals: (doc.reversals ?? []) as SavedReversal[] };
  } catch (e) {
    throw new CliError(`--state ${path} is not a terminal state file: ${(e as Error).message}`);
  }
}

/** The first STAN of this run: after the saved one with --state, else from the clock (clockStan). */
export function firstStanFor(saved: Pick<SavedState, 'lastStan'> | null, now = Date.now()): number {
  if (saved?.lastStan != null) return (Number(saved.lastStan) % 999_999) + 1;
  return clockStan(now);
}

/** Write the state to --state (atomically: temporary file, then rename). No clear PAN, track, PIN or key is in it. */
export function saveState(
  path: string | undefined,
  terminal: { terminalNo: string; merchantNo: string },
  state: { batch: TerminalBatch; lastStan: string | null; reversals: SavedReversal[] },
): void {
  if (path === undefined) return;
  const tmp = `${path}.tmp-${process.pid}`;
  const doc = {
    terminalNo: terminal.terminalNo,
    merchantNo: terminal.merchantNo,
    savedAt: new Date().toISOString(),
    lastStan: state.lastStan,
    reversals: state.reversals,
    batch: batchSnapshot(state.batch),
  };
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

/** A transaction that did not get an answer (or an unusable one), as a CLI error. */
export function transactionFailure(what: string, e: TerminalError, host: string, port: number): CliError {
  if (e.reason === 'BAD_ARGUMENT') return new CliError(e.message, 2);
  if (e.reason === 'MAC_MISMATCH') return new CliError(`${what}: ${e.message} (a reversal was sent)`, 1);
  return new CliError(`${what}: ${describeTerminalFailure(e, host, port)}`, 1);
}

/** Amount option: integer minor units (fen). */
export function parseAmount(raw: string | undefined, name = '--amount'): number {
  if (raw === undefined) throw new CliError(`${name} is required (minor units, e.g. 1250 for 12.50)`);
  if (!/^\d{1,12}$/.test(raw) || Number(raw) === 0) {
    throw new CliError(`${name} must be a positive whole number of minor units (fen), e.g. 1250 for 12.50; got '${raw}'`);
  }
  return Number(raw);
}
