/**
 * Minimal single-thread micro-benchmark harness: calibrate, warm up, then time several batches
 * with process.hrtime.bigint() and report the median. Every benchmark body returns a checksum
 * that the harness accumulates and prints, so the JIT cannot drop the work as dead code.
 */
import os from 'node:os';

/** Runs `iters` operations and returns a checksum derived from their results. */
export type Body = (iters: number) => number;

export interface BenchOptions {
  /** Warm-up time in ms (also used to calibrate the batch size). */
  warmupMs: number;
  /** Target duration of one timed batch in ms. */
  batchMs: number;
  /** Number of timed batches; the median is reported. */
  batches: number;
}

export interface BenchResult {
  name: string;
  /** Median operations per second over the timed batches. */
  opsPerSec: number;
  /** Median nanoseconds per operation. */
  nsPerOp: number;
  /** Slowest and fastest batch, ops/s (spread indicator). */
  minOps: number;
  maxOps: number;
  iters: number;
}

let sink = 0;

/** Accumulated checksum of every benchmark run so far (print it so it stays observable). */
export function checksum(): number {
  return sink;
}

function timeBatch(body: Body, iters: number): number {
  const t0 = process.hrtime.bigint();
  const r = body(iters);
  const t1 = process.hrtime.bigint();
  sink = (sink + (r | 0)) | 0;
  return Number(t1 - t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Warm up `body` (doubling the chunk until one call takes >= 20 ms); returns the batch size for opts.batchMs. */
function calibrate(body: Body, opts: BenchOptions): number {
  let iters = 64;
  let spentNs = 0;
  let lastNs = 0;
  const warmNs = opts.warmupMs * 1e6;
  while (spentNs < warmNs) {
    lastNs = timeBatch(body, iters);
    spentNs += lastNs;
    if (lastNs < 20e6) iters *= 2;
  }
  return Math.max(1, Math.round((opts.batchMs * 1e6) / (lastNs / iters)));
}

function result(name: string, rates: number[], iters: number): BenchResult {
  const ops = median(rates);
  return { name, opsPerSec: ops, nsPerOp: 1e9 / ops, minOps: Math.min(...rates), maxOps: Math.max(...rates), iters };
}

export function bench(name: string, body: Body, opts: BenchOptions): BenchResult {
  const batchIters = calibrate(body, opts);
  const rates: number[] = [];
  for (let b = 0; b < opts.batches; b++) rates.push((batchIters * 1e9) / timeBatch(body, batchIters));
  return result(name, rates, batchIters);
}

/**
 * Several benchmarks whose ratios matter: warm each up, then interleave their timed batches
 * (A1 B1 C1 A2 B2 C2 …) so that a slowdown of the machine hits all of them alike. `rates[i][b]`
 * is batch b of entry i, for per-batch (paired) ratios.
 */
export function benchGroup(entries: ReadonlyArray<readonly [string, Body]>, opts: BenchOptions): { results: BenchResult[]; rates: number[][] } {
  const iters = entries.map(([, body]) => calibrate(body, opts));
  const rates: number[][] = entries.map(() => []);
  for (let b = 0; b < opts.batches; b++) {
    entries.forEach(([, body], i) => rates[i]!.push((iters[i]! * 1e9) / timeBatch(body, iters[i]!)));
  }
  return { results: entries.map(([name], i) => result(name, rates[i]!, iters[i]!)), rates };
}

/** Median over batches of a[b] / b[b]. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${cpus.length} cores, ${os.type()} ${os.release()} ${os.arch()}, node ${process.version}`;
}

/** 1234567 -> "1,234,567". */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Pad cells to column widths, join with two spaces; the first `leftCols` columns left-aligned. */
export function table(rows: string[][], leftCols = 1): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1)) out.push(line(r));
  return out.join('\n');
}
