/** Run the CLI in-process with captured stdout/stderr and an optional stdin text. */
import { Readable } from 'node:stream';
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
