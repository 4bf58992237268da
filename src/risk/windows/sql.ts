/**
 * Window counts from risk_observations in one statement: one index range scan per distinct key
 * (see migrations/007_risk.sql), and concurrent requests of the same shape in one statement.
 */
import { CHANNELS, windowKeyValue, type Bind, type WindowCounts, type WindowSpec } from '../rules/definition.js';
import type { RiskTransaction } from '../types.js';
import { batcherFor, batchesInFlight } from '../../store/batch.js';
import type { Db } from '../../store/db.js';
import type { WindowSource } from './source.js';

/** Key condition (index prefix) of a spec over risk_observations aliased `o`. */
export function keyCondition(spec: Pick<WindowSpec, 'key' | 'channels'>, tx: RiskTransaction, bind: Bind): string[] {
  const value = windowKeyValue(spec.key, tx);
  switch (spec.key) {
    case 'terminal':
      return [`o.merchant_no = ${bind(tx.merchantNo)}`, `o.terminal_no = ${bind(value)}`];
    case 'card':
      return [`o.card_fingerprint = ${bind(value)}`];
    case 'operator':
      return [`o.merchant_no = ${bind(tx.merchantNo)}`, `o.operator_no = ${bind(value)}`];
    case 'merchant':
      // The merchant index is (merchant_no, channel, at): name the channels to use it.
      return [`o.merchant_no = ${bind(value)}`, `o.channel = ANY(${bind(spec.channels ?? CHANNELS)}::text[])`];
  }
}

/** The conditions of a spec beyond its key (time range, channel, kind, result, terminal). */
function filterConditions(spec: WindowSpec, bind: Bind): string[] {
  const conds = [`o.at ${spec.fromInclusive ? '>=' : '>'} ${bind(spec.from)}`, `o.at <= ${bind(spec.to)}`];
  if (spec.channels !== undefined) conds.push(`o.channel = ANY(${bind(spec.channels)}::text[])`);
  if (spec.kinds !== undefined) conds.push(`o.kind = ANY(${bind(spec.kinds)}::text[])`);
  if (!spec.includeDeclined) conds.push(`o.result = 'approved'`);
  if (spec.terminalNo !== undefined) conds.push(`o.terminal_no = ${bind(spec.terminalNo)}`);
  return conds;
}

/**
 * One statement for all specs: specs on the same key share one index range scan (the widest
 * time range of the group), each spec's own filters applied as aggregate FILTERs; the groups are
 * single-row subqueries joined into one row. Values are placed by `bind` (here: columns of the
 * grouped statement's record).
 */
function windowsStatement(tx: RiskTransaction, specs: readonly WindowSpec[], bind: Bind): { sql: string } {
  const groups = new Map<string, number[]>();
  specs.forEach((spec, i) => {
    const g = groups.get(spec.key);
    if (g === undefined) groups.set(spec.key, [i]);
    else g.push(i);
  });
  const subqueries: string[] = [];
  for (const [key, members] of groups) {
    const group = members.map((i) => specs[i] as WindowSpec);
    const from = new Date(Math.min(...group.map((s) => s.from.getTime())));
    const to = new Date(Math.max(...group.map((s) => s.to.getTime())));
    const cols = members.map((i, j) => {
      const f = filterConditions(group[j] as WindowSpec, bind).join(' AND ');
      return `count(*) FILTER (WHERE ${f})::int AS n${i}, coalesce(sum(o.amount) FILTER (WHERE ${f}), 0)::text AS t${i}, max(o.at) FILTER (WHERE ${f}) AS l${i}`;
    });
    const where = [...keyCondition({ key: key as WindowSpec['key'] }, tx, bind), `o.at >= ${bind(from)}`, `o.at <= ${bind(to)}`].join(' AND ');
    subqueries.push(`(SELECT ${cols.join(', ')} FROM risk_observations o WHERE ${where}) g_${key}`);
  }
  return { sql: `SELECT * FROM ${subqueries.join(' CROSS JOIN ')}` };
}

/** SQL type of a bound value in the grouped statement's record. */
function sqlType(v: unknown): string {
  if (v instanceof Date) return 'timestamptz';
  if (Array.isArray(v)) return 'text[]';
  return 'text';
}

/**
 * The same statement for any number of requests of one shape (same specs, same keys): each
 * request's values become a row of `jsonb_to_recordset($1)`, and the window subqueries run once per
 * row through LATERAL. The text depends only on the shape, so it is the same on every call (and
 * PostgreSQL can keep the plan); concurrent evaluations are sent together (src/store/batch.ts).
 */
function groupedStatement(tx: RiskTransaction, specs: readonly WindowSpec[]): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const types: string[] = [];
  const bind: Bind = (v) => {
    values.push(v);
    types.push(sqlType(v));
    return `v.p${values.length}`;
  };
  const { sql } = windowsStatement(tx, specs, bind);
  const cols = ['i int', ...types.map((t, k) => `p${k + 1} ${t}`)].join(', ');
  return {
    sql: `SELECT v.i, w.* FROM jsonb_to_recordset($1::text::jsonb) AS v(${cols}) CROSS JOIN LATERAL (${sql}) w`,
    values,
  };
}

type Row = Record<string, unknown>;

function toCounts(row: Row, specs: readonly WindowSpec[]): WindowCounts[] {
  return specs.map((_, i) => {
    const latest = row[`l${i}`];
    return {
      count: Number(row[`n${i}`] ?? 0),
      total: Number(row[`t${i}`] ?? 0),
      latest: latest === null || latest === undefined ? null : new Date(latest as Date),
    };
  });
}

interface Ask {
  values: unknown[];
}

async function runGrouped(db: Db, sql: string, asks: readonly Ask[]): Promise<Row[]> {
  const doc = JSON.stringify(
    asks.map((a, i) => {
      const o: Record<string, unknown> = { i };
      a.values.forEach((v, k) => {
        o[`p${k + 1}`] = v instanceof Date ? v.toISOString() : v;
      });
      return o;
    }),
  );
  const r = await db.query<Row>(sql, [doc]);
  const out: Row[] = asks.map(() => ({}));
  for (const row of r.rows) out[Number(row['i'])] = row;
  return out;
}

/** One Batcher key per statement shape (a handful: rule sets × request kinds). */
const SHAPES = new Map<string, object>();
const MAX_SHAPES = 1000;

export function sqlWindows(): WindowSource {
  return {
    async counts(db, tx, specs) {
      if (specs.length === 0) return [];
      const { sql, values } = groupedStatement(tx, specs);
      let key = SHAPES.get(sql);
      if (key === undefined && SHAPES.size < MAX_SHAPES) {
        key = {};
        SHAPES.set(sql, key);
      }
      const one = async (d: Db, a: Ask): Promise<Row> => (await runGrouped(d, sql, [a]))[0] ?? {};
      const batcher =
        key === undefined
          ? null
          : batcherFor<Ask, Row>(db, key, { single: one, many: (d, as) => runGrouped(d, sql, as), maxBatch: 250, maxConcurrent: batchesInFlight(db) });
      const row = batcher === null ? await one(db, { values }) : await batcher.call({ values });
      return toCounts(row, specs);
    },
    observed() {
      // The row is already in the table.
    },
  };
}
