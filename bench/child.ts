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

/** `url` with `application_name` set, so the host child's PostgreSQL backends can be found. */
export function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

/**
 * CPU time (user + system, ms) used so far by the PostgreSQL backends whose application_name is
 * `name`, read from /proc (so PostgreSQL must run on this machine; null when it cannot be read).
 * Background processes (WAL writer, checkpointer) are not included.
 */
export async function backendCpuMs(db: { query<T>(sql: string, params?: readonly unknown[]): Promise<{ rows: T[] }> }, name: string): Promise<Map<number, number> | null> {
  const { readFileSync } = await import('node:fs');
  const r = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name]);
  const out = new Map<number, number>();
  try {
    for (const { pid } of r.rows) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
      out.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / 100);
    }
  } catch {
    return null;
  }
  return out;
}

/** CPU ms used between two backendCpuMs readings (backends that appeared in between count from zero). */
export function backendCpuDelta(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (before === null || after === null) return null;
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}
