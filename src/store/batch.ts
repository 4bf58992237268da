/**
 * Grouping concurrent calls into one statement (group commit). Under load a host has hundreds of
 * requests in flight, each wanting the same small statement; sending them one by one costs a
 * round trip, a transaction and a commit each, and on PostgreSQL most of the host's CPU goes into
 * socket writes. A Batcher queues calls and sends everything queued as one batch as soon as one
 * of `maxConcurrent` slots is free (on the next turn of the event loop when idle), so a lone call
 * waits only for setImmediate while a storm is served in a few large statements.
 *
 * A further batch goes out while another of its kind is in flight only when at least
 * `PARALLEL_BATCH_MIN` calls are waiting, or when the one in flight has taken longer than
 * `PARALLEL_AFTER_MS` (a batch stuck in a lock wait must not hold the next calls back): a round trip costs the host and the database about as
 * much CPU as a whole batch's work (socket writes and wake-ups, ~0.3 ms on a 2-core machine), so a
 * second batch of one or two calls buys little latency for a lot of CPU, while under load the
 * queue grows past the threshold at once and two batches overlap (one committing while the next
 * is sent). Measured with bench:signon and bench:trade (docs/benchmarks.md, 2026-11-25).
 *
 * A batch is one statement, so one transaction: its results are committed together before any of
 * its callers is answered. When a batch fails, its calls are retried one at a time (`single`), so
 * one bad input fails only its own call.
 */
import { TransactionHandle, type Db } from './db.js';

export interface BatcherOptions<I, O> {
  /** Run a batch (at least 2 inputs); results in input order. */
  many(db: Db, inputs: readonly I[]): Promise<O[]>;
  /** Run one input alone (a batch of one, and the retry path). */
  single(db: Db, input: I): Promise<O>;
  /** Largest batch. */
  maxBatch: number;
  /** Batches in flight at once. */
  maxConcurrent: number;
  /** Calls waiting before a batch goes out beside one in flight (default PARALLEL_BATCH_MIN). */
  parallelBatchMin?: number;
  /** ...or once the oldest batch in flight has run this long, ms (default PARALLEL_AFTER_MS). */
  parallelAfterMs?: number;
}

/** Calls that must be waiting before a batch is sent while another of its kind is in flight... */
export const PARALLEL_BATCH_MIN = 32;
/** ...unless the oldest batch in flight has been running this long (ms). */
export const PARALLEL_AFTER_MS = 10;

/**
 * Process-wide counts, for tests and diagnostics: `grouped` batches sent as one statement, and
 * `fallbacks`, grouped batches that failed and were retried one call at a time. A grouped
 * statement that is itself wrong would show only as fallbacks (its calls still succeed alone), so
 * a test of a grouped path asserts that they stay zero.
 */
export interface BatchStats {
  grouped: number;
  fallbacks: number;
}

const stats: BatchStats = { grouped: 0, fallbacks: 0 };

/** A copy of the process-wide batch counts. */
export function batchStats(): BatchStats {
  return { ...stats };
}

interface Pending<I, O> {
  input: I;
  resolve(o: O): void;
  reject(e: unknown): void;
}

export class Batcher<I, O> {
  readonly #queue: Pending<I, O>[] = [];
  #running = 0;
  #scheduled = false;
  /** When each batch in flight was sent (performance.now()), oldest first. */
  readonly #sentAt: number[] = [];
  /** Wakes the queue when the oldest batch in flight passes PARALLEL_AFTER_MS. */
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly opts: BatcherOptions<I, O>,
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#kick();
    });
  }

  /**
   * Whether a batch may go out now: a slot is free, and if another batch is in flight, enough
   * calls wait or that batch is taking long.
   */
  #canSend(now = performance.now()): boolean {
    if (this.#running >= this.opts.maxConcurrent || this.#queue.length === 0) return false;
    if (this.#running === 0 || this.#queue.length >= Math.min(this.opts.parallelBatchMin ?? PARALLEL_BATCH_MIN, this.opts.maxBatch)) return true;
    const oldest = this.#sentAt[0];
    return oldest === undefined || now - oldest >= (this.opts.parallelAfterMs ?? PARALLEL_AFTER_MS);
  }

  #kick(): void {
    if (this.#scheduled) return;
    if (!this.#canSend()) {
      this.#wakeWhenSlow();
      return;
    }
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  /** Calls left waiting behind a batch in flight: look again when that batch turns slow. */
  #wakeWhenSlow(): void {
    const oldest = this.#sentAt[0];
    if (this.#timer !== undefined || oldest === undefined || this.#queue.length === 0 || this.#running >= this.opts.maxConcurrent) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, Math.max(1, Math.ceil(oldest + (this.opts.parallelAfterMs ?? PARALLEL_AFTER_MS) - performance.now())));
    this.#timer.unref();
  }

  #dispatch(): void {
    while (this.#canSend()) {
      const batch = this.#queue.splice(0, this.opts.maxBatch);
      this.#running += 1;
      const sentAt = performance.now();
      this.#sentAt.push(sentAt);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.#running -= 1;
        this.#sentAt.splice(this.#sentAt.indexOf(sentAt), 1);
        this.#kick();
      };
      void this.#run(batch, release).finally(release);
    }
    // More than one batch's worth arrived at once: what is left waits for the timer, like any other.
    this.#wakeWhenSlow();
  }

  async #run(batch: Pending<I, O>[], release: () => void): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0]!;
      await this.opts.single(this.db, only.input).then(only.resolve, only.reject);
      return;
    }
    let out: O[];
    stats.grouped += 1;
    try {
      out = await this.opts.many(
        this.db,
        batch.map((b) => b.input),
      );
    } catch {
      stats.fallbacks += 1;
      // One call's bad input (or a conflict) must not fail the others: retry one by one. The slot
      // is free again first, so a slow retry (a lock wait) does not hold back the next batches.
      release();
      await Promise.all(batch.map((b) => this.opts.single(this.db, b.input).then(b.resolve, b.reject)));
      return;
    }
    batch.forEach((b, i) => b.resolve(out[i] as O));
  }
}

/**
 * The Batcher for `db` and `key`, created on first use. Transaction handles get none (their
 * statements are serialised on one connection anyway, and a batch must not outlive the
 * transaction): callers run `single` directly for them.
 */
export function batcherFor<I, O>(db: Db, key: object, opts: BatcherOptions<I, O>): Batcher<I, O> | null {
  if (db instanceof TransactionHandle) return null;
  let byKey = registry.get(db);
  if (byKey === undefined) {
    byKey = new WeakMap();
    registry.set(db, byKey);
  }
  let b = byKey.get(key) as Batcher<I, O> | undefined;
  if (b === undefined) {
    b = new Batcher(db, opts);
    byKey.set(key, b);
  }
  return b;
}

const registry = new WeakMap<Db, WeakMap<object, unknown>>();

/**
 * Batches of one kind in flight at once: 2 on PostgreSQL (one being sent or answered while the
 * server runs the other), 1 on PGlite (one connection: a second batch would only wait for the
 * first, so everything that arrives meanwhile is better joined into the next one).
 */
export function batchesInFlight(db: Db): number {
  return db.kind === 'pglite' ? 1 : 2;
}
