import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { CliError } from './errors.js';

/** Read all of standard input as text (empty string when stdin is a TTY). */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Hex from an argument or stdin; whitespace, colons and a 0x prefix are tolerated. */
export async function hexInput(arg: string | undefined, what = 'HEX'): Promise<Buffer> {
  const raw = arg ?? (await readStdin());
  const cleaned = raw.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (cleaned.length === 0) throw new CliError(`${what} is required (as an argument or on standard input)`);
  if (cleaned.length % 2 !== 0) throw new CliError(`${what} has an odd number of hex digits (${cleaned.length})`);
  if (!/^[0-9a-fA-F]+$/.test(cleaned)) throw new CliError(`${what} contains characters that are not hex digits`);
  return Buffer.from(cleaned, 'hex');
}

/** Parse JSON text or fail with a CLI error. */
export function parseJsonText(text: string, what = 'input'): unknown {
  if (text.trim() === '') throw new CliError(`${what} is empty: expected a JSON document`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Read a file named by an option; an unreadable file is bad input (exit 2) naming the option. */
export function readFileArg(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * The first line of a file that holds one secret (e.g. --operator-password-file): the way to give
 * a secret when standard input is taken or a script runs unattended. Only the first line counts
 * (its \n or \r\n dropped, nothing else trimmed), so the file may end with a newline or carry
 * notes below. No error quotes the content.
 *
 * A regular file that its group or other users may read is refused, as ssh refuses such a private
 * key: the secret would then be as exposed as on argv, just less visibly. The mode is checked on
 * the opened descriptor, so the file cannot be swapped between check and read. Pipes such as
 * bash's `<(pass show …)` are not regular files and pass. POSIX modes mean nothing on Windows.
 */
export function readSecretFile(path: string, option: string): string {
  if (path === '') throw new CliError(`${option} needs a file name`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CliError(`cannot read ${option} ${path}: ${describeFsError(e)}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new CliError(`cannot read ${option} ${path}: it is a directory`);
    if (st.isFile() && process.platform !== 'win32' && (st.mode & 0o044) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
      throw new CliError(`${option} ${path} can be read by other users (mode ${mode}): restrict it to its owner first (chmod 600 ${path})`);
    }
    text = readFirstLine(fd, `${option} ${path}`);
  } finally {
    closeSync(fd);
  }
  if (text.trim() === '') throw new CliError(`${option} ${path} is empty: the secret goes on its first line`);
  return text;
}

/** Up to the first \n of an open file (at most 4 KiB: a secret line is short, and a FIFO may never end). */
function readFirstLine(fd: number, what: string): string {
  const buf = Buffer.alloc(4096);
  let len = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, len, buf.length - len, null);
    } catch (e) {
      throw new CliError(`cannot read ${what}: ${describeFsError(e)}`);
    }
    if (n === 0) break;
    const nl = buf.subarray(len, len + n).indexOf(0x0a);
    len += n;
    if (nl >= 0 || len === buf.length) break;
  }
  const chunk = buf.subarray(0, len);
  const nl = chunk.indexOf(0x0a);
  if (nl < 0 && len === buf.length) {
    buf.fill(0);
    throw new CliError(`${what}: the first line is longer than ${buf.length} bytes, which no secret here is`);
  }
  const line = chunk.subarray(0, nl >= 0 ? nl : len).toString('utf8');
  buf.fill(0);
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? (e as Error).message;
}

/**
 * The first lines of standard input, one per entry of `what` (e.g. "the PIN (--pin-stdin)"), for
 * secrets that must never be command-line arguments: argv is readable by every local user
 * (ps, /proc/PID/cmdline) and lands in shell history. Line ends (\n or \r\n) are dropped and
 * nothing else is trimmed. No error quotes what was read.
 *
 * Piped input must hold exactly those lines (blank lines at the end are ignored): a further
 * non-blank line usually means PAN and PIN were swapped or a flag is missing, and guessing which
 * line is which would send the wrong secret. On a terminal each line is prompted for on stderr
 * without echo.
 */
export async function readSecretLines(what: readonly string[]): Promise<string[]> {
  if (what.length === 0) return [];
  if (process.stdin.isTTY) {
    if (typeof process.stdin.setRawMode !== 'function') throw new CliError(`standard input is a terminal that cannot hide input: pipe ${listOf(what)} in instead`);
    return promptHidden(what);
  }
  const text = await readStdin();
  if (text.trim() === '') throw new CliError(`standard input is empty: expected ${listOf(what)}, one per line`);
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length < what.length) {
    throw new CliError(`standard input has ${lines.length} line${lines.length === 1 ? '' : 's'}: line ${lines.length + 1} should be ${what[lines.length]!} (expected ${listOf(what)}, one per line)`);
  }
  if (lines.length > what.length) {
    throw new CliError(`standard input has ${lines.length} lines, expected ${what.length}: ${listOf(what)}, one per line`);
  }
  return lines;
}

function listOf(what: readonly string[]): string {
  return what.length === 1 ? what[0]! : what.map((w, i) => `line ${i + 1} ${w}`).join(', ');
}

/** Prompt on stderr for each entry of `what` with the terminal in raw mode, so nothing typed is echoed. */
async function promptHidden(what: readonly string[]): Promise<string[]> {
  const stdin = process.stdin;
  const got: string[] = [];
  let current = '';
  process.stderr.write(`${what[0]!}: `);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        if (e !== undefined) reject(e);
        else resolve();
      };
      const onEnd = (): void => done(new CliError(`standard input closed before ${what[got.length]!} was entered`));
      const onData = (chunk: Buffer | string): void => {
        for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
          // raw mode turns Ctrl-C into a character instead of SIGINT: honour it (and Ctrl-D on an empty line)
          if (ch === '\u0003' || (ch === '\u0004' && current === '')) {
            process.stderr.write('\n');
            done(new CliError('cancelled at the prompt', 130));
            return;
          }
          if (ch === '\r' || ch === '\n') {
            process.stderr.write('\n');
            got.push(current);
            current = '';
            if (got.length === what.length) {
              done();
              return;
            }
            process.stderr.write(`${what[got.length]!}: `);
          } else if (ch === '\u007f' || ch === '\b') {
            current = current.slice(0, -1);
          } else if (ch >= ' ') {
            current += ch;
          }
        }
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
  return got;
}

/**
 * Refuse a PIN on the command line (`--pin VALUE`, `--pin=VALUE`, a bare `--pin`), checked on raw
 * argv before the argument parser sees (and might quote) it. By now the PIN is already in ps and
 * shell history, so the point is to change the habit, not to use it; the value is never repeated.
 * `example` shows the command the user should run instead.
 */
export function refusePinArgument(argv: readonly string[], example = 'qiandao …'): void {
  if (argv.some((a) => a === '--pin' || a.startsWith('--pin='))) {
    throw new CliError(
      '--pin is not accepted: a PIN on the command line is visible to other users (ps) and kept in shell history. ' +
        `Pass --pin-stdin and write the PIN as the first line of standard input (e.g. --pin-stdin < pin.txt, or printf '%s\\n' "$PIN" | ${example})`,
    );
  }
}

/**
 * Refuse stray arguments without quoting them: one may be a PIN, card number or password typed
 * after a `--…-stdin` option (the argument parser's own error would repeat it). `hint` says where
 * secrets go instead.
 */
export function refuseStrayArguments(positionals: readonly string[], hint: string): void {
  if (positionals.length > 0) {
    throw new CliError(
      `${positionals.length} unexpected argument${positionals.length === 1 ? '' : 's'} (not shown: it may be a PIN, card number or password); ${hint}`,
    );
  }
}

/**
 * A bad option value for an error message: quoted when it is no longer than the field could be,
 * otherwise only its length — a long value in a short field is often a PIN or password typed into
 * the wrong option, and errors must not repeat it.
 */
export function shownValue(value: string, maxLength: number): string {
  return value.length <= maxLength ? `'${value}'` : `a value of ${value.length} characters (not shown)`;
}
