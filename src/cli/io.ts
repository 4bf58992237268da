import { readFileSync } from 'node:fs';
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
