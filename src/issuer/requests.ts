/**
 * The issuer's memory of requests (issuer_requests): the idempotency record, keyed by the
 * acquirer reference, and what each request changed (posting, hold) so a void, completion or
 * reversal can find and undo it.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import type { IssuerReference, IssuerRequestKind } from './issuer.js';

/** acquirer|merchant|terminal|rrn|stan — what identifies one request (a retransmission repeats it). */
export function requestKey(ref: IssuerReference): string {
  return [ref.acquirerId, ref.merchantNo, ref.terminalNo, ref.rrn, ref.stan].join('|');
}

/** What a request asked, hashed: a repeat with the same key must ask the same. */
export function contentHash(parts: {
  kind: IssuerRequestKind;
  fingerprint: string;
  amount: number;
  currency: string;
  original?: { rrn: string; authCode?: string; amount?: number } | undefined;
}): string {
  const o = parts.original;
  return createHash('sha256')
    .update(
      JSON.stringify([parts.kind, parts.fingerprint, parts.amount, parts.currency, o?.rrn ?? null, o?.authCode ?? null, o?.amount ?? null]),
      'utf8',
    )
    .digest('hex');
}

export interface RequestRow {
  request_key: string;
  acquirer_id: string;
  merchant_no: string;
  terminal_no: string;
  rrn: string;
  stan: string;
  kind: IssuerRequestKind;
  card_id: string | null;
  content_hash: string | null;
  response_code: string | null;
  auth_code: string | null;
  amount: string | number;
  balance_after: string | number | null;
  reason: string | null;
  posting_id: string | number | null;
  hold_id: string | number | null;
  original_key: string | null;
  reversed_at: Date | null;
  reversal_reason: string | null;
  created_at: Date;
}

const COLUMNS =
  'request_key, acquirer_id, merchant_no, terminal_no, rrn, stan, kind, card_id, content_hash, response_code, auth_code, amount, balance_after, reason, posting_id, hold_id, original_key, reversed_at, reversal_reason, created_at';

export async function getRequest(db: Db, key: string, lock = false): Promise<RequestRow | undefined> {
  const r = await db.query<RequestRow>(`SELECT ${COLUMNS} FROM issuer_requests WHERE request_key = $1${lock ? ' FOR UPDATE' : ''}`, [key]);
  return r.rows[0];
}

/** The latest approved, unreversed request of one of `kinds` on the card with this RRN at this merchant. */
export async function findOriginal(
  tx: Db,
  q: { acquirerId: string; merchantNo: string; rrn: string; cardId: string; kinds: readonly IssuerRequestKind[]; authCode?: string | undefined },
): Promise<RequestRow | undefined> {
  const r = await tx.query<RequestRow>(
    `SELECT ${COLUMNS} FROM issuer_requests
      WHERE acquirer_id = $1 AND merchant_no = $2 AND rrn = $3 AND card_id = $4
        AND kind IN (SELECT jsonb_array_elements_text($5::text::jsonb)) AND response_code = '00'
        AND ($6::text IS NULL OR auth_code = $6)
      ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
    [q.acquirerId, q.merchantNo, q.rrn, q.cardId, JSON.stringify(q.kinds), q.authCode ?? null],
  );
  return r.rows[0];
}

export interface NewRequest {
  key: string;
  ref: IssuerReference;
  kind: IssuerRequestKind;
  cardId: string | null;
  contentHash: string | null;
  responseCode: string | null;
  authCode?: string | undefined;
  amount: number;
  balanceAfter?: number | undefined;
  reason?: string | undefined;
  postingId?: string | undefined;
  holdId?: string | undefined;
  originalKey?: string | undefined;
  reversed?: { reason: string } | undefined;
}

/** Insert the request's record; a concurrent insert of the same key raises StoreError DUPLICATE. */
export async function insertRequest(tx: Db, n: NewRequest): Promise<void> {
  await tx.query(
    `INSERT INTO issuer_requests (request_key, acquirer_id, merchant_no, terminal_no, rrn, stan, kind, card_id, content_hash,
       response_code, auth_code, amount, balance_after, reason, posting_id, hold_id, original_key, received_at,
       reversed_at, reversal_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
       CASE WHEN $19::text IS NULL THEN NULL ELSE now() END, $19)`,
    [
      n.key,
      n.ref.acquirerId,
      n.ref.merchantNo,
      n.ref.terminalNo,
      n.ref.rrn,
      n.ref.stan,
      n.kind,
      n.cardId,
      n.contentHash,
      n.responseCode,
      n.authCode ?? null,
      n.amount,
      n.balanceAfter ?? null,
      n.reason ?? null,
      n.postingId ?? null,
      n.holdId ?? null,
      n.originalKey ?? null,
      n.ref.at instanceof Date && !Number.isNaN(n.ref.at.getTime()) ? n.ref.at : null,
      n.reversed?.reason ?? null,
    ],
  );
}

export async function markReversed(tx: Db, key: string, reason: string): Promise<void> {
  await tx.query('UPDATE issuer_requests SET reversed_at = now(), reversal_reason = $2 WHERE request_key = $1', [key, reason]);
}

/** Sum of approved, unreversed refunds that name `originalKey`. */
export async function refundedAmount(tx: Db, originalKey: string): Promise<number> {
  const r = await tx.query<{ s: string | number }>(
    `SELECT coalesce(sum(amount), 0) AS s FROM issuer_requests
      WHERE original_key = $1 AND kind = 'refund' AND response_code = '00' AND reversed_at IS NULL`,
    [originalKey],
  );
  return Number(r.rows[0]?.s ?? 0);
}
