/**
 * Sign-on storm benchmark (`npm run bench:signon`): for each store — embedded PGlite (temporary
 * data directory) and PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test,
 * in a unique schema dropped afterwards; skipped with a reason when unreachable) — seed one
 * merchant and N terminals sharing one TMK formed from known components, start the host in a
 * child process (bench/host-child.ts, port 0, same store and LMK), then from this process run
 * runSignOnSim: a warm-up on separate terminals, then the measured storm.
 *
 * Flags: --terminals N (3000)  --concurrency C (300)  --warmup W (200)
 *        --store pglite|postgres|all (all)  --host-cpu-prof DIR (profile the host child over the measured storm)
 *        --pool N (PostgreSQL pool size of the host; the store's default when absent)
 *        --statements (list the host's store statements per sign-on by their first words)
 *
 * Besides rate and latency, per measured sign-on (the warm-up is not counted): host CPU ms and sim
 * CPU ms, the CPU time (user + system, process.cpuUsage()) of the host child and of this process
 * during the storm — unlike the rate, they hardly depend on what else the machine is running;
 * PG CPU ms, the CPU time of the host's own PostgreSQL backends ('-' for PGlite); and stmts / txns,
 * the store statements and transactions the host issued.
 *
 * Target (the issue): >= 3,000 sign-ons/s with p99 < 50 ms on PostgreSQL, no failures.
 * Traffic stays on 127.0.0.1; the child is stopped on every exit path.
 */
import { backendCpuDelta, backendCpuMs, MIGRATIONS_DIR, startHostChild, withApplicationName, withBenchSchema, type HostChild } from './child.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { combineComponents } from '../src/crypto/components.js';
import { SoftHsm } from '../src/crypto/hsm/soft-hsm.js';
import { addMerchant, addTerminal, openStore, type Db } from '../src/store/index.js';
import { runSignOnSim, simTerminalNo, type SignOnSimSummary } from '../src/terminal/sim/index.js';
import { fmtInt, machine, table } from './harness.js';

const LMK = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const MID = '898110070110001';
const C1 = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
const C2 = Buffer.from('3131313131313131FEFEFEFEFEFEFEFE', 'hex');
/** Measured terminals are 1xxxxxxx, warm-up terminals 9xxxxxxx (distinct rows, fresh sign-ons). */
const PREFIX = '1';
const WARM_PREFIX = '9';
const TARGET_RATE = 3000;
const TARGET_P99_MS = 50;

interface Options {
  terminals: number;
  concurrency: number;
  warmup: number;
  stores: Array<'pglite' | 'postgres'>;
  cpuProfDir: string | undefined;
  poolSize: number | undefined;
  /** Print the statements per sign-on by their first words. */
  statements: boolean;
}

