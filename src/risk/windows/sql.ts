/**
 * Window counts from risk_observations in one statement: one index range scan per distinct key
 * (see migrations/007_risk.sql).
 */
import { CHANNELS, windowKeyValue, type Bind, type WindowSpec } from '../rules/definition.js';
import type { RiskTransaction } from '../types.js';
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
 * single-row subqueries joined into one row.
 */
export function windowsStatement(tx: RiskTransaction, specs: readonly WindowSpec[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind: Bind = (v) => {
    params.push(v);
    return `$${params.length}`;
  };
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
  return { sql: `SELECT * FROM ${subqueries.join(' CROSS JOIN ')}`, params };
}

export function sqlWindows(): WindowSource {
  return {
    async counts(db, tx, specs) {
      if (specs.length === 0) return [];
      const { sql, params } = windowsStatement(tx, specs);
      const r = await db.query<Record<string, unknown>>(sql, params);
      const row = r.rows[0] ?? {};
      return specs.map((_, i) => {
        const latest = row[`l${i}`];
        return {
          count: Number(row[`n${i}`] ?? 0),
          total: Number(row[`t${i}`] ?? 0),
          latest: latest === null || latest === undefined ? null : new Date(latest as Date),
        };
      });
    },
    observed() {
      // The row is already in the table.
    },
  };
}
