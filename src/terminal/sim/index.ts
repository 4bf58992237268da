/**
 * Load simulator: many TerminalClients signing on against one host.
 *
 * - Terminals are numbered: terminal number = prefix + zero-padded sequence (1-based), 8 characters.
 * - At most `concurrency` sign-ons run at once (runLimited); each opens its own TCP connection,
 *   signs on (0800, 60.3 = keyScheme), verifies the working-key check values and closes.
 * - Latency is measured per terminal from connect to a verified sign-on response (ms).
 * - Every simulated terminal uses the same clear TMK (test terminals provisioned with one TMK).
 */
import { performance } from 'node:perf_hooks';
import { TerminalClient, isTerminalError, type KeyScheme } from '../index.js';

/** Run `task(i)` for i in 0..count-1 with at most `concurrency` running at once; results in order. */
export async function runLimited<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Nearest-rank percentile (p in 0..100) of values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Terminal number for the 0-based index: prefix + zero-padded (index + 1), 8 characters. */
export function simTerminalNo(prefix: string, index: number): string {
  const width = 8 - prefix.length;
  const seq = String(index + 1);
  if (width < 1 || seq.length > width) throw new RangeError(`terminal ${index + 1} does not fit after prefix '${prefix}' in 8 characters`);
  return prefix + seq.padStart(width, '0');
}

/** How many terminal numbers the prefix leaves room for. */
export function simCapacity(prefix: string): number {
  const width = 8 - prefix.length;
  return width < 1 ? 0 : 10 ** width - 1;
}

export interface SignOnSimOptions {
  host: string;
  port: number;
  merchantNo: string;
  /** Terminal numbers are prefix + sequence number (1..terminals), 8 characters. */
  terminalPrefix: string;
  terminals: number;
  concurrency: number;
  /** Clear TMK shared by every simulated terminal. */
  tmk: Uint8Array;
  keyScheme?: KeyScheme;
  operatorNo?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Called after every finished sign-on with (done, total, failed). */
  onProgress?: (done: number, total: number, failed: number) => void;
}

export interface SignOnOutcome {
  terminalNo: string;
  ok: boolean;
  latencyMs: number;
  /** Response code (field 39) when the host answered. */
  responseCode?: string;
  /** Failure key: the response code for a refusal, else the TerminalError reason (or 'ERROR'). */
  failure?: string;
  message?: string;
}

export interface SignOnSimSummary {
  terminals: number;
  concurrency: number;
  succeeded: number;
  failed: number;
  elapsedMs: number;
  signOnsPerSecond: number;
  /** Latency of successful sign-ons, ms (null when none succeeded). */
  latencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  /** Failure key → count; keys are response codes ('97') or reasons ('CONNECT_FAILED'). */
  failures: Record<string, number>;
  outcomes: SignOnOutcome[];
}

async function signOnOne(o: SignOnSimOptions, terminalNo: string): Promise<SignOnOutcome> {
  const start = performance.now();
  let client: TerminalClient | undefined;
  try {
    client = new TerminalClient({
      host: o.host,
      port: o.port,
      terminalNo,
      merchantNo: o.merchantNo,
      tmk: o.tmk,
      keyScheme: o.keyScheme ?? '004',
      reconnect: false,
      autoSignOn: false,
      ...(o.operatorNo !== undefined ? { operatorNo: o.operatorNo } : {}),
      ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
      ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    });
    await client.connect();
    const r = await client.signOn();
    return { terminalNo, ok: true, latencyMs: performance.now() - start, responseCode: r.responseCode };
  } catch (e) {
    const latencyMs = performance.now() - start;
    if (isTerminalError(e)) {
      const failure = e.reason === 'DECLINED' && e.responseCode !== undefined ? e.responseCode : e.reason;
      return { terminalNo, ok: false, latencyMs, failure, message: e.message, ...(e.responseCode !== undefined ? { responseCode: e.responseCode } : {}) };
    }
    return { terminalNo, ok: false, latencyMs, failure: 'ERROR', message: (e as Error)?.message ?? String(e) };
  } finally {
    await client?.close().catch(() => undefined);
  }
}

/** Sign `terminals` simulated terminals on with at most `concurrency` at once. */
export async function runSignOnSim(o: SignOnSimOptions): Promise<SignOnSimSummary> {
  if (!Number.isInteger(o.terminals) || o.terminals < 1) throw new RangeError('terminals must be a positive integer');
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const numbers = Array.from({ length: o.terminals }, (_, i) => simTerminalNo(o.terminalPrefix, i));
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  const outcomes = await runLimited(o.terminals, o.concurrency, async (i) => {
    const out = await signOnOne(o, numbers[i]!);
    done++;
    if (!out.ok) failed++;
    o.onProgress?.(done, o.terminals, failed);
    return out;
  });
  const elapsedMs = performance.now() - t0;
  const ok = outcomes.filter((x) => x.ok).map((x) => x.latencyMs);
  const failures: Record<string, number> = {};
  for (const x of outcomes) if (!x.ok) failures[x.failure ?? 'ERROR'] = (failures[x.failure ?? 'ERROR'] ?? 0) + 1;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    terminals: o.terminals,
    concurrency: o.concurrency,
    succeeded: ok.length,
    failed: outcomes.length - ok.length,
    elapsedMs: round(elapsedMs),
    signOnsPerSecond: elapsedMs > 0 ? round((ok.length * 1000) / elapsedMs) : 0,
    latencyMs:
      ok.length === 0
        ? null
        : { p50: round(percentile(ok, 50)), p95: round(percentile(ok, 95)), p99: round(percentile(ok, 99)), max: round(Math.max(...ok)) },
    failures,
    outcomes,
  };
}

/** A one-line progress bar for a TTY: `[#####.....]  50/100  failed 0`. */
export function progressLine(done: number, total: number, failed: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total}  failed ${failed}`;
}

/** Progress reporter on a stream: redraws one line when it is a TTY, silent otherwise. */
export function ttyProgress(stream: NodeJS.WriteStream = process.stderr): {
  update: (done: number, total: number, failed: number) => void;
  end: () => void;
} {
  const tty = stream.isTTY === true;
  let drawn = false;
  let last = 0;
  return {
    update(done, total, failed) {
      if (!tty) return;
      const now = Date.now();
      if (done < total && now - last < 50) return;
      last = now;
      stream.write(`\r${progressLine(done, total, failed)}`);
      drawn = true;
    },
    end() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
