/**
 * Trade load simulator: N terminals against one host, each signing on (and, when a hook is given,
 * signing an operator on), then sending a mix of transactions at a target total rate for a given
 * time.
 *
 * - Terminal numbers as in the sign-on simulator (prefix + sequence); every terminal uses the
 *   same clear TMK and its own TCP connection, and runs one transaction at a time.
 * - Pacing: the target rate is shared evenly; terminal i sends at t0 + (i + k·N) / tps. A
 *   terminal that falls behind sends its next transaction at once (no burst catch-up beyond one),
 *   so a slow host shows up as a lower achieved rate and higher latency, never as a pile-up.
 * - Mix (weights): purchase, balance, void (of this terminal's last unvoided purchase in the
 *   batch), refund (part of an earlier approved purchase, by RRN), qr (QR purchase). A void or a
 *   refund with nothing to refer to yet is sent as a purchase instead (counted as such).
 * - Cards are chosen at random from `cards` (test cards known to the issuer, with their PINs).
 * - Latency is measured per transaction from send to verified response (ms). Timeouts, bad MACs
 *   and transport failures are counted by reason; declines by response code.
 */
import { performance } from 'node:perf_hooks';
import { TerminalClient, isTerminalError, type KeyScheme } from '../index.js';
import { TradeTerminal, clockStan, type Card, type TradeResult } from '../trade.js';
import { percentile, runLimited, simTerminalNo } from './index.js';

export type SimTradeKind = 'purchase' | 'balance' | 'void' | 'refund' | 'qr';
export const SIM_TRADE_KINDS: readonly SimTradeKind[] = ['purchase', 'balance', 'void', 'refund', 'qr'];

export type TradeMix = Partial<Record<SimTradeKind, number>>;
export const DEFAULT_TRADE_MIX: Readonly<TradeMix> = Object.freeze({ purchase: 80, balance: 10, void: 5, refund: 5 });

/** `purchase=80,balance=10,void=5,refund=5` → weights; throws RangeError on anything else. */
export function parseTradeMix(text: string): TradeMix {
  const mix: TradeMix = {};
  for (const part of text.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d{1,6})\s*$/.exec(part);
    if (m === null) throw new RangeError(`mix entry '${part}' is not kind=weight`);
    const kind = m[1] as SimTradeKind;
    if (!SIM_TRADE_KINDS.includes(kind)) throw new RangeError(`unknown kind '${m[1]}' in the mix (use ${SIM_TRADE_KINDS.join(', ')})`);
    if (mix[kind] !== undefined) throw new RangeError(`kind '${kind}' appears twice in the mix`);
    mix[kind] = Number(m[2]);
  }
  const total = Object.values(mix).reduce((a, b) => a + (b ?? 0), 0);
  if (total <= 0) throw new RangeError('the mix needs at least one positive weight');
  return mix;
}

/** A test card as the simulated customers hold it. */
export interface SimCard {
  pan: string;
  expiry: string;
  pin?: string;
  /** Track 2; when present the card is swiped. */
  track2?: string;
}

export interface TradeSimOptions {
  host: string;
  port: number;
  merchantNo: string;
  terminalPrefix: string;
  terminals: number;
  /** Clear TMK shared by every simulated terminal. */
  tmk: Uint8Array;
  keyScheme?: KeyScheme;
  /** Operator number sent at sign-on (63). Default '01 '. */
  operatorNo?: string;
  /**
   * Sign an operator on after the terminal's sign-on (e.g. operatorSignOn from
   * src/terminal/operators.ts). Omitted: operators are not signed on (noted in the summary).
   */
  operatorSignOn?: (client: TerminalClient, terminalNo: string) => Promise<void>;
  /** Why operators were not signed on, when `operatorSignOn` is omitted. */
  operatorNote?: string;
  /** Target transactions per second, all terminals together. */
  tps: number;
  /** How long to send, seconds. */
  durationS: number;
  mix?: TradeMix;
  cards: readonly SimCard[];
  /** Purchase amounts are drawn uniformly from this range (minor units). Default 100..10000. */
  amountRange?: [number, number];
  /** At most this many sign-ons at once during the start-up. Default 50. */
  signOnConcurrency?: number;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Random source [0, 1). Default Math.random. */
  random?: () => number;
  /** First STAN of every terminal. Default clockStan() (so reruns on the same terminals do not repeat STANs). */
  firstStan?: number;
  /** Called about 10 times a second while sending. */
  onProgress?: (p: TradeSimProgress) => void;
  /** Awaited when every terminal is ready, just before trading starts (e.g. to start measuring). */
  onTradeStart?: () => void | Promise<void>;
  /** Awaited when the last transaction has been answered, before the terminals disconnect. */
  onTradeEnd?: () => void | Promise<void>;
  /** Stop early (e.g. Ctrl-C). */
  signal?: AbortSignal;
}

