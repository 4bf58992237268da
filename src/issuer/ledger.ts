/**
 * The issuer's ledger (issuer_postings) and pre-authorisation holds (issuer_holds).
 *
 * Every change of a card's balance is a posting in the same transaction, so
 * issuer_cards.balance = SUM(issuer_postings.amount) per card — `checkIssuerLedger` lists the
 * cards where it is not. Call the mutating functions only inside a transaction that holds the
 * card's row lock.
 */
import type { Db } from '../store/db.js';

export type PostingKind = 'deposit' | 'adjustment' | 'purchase' | 'refund' | 'void' | 'completion' | 'completion-void' | 'reversal';

export interface Posting {
  id: string;
  cardId: string;
  /** Signed minor units: debits negative, credits positive. */
  amount: number;
  kind: PostingKind;
  requestKey: string;
  /** The posting this one undoes (void, completion void, reversal). */
  reverses: string | null;
  postedAt: Date;
}

interface PostingRow {
  id: string | number;
  card_id: string;
  amount: string | number;
  kind: PostingKind;
  request_key: string;
  reverses: string | number | null;
  posted_at: Date;
}

function toPosting(r: PostingRow): Posting {
  return {
    id: String(r.id),
    cardId: r.card_id,
    amount: Number(r.amount),
    kind: r.kind,
    requestKey: r.request_key,
    reverses: r.reverses === null ? null : String(r.reverses),
    postedAt: r.posted_at,
  };
}

/** Append a posting and move the card's balance by the same amount. Returns the posting id. */
export async function post(
  tx: Db,
  p: { cardId: string; amount: number; kind: PostingKind; requestKey: string; reverses?: string | null },
): Promise<string> {
  const r = await tx.query<{ id: string | number }>(
    `INSERT INTO issuer_postings (card_id, amount, kind, request_key, reverses) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [p.cardId, p.amount, p.kind, p.requestKey, p.reverses ?? null],
  );
  await tx.query('UPDATE issuer_cards SET balance = balance + $2 WHERE card_id = $1', [p.cardId, p.amount]);
  return String((r.rows[0] as { id: string | number }).id);
}

/**
 * `post` in one statement, returning the posting id and the card's balance after it (the caller
 * holds the card's row lock, so no other change can come between).
 */
export async function postWithBalance(
  tx: Db,
  p: { cardId: string; amount: number; kind: PostingKind; requestKey: string; reverses?: string | null },
): Promise<{ id: string; balance: number }> {
  const r = await tx.query<{ id: string | number; balance: string | number }>(
    `WITH p AS (INSERT INTO issuer_postings (card_id, amount, kind, request_key, reverses) VALUES ($1, $2, $3, $4, $5) RETURNING id),
          u AS (UPDATE issuer_cards SET balance = balance + $2 WHERE card_id = $1 RETURNING balance)
     SELECT p.id, u.balance FROM p, u`,
    [p.cardId, p.amount, p.kind, p.requestKey, p.reverses ?? null],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`posting for card ${p.cardId} returned no row`);
  return { id: String(row.id), balance: Number(row.balance) };
}

export async function getPosting(db: Db, id: string): Promise<Posting | undefined> {
  const r = await db.query<PostingRow>('SELECT id, card_id, amount, kind, request_key, reverses, posted_at FROM issuer_postings WHERE id = $1', [id]);
  return r.rows[0] ? toPosting(r.rows[0]) : undefined;
}

/** True when some posting already undoes posting `id`. */
export async function isUndone(db: Db, id: string): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM issuer_postings WHERE reverses = $1', [id]);
  return r.rowCount > 0;
}

export async function listPostings(db: Db, cardId: string, limit = 1000): Promise<Posting[]> {
  const r = await db.query<PostingRow>(
    'SELECT id, card_id, amount, kind, request_key, reverses, posted_at FROM issuer_postings WHERE card_id = $1 ORDER BY id LIMIT $2',
    [cardId, limit],
  );
  return r.rows.map(toPosting);
}

/** Sum of the card's active holds. */
export async function heldAmount(db: Db, cardId: string): Promise<number> {
  const r = await db.query<{ s: string | number }>(
    `SELECT coalesce(sum(amount), 0) AS s FROM issuer_holds WHERE card_id = $1 AND status = 'active'`,
    [cardId],
  );
  return Number(r.rows[0]?.s ?? 0);
}

/**
 * Debits counted against the daily limit for the current issuer day (in `timeZone`): purchases
 * and completions posted today that no void or reversal undid, plus holds placed today that are
 * still active.
 */
export async function dailyUsage(db: Db, cardId: string, timeZone: string): Promise<number> {
  const r = await db.query<{ s: string | number }>(
    `WITH day AS (SELECT (date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2) AS start)
     SELECT
       coalesce((SELECT sum(-p.amount) FROM issuer_postings p, day
                  WHERE p.card_id = $1 AND p.kind IN ('purchase', 'completion') AND p.posted_at >= day.start
                    AND NOT EXISTS (SELECT 1 FROM issuer_postings u WHERE u.reverses = p.id)), 0)
     + coalesce((SELECT sum(h.amount) FROM issuer_holds h, day
                  WHERE h.card_id = $1 AND h.status = 'active' AND h.created_at >= day.start), 0) AS s`,
    [cardId, timeZone],
  );
  return Number(r.rows[0]?.s ?? 0);
}

export type HoldStatus = 'active' | 'captured' | 'released';

export interface Hold {
  id: string;
  cardId: string;
  amount: number;
  status: HoldStatus;
}

export async function placeHold(tx: Db, h: { cardId: string; amount: number; requestKey: string }): Promise<string> {
  const r = await tx.query<{ id: string | number }>(
    'INSERT INTO issuer_holds (card_id, amount, request_key) VALUES ($1, $2, $3) RETURNING id',
    [h.cardId, h.amount, h.requestKey],
  );
  return String((r.rows[0] as { id: string | number }).id);
}

export async function getHold(tx: Db, id: string): Promise<Hold | undefined> {
  const r = await tx.query<{ id: string | number; card_id: string; amount: string | number; status: HoldStatus }>(
    'SELECT id, card_id, amount, status FROM issuer_holds WHERE id = $1',
    [id],
  );
  const row = r.rows[0];
  return row ? { id: String(row.id), cardId: row.card_id, amount: Number(row.amount), status: row.status } : undefined;
}

export async function setHoldStatus(tx: Db, id: string, status: HoldStatus): Promise<void> {
  await tx.query('UPDATE issuer_holds SET status = $2 WHERE id = $1', [id, status]);
}

export interface LedgerMismatch {
  cardId: string;
  balance: number;
  postings: number;
}

/** Cards whose balance differs from the sum of their postings (empty when the ledger is sound). */
export async function checkIssuerLedger(db: Db): Promise<LedgerMismatch[]> {
  const r = await db.query<{ card_id: string; balance: string | number; s: string | number }>(
    `SELECT c.card_id, c.balance, coalesce(p.s, 0) AS s
       FROM issuer_cards c
       LEFT JOIN (SELECT card_id, sum(amount) AS s FROM issuer_postings GROUP BY card_id) p ON p.card_id = c.card_id
      WHERE c.balance <> coalesce(p.s, 0)
      ORDER BY c.card_id`,
  );
  return r.rows.map((x) => ({ cardId: x.card_id, balance: Number(x.balance), postings: Number(x.s) }));
}
