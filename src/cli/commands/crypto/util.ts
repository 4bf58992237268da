/**
 * Shared plumbing of the `qiandao crypto …` calculator: option parsing helpers, key-length checks
 * with helpful hints, aligned `label: value` output, secrets given as `-` (read from standard
 * input) and the mapping of the crypto layers' typed errors (whose discriminator is `code`, not
 * `reason`) to exit code 2.
 */
import { CipherError, toHex, type BlockAlgorithm } from '../../../crypto/cipher.js';
import { DukptError } from '../../../crypto/dukpt/index.js';
import { kcv } from '../../../crypto/kcv.js';
import { hasOddParity } from '../../../crypto/parity.js';
import { KeyBlockError } from '../../../crypto/tr31/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { hexInput, readSecretLines } from '../../io.js';

export { toHex };

/** Hex option value → bytes (whitespace, colons and 0x tolerated); required unless `optional`. */
export async function hexOption(value: string | undefined, name: string): Promise<Buffer> {
  if (value === undefined || value.trim() === '') throw new CliError(`${name} is required`);
  return hexInput(value, name);
}

export async function optionalHex(value: string | undefined, name: string): Promise<Buffer | undefined> {
  return value === undefined ? undefined : hexInput(value, name);
}

/** What each option that may carry key material or a PIN holds, for stdin prompts and errors. */
const SECRET_WHAT: Readonly<Record<string, string>> = {
  key: 'the key',
  kek: 'the KEK',
  kbpk: 'the KBPK',
  bdk: 'the BDK',
  ipek: 'the IPEK',
  pin: 'the PIN',
  data: 'the data',
};

/** "the key (--key -)": how a secret option given as `-` is named on the prompt and in errors. */
export function optionLabel(name: string): string {
  return `${SECRET_WHAT[name] ?? `--${name}`} (--${name} -)`;
}

/**
 * The usage line on `-`: `which` says what takes it ("the value of --kbpk or --key"), `order` the
 * order the lines are read in when several `-` are given ("--kbpk, then --key").
 */
export function stdinUsage(which: string, order?: string): string {
  return (
    `  -                as ${which}: read it from standard input, one line per -${order === undefined ? '' : ` (in this order: ${order})`}; a terminal prompts without echo.\n` +
    '                   Use - for anything real: argv is visible to other users (ps) and kept in shell history; this calculator is for test keys.'
  );
}

/**
 * Secrets given as `-`: each `-` among `values[names…]` is replaced, in place, by one line of
 * standard input, read in the order of `names` (which is the order of the command's usage text)
 * with {@link readSecretLines}: piped input must hold exactly those lines, a terminal prompts for
 * each without echo. Options that are not `-` are left alone (the argv form stays, for test keys).
 * Returns whether standard input was read.
 *
 * `stdinData` is for a command whose data (or block) would otherwise default to standard input:
 * pass it when that default would be taken, and a `-` is then refused (exit 2) before anything is
 * read, since standard input cannot carry both; it says what the data is and how to give it instead.
 * `label` names a secret on the prompt and in errors (default: {@link optionLabel}).
 *
 * No error quotes what was read; a blank line is refused here (naming the line and the secret), and
 * bad hex gets the same error from the caller's hex parsing as the argv form, naming the option.
 */
export async function secretsFromStdin<K extends string>(
  values: { [P in K]?: string | undefined },
  names: readonly K[],
  opts: { stdinData?: { what: string; instead: string } | undefined; label?: (name: K) => string } = {},
): Promise<boolean> {
  const label = opts.label ?? optionLabel;
  const dashes = names.filter((n) => values[n] === '-');
  if (dashes.length === 0) return false;
  const what = dashes.map(label);
  if (opts.stdinData !== undefined) {
    throw new CliError(
      `standard input is read for ${what.join(' and ')}, so it cannot also carry ${opts.stdinData.what}: give it as ${opts.stdinData.instead}`,
    );
  }
  const lines = await readSecretLines(what);
  dashes.forEach((n, i) => {
    const line = lines[i]!;
    if (line.trim() === '') throw new CliError(`line ${i + 1} of standard input, ${what[i]!}, is empty`);
    values[n] = line;
  });
  return true;
}

/** A value from a fixed list, case-insensitive; `aliases` maps extra spellings to a choice. */
export function choice<T extends string>(
  value: string | undefined,
  name: string,
  choices: readonly T[],
  fallback?: T,
  aliases: Record<string, T> = {},
): T {
  if (value === undefined) {
    if (fallback === undefined) throw new CliError(`${name} is required (${choices.join(', ')})`);
    return fallback;
  }
  const v = value.trim().toLowerCase();
  const hit = choices.find((c) => c.toLowerCase() === v) ?? aliases[v];
  if (hit === undefined) throw new CliError(`unknown ${name} '${value}': expected ${choices.join(', ')}`);
  return hit;
}