export interface TradeSimProgress {
  phase: 'sign-on' | 'trade';
  /** Sign-on: terminals done; trade: transactions done. */
  done: number;
  /** Sign-on: terminals; trade: target transactions (tps × duration). */
  total: number;
  failed: number;
  elapsedMs: number;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface TradeSimSummary {
  terminals: number;
  /** Terminals that signed on (and whose operator signed on, when asked). */
  terminalsReady: number;
  operators: string;
  targetTps: number;
  durationS: number;
  elapsedMs: number;
  /** Transactions answered or failed. */
  transactions: number;
  /** Transactions per second achieved (answered, any code). */
  tps: number;
  approved: number;
  /** Approved purchases (incl. QR) per second. */
  approvedPurchasesPerSecond: number;
  /** Over answered transactions, ms; null when none. */
  latencyMs: LatencySummary | null;
  /** Per kind: count, approved, latency. */
  byKind: Record<string, { count: number; approved: number; latencyMs: LatencySummary | null }>;
  /** Response code → count (answered transactions). */
  responseCodes: Record<string, number>;
  /** Failure reason (TIMEOUT, MAC_MISMATCH, DISCONNECTED …) → count (no usable answer). */
  failures: Record<string, number>;
  /** Reversals sent / acknowledged / still pending at the end. */
  reversals: { queued: number; acknowledged: number; pending: number };
  /** Sign-on failures: reason or code → count. */
  signOnFailures: Record<string, number>;
}

interface SimTerminal {
  terminalNo: string;
  client: TerminalClient;
  trade: TradeTerminal;
  /** Approved, not yet voided purchases of the current batch (newest last), with their card. */
  purchases: Array<{ stan: string; card: SimCard }>;
  /** Approved purchases that can still be partly refunded (with the same card). */
  refundable: Array<{ rrn: string; stan: string; date: string; batchNo: string; amount: number; card: SimCard }>;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

function summarise(values: number[]): LatencySummary | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round1(percentile(sorted, 50)), p95: round1(percentile(sorted, 95)), p99: round1(percentile(sorted, 99)), max: round1(sorted[sorted.length - 1]!) };
}

function pickKind(mix: TradeMix, r: number): SimTradeKind {
  const entries = SIM_TRADE_KINDS.map((k) => [k, mix[k] ?? 0] as const).filter(([, w]) => w > 0);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  let x = r * total;
  for (const [k, w] of entries) {
    if (x < w) return k;
    x -= w;
  }
  return entries[entries.length - 1]![0];
}

function checkOptions(o: TradeSimOptions): void {
  if (!Number.isInteger(o.terminals) || o.terminals < 1) throw new RangeError('terminals must be a positive integer');
  if (!(o.tps > 0) || !Number.isFinite(o.tps)) throw new RangeError('tps must be a positive number');
  if (!(o.durationS > 0) || !Number.isFinite(o.durationS)) throw new RangeError('duration must be a positive number of seconds');
  if (!Array.isArray(o.cards) || o.cards.length === 0) throw new RangeError('at least one test card is needed');
  const [lo, hi] = o.amountRange ?? [100, 10_000];
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo < 1 || hi < lo) throw new RangeError('amountRange must be 1 <= min <= max integers');
}

