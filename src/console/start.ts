/**
 * startConsole: build the API, listen, and run the idle-account job hourly (and once at start).
 */
import type { FastifyInstance } from 'fastify';
import { buildConsole, type ConsoleOptions } from './app.js';
import { disableIdleAccounts } from './jobs/idle-accounts.js';

export interface StartConsoleOptions extends ConsoleOptions {
  port: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Idle-account job interval; default one hour. */
  jobIntervalMs?: number;
}

export interface RunningConsole {
  app: FastifyInstance;
  port: number;
  /** Run the idle-account job now (also what the timer does). */
  runJobs(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startConsole(opts: StartConsoleOptions): Promise<RunningConsole> {
  const app = await buildConsole(opts);
  const clock = opts.clock ?? (() => new Date());
  const idleDays = opts.policy?.accountIdleDays ?? 90;
  const runJobs = async (): Promise<string[]> => {
    try {
      const disabled = await disableIdleAccounts(opts.db, clock(), idleDays);
      if (disabled.length > 0) opts.logger?.warn({ disabled }, 'idle accounts disabled');
      return disabled;
    } catch (e) {
      opts.logger?.error({ err: e instanceof Error ? e.message : String(e) }, 'idle-account job failed');
      return [];
    }
  };
  await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' });
  await runJobs();
  const timer = setInterval(() => void runJobs(), opts.jobIntervalMs ?? 3_600_000);
  timer.unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  let closing: Promise<void> | null = null;
  return {
    app,
    port,
    runJobs,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await app.close();
      })();
      return closing;
    },
  };
}
