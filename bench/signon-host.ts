/**
 * Host child process of the sign-on storm benchmark (bench/signon.ts forks it). Opens the store
 * the parent seeded and a SoftHsm with the same LMK, starts the host on 127.0.0.1 port 0, sends
 * `{ type: 'ready', port }` over IPC and runs until it receives `'stop'` or the IPC channel
 * closes (parent gone), then closes host, store and HSM and exits.
 *
 * Configuration arrives as JSON in argv[2]: { lmkHex, url?, schema?, dataDir?, migrationsDir, poolSize? }.
 * On `'cpu'` it answers `{ type: 'cpu', userUs, systemUs }` (process.cpuUsage()), which the parent
 * reads before and after the measured storm to report host CPU time per sign-on.
 */
import { pino } from 'pino';
import { SoftHsm } from '../src/crypto/hsm/soft-hsm.js';
import { startHost } from '../src/host/index.js';
import { openStore } from '../src/store/index.js';

export interface SignOnHostConfig {
  lmkHex: string;
  /** PostgreSQL URL; PGlite (dataDir) when undefined. */
  url?: string;
  schema?: string;
  dataDir?: string;
  migrationsDir: string;
  /** PostgreSQL pool size; the store's default when undefined. */
  poolSize?: number;
}

export type SignOnHostMessage =
  | { type: 'ready'; port: number }
  | { type: 'error'; message: string }
  | { type: 'cpu'; userUs: number; systemUs: number };

function send(msg: SignOnHostMessage): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('signon-host must be started with an IPC channel (fork)');
  const config = JSON.parse(process.argv[2] ?? '{}') as SignOnHostConfig;
  const hsm = await SoftHsm.open({ lmkHex: config.lmkHex, env: {}, logger: { warn: () => undefined } });
  const db = await openStore(
    config.url !== undefined
      ? {
          url: config.url,
          migrationsDir: config.migrationsDir,
          ...(config.schema !== undefined ? { schema: config.schema } : {}),
          ...(config.poolSize !== undefined ? { poolSize: config.poolSize } : {}),
        }
      : { migrationsDir: config.migrationsDir, ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}) },
  ).catch(async (e: unknown) => {
    await hsm.close().catch(() => undefined);
    throw e;
  });
  const host = await startHost({ port: 0, host: '127.0.0.1', db, hsm, logger: pino({ level: 'silent' }) }).catch(async (e: unknown) => {
    await db.close().catch(() => undefined);
    await hsm.close().catch(() => undefined);
    throw e;
  });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await host.close();
    } finally {
      await db.close().catch(() => undefined);
      await hsm.close().catch(() => undefined);
    }
    // process.exit (not a hard kill) so that --cpu-prof writes its profile.
    process.exit(0);
  };
  process.on('message', (m) => {
    if (m === 'stop') void stop();
    if (m === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', userUs: u.user, systemUs: u.system });
    }
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  send({ type: 'ready', port: host.port });
}

main().catch((e: unknown) => {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
