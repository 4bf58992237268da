/**
 * Grouping concurrent calls into one statement (group commit). Under load a host has hundreds of
 * requests in flight, each wanting the same small statement; sending them one by one costs a
 * round trip, a transaction and a commit each, and on PostgreSQL most of the host's CPU goes into
 * socket writes. A Batcher queues calls and sends everything queued as one batch as soon as one
 * of `maxConcurrent` slots is free (on the next turn of the event loop when idle), so a lone call
 * waits only for setImmediate while a storm is served in a few large statements.
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

  #kick(): void {
    if (this.#scheduled || this.#running >= this.opts.maxConcurrent || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#running < this.opts.maxConcurrent && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.opts.maxBatch);
      this.#running += 1;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.#running -= 1;
        this.#kick();
      };
      void this.#run(batch, release).finally(release);
    }
  }

  async #run(batch: Pending<I, O>[], release: () => void): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0]!;
      await this.opts.single(this.db, only.input).then(only.resolve, only.reject);
      return;
    }
    let out: O[];
    try {
      out = await this.opts.many(
        this.db,
        batch.map((b) => b.input),
      );
    } catch {
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
