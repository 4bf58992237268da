/**
 * Trade benchmark (`npm run bench:trade`): approved purchases per second through the whole host
 * path — MAC verification, operator gate, duplicate check and durable journal, risk rules, PIN
 * translation in the HSM, the issuer simulator (PIN verification, posting), response MAC — on
 * each store: embedded PGlite (temporary data directory) and PostgreSQL (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test, in a unique schema dropped afterwards; skipped with a
 * reason when unreachable).
 *
 * Per store: seed one merchant, T terminals sharing one TMK, cashier 01 (password known, no change
 * required), C issuer cards with a PIN and a large balance, and merchant-scope risk overrides (see
 * RISK_OVERRIDES: every default rule stays enabled and is evaluated, only its thresholds are moved
 * so that a load test is not declined by design); then start the host with the issuer simulator
 * and the risk engine in a child process (bench/host-child.ts) and, from this process, run the
 * trade simulator (src/terminal/sim/trade.ts): every terminal signs on and signs its operator on,
 * a warm-up, then the measured run of PIN purchases (swiped, PIN, MAC'ed) paced at --tps.
 *
 * Besides rate and latency, per answered transaction of the measured run: host CPU ms and sim CPU
 * ms (user + system CPU time of the host child and of this process), which depend much less than
 * the rate on what else the machine is doing; and stmts / txns, the store statements and
 * transactions the host issued (each transaction adds its BEGIN and COMMIT round trips).
 *
 * Flags: --terminals T (200)  --tps R[,R2...] (4000, the offered rate; several: a sweep, one fresh
 *        store and host per rate and store)  --duration S (15)  --warmup S (3)
 *        --cards C (200)  --store pglite|postgres|all (all)  --host-cpu-prof DIR
 *        --statements (list the host's store statements per purchase by their first words)
 *
 * Target (the issue): >= 2,000 approved purchases/s with p99 < 50 ms on PostgreSQL.
 */
import { backendCpuDelta, backendCpuMs, MIGRATIONS_DIR, startHostChild, withApplicationName, withBenchSchema, type HostChild } from './child.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { combineComponents } from '../src/crypto/components.js';
import { SoftHsm } from '../src/crypto/hsm/soft-hsm.js';
import { openIssuerSimulator } from '../src/issuer/simulator.js';
import { setRule } from '../src/risk/rule-store.js';
import { addMerchant, addTerminal, openStore, type Db } from '../src/store/index.js';
import { addOperator } from '../src/store/operators.js';
import { operatorSignOn } from '../src/terminal/operators.js';
import { TerminalError, type TerminalClient } from '../src/terminal/index.js';
import { simTerminalNo } from '../src/terminal/sim/index.js';
import { runTradeSim, type SimCard, type TradeSimSummary } from '../src/terminal/sim/trade.js';
import { buildTrack2 } from '../src/terminal/card.js';
import { fmtInt, machine, table } from './harness.js';

const LMK = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const MID = '898110070120001';
const C1 = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
const C2 = Buffer.from('3131313131313131FEFEFEFEFEFEFEFE', 'hex');
const PREFIX = '2';
const OPERATOR = '01';
const OPERATOR_PASSWORD = '2580';
const CARD_PIN = '147258';
const TARGET_RATE = 2000;
const TARGET_P99_MS = 50;

/**
 * Merchant-scope overrides: the rules stay on (each request still evaluates all of them, with the
 * same window queries), only the limits move out of a load test's way — trading hours 00:00-24:00
 * (the default 08:00-21:00 merchant-local window would decline a run at night), and per-card and
 * per-terminal velocity limits a bench terminal and card exceed within seconds.
 */
