/** Run the CLI in-process with captured stdout/stderr and an optional stdin text. */
import { PassThrough, Readable } from 'node:stream';
import { vi } from 'vitest';
import { main } from '../../src/cli/run.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], stdin?: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  const fakeStdin = Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]) as unknown as typeof process.stdin;
  const stdinSpy = vi.spyOn(process, 'stdin', 'get').mockReturnValue(fakeStdin);
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    stdinSpy.mockRestore();
  }
}

/**
 * Run the CLI with standard input as an interactive terminal: `keys` are typed once the CLI has
 * switched it to raw mode (no echo), as a person at the prompt would.
 */
export async function runCliOnTty(argv: string[], keys: string[]): Promise<{ code: number; stdout: string; stderr: string; rawModes: boolean[] }> {
  let stdout = '';
  let stderr = '';
  const rawModes: boolean[] = [];
  const tty = Object.assign(new PassThrough(), {
    isTTY: true,
    setRawMode(mode: boolean) {
      rawModes.push(mode);
      if (mode) setImmediate(() => keys.forEach((k) => tty.write(k)));
      return tty;
    },
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const stdin = vi.spyOn(process, 'stdin', 'get').mockReturnValue(tty as unknown as typeof process.stdin);
  try {
    const code = await main(argv);
    return { code, stdout, stderr, rawModes };
  } finally {
    out.mockRestore();
    err.mockRestore();
    stdin.mockRestore();
  }
}
