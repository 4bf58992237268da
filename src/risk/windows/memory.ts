/**
 * In-memory windows with durable records: observations are still written to risk_observations by
 * `record`, and each key's recent observations are also kept in this process. The first request
 * on a key (or one whose window reaches further back than what is held) loads that key's range
 * from the database with one indexed query; after that, requests on the key are answered without
 * touching the database.
 *
 * Only for a single host process per store: observations recorded by another process after a key
 * was loaded are not seen here. Keys are bounded (least recently used dropped first, reloaded on
 * next use) and each key keeps only as far back as its longest window asked.
 */
import type { Db } from '../../store/index.js';
import { windowKeyValue, type Bind, type WindowCounts, type WindowKey, type WindowSpec } from '../rules/definition.js';
import type { PaymentChannel, RiskTransaction } from '../types.js';
import type { WindowSource } from './source.js';
import { keyCondition } from './sql.js';

interface Obs {
  at: number;
  amount: number;
  approved: boolean;
  kind: string;
  channel: PaymentChannel;
  terminalNo: string;
  reference: string;
}

interface Entry {
  /** Complete for observations at or after this instant (ms). */
  from: number;
  list: Obs[];
  refs: Set<string>;
  /** Longest window asked of this key (ms). */
  span: number;
}

interface Loading {
  promise: Promise<Entry>;
  /** Observations recorded while the load runs. */
  buffer: Obs[];
}

const KEYS: readonly WindowKey[] = ['terminal', 'card', 'operator', 'merchant'];

function keyOf(key: WindowKey, tx: RiskTransaction): string | null {
  const v = windowKeyValue(key, tx);
  if (v === null) return null;
  return key === 'card' ? `card:${v}` : `${key}:${tx.merchantNo}/${v}`;
}

function matches(o: Obs, spec: WindowSpec, from: number, to: number): boolean {
  if (spec.fromInclusive ? o.at < from : o.at <= from) return false;
  if (o.at > to) return false;
  if (!spec.includeDeclined && !o.approved) return false;
  if (spec.channels !== undefined && !spec.channels.includes(o.channel)) return false;
  if (spec.kinds !== undefined && !spec.kinds.includes(o.kind)) return false;
  if (spec.terminalNo !== undefined && o.terminalNo !== spec.terminalNo) return false;
  return true;
}

export interface MemoryWindowOptions {
  /** Keys held at most (default 100 000). */
  maxKeys?: number;
}

export function memoryWindows(opts: MemoryWindowOptions = {}): WindowSource {
  const maxKeys = opts.maxKeys ?? 100_000;
  const entries = new Map<string, Entry>();
  const loading = new Map<string, Loading>();

  function touch(k: string, e: Entry): void {
    entries.delete(k);
    entries.set(k, e);
    while (entries.size > maxKeys) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  }

  function add(e: Entry, o: Obs, prune = true): void {
    if (o.at < e.from || e.refs.has(o.reference)) return;
    e.list.push(o);
    e.refs.add(o.reference);
    if (!prune) return;
    // Forget what no window asked so far needs, judged from the newest observation with a
    // window's length of slack for requests stamped a little earlier (those further back reload).
    const cutoff = o.at - 2 * e.span;
    const first = e.list[0];
    if (first !== undefined && first.at < cutoff && e.list.length > 64) {
      e.list = e.list.filter((x) => x.at >= cutoff);
      e.refs = new Set(e.list.map((x) => x.reference));
      e.from = Math.max(e.from, cutoff);
    }
  }

  async function load(db: Db, key: WindowKey, tx: RiskTransaction, k: string, from: number, span: number, old: Entry | undefined): Promise<Entry> {
    const params: unknown[] = [];
    const bind: Bind = (v) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = [...keyCondition({ key }, tx, bind), `o.at >= ${bind(new Date(from))}`].join(' AND ');
    const r = await db.query<{ at: Date; amount: string | number; result: string; kind: string; channel: PaymentChannel; terminal_no: string; reference: string }>(
      `SELECT o.at, o.amount, o.result, o.kind, o.channel, o.terminal_no, o.reference FROM risk_observations o WHERE ${where}`,
      params,
    );
    const e: Entry = { from, list: [], refs: new Set(), span: Math.max(span, old?.span ?? 0) };
    for (const row of r.rows) {
      add(
        e,
        {
          at: new Date(row.at).getTime(),
          amount: Number(row.amount),
          approved: row.result === 'approved',
          kind: row.kind,
          channel: row.channel,
          terminalNo: row.terminal_no,
          reference: row.reference,
        },
        false,
      );
    }
    // Observations held before (e.g. recorded in a transaction not yet committed) stay.
    for (const o of old?.list ?? []) add(e, o, false);
    return e;
  }

  async function entryFor(db: Db, key: WindowKey, tx: RiskTransaction, from: number, span: number): Promise<Entry | null> {
    const k = keyOf(key, tx);
    if (k === null) return null;
    for (;;) {
      const e = entries.get(k);
      if (e !== undefined && e.from <= from) {
        e.span = Math.max(e.span, span);
        touch(k, e);
        return e;
      }
      const busy = loading.get(k);
      if (busy !== undefined) {
        await busy.promise.catch(() => undefined);
        continue;
      }
      const l: Loading = { promise: load(db, key, tx, k, from, span, e), buffer: [] };
      loading.set(k, l);
      try {
        const fresh = await l.promise;
        for (const o of l.buffer) add(fresh, o, false);
        touch(k, fresh);
        return fresh;
      } finally {
        loading.delete(k);
      }
    }
  }

  return {
    async counts(db, tx, specs) {
      const out: WindowCounts[] = [];
      for (const spec of specs) {
        const from = spec.from.getTime();
        const to = spec.to.getTime();
        const e = await entryFor(db, spec.key, tx, from, to - from);
        let count = 0;
        let total = 0;
        let latest = -Infinity;
        for (const o of e?.list ?? []) {
          if (!matches(o, spec, from, to)) continue;
          count += 1;
          total += o.amount;
          if (o.at > latest) latest = o.at;
        }
        out.push({ count, total, latest: count === 0 ? null : new Date(latest) });
      }
      return out;
    },

    observed(tx, result) {
      const o: Obs = {
        at: tx.at.getTime(),
        amount: tx.amount,
        approved: result === 'approved',
        kind: tx.kind,
        channel: tx.channel,
        terminalNo: tx.terminalNo,
        reference: tx.reference,
      };
      for (const key of KEYS) {
        const k = keyOf(key, tx);
        if (k === null) continue;
        const e = entries.get(k);
        if (e !== undefined) add(e, o);
        loading.get(k)?.buffer.push(o);
      }
    },
  };
}