const RISK_OVERRIDES: ReadonlyArray<{ ruleId: string; patch: Record<string, unknown> }> = [
  { ruleId: 'trading-window', patch: { params: { start: '00:00', end: '24:00' } } },
  { ruleId: 'velocity-card-count', patch: { params: { maxCount: 1_000_000 } } },
  { ruleId: 'velocity-card-amount', patch: { params: { maxAmount: 999_999_999_999 } } },
  { ruleId: 'velocity-terminal-count', patch: { params: { maxCount: 1_000_000 } } },
  { ruleId: 'velocity-terminal-amount', patch: { params: { maxAmount: 999_999_999_999 } } },
];

interface Options {
  terminals: number;
  /** The offered rate of this run. */
  tps: number;
  /** Every offered rate asked for (--tps R1,R2...): one run per rate and store. */
  sweep: number[];
  durationS: number;
  warmupS: number;
  cards: number;
  stores: Array<'pglite' | 'postgres'>;
  cpuProfDir: string | undefined;
  /** Print the statements per purchase by their first words. */
  statements: boolean;
}

function positive(v: string | undefined, name: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`);
  return n;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      terminals: { type: 'string', default: '200' },
      tps: { type: 'string', default: '4000' },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      cards: { type: 'string', default: '200' },
      store: { type: 'string', default: 'all' },
      'host-cpu-prof': { type: 'string' },
      statements: { type: 'boolean', default: false },
    },
  });
  const store = values.store ?? 'all';
  if (store !== 'all' && store !== 'pglite' && store !== 'postgres') throw new Error(`--store must be pglite, postgres or all, got ${store}`);
  const terminals = positive(values.terminals, '--terminals');
  const cards = positive(values.cards, '--cards');
  if (!Number.isInteger(terminals) || !Number.isInteger(cards)) throw new Error('--terminals and --cards must be integers');
  const sweep = (values.tps ?? '4000').split(',').map((t) => positive(t.trim(), '--tps'));
  return {
    terminals,
    tps: sweep[0]!,
    sweep,
    durationS: positive(values.duration, '--duration'),
    warmupS: positive(values.warmup, '--warmup', true),
    cards,
    stores: store === 'all' ? ['pglite', 'postgres'] : [store],
    cpuProfDir: values['host-cpu-prof'],
    statements: values.statements === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Seeding.

async function seed(db: Db, o: Options): Promise<SimCard[]> {
  const hsm = await SoftHsm.open({ lmkHex: LMK, env: {}, logger: { warn: () => undefined } });
  try {
    const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [Buffer.from(C1), Buffer.from(C2)]);
    await db.transaction(async (tx) => {
      await addMerchant(tx, { merchantNo: MID, name: 'trade bench', mcc: '5411', timeZone: 'Asia/Shanghai' });
      for (let i = 0; i < o.terminals; i++) {
        await addTerminal(tx, { merchantNo: MID, terminalNo: simTerminalNo(PREFIX, i), model: 'bench', tmkBlock: tmk.block, tmkKcv: tmk.kcv });
      }
    });
    await addOperator(db, { merchantNo: MID, operatorNo: OPERATOR, name: 'bench cashier', password: OPERATOR_PASSWORD, mustChangePassword: false }, { actor: 'system', origin: 'bench' });
    for (const r of RISK_OVERRIDES) await setRule(db, { scope: MID, ruleId: r.ruleId, patch: r.patch, actor: 'system' });
    const issuer = await openIssuerSimulator({ db, hsm });
    const cards: SimCard[] = [];
    for (let i = 0; i < o.cards; i++) {
      const { pan, card } = await issuer.addCard({ pin: CARD_PIN, balance: 100_000_000_000 });
      cards.push({ pan, expiry: card.expiry, pin: CARD_PIN, track2: buildTrack2({ pan, expiry: card.expiry }) });
    }
    return cards;
  } finally {
    await hsm.close();
  }
}

// ---------------------------------------------------------------------------------------------
// One store.

interface StoreResult {
  store: string;
  summary?: TradeSimSummary;
  /** CPU ms per answered transaction during the measured run: host child, and this (simulator) process. */
  hostCpuMs?: number;
  simCpuMs?: number;
  /** CPU of the host's PostgreSQL backends per answered purchase (null: not measurable). */
  pgCpuMs?: number | null;
  /** Store statements and transactions per answered transaction (measured run). */
  statements?: number;
  transactions?: number;
  skipped?: string;
  seedMs?: number;
  durability?: string;
}

async function signOnOperator(client: TerminalClient): Promise<void> {
  const a = await operatorSignOn(client, OPERATOR, OPERATOR_PASSWORD);
  if (!a.approved) throw new TerminalError('DECLINED', `operator sign-on refused: ${a.responseCode} ${a.meaning}`, { responseCode: a.responseCode });
}

interface Measured {
  summary: TradeSimSummary;
  hostCpuMs: number;
  simCpuMs: number;
  pgCpuMs: number | null;
  statements: number;
  transactions: number;
}

async function trade(
  child: HostChild,
  o: Options,
  cards: SimCard[],
  tmkClear: Buffer,
  pgCpu: () => Promise<Map<number, number> | null> = () => Promise.resolve(null),
): Promise<Measured> {
  const base = {
    host: '127.0.0.1',
    port: child.port,
    merchantNo: MID,
    terminalPrefix: PREFIX,
    terminals: o.terminals,
    tmk: tmkClear,
    operatorSignOn: signOnOperator,
    mix: { purchase: 100 },
    cards,
    tps: o.tps,
    // generous: on a loaded machine a timeout would turn the run into a reversal test
    requestTimeoutMs: 30_000,
    signOnConcurrency: 50,
  };
  if (o.warmupS > 0) {
    const w = await runTradeSim({ ...base, durationS: o.warmupS, firstStan: 1 });
    const bad = Object.entries(w.responseCodes).filter(([c]) => c !== '00');
    if (w.terminalsReady < o.terminals || bad.length > 0 || Object.keys(w.failures).length > 0) {
      console.error(`  warm-up: ${w.terminalsReady}/${o.terminals} ready, codes ${JSON.stringify(w.responseCodes)}, failures ${JSON.stringify(w.failures)}, sign-on ${JSON.stringify(w.signOnFailures)}`);
    }
  }
  // The measured run's terminals continue their STANs after the warm-up's (no repeats in one batch and day).
  // CPU, statements and the profile cover the trading phase only: the measured run's own terminal
  // and operator sign-ons (scrypt in the HSM) happen before onTradeStart.
  let host0 = { cpuUs: 0, statements: 0, transactions: 0 };
  let host1 = host0;
  let sql0: Record<string, number> = {};
  let sql1: Record<string, number> = {};
  let sim0 = process.cpuUsage();
  let sim1 = sim0;
  let pg0: Map<number, number> | null = null;
  let pg1: Map<number, number> | null = null;
  let profPath = '';
  const summary = await runTradeSim({
    ...base,
    durationS: o.durationS,
    firstStan: 500_000,
    onTradeStart: async () => {
      host0 = await child.usage();
      if (o.statements) sql0 = await child.statements();
      await child.profStart();
      pg0 = await pgCpu();
      sim0 = process.cpuUsage();
    },
    onTradeEnd: async () => {
      sim1 = process.cpuUsage(sim0);
      pg1 = await pgCpu();
      host1 = await child.usage();
      if (o.statements) sql1 = await child.statements();
      profPath = await child.profStop();
    },
  });
  if (profPath !== '') console.log(`host CPU profile of the measured phase: ${profPath}`);
  const answered = Math.max(1, summary.transactions - Object.values(summary.failures).reduce((a, b) => a + b, 0));
  if (o.statements) {
    const per = Object.entries(sql1)
      .map(([k, n]) => [k, (n - (sql0[k] ?? 0)) / answered] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]);
    console.log(`\nstore statements per answered purchase (measured run), by their first words:`);
    for (const [k, n] of per) console.log(`  ${n.toFixed(2).padStart(6)}  ${k}`);
  }
  return {
    summary,
    hostCpuMs: (host1.cpuUs - host0.cpuUs) / 1000 / answered,
    simCpuMs: (sim1.user + sim1.system) / 1000 / answered,
    pgCpuMs: ((d) => (d === null ? null : d / answered))(backendCpuDelta(pg0, pg1)),
    statements: (host1.statements - host0.statements) / answered,
    transactions: (host1.transactions - host0.transactions) / answered,
  };
}

async function runPglite(o: Options, tmkClear: Buffer): Promise<StoreResult> {
  const dir = mkdtempSync(join(os.tmpdir(), 'qiandao-bench-trade-'));
  const dataDir = join(dir, 'pglite');
  try {
    const t0 = performance.now();
    const db = await openStore({ dataDir, migrationsDir: MIGRATIONS_DIR });
    let cards: SimCard[];
    try {
      cards = await seed(db, o);
    } finally {
      // PGlite is single-process: close before the host child opens the same directory.
      await db.close();
    }
    const seedMs = performance.now() - t0;
    // The child profiles itself over the measured phase only (profStart / profStop), not seeding or sign-on.
    const child = await startHostChild({ lmkHex: LMK, dataDir, migrationsDir: MIGRATIONS_DIR, trade: true }, o.cpuProfDir, profileName('pglite', o));
    try {
      const m = await trade(child, o, cards, tmkClear);
      return { store: 'PGlite', ...m, seedMs, durability: 'PGlite on disk (temporary directory)' };
    } finally {
      await child.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(o: Options, tmkClear: Buffer): Promise<StoreResult> {
  const res = await withBenchSchema('bench_trade', async ({ db, url, schema }): Promise<StoreResult> => {
    const settings = await db.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method') ORDER BY name`,
    );
    const durability = settings.rows.map((r) => `${r.name}=${r.setting}`).join(', ');
    const t0 = performance.now();
    const cards = await seed(db, o);
    const seedMs = performance.now() - t0;
    // The host's backends are told apart by application_name, for the PG CPU column.
    const appName = `qd_bench_trade_${process.pid}`;
    const config = { lmkHex: LMK, url: withApplicationName(url, appName), schema, migrationsDir: MIGRATIONS_DIR, trade: true };
    const child = await startHostChild(config, o.cpuProfDir, profileName('postgres', o));
    try {
      const m = await trade(child, o, cards, tmkClear, () => backendCpuMs(db, appName));
      return { store: 'PostgreSQL', ...m, seedMs, durability };
    } finally {
      await child.stop();
    }
  });
  return 'skipped' in res ? { store: 'PostgreSQL', skipped: res.skipped } : res.value;
}

