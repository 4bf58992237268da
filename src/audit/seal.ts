/**
 * The sealer: links committed events into the hash chain (event_seals), oldest first.
 *
 * Appending an event never waits for the chain; the sealer runs in batches (a timer in the host
 * and the console, or `qiandao audit seal`). One sealer at a time holds a transaction-scoped
 * advisory lock; another that finds it taken does nothing. Events are picked from just below the
 * newest sealed event upward (`lookback` ids), so an event whose transaction committed late —
 * after higher ids were sealed — is still sealed, in the order the sealer meets it: the chain
 * order (seq) is the sealing order, not the id order.
 */
import type { Logger } from 'pino';
import type { Db } from '../store/index.js';
import { CANONICAL_SQL, GENESIS_HASH, linkHash } from './canonical.js';

const LOCK_SQL = `SELECT pg_try_advisory_xact_lock(hashtext('qiandao:audit-seal:' || coalesce(current_schema(), ''))) AS locked`;

export interface SealOptions {
  /** Most events sealed in one call. Default 5000. */
  limit?: number;
  /** How far below the newest sealed event id to look for late commits. Default 100 000. */
  lookback?: number;
}

export interface SealResult {
  /** Events sealed by this call. */
  sealed: number;
  /** False when another sealer held the lock (nothing was done). */
  ran: boolean;
  /** Sequence number of the newest link, 0 for an empty chain. */
  head: string;
}

/** Seal what is committed and not yet sealed (one batch). */
export async function sealEvents(db: Db, opts: SealOptions = {}): Promise<SealResult> {
  const limit = Math.max(1, Math.min(Math.trunc(opts.limit ?? 5000), 50_000));
  const lookback = Math.max(0, Math.trunc(opts.lookback ?? 100_000));
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ locked: boolean }>(LOCK_SQL);
    if (lock.rows[0]?.locked !== true) return { sealed: 0, ran: false, head: '0' };
    const head = await tx.query<{ seq: string; hash: string; max_event: string | null }>(
      `SELECT s.seq::text AS seq, s.hash, (SELECT max(event_id)::text FROM event_seals) AS max_event
         FROM event_seals s ORDER BY s.seq DESC LIMIT 1`,
    );
    let seq = BigInt(head.rows[0]?.seq ?? '0');
    let prev = head.rows[0]?.hash ?? GENESIS_HASH;
    const from = head.rows[0]?.max_event == null ? 0n : BigInt(head.rows[0].max_event) - BigInt(lookback);
    const todo = await tx.query<{ id: string; canon: string }>(
      `SELECT e.id::text AS id, ${CANONICAL_SQL} AS canon
         FROM events e
        WHERE e.id > $1::bigint AND NOT EXISTS (SELECT 1 FROM event_seals s WHERE s.event_id = e.id)
        ORDER BY e.id LIMIT $2`,
      [from.toString(), limit],
    );
    if (todo.rows.length === 0) return { sealed: 0, ran: true, head: seq.toString() };
    const seqs: string[] = [];
    const ids: string[] = [];
    const prevs: string[] = [];
    const hashes: string[] = [];
    for (const row of todo.rows) {
      seq += 1n;
      const hash = linkHash(prev, seq, row.canon);
      seqs.push(seq.toString());
      ids.push(row.id);
      prevs.push(prev);
      hashes.push(hash);
      prev = hash;
    }
    await tx.query(
      `INSERT INTO event_seals (seq, event_id, prev_hash, hash)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])`,
      [seqs, ids, prevs, hashes],
    );
    return { sealed: todo.rows.length, ran: true, head: seq.toString() };
  });
}

/** Seal until nothing is left (tests, `qiandao audit seal`). */
export async function sealAll(db: Db, opts: SealOptions = {}): Promise<number> {
  let total = 0;
  for (;;) {
    const r = await sealEvents(db, opts);
    total += r.sealed;
    if (!r.ran || r.sealed === 0) return total;
  }
}

export interface Sealer {
  /** Seal one more batch now and wait for it. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Seal every `intervalMs` (default 1000) until stopped; failures are logged and retried. */
export function startSealer(opts: { db: Db; logger?: Logger; intervalMs?: number }): Sealer {
  const intervalMs = opts.intervalMs ?? 1000;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = (): Promise<void> => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        await sealAll(opts.db);
      } catch (e) {
        opts.logger?.warn({ err: e instanceof Error ? { name: e.name, message: e.message } : String(e) }, 'audit sealer: batch failed');
      }
    });
    return running;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return {
    flush: tick,
    async stop() {
      clearInterval(timer);
      await tick();
      stopped = true;
      await running;
    },
  };
}
