/**
 * Host processes the benchmarks start: forked with an IPC channel, stopped gracefully ('stop'
 * message, SIGKILL after 10 s), and killed whenever this process exits, however it exits.
 */
import { fork, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

export interface ForkedHost {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Fork `entry` with `config` as JSON in argv[2]; with `cpuProfDir`, write a CPU profile named `profName`. */
export function forkHost(entry: string, config: unknown, cpuProfDir: string | undefined, profName: string): ForkedHost {
  const execArgv = cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', profName] : [];
  const child = fork(entry, [JSON.stringify(config)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send('stop');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, stop };
}

/** Reject when `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
