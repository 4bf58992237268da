/**
 * `qiandao` command-line entry: finds the command whose name path matches the arguments, runs
 * it, and turns errors into one line on stderr plus an exit code:
 *   0 success · 1 refused / internal failure · 2 bad input (typed error from any layer)
 */
import { CliError } from './errors.js';
import type { Command } from './command.js';
import { commands } from './registry.js';

const VERSION = '0.1.0';

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  const lines = commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'qiandao — payment-terminal host and toolkit',
    '',
    'Usage: qiandao <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `qiandao <command> --help` for the options of one command.',
  ].join('\n');
}

/** Longest command path that prefixes argv. */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    if (c.path.length <= argv.length && c.path.every((p, i) => argv[i] === p)) {
      if (!best || c.path.length > best.path.length) best = c;
    }
  }
  return best ? { cmd: best, rest: argv.slice(best.path.length) } : undefined;
}

/** A typed error from any layer (Iso8583Error, FramingError, CryptoError, …) is bad input. */
function isTypedInputError(e: unknown): e is Error & { reason: string } {
  return e instanceof Error && typeof (e as { reason?: unknown }).reason === 'string';
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const prefix = commands.filter((c) => c.path[0] === argv[0]);
    const hint = prefix.length
      ? `\n  ${prefix.map((c) => 'qiandao ' + c.path.join(' ')).join('\n  ')}`
      : '\nRun `qiandao --help` for the list of commands.';
    process.stderr.write(`qiandao: unknown command '${argv.join(' ')}'${hint}\n`);
    return 2;
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    process.stdout.write(`${found.cmd.summary}\n\nUsage: ${found.cmd.usage}\n`);
    return 0;
  }
  try {
    await found.cmd.run(found.rest);
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`qiandao: ${e.message}\n`);
      return e.exitCode;
    }
    if (isTypedInputError(e)) {
      process.stderr.write(`qiandao: ${e.name} [${e.reason}]: ${e.message}\n`);
      return 2;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`qiandao: ${e.message}\nUsage: ${found.cmd.usage}\n`);
      return 2;
    }
    process.stderr.write(`qiandao: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
}

