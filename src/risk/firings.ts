/** risk_firings: every rule that fired on a request, with its reason. */
import type { Db } from '../store/index.js';
import type { RiskOutcome, RiskTransaction, RuleFiring } from './types.js';

export interface StoredFiring {
  id: string;
  at: Date;
  reference: string;
  merchantNo: string;
  terminalNo: string;
  ruleId: string;
  outcome: Exclude<RiskOutcome, 'allow'>;
  responseCode: string | null;
  reason: string;
}

interface FiringRow {
  id: string | number;
  at: Date;
  reference: string;
  merchant_no: string;
  terminal_no: string;
  rule_id: string;
  outcome: StoredFiring['outcome'];
  response_code: string | null;
  reason: string;
}

/** Insert all firings of one request in one statement. */
export async function recordFirings(db: Db, tx: RiskTransaction, firings: readonly RuleFiring[]): Promise<void> {
  if (firings.length === 0) return;
  const params: unknown[] = [tx.at, tx.reference, tx.merchantNo, tx.terminalNo];
  const values = firings.map((f) => {
    params.push(f.ruleId, f.outcome, f.outcome === 'decline' ? (f.responseCode ?? null) : null, f.reason.slice(0, 500));
    const n = params.length;
    return `($1, $2, $3, $4, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
  });
  await db.query(
    `INSERT INTO risk_firings (at, reference, merchant_no, terminal_no, rule_id, outcome, response_code, reason)
     VALUES ${values.join(', ')}`,
    params,
  );
}

export interface ListFiringsOptions {
  reference?: string;
  merchantNo?: string;
  ruleId?: string;
  /** Default 100, at most 10 000. */
  limit?: number;
}

/** Firings, newest first. */
export async function listFirings(db: Db, opts: ListFiringsOptions = {}): Promise<StoredFiring[]> {
  const r = await db.query<FiringRow>(
    `SELECT id, at, reference, merchant_no, terminal_no, rule_id, outcome, response_code, reason FROM risk_firings
      WHERE ($1::text IS NULL OR reference = $1) AND ($2::text IS NULL OR merchant_no = $2) AND ($3::text IS NULL OR rule_id = $3)
      ORDER BY id DESC LIMIT $4`,
    [opts.reference ?? null, opts.merchantNo ?? null, opts.ruleId ?? null, Math.min(Math.max(Math.trunc(opts.limit ?? 100), 0), 10_000)],
  );
  return r.rows.map((row) => ({
    id: String(row.id),
    at: row.at,
    reference: row.reference,
    merchantNo: row.merchant_no,
    terminalNo: row.terminal_no,
    ruleId: row.rule_id,
    outcome: row.outcome,
    responseCode: row.response_code,
    reason: row.reason,
  }));
}