/** Run the trade simulation. */
export async function runTradeSim(o: TradeSimOptions): Promise<TradeSimSummary> {
  checkOptions(o);
  const random = o.random ?? Math.random;
  const mix = o.mix ?? DEFAULT_TRADE_MIX;
  const [amountLo, amountHi] = o.amountRange ?? [100, 10_000];
  const sims: Array<SimTerminal | null> = new Array<SimTerminal | null>(o.terminals).fill(null);
  const signOnFailures: Record<string, number> = {};
  const reversals = { queued: 0, acknowledged: 0, pending: 0 };
  const tStart = performance.now();
  const firstStan = o.firstStan ?? clockStan();

  // ---- start-up: connect, sign on, operator sign-on ---------------------------------------------
  let signOnDone = 0;
  let signOnFailed = 0;
  await runLimited(o.terminals, o.signOnConcurrency ?? 50, async (i) => {
    const terminalNo = simTerminalNo(o.terminalPrefix, i);
    let client: TerminalClient | undefined;
    try {
      client = new TerminalClient({
        host: o.host,
        port: o.port,
        terminalNo,
        merchantNo: o.merchantNo,
        tmk: o.tmk,
        keyScheme: o.keyScheme ?? '004',
        operatorNo: o.operatorNo ?? '01 ',
        firstStan,
        reconnect: { initialMs: 200, maxMs: 2000 },
        ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
        ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      });
      await client.connect();
      await client.signOn();
      if (o.operatorSignOn !== undefined) await o.operatorSignOn(client, terminalNo);
      const trade = new TradeTerminal(client, {
        onEvent: (e) => {
          if (e.type === 'reversal-queued') reversals.queued++;
          else if (e.type === 'reversal-sent' && e.acknowledged) reversals.acknowledged++;
        },
      });
      sims[i] = { terminalNo, client, trade, purchases: [], refundable: [] };
    } catch (e) {
      signOnFailed++;
      const key = isTerminalError(e) ? (e.reason === 'DECLINED' && e.responseCode !== undefined ? e.responseCode : e.reason) : 'ERROR';
      signOnFailures[key] = (signOnFailures[key] ?? 0) + 1;
      await client?.close().catch(() => undefined);
    } finally {
      signOnDone++;
      o.onProgress?.({ phase: 'sign-on', done: signOnDone, total: o.terminals, failed: signOnFailed, elapsedMs: performance.now() - tStart });
    }
  });
  const ready = sims.filter((s): s is SimTerminal => s !== null);

  // ---- trading ---------------------------------------------------------------------------------
  const latencies: number[] = [];
  const byKind = new Map<string, { count: number; approved: number; lat: number[] }>();
  const responseCodes: Record<string, number> = {};
  const failures: Record<string, number> = {};
  let transactions = 0;
  let approved = 0;
  let approvedPurchases = 0;
  let failedCount = 0;
  const durationMs = o.durationS * 1000;
  const target = Math.round(o.tps * o.durationS);
  const intervalMs = ready.length === 0 ? 0 : (ready.length * 1000) / o.tps;
  await o.onTradeStart?.();
  const t0 = performance.now();
  const stopped = (): boolean => o.signal?.aborted === true;

  const progressTimer = setInterval(() => {
    o.onProgress?.({ phase: 'trade', done: transactions, total: target, failed: failedCount, elapsedMs: performance.now() - t0 });
  }, 100);
  progressTimer.unref();

  const note = (kind: string, ms: number, r: TradeResult | null, failure?: string): void => {
    transactions++;
    const k = byKind.get(kind) ?? { count: 0, approved: 0, lat: [] };
    byKind.set(kind, k);
    k.count++;
    if (r !== null) {
      latencies.push(ms);
      k.lat.push(ms);
      responseCodes[r.responseCode] = (responseCodes[r.responseCode] ?? 0) + 1;
      if (r.approved) {
        approved++;
        k.approved++;
        if (kind === 'purchase' || kind === 'qr') approvedPurchases++;
      }
    } else {
      failedCount++;
      const f = failure ?? 'ERROR';
      failures[f] = (failures[f] ?? 0) + 1;
    }
  };

  const one = async (s: SimTerminal): Promise<void> => {
    let card = o.cards[Math.floor(random() * o.cards.length)]!;
    const asCard = (x: SimCard): Card => ({ pan: x.pan, expiry: x.expiry, ...(x.track2 !== undefined ? { track2: x.track2 } : {}) });
    let c = asCard(card);
    let pin = card.pin;
    const amount = amountLo + Math.floor(random() * (amountHi - amountLo + 1));
    let kind = pickKind(mix, random());
    if (kind === 'void' && s.purchases.length === 0) kind = 'purchase';
    if (kind === 'refund' && s.refundable.length === 0) kind = 'purchase';
    const t = performance.now();
    try {
      let r: TradeResult;
      switch (kind) {
        case 'balance':
          r = await s.trade.balance({ card: c, ...(pin !== undefined ? { pin } : {}) });
          break;
        case 'qr':
          // With the issuer simulator a QR payment code is the paying account's number.
          r = await s.trade.qrPurchase({ qr: card.pan, amount });
          break;
        case 'void': {
          // The purchase's own card, as at a real counter.
          const orig = s.purchases.pop()!;
          const rec = s.trade.batch.find(orig.stan);
          card = orig.card;
          c = asCard(card);
          pin = card.pin;
          if (rec === undefined || rec.voided) {
            kind = 'purchase';
            r = await s.trade.purchase({ card: c, amount, ...(pin !== undefined ? { pin } : {}) });
            break;
          }
          s.refundable = s.refundable.filter((x) => x.stan !== orig.stan);
          r = await s.trade.voidPurchase({ card: c, original: orig.stan, ...(pin !== undefined ? { pin } : {}) });
          break;
        }
        case 'refund': {
          const orig = s.refundable.shift()!;
          card = orig.card;
          c = asCard(card);
          s.purchases = s.purchases.filter((x) => x.stan !== orig.stan);
          const part = Math.max(1, Math.floor(orig.amount / 2));
          r = await s.trade.refund({ card: c, amount: part, original: { rrn: orig.rrn, stan: orig.stan, date: orig.date, batchNo: orig.batchNo } });
          break;
        }
        default:
          r = await s.trade.purchase({ card: c, amount, ...(pin !== undefined ? { pin } : {}) });
      }
      const ms = performance.now() - t;
      if (kind === 'purchase' && r.approved && r.rrn !== undefined) {
        s.purchases.push({ stan: r.stan, card });
        if (s.purchases.length > 50) s.purchases.shift();
        s.refundable.push({ rrn: r.rrn, stan: r.stan, date: r.hostDate ?? '0000', batchNo: r.batchNo, amount, card });
        if (s.refundable.length > 50) s.refundable.shift();
      }
      note(kind, ms, r);
    } catch (e) {
      const ms = performance.now() - t;
      note(kind, ms, null, isTerminalError(e) ? e.reason : 'ERROR');
    }
  };

  const loop = async (s: SimTerminal, index: number): Promise<void> => {
    let next = t0 + (index * 1000) / o.tps;
    while (!stopped()) {
      const now = performance.now();
      if (next - t0 >= durationMs) return;
      if (next > now) await new Promise((r) => setTimeout(r, next - now));
      if (stopped()) return;
      await one(s);
      // Fell behind by more than one interval: do not burst to catch up.
      next = Math.max(next + intervalMs, performance.now() - intervalMs);
    }
  };

  try {
    await Promise.all(ready.map((s, i) => loop(s, i)));
  } finally {
    clearInterval(progressTimer);
  }
  const elapsedMs = performance.now() - t0;
  await o.onTradeEnd?.();
  o.onProgress?.({ phase: 'trade', done: transactions, total: target, failed: failedCount, elapsedMs });

  for (const s of ready) reversals.pending += s.trade.pendingReversals.length;
  await Promise.all(ready.map((s) => s.client.close().catch(() => undefined)));

  const answered = transactions - failedCount;
  const kinds: TradeSimSummary['byKind'] = {};
  for (const [k, v] of byKind) kinds[k] = { count: v.count, approved: v.approved, latencyMs: summarise(v.lat) };
  return {
    terminals: o.terminals,
    terminalsReady: ready.length,
    operators: o.operatorSignOn !== undefined ? `signed on at each terminal (${ready.length})` : `not signed on: ${o.operatorNote ?? 'no operator sign-on given'}`,
    targetTps: o.tps,
    durationS: o.durationS,
    elapsedMs: round1(elapsedMs),
    transactions,
    tps: elapsedMs > 0 ? round1((answered * 1000) / elapsedMs) : 0,
    approved,
    approvedPurchasesPerSecond: elapsedMs > 0 ? round1((approvedPurchases * 1000) / elapsedMs) : 0,
    latencyMs: summarise(latencies),
    byKind: kinds,
    responseCodes,
    failures,
    reversals,
    signOnFailures,
  };
}

/** Progress line for the trade phase: `[#####.....]  1200/2000 tx  400.0 tx/s  failed 0`. */
export function tradeProgressLine(p: TradeSimProgress, width = 30): string {
  const frac = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
  const filled = Math.round(frac * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  if (p.phase === 'sign-on') return `${bar} sign-on ${p.done}/${p.total}  failed ${p.failed}`;
  const rate = p.elapsedMs > 0 ? ((p.done * 1000) / p.elapsedMs).toFixed(1) : '0.0';
  return `${bar} ${String(p.done).padStart(String(p.total).length)}/${p.total} tx  ${rate} tx/s  failed ${p.failed}`;
}
