/**
 * Host child process of the sign-on storm and trade benchmarks (bench/signon.ts and bench/trade.ts
 * fork it through startHostChild in bench/child.ts). Opens the store the parent seeded and a
 * SoftHsm with the same LMK — with `trade`, also the issuer simulator and the risk engine (default
 * rules plus the merchant overrides the parent stored) — starts the host on 127.0.0.1 port 0,
 * sends `{ type: 'ready', port }` over IPC and runs until it receives `'stop'`, SIGTERM or the IPC
 * channel closes (parent gone), then closes host, store and HSM and exits with process.exit (so
 * that a CPU profile still gets written).
 *
 * Every statement and transaction the host sends to the store is counted. `'cpu'` asks for the
 * CPU time so far (process.cpuUsage()) and those counts; `'statements'` for the statements counted
 * by their first words. With `profDir` it also answers 'prof-start' / 'prof-stop'
 * (bench/host-profiler.ts), so the parent can profile only the measured phase.
 *
 * Configuration arrives as JSON in argv[2]:
 * { lmkHex, url?, schema?, dataDir?, migrationsDir, poolSize?, trade, profDir?, profName? }.
 */
import { pino } from 'pino';
import { SoftHsm } from '../src/crypto/hsm/soft-hsm.js';
import { startHost } from '../src/host/index.js';
import { openIssuerSimulator } from '../src/issuer/simulator.js';
import { createRiskEngine } from '../src/risk/engine.js';
import { openStore, type Db } from '../src/store/index.js';
import { profilerMessages } from './host-profiler.js';

export interface HostChildConfig {
  lmkHex: string;
  /** PostgreSQL URL; PGlite (dataDir) when undefined. */
  url?: string;
  schema?: string;
  dataDir?: string;
  migrationsDir: string;
  /** PostgreSQL pool size; the store's default when undefined. */
  poolSize?: number;
  /** Also open the issuer simulator and the risk engine (the trade benchmark). */
  trade: boolean;
  /** Answer 'prof-start' / 'prof-stop' and write the profile as `<profDir>/<profName>`. */
  profDir?: string;
  profName?: string;
}

export type HostChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'error'; message: string }
  | { type: 'cpu'; userUs: number; systemUs: number; statements: number; transactions: number }
  | { type: 'statements'; bySql: Record<string, number> }
  | { type: 'prof-started' }
  | { type: 'prof-written'; path: string };

/** Statements and transactions the host has sent to the store (every db.query / tx.query, every transaction). */
const counts = { statements: 0, transactions: 0 };
/** Statements by their first words (whitespace collapsed, 90 characters). */
const bySql = new Map<string, number>();

function sqlKey(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().slice(0, 90);
}

/** `db` with every statement and transaction counted (handles inside transactions too). */
function counted(db: Db): Db {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (sql: string, params?: readonly unknown[]) => {
          counts.statements++;
          const k = sqlKey(sql);
          bySql.set(k, (bySql.get(k) ?? 0) + 1);
          return target.query(sql, params);
        };
      }
      if (prop === 'transaction') {
        return <T>(fn: (tx: Db) => Promise<T>) => {
          counts.transactions++;
          return target.transaction((tx) => fn(counted(tx)));
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function send(msg: HostChildMessage): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('host-child must be started with an IPC channel (fork)');
  const config = JSON.parse(process.argv[2] ?? '{}') as HostChildConfig;
  const hsm = await SoftHsm.open({ lmkHex: config.lmkHex, env: {}, logger: { warn: () => undefined } });
  const closers: Array<() => Promise<unknown>> = [() => hsm.close()];
  let port = 0;
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const raw = await openStore(
      config.url !== undefined
        ? {
            url: config.url,
            migrationsDir: config.migrationsDir,
            ...(config.schema !== undefined ? { schema: config.schema } : {}),
            ...(config.poolSize !== undefined ? { poolSize: config.poolSize } : {}),
          }
        : { migrationsDir: config.migrationsDir, ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}) },
    );
    closers.push(() => raw.close());
    const db = counted(raw);
    const extras = config.trade ? { issuer: await openIssuerSimulator({ db, hsm }), risk: createRiskEngine() } : {};
    const host = await startHost({ port: 0, host: '127.0.0.1', db, hsm, ...extras, logger: pino({ level: 'silent' }) });
    closers.push(() => host.close());
    port = host.port;
  } catch (e) {
    await closeAll();
    throw e;
  }

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await closeAll();
    // process.exit (not a hard kill) so that a profile in progress (--cpu-prof) is written.
    process.exit(0);
  };
  const profiler = config.profDir !== undefined ? profilerMessages(config.profDir, config.profName ?? 'host-child.cpuprofile') : undefined;
  process.on('message', (m) => {
    if (profiler?.(m) === true) return;
    if (m === 'stop') void stop();
    else if (m === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', userUs: u.user, systemUs: u.system, ...counts });
    } else if (m === 'statements') {
      send({ type: 'statements', bySql: Object.fromEntries(bySql) });
    }
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  send({ type: 'ready', port });
}

main().catch((e: unknown) => {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