export function blockAlg(value: string | undefined, name = '--alg'): BlockAlgorithm {
  return choice(value, name, ['tdes', 'aes'] as const, 'tdes', { des: 'tdes', '3des': 'tdes', tdea: 'tdes' });
}

/** A decimal integer option within [min, max]. */
export function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value.trim())) throw new CliError(`${name} must be a whole number, got '${value}'`);
  const n = Number(value.trim());
  if (n < min || n > max) throw new CliError(`${name} must be ${min}..${max}, got ${n}`);
  return n;
}

const KEY_LENGTHS: Record<BlockAlgorithm, readonly number[]> = { tdes: [8, 16, 24], aes: [16, 24, 32] };

/** Refuse a key whose length does not fit the algorithm, with a hint towards the other one. */
export function checkKeyLength(alg: BlockAlgorithm, key: Uint8Array, name: string): void {
  const allowed = KEY_LENGTHS[alg];
  if (allowed.includes(key.length)) return;
  const other: BlockAlgorithm = alg === 'tdes' ? 'aes' : 'tdes';
  const hint = KEY_LENGTHS[other].includes(key.length) ? ` (for ${other.toUpperCase()} pass --alg ${other})` : '';
  throw new CliError(`${name} is ${key.length} bytes: a ${alg.toUpperCase()} key is ${orList(allowed)} bytes${hint}`);
}

/** Default KCV of a key (TDES: zero block, 3 bytes; AES: CMAC, 5 bytes), as hex. */
export function kcvHex(key: Uint8Array, alg: BlockAlgorithm): string {
  return toHex(kcv(key, { alg }));
}

/** KCV of a key, or undefined when its length does not fit the algorithm. */
export function kcvIfValid(key: Uint8Array, alg: BlockAlgorithm): string | undefined {
  return KEY_LENGTHS[alg].includes(key.length) ? kcvHex(key, alg) : undefined;
}

export function parityText(key: Uint8Array): string {
  return hasOddParity(key) ? 'odd' : 'not odd (some bytes have even parity)';
}

/** "8, 16 or 24" */
export function orList(xs: readonly (string | number)[]): string {
  return xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${String(xs[xs.length - 1])}`;
}

export type Row = readonly [label: string, value: string | number | undefined];

/** Print `label: value` lines with the values aligned; rows with an undefined value are skipped. */
export function printRows(rows: readonly Row[]): void {
  const shown = rows.filter((r): r is readonly [string, string | number] => r[1] !== undefined);
  const width = Math.max(0, ...shown.map(([l]) => l.length)) + 2;
  process.stdout.write(shown.map(([l, v]) => `${(l + ':').padEnd(width)}${v}`).join('\n') + '\n');
}

/**
 * The one-line reminder printed on stderr when clear key material (or a clear PIN) goes to the
 * terminal. Plain output only: with --json the output is for scripts, stdout stays pure JSON and
 * stderr stays empty, the same convention as `qiandao decode --reveal`.
 */
export function clearKeyNotice(what = 'clear key material printed'): void {
  process.stderr.write(`qiandao: test keys only: ${what}\n`);
}

/**
 * Turn the typed errors of the cipher core, key blocks and DUKPT (which carry `code`, or nothing)
 * into CliErrors (exit 2). CryptoError already has `reason` and is mapped by the runner.
 */
export function translateErrors(e: unknown): never {
  if (e instanceof KeyBlockError || e instanceof DukptError) {
    const prefix = `${e.code}: `;
    const msg = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    throw new CliError(`${e.name} [${e.code}]: ${msg}`);
  }
  if (e instanceof CipherError) throw new CliError(e.message);
  throw e;
}

/** Build a command whose runner's layer errors are translated by {@link translateErrors}. */
export function command(def: Command): Command {
  return {
    path: def.path,
    summary: def.summary,
    usage: def.usage,
    async run(argv) {
      try {
        await def.run(argv);
      } catch (e) {
        translateErrors(e);
      }
    },
  };
}

/** Data from --data HEX, --text STRING, a positional HEX or standard input (hex). */
export async function dataInput(values: { data?: string; text?: string }, positionals: string[], name = '--data'): Promise<Buffer> {
  const given = [values.data !== undefined, values.text !== undefined, positionals.length > 0].filter(Boolean).length;
  if (given > 1) throw new CliError(`give the data once: ${name} HEX, --text STRING or a positional HEX`);
  if (values.text !== undefined) return Buffer.from(values.text, 'utf8');
  return hexInput(values.data ?? (positionals.length ? positionals.join('') : undefined), name);
}

/** The text of a buffer when every byte is printable ASCII, else undefined. */
export function printableAscii(b: Uint8Array): string | undefined {
  if (b.length === 0) return undefined;
  for (const c of b) if (c < 0x20 || c > 0x7e) return undefined;
  return Buffer.from(b).toString('latin1');
}
