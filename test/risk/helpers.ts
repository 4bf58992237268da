/** Shared helpers for the risk tests: merchants, transactions at chosen instants, events at chosen instants. */
import { randomBytes } from 'node:crypto';
import { addMerchant, type Db } from '../../src/store/index.js';
import type { RiskTransaction } from '../../src/risk/index.js';
import { merchantNo as newMerchantNo } from '../store/helpers.js';

export async function newMerchant(db: Db, timeZone = 'Asia/Shanghai'): Promise<string> {
  const no = newMerchantNo();
  await addMerchant(db, { merchantNo: no, name: 'Risk test shop', mcc: '5411', timeZone });
  return no;
}

let ref = 0;
/** A card purchase (fingerprint of a made-up card) at `at`, overridable field by field. */
export function purchase(merchantNo: string, at: Date, over: Partial<RiskTransaction> = {}): RiskTransaction {
  ref += 1;
  return {
    merchantNo,
    terminalNo: '10000001',
    operatorNo: '01',
    channel: 'card',
    kind: 'purchase',
    amount: 1000,
    cardFingerprint: 'fp-card-a',
    at,
    reference: `R${process.pid}-${ref}-${randomBytes(2).toString('hex')}`,
    ...over,
  };
}

/** A QR payment (no card fingerprint). */
export function qr(merchantNo: string, at: Date, over: Partial<RiskTransaction> = {}): RiskTransaction {
  return purchase(merchantNo, at, { channel: 'qr', cardFingerprint: null, ...over });
}

export function plusSeconds(d: Date, s: number): Date {
  return new Date(d.getTime() + s * 1000);
}

export interface EventAt {
  at: Date;
  type: string;
  ok: boolean;
  merchantNo?: string | null;
  terminalNo?: string | null;
  operatorNo?: string | null;
  detail?: unknown;
  origin?: string | null;
}

/**
 * Append an event stamped at a chosen instant. appendEvent always stamps now(); rules about local
 * time need events at given times, so these go in with an explicit `at` (still append-only).
 */
export async function eventAt(db: Db, e: EventAt): Promise<string> {
  const r = await db.query<{ id: string | number }>(
    `INSERT INTO events (at, type, merchant_no, terminal_no, operator_no, ok, detail, origin)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8) RETURNING id`,
    [e.at, e.type, e.merchantNo ?? null, e.terminalNo ?? null, e.operatorNo ?? null, e.ok, e.detail === undefined ? null : JSON.stringify(e.detail), e.origin ?? null],
  );
  return String(r.rows[0]?.id);
}
