/**
 * Host processes the benchmarks start: bench/host-child.ts forked with an IPC channel, stopped
 * gracefully ('stop' message, SIGKILL after 10 s), and killed whenever this process exits, however
 * it exits. Also the PostgreSQL part the benchmarks share (withBenchSchema) and the CPU time of the
 * host's PostgreSQL backends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dropSchema, migrate, openStore, type Db } from '../src/store/index.js';
import type { HostChildConfig, HostChildMessage } from './host-child.js';

/** The repository's migrations (this file runs from .bench-build/bench/). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const HOST_ENTRY = fileURLToPath(new URL('./host-child.js', import.meta.url));
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

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

/** Fork `entry` with `config` as JSON in argv[2]. */
export function forkHost(entry: string, config: unknown): ForkedHost {
  const child = fork(entry, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

/** CPU time and store work of the host child so far. */
export interface HostUsage {
  /** CPU time (user + system), µs. */
  cpuUs: number;
  /** Store statements and transactions the host has issued. */
  statements: number;
  transactions: number;
}

export interface HostChild {
  port: number;
  usage(): Promise<HostUsage>;
  /** Statements so far by their first words. */
  statements(): Promise<Record<string, number>>;
  /** Start the child's CPU profiler (a no-op unless started with a profile directory). */
  profStart(): Promise<void>;
  /** Stop it and write the profile; resolves to its path ('' without a profile directory). */
  profStop(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Fork bench/host-child.ts with `config` and wait (60 s at most) until its host listens. With
 * `cpuProfDir`, the child profiles itself between profStart() and profStop() only (for example the
 * measured phase, not seeding or sign-on) and writes `<cpuProfDir>/<profName>`.
 */
export function startHostChild(config: Omit<HostChildConfig, 'profDir' | 'profName'>, cpuProfDir: string | undefined, profName: string): Promise<HostChild> {
  const full: HostChildConfig = cpuProfDir !== undefined ? { ...config, profDir: cpuProfDir, profName } : config;
  const { child, stop } = forkHost(HOST_ENTRY, full);
  // Answers come back in the order asked, one queue per kind; all are rejected if the child goes.
  type Waiter<T> = { resolve: (v: T) => void; reject: (e: Error) => void };
  const usageWaiters: Array<Waiter<HostUsage>> = [];
  const sqlWaiters: Array<Waiter<Record<string, number>>> = [];
  const profWaiters: Array<Waiter<string>> = [];
  const ask = <T>(waiters: Array<Waiter<T>>, msg: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) {
        reject(new Error('host child is gone'));
        return;
      }
      waiters.push({ resolve, reject });
      child.send(msg);
    });
  const usage = (): Promise<HostUsage> => ask(usageWaiters, 'cpu');
  const statements = (): Promise<Record<string, number>> => ask(sqlWaiters, 'statements');
  const profStart = (): Promise<void> => (cpuProfDir === undefined ? Promise.resolve() : ask(profWaiters, 'prof-start').then(() => undefined));
  const profStop = (): Promise<string> => (cpuProfDir === undefined ? Promise.resolve('') : ask(profWaiters, 'prof-stop'));
  return new Promise<HostChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('host child did not report ready within 60 s'));
    }, 60_000);
    child.on('message', (m: HostChildMessage) => {
      if (m.type === 'prof-started' || m.type === 'prof-written') {
        profWaiters.shift()?.resolve(m.type === 'prof-written' ? m.path : '');
        return;
      }
      if (m.type === 'cpu') {
        usageWaiters.shift()?.resolve({ cpuUs: m.userUs + m.systemUs, statements: m.statements, transactions: m.transactions });
        return;
      }
      if (m.type === 'statements') {
        sqlWaiters.shift()?.resolve(m.bySql);
        return;
      }
      clearTimeout(timer);
      if (m.type === 'ready') resolve({ port: m.port, usage, statements, profStart, profStop, stop });
      else reject(new Error(`host child failed: ${m.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const e = new Error(`host child exited (code ${code}, signal ${signal})`);
      for (const w of [...usageWaiters.splice(0), ...sqlWaiters.splice(0), ...profWaiters.splice(0)]) w.reject(e);
      reject(new Error(`host child exited before ready (code ${code}, signal ${signal})`));
    });
  });
}

export interface BenchSchema {
  /** A handle on the new, migrated schema (the parent's own; the host child opens its own pool). */
  db: Db;
  /** The PostgreSQL URL in use. */
  url: string;
  schema: string;
}

/**
 * The PostgreSQL part of a benchmark: resolve DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test), connect (10 s at most), create the unique schema
 * `<prefix>_<pid>_<time>`, migrate it and run `fn`; the schema is dropped and the connection closed
 * however `fn` ends. An unreachable server gives `{ skipped }` with a reason (password masked)
 * instead of an error.
 */
export async function withBenchSchema<T>(prefix: string, fn: (s: BenchSchema) => Promise<T>): Promise<{ skipped: string } | { value: T }> {
  const envUrl = process.env['DATABASE_URL'];
  const url = envUrl !== undefined && envUrl !== '' ? envUrl : DEFAULT_URL;
  const schema = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  let db: Db;
  try {
    db = await withTimeout(openStore({ url, schema, migrate: false }), 10_000, 'connecting to PostgreSQL');
  } catch (e) {
    return { skipped: `PostgreSQL at ${url.replace(/\/\/[^@/]*@/, '//…@')} unreachable: ${(e as Error).message}` };
  }
  try {
    await migrate(db, { dir: MIGRATIONS_DIR });
    return { value: await fn({ db, url, schema }) };
  } finally {
    await dropSchema(db).catch((e: unknown) => console.error(`dropping schema ${schema} failed: ${(e as Error).message}`));
    await db.close().catch(() => undefined);
  }
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