// ---------------------------------------------------------------------------------------------

/** The host profile's file name; with the rate in it when sweeping. */
function profileName(store: 'pglite' | 'postgres', o: Options): string {
  return o.sweep.length > 1 ? `trade-host-${store}-${o.tps}.cpuprofile` : `trade-host-${store}.cpuprofile`;
}

function ms(n: number): string {
  return n.toFixed(1);
}

async function main(): Promise<void> {
  const o = parseOptions();
  const tmkClear = combineComponents([C1, C2], { alg: 'tdes' });
  const started = new Date();
  console.log(
    `trade bench: ${o.terminals} terminals (each with operator ${OPERATOR} signed on), ${o.cards} cards, PIN purchases offered at ${o.sweep.map(fmtInt).join(', ')}/s ` +
      `for ${o.durationS} s after a ${o.warmupS} s warm-up; host with issuer simulator and risk engine in a child process`,
  );
  const results: (StoreResult & { offered: number })[] = [];
  for (const store of o.stores) {
    for (const tps of o.sweep) {
      console.error(`${store}${o.sweep.length > 1 ? ` at ${fmtInt(tps)}/s` : ''}: seeding, starting host, running…`);
      const run = { ...o, tps };
      try {
        results.push({ ...(store === 'pglite' ? await runPglite(run, tmkClear) : await runPostgres(run, tmkClear)), offered: tps });
      } catch (e) {
        results.push({ store: store === 'pglite' ? 'PGlite' : 'PostgreSQL', skipped: `failed: ${(e as Error).message}`, offered: tps });
      }
    }
  }

  const rows = [['store', 'offered/s', 'approved/s', 'answered/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'approved', 'declined', 'no answer', 'host CPU ms', 'sim CPU ms', 'PG CPU ms', 'stmts', 'txns', 'elapsed s']];
  for (const r of results) {
    const s = r.summary;
    if (s === undefined) continue;
    const l = s.latencyMs;
    const declined = Object.entries(s.responseCodes).filter(([c]) => c !== '00').reduce((a, [, n]) => a + n, 0);
    const noAnswer = Object.values(s.failures).reduce((a, b) => a + b, 0);
    rows.push([
      r.store, fmtInt(r.offered), fmtInt(s.approvedPurchasesPerSecond), fmtInt(s.tps),
      l ? ms(l.p50) : '-', l ? ms(l.p95) : '-', l ? ms(l.p99) : '-', l ? ms(l.max) : '-',
      fmtInt(s.approved), fmtInt(declined), fmtInt(noAnswer), (r.hostCpuMs ?? 0).toFixed(3), (r.simCpuMs ?? 0).toFixed(3),
      r.pgCpuMs === undefined || r.pgCpuMs === null ? '-' : r.pgCpuMs.toFixed(3),
      (r.statements ?? 0).toFixed(1), (r.transactions ?? 0).toFixed(1), (s.elapsedMs / 1000).toFixed(2),
    ]);
  }
  console.log('');
  if (rows.length > 1) console.log(table(rows));
  for (const r of results) {
    if (r.summary !== undefined) {
      const s = r.summary;
      const other = Object.entries(s.responseCodes).filter(([c]) => c !== '00');
      if (other.length > 0 || Object.keys(s.failures).length > 0) {
        console.log(`${r.store}: codes ${JSON.stringify(s.responseCodes)} failures ${JSON.stringify(s.failures)} reversals ${JSON.stringify(s.reversals)}`);
      }
      if (r.durability !== undefined) console.log(`${r.store} at ${fmtInt(r.offered)}/s: ${r.durability}; seeding took ${((r.seedMs ?? 0) / 1000).toFixed(1)} s`);
    }
    if (r.skipped !== undefined) console.log(`${r.store} at ${fmtInt(r.offered)}/s: skipped — ${r.skipped}`);
  }

  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log('');
  console.log(`machine: ${machine()}`);
  console.log(`load average (1/5/15 min) at end: ${load}`);
  console.log(`date: ${started.toISOString()}`);
  console.log('');

  const target = `target: >= ${fmtInt(TARGET_RATE)} approved purchases/s with p99 < ${TARGET_P99_MS} ms on PostgreSQL`;
  const pgRuns = results.filter((r) => r.store === 'PostgreSQL');
  if (pgRuns.length === 0) console.log(`${target}: NOT RUN (PostgreSQL not selected)`);
  for (const pg of pgRuns) {
    const at = o.sweep.length > 1 ? ` [offered ${fmtInt(pg.offered)}/s]` : '';
    if (pg.summary === undefined) {
      console.log(`${target}${at}: NOT RUN (${pg.skipped ?? 'no result'})`);
      continue;
    }
    const s = pg.summary;
    const p99 = s.latencyMs?.p99 ?? Number.POSITIVE_INFINITY;
    const rateOk = s.approvedPurchasesPerSecond >= TARGET_RATE;
    const p99Ok = p99 < TARGET_P99_MS;
    console.log(`${target}${at}: ${rateOk && p99Ok ? 'PASS' : 'FAIL'} (${fmtInt(s.approvedPurchasesPerSecond)}/s ${rateOk ? 'ok' : 'below'}, p99 ${ms(p99)} ms ${p99Ok ? 'ok' : 'over'})`);
  }
  if (o.cpuProfDir !== undefined) console.log(`host CPU profiles written to ${o.cpuProfDir}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