function positiveInt(v: string | undefined, name: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`);
  return n;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      terminals: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '300' },
      warmup: { type: 'string', default: '200' },
      store: { type: 'string', default: 'all' },
      'host-cpu-prof': { type: 'string' },
      pool: { type: 'string' },
      statements: { type: 'boolean', default: false },
    },
  });
  const store = values.store ?? 'all';
  if (store !== 'all' && store !== 'pglite' && store !== 'postgres') throw new Error(`--store must be pglite, postgres or all, got ${store}`);
  return {
    terminals: positiveInt(values.terminals, '--terminals'),
    concurrency: positiveInt(values.concurrency, '--concurrency'),
    warmup: positiveInt(values.warmup, '--warmup', true),
    stores: store === 'all' ? ['pglite', 'postgres'] : [store],
    cpuProfDir: values['host-cpu-prof'],
    poolSize: values.pool === undefined ? undefined : positiveInt(values.pool, '--pool'),
    statements: values.statements === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Seeding.

async function tmkBlock(): Promise<{ block: string; kcv: string }> {
  const hsm = await SoftHsm.open({ lmkHex: LMK, env: {}, logger: { warn: () => undefined } });
  try {
    const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [Buffer.from(C1), Buffer.from(C2)]);
    return { block: tmk.block, kcv: tmk.kcv };
  } finally {
    await hsm.close();
  }
}

async function seed(db: Db, tmk: { block: string; kcv: string }, o: Options): Promise<void> {
  await db.transaction(async (tx) => {
    await addMerchant(tx, { merchantNo: MID, name: 'sign-on storm bench', mcc: '5411', timeZone: 'Asia/Shanghai' });
    const add = async (prefix: string, count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        await addTerminal(tx, { merchantNo: MID, terminalNo: simTerminalNo(prefix, i), model: 'bench', tmkBlock: tmk.block, tmkKcv: tmk.kcv });
      }
    };
    await add(PREFIX, o.terminals);
    await add(WARM_PREFIX, o.warmup);
  });
}

// ---------------------------------------------------------------------------------------------
// One store.

interface StoreResult {
  store: string;
  summary?: SignOnSimSummary;
  /** Host CPU time per measured sign-on, ms. */
  hostCpuMsPerSignOn?: number;
  /** Simulator (this process) CPU time per measured sign-on, ms. */
  simCpuMsPerSignOn?: number;
  /** CPU of the host's PostgreSQL backends per measured sign-on, ms (null: not measurable). */
  pgCpuMsPerSignOn?: number | null;
  /** Store statements and transactions of the host per measured sign-on. */
  statements?: number;
  transactions?: number;
  skipped?: string;
  seedMs?: number;
}

interface Measured {
  summary: SignOnSimSummary;
  hostCpuMsPerSignOn: number;
  simCpuMsPerSignOn: number;
  pgCpuMsPerSignOn: number | null;
  statements: number;
  transactions: number;
}

async function storm(
  host: HostChild,
  o: Options,
  tmkClear: Buffer,
  pgCpu: () => Promise<Map<number, number> | null> = () => Promise.resolve(null),
): Promise<Measured> {
  const base = { host: '127.0.0.1', port: host.port, merchantNo: MID, tmk: tmkClear, concurrency: o.concurrency, requestTimeoutMs: 30_000, connectTimeoutMs: 10_000 };
  if (o.warmup > 0) {
    const w = await runSignOnSim({ ...base, terminalPrefix: WARM_PREFIX, terminals: o.warmup, concurrency: Math.min(o.concurrency, o.warmup) });
    if (w.failed > 0) console.error(`  warm-up: ${w.failed}/${w.terminals} failed ${JSON.stringify(w.failures)}`);
  }
  // CPU, statements and the profile cover the measured storm only, not the warm-up.
  const host0 = await host.usage();
  const sql0 = o.statements ? await host.statements() : {};
  await host.profStart();
  const pg0 = await pgCpu();
  const sim0 = process.cpuUsage();
  const summary = await runSignOnSim({ ...base, terminalPrefix: PREFIX, terminals: o.terminals });
  const sim = process.cpuUsage(sim0);
  const pg1 = await pgCpu();
  const host1 = await host.usage();
  const sql1 = o.statements ? await host.statements() : {};
  const profPath = await host.profStop();
  if (profPath !== '') console.log(`host CPU profile of the measured storm: ${profPath}`);
  const n = Math.max(1, summary.succeeded);
  if (o.statements) {
    const per = Object.entries(sql1)
      .map(([k, c]) => [k, (c - (sql0[k] ?? 0)) / n] as const)
      .filter(([, c]) => c > 0)
      .sort((a, b) => b[1] - a[1]);
    console.log(`\nstore statements per sign-on (measured storm), by their first words:`);
    for (const [k, c] of per) console.log(`  ${c.toFixed(3).padStart(7)}  ${k}`);
  }
  const pgMs = backendCpuDelta(pg0, pg1);
  return {
    summary,
    hostCpuMsPerSignOn: (host1.cpuUs - host0.cpuUs) / 1000 / n,
    simCpuMsPerSignOn: (sim.user + sim.system) / 1000 / n,
    pgCpuMsPerSignOn: pgMs === null ? null : pgMs / n,
    statements: (host1.statements - host0.statements) / n,
    transactions: (host1.transactions - host0.transactions) / n,
  };
}

async function runPglite(o: Options, tmk: { block: string; kcv: string }, tmkClear: Buffer): Promise<StoreResult> {
  const dir = mkdtempSync(join(os.tmpdir(), 'qiandao-bench-signon-'));
  const dataDir = join(dir, 'pglite');
  try {
    const t0 = performance.now();
    const db = await openStore({ dataDir, migrationsDir: MIGRATIONS_DIR });
    try {
      await seed(db, tmk, o);
    } finally {
      // PGlite is single-process: close before the host child opens the same directory.
      await db.close();
    }
    const seedMs = performance.now() - t0;
    const child = await startHostChild({ lmkHex: LMK, dataDir, migrationsDir: MIGRATIONS_DIR, trade: false }, o.cpuProfDir, 'signon-host-pglite.cpuprofile');
    try {
      return { store: 'PGlite', ...(await storm(child, o, tmkClear)), seedMs };
    } finally {
      await child.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(o: Options, tmk: { block: string; kcv: string }, tmkClear: Buffer): Promise<StoreResult> {
  const res = await withBenchSchema('bench_signon', async ({ db, url, schema }): Promise<StoreResult> => {
    const t0 = performance.now();
    await seed(db, tmk, o);
    const seedMs = performance.now() - t0;
    // The host's backends are told apart by application_name, for the PG CPU column.
    const appName = `qd_bench_signon_${process.pid}`;
    const config = {
      lmkHex: LMK,
      url: withApplicationName(url, appName),
      schema,
      migrationsDir: MIGRATIONS_DIR,
      trade: false,
      ...(o.poolSize !== undefined ? { poolSize: o.poolSize } : {}),
    };
    const child = await startHostChild(config, o.cpuProfDir, 'signon-host-postgres.cpuprofile');
    try {
      return { store: 'PostgreSQL', ...(await storm(child, o, tmkClear, () => backendCpuMs(db, appName))), seedMs };
    } finally {
      await child.stop();
    }
  });
  return 'skipped' in res ? { store: 'PostgreSQL', skipped: res.skipped } : res.value;
}

// ---------------------------------------------------------------------------------------------

function ms(n: number): string {
  return n.toFixed(1);
}

async function main(): Promise<void> {
  const o = parseOptions();
  const tmk = await tmkBlock();
  const tmkClear = combineComponents([C1, C2], { alg: 'tdes' });
  const started = new Date();
  console.log(
    `sign-on storm: ${fmtInt(o.terminals)} terminals, concurrency ${o.concurrency}, warm-up ${o.warmup} sign-ons; host in a child process` +
      (o.poolSize !== undefined ? `; PostgreSQL pool ${o.poolSize}` : ''),
  );
  console.log(`load average (1/5/15 min) at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const results: StoreResult[] = [];
  for (const store of o.stores) {
    console.error(`${store}: seeding, starting host, running…`);
    try {
      results.push(store === 'pglite' ? await runPglite(o, tmk, tmkClear) : await runPostgres(o, tmk, tmkClear));
    } catch (e) {
      results.push({ store: store === 'pglite' ? 'PGlite' : 'PostgreSQL', skipped: `failed: ${(e as Error).message}` });
    }
  }

  const rows = [['store', 'terminals', 'concurrency', 'sign-ons/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'failures', 'elapsed s', 'host CPU ms', 'sim CPU ms', 'PG CPU ms', 'stmts', 'txns', 'seed s']];
  for (const r of results) {
    const s = r.summary;
    if (s === undefined) continue;
    const l = s.latencyMs;
    const failures = s.failed === 0 ? '0' : `${s.failed} ${JSON.stringify(s.failures)}`;
    rows.push([
      r.store, fmtInt(s.terminals), String(s.concurrency), fmtInt(s.signOnsPerSecond),
      l ? ms(l.p50) : '-', l ? ms(l.p95) : '-', l ? ms(l.p99) : '-', l ? ms(l.max) : '-',
      failures, (s.elapsedMs / 1000).toFixed(2), r.hostCpuMsPerSignOn === undefined ? '-' : r.hostCpuMsPerSignOn.toFixed(3),
      r.simCpuMsPerSignOn === undefined ? '-' : r.simCpuMsPerSignOn.toFixed(3),
      r.pgCpuMsPerSignOn === undefined || r.pgCpuMsPerSignOn === null ? '-' : r.pgCpuMsPerSignOn.toFixed(3),
      r.statements === undefined ? '-' : r.statements.toFixed(3), r.transactions === undefined ? '-' : r.transactions.toFixed(3),
      ((r.seedMs ?? 0) / 1000).toFixed(1),
    ]);
  }
  console.log('');
  if (rows.length > 1) console.log(table(rows));
  for (const r of results) if (r.skipped !== undefined) console.log(`${r.store}: skipped — ${r.skipped}`);

  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log('');
  console.log(`machine: ${machine()}`);
  console.log(`load average (1/5/15 min) at end: ${load}`);
  console.log(`date: ${started.toISOString()}`);
  console.log('');

  const pg = results.find((r) => r.store === 'PostgreSQL');
  const target = `target: >= ${fmtInt(TARGET_RATE)} sign-ons/s with p99 < ${TARGET_P99_MS} ms on PostgreSQL`;
  if (pg?.summary === undefined) {
    console.log(`${target}: NOT RUN (${pg?.skipped ?? 'PostgreSQL not selected'})`);
  } else {
    const s = pg.summary;
    const p99 = s.latencyMs?.p99 ?? Number.POSITIVE_INFINITY;
    const rateOk = s.signOnsPerSecond >= TARGET_RATE;
    const p99Ok = p99 < TARGET_P99_MS;
    const pass = rateOk && p99Ok && s.failed === 0;
    console.log(
      `${target}: ${pass ? 'PASS' : 'FAIL'} (${fmtInt(s.signOnsPerSecond)}/s ${rateOk ? 'ok' : 'below'}, p99 ${ms(p99)} ms ${p99Ok ? 'ok' : 'over'}, ${s.failed} failures)`,
    );
  }
  console.log('host CPU ms / sim CPU ms: CPU time (user + system) of the host child / of this process per measured sign-on');
  console.log("PG CPU ms: CPU time of the host's own PostgreSQL backends per measured sign-on; stmts / txns: the host's store statements / transactions per measured sign-on");
  if (o.cpuProfDir !== undefined) console.log(`host CPU profiles written to ${o.cpuProfDir}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
