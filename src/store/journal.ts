/**
 * The transaction journal (migration 008_journal.sql): one row per financial request, written
 * 'pending' before the issuer is asked and made final before the response is sent.
 *
 * Status moves: pending → approved | declined; approved → reversed (0400, stand-in or crash
 * recovery) | voided (an approved void / completion void of it). Every transition is a conditional
 * UPDATE (… WHERE status = expected), so an undo happens at most once even under concurrent
 * retransmissions.
 */
import { batcherFor, batchesInFlight } from './batch.js';
import type { Db } from './db.js';
import { StoreError, isStoreError } from './errors.js';

export type JournalKind =
  | 'purchase'
  | 'qr-purchase'
  | 'balance'
  | 'void'
  | 'refund'
  | 'preauth'
  | 'preauth-void'
  | 'preauth-completion'
  | 'completion-void';
export type JournalStatus = 'pending' | 'approved' | 'declined' | 'reversed' | 'voided';
export type JournalChannel = 'card' | 'qr';
export type JournalCardClass = 'domestic' | 'foreign';

/** Response fields kept to answer a retransmission (no secrets, no PAN). */
export interface StoredResponse {
  /** 39 */
  responseCode: string;
  /** 12 hhmmss, 13 MMDD, 15 MMDD */
  time?: string;
  date?: string;
  settlementDate?: string;
  /** 38 */
  authCode?: string;
  /** 44 */
  additional?: string;
  /** 54 */
  balance?: string;
}

export interface JournalEntry {
  id: string;
  merchantNo: string;
  terminalNo: string;
  batchNo: string;
  stan: string;
  localDate: string;
  kind: JournalKind;
  mti: string;
  processingCode: string;
  amount: number;
  currency: string;
  channel: JournalChannel;
  cardClass: JournalCardClass;
  panFingerprint: string | null;
  maskedPan: string | null;
  panCipher: string | null;
  status: JournalStatus;
  responseCode: string | null;
  authCode: string | null;
  rrn: string;
  acquirerId: string;
  originalId: string | null;
  operatorNo: string | null;
  contentHash: string;
  response: StoredResponse | null;
  reason: string | null;
  reversalReason: string | null;
  receivedAt: Date;
  finalizedAt: Date | null;
  reversedAt: Date | null;
  /**
   * The host process (migration 010, src/store/host-instances.ts) that wrote the entry, or that
   * took it over to recover it; null for entries written before that migration or by a store
   * handle shared by several host instances.
   */
  instanceId: string | null;
}

/** What a new (pending) entry is written with: the entry's request-side fields. */
export type NewJournalEntry = Pick<
  JournalEntry,
  | 'merchantNo'
  | 'terminalNo'
  | 'batchNo'
  | 'stan'
  | 'localDate'
  | 'kind'
  | 'mti'
  | 'processingCode'
  | 'amount'
  | 'currency'
  | 'channel'
  | 'cardClass'
  | 'panFingerprint'
  | 'maskedPan'
  // The PAN sealed under the journal data key (src/transactions/pan-vault.ts), cleared when final.
  | 'panCipher'
  | 'rrn'
  | 'acquirerId'
  | 'operatorNo'
  | 'contentHash'
  | 'receivedAt'
> & {
  /** The writing host process (src/store/host-instances.ts); null or undefined: not recorded. */
  instanceId?: string | null;
};

function instanceFor(e: NewJournalEntry): string | null {
  return e.instanceId ?? null;
}

interface JournalRow {
  id: string | number;
  merchant_no: string;
  terminal_no: string;
  batch_no: string;
  stan: string;
  local_date: string;
  kind: JournalKind;
  mti: string;
  processing_code: string;
  amount: string | number;
  currency: string;
  channel: JournalChannel;
  card_class: JournalCardClass;
  pan_fingerprint: string | null;
  masked_pan: string | null;
  pan_cipher: string | null;
  status: JournalStatus;
  response_code: string | null;
  auth_code: string | null;
  rrn: string;
  acquirer_id: string;
  original_id: string | number | null;
  operator_no: string | null;
  content_hash: string;
  response: StoredResponse | string | null;
  reason: string | null;
  reversal_reason: string | null;
  received_at: Date;
  finalized_at: Date | null;
  reversed_at: Date | null;
  instance_id: string | null;
}

export const JOURNAL_COLUMNS =
  'id, merchant_no, terminal_no, batch_no, stan, local_date, kind, mti, processing_code, amount, currency, channel, card_class, ' +
  'pan_fingerprint, masked_pan, pan_cipher, status, response_code, auth_code, rrn, acquirer_id, original_id, operator_no, content_hash, ' +
  'response, reason, reversal_reason, received_at, finalized_at, reversed_at, instance_id';

function toEntry(r: JournalRow): JournalEntry {
  return {
    id: String(r.id),
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    batchNo: r.batch_no,
    stan: r.stan,
    localDate: r.local_date,
    kind: r.kind,
    mti: r.mti,
    processingCode: r.processing_code,
    amount: Number(r.amount),
    currency: r.currency,
    channel: r.channel,
    cardClass: r.card_class,
    panFingerprint: r.pan_fingerprint,
    maskedPan: r.masked_pan,
    panCipher: r.pan_cipher,
    status: r.status,
    responseCode: r.response_code,
    authCode: r.auth_code,
    rrn: r.rrn,
    acquirerId: r.acquirer_id,
    originalId: r.original_id === null ? null : String(r.original_id),
    operatorNo: r.operator_no,
    contentHash: r.content_hash,
    response: typeof r.response === 'string' ? (JSON.parse(r.response) as StoredResponse) : r.response,
    reason: r.reason,
    reversalReason: r.reversal_reason,
    receivedAt: r.received_at,
    finalizedAt: r.finalized_at,
    reversedAt: r.reversed_at,
    instanceId: r.instance_id ?? null,
  };
}

function one(rows: JournalRow[]): JournalEntry | null {
  const r = rows[0];
  return r === undefined ? null : toEntry(r);
}

export type InsertResult = { inserted: true; entry: JournalEntry } | { inserted: false; existing: JournalEntry };

/**
 * Insert a pending entry. When (merchant, terminal, batch, STAN, local date) already exists the
 * existing entry is returned instead (duplicate / retransmission). Use outside a transaction, or
 * in one that ends right after (a unique violation aborts a PostgreSQL transaction).
 */
export async function insertPending(db: Db, e: NewJournalEntry): Promise<InsertResult> {
  try {
    const r = await db.query<JournalRow>(
      `INSERT INTO journal (merchant_no, terminal_no, batch_no, stan, local_date, kind, mti, processing_code, amount, currency,
                            channel, card_class, pan_fingerprint, masked_pan, pan_cipher, rrn, acquirer_id, operator_no, content_hash, received_at,
                            instance_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
       RETURNING ${JOURNAL_COLUMNS}`,
      [
        e.merchantNo, e.terminalNo, e.batchNo, e.stan, e.localDate, e.kind, e.mti, e.processingCode, e.amount, e.currency,
        e.channel, e.cardClass, e.panFingerprint, e.maskedPan, e.panCipher, e.rrn, e.acquirerId, e.operatorNo, e.contentHash, e.receivedAt,
        instanceFor(e),
      ],
    );
    const entry = one(r.rows);
    if (entry === null) throw new StoreError('INTERNAL', 'journal insert returned no row');
    return { inserted: true, entry };
  } catch (err) {
    if (!isStoreError(err, 'DUPLICATE')) throw err;
    const existing = await findByKey(db, e);
    if (existing === null) throw err;
    return { inserted: false, existing };
  }
}

/** What `insertPendingChecked` did: inserted, found the same-day duplicate, or stood back. */
export type CheckedInsertResult = InsertResult | { inserted: false; blocked: true };

/**
 * `insertPending` in one statement with the two checks that precede it on a financial request:
 * nothing is inserted when the batch is settled and closed, or when an entry of an earlier local
 * date with the same terminal, batch and STAN was received after `since` (a retransmission across
 * midnight). `blocked` then says the caller should run those checks itself (findAcrossMidnight,
 * isBatchClosed) to learn which; a same-day duplicate is returned as `existing` as by insertPending.
 */
export async function insertPendingChecked(db: Db, e: NewJournalEntry, since: Date): Promise<CheckedInsertResult> {
  // On PostgreSQL concurrent inserts are grouped into one statement (src/store/batch.ts); a batch
  // that hits a duplicate key fails as a whole and its inserts are retried one at a time.
  const b = batcherFor<CheckedInsert, CheckedInsertResult>(db, INSERT_BATCH, {
    single: (d, x) => insertCheckedOne(d, x.e, x.since),
    many: insertCheckedMany,
    maxBatch: 200,
    maxConcurrent: batchesInFlight(db),
  });
  // The instance is resolved here, against the caller's handle: the batch runs on another.
  const tagged: NewJournalEntry = { ...e, instanceId: instanceFor(e) };
  return b === null || db.kind === 'pglite' ? insertCheckedOne(db, tagged, since) : b.call({ e: tagged, since });
}

interface CheckedInsert {
  e: NewJournalEntry;
  since: Date;
}

const INSERT_BATCH = {};

function dupKey(k: { merchantNo: string; terminalNo: string; batchNo: string; stan: string; localDate: string }): string {
  return [k.merchantNo, k.terminalNo, k.batchNo, k.stan, k.localDate].join('|');
}

async function insertCheckedMany(db: Db, inputs: readonly CheckedInsert[]): Promise<CheckedInsertResult[]> {
  const doc = JSON.stringify(
    inputs.map(({ e, since }) => ({
      m: e.merchantNo, t: e.terminalNo, b: e.batchNo, s: e.stan, d: e.localDate, k: e.kind, mti: e.mti, pc: e.processingCode,
      amt: e.amount, cur: e.currency, ch: e.channel, cc: e.cardClass, fp: e.panFingerprint, mp: e.maskedPan, pcp: e.panCipher,
      rrn: e.rrn, acq: e.acquirerId, op: e.operatorNo, h: e.contentHash, at: e.receivedAt.toISOString(), since: since.toISOString(),
      hi: e.instanceId ?? null,
    })),
  );
  const r = await db.query<JournalRow>(
    `INSERT INTO journal (merchant_no, terminal_no, batch_no, stan, local_date, kind, mti, processing_code, amount, currency,
                          channel, card_class, pan_fingerprint, masked_pan, pan_cipher, rrn, acquirer_id, operator_no, content_hash, received_at,
                          instance_id)
     SELECT v.m, v.t, v.b, v.s, v.d, v.k, v.mti, v.pc, v.amt, v.cur, v.ch, v.cc, v.fp, v.mp, v.pcp, v.rrn, v.acq, v.op, v.h, v.at, v.hi
       FROM jsonb_to_recordset($1::text::jsonb) AS v(m text, t text, b text, s text, d text, k text, mti text, pc text, amt bigint, cur text,
                                                     ch text, cc text, fp text, mp text, pcp text, rrn text, acq text, op text, h text,
                                                     at timestamptz, since timestamptz, hi uuid)
      WHERE NOT EXISTS (SELECT 1 FROM settlements st
                         WHERE st.merchant_no = v.m AND st.terminal_no = v.t AND st.batch_no = v.b AND st.closed_at IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM journal j
                         WHERE j.merchant_no = v.m AND j.terminal_no = v.t AND j.batch_no = v.b AND j.stan = v.s
                           AND j.local_date < v.d AND j.received_at > v.since)
     RETURNING ${JOURNAL_COLUMNS}`,
    [doc],
  );
  const byKey = new Map<string, JournalEntry>();
  for (const row of r.rows) {
    const entry = toEntry(row);
    byKey.set(dupKey(entry), entry);
  }
  return inputs.map(({ e }): CheckedInsertResult => {
    const entry = byKey.get(dupKey(e));
    return entry === undefined ? { inserted: false, blocked: true } : { inserted: true, entry };
  });
}

async function insertCheckedOne(db: Db, e: NewJournalEntry, since: Date): Promise<CheckedInsertResult> {
  try {
    const r = await db.query<JournalRow>(
      `INSERT INTO journal (merchant_no, terminal_no, batch_no, stan, local_date, kind, mti, processing_code, amount, currency,
                            channel, card_class, pan_fingerprint, masked_pan, pan_cipher, rrn, acquirer_id, operator_no, content_hash, received_at,
                            instance_id)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $22::uuid
        WHERE NOT EXISTS (SELECT 1 FROM settlements s
                           WHERE s.merchant_no = $1 AND s.terminal_no = $2 AND s.batch_no = $3 AND s.closed_at IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM journal j
                           WHERE j.merchant_no = $1 AND j.terminal_no = $2 AND j.batch_no = $3 AND j.stan = $4
                             AND j.local_date < $5 AND j.received_at > $21)
       RETURNING ${JOURNAL_COLUMNS}`,
      [
        e.merchantNo, e.terminalNo, e.batchNo, e.stan, e.localDate, e.kind, e.mti, e.processingCode, e.amount, e.currency,
        e.channel, e.cardClass, e.panFingerprint, e.maskedPan, e.panCipher, e.rrn, e.acquirerId, e.operatorNo, e.contentHash, e.receivedAt,
        since, instanceFor(e),
      ],
    );
    const entry = one(r.rows);
    if (entry === null) return { inserted: false, blocked: true };
    return { inserted: true, entry };
  } catch (err) {
    if (!isStoreError(err, 'DUPLICATE')) throw err;
    const existing = await findByKey(db, e);
    if (existing === null) throw err;
    return { inserted: false, existing };
  }
}

export async function findByKey(
  db: Db,
  k: { merchantNo: string; terminalNo: string; batchNo: string; stan: string; localDate: string },
): Promise<JournalEntry | null> {
  const r = await db.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM journal
      WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3 AND stan = $4 AND local_date = $5`,
    [k.merchantNo, k.terminalNo, k.batchNo, k.stan, k.localDate],
  );
  return one(r.rows);
}

/**
 * An entry with the same terminal, batch and STAN under an earlier local date, received after
 * `since`: a retransmission that crossed local midnight (the duplicate key includes the date).
 */
export async function findAcrossMidnight(
  db: Db,
  k: { merchantNo: string; terminalNo: string; batchNo: string; stan: string; localDate: string; since: Date },
): Promise<JournalEntry | null> {
  const r = await db.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM journal
      WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3 AND stan = $4 AND local_date < $5 AND received_at > $6
      ORDER BY id DESC LIMIT 1`,
    [k.merchantNo, k.terminalNo, k.batchNo, k.stan, k.localDate, k.since],
  );
  return one(r.rows);
}

export async function getEntry(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<JournalEntry | null> {
  const r = await db.query<JournalRow>(`SELECT ${JOURNAL_COLUMNS} FROM journal WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return one(r.rows);
}

/** Link a pending entry to its original (void, refund, completion …). */
export async function setOriginal(db: Db, id: string, originalId: string): Promise<void> {
  await db.query(`UPDATE journal SET original_id = $2 WHERE id = $1 AND status = 'pending'`, [id, originalId]);
}

export interface Finalization {
  status: 'approved' | 'declined';
  responseCode: string;
  authCode?: string | null;
  response: StoredResponse;
  reason?: string | null;
  /**
   * The host instance that wrote the entry (its instanceId as inserted). Given: the entry is made
   * final only if it still names that instance — crash recovery in another host process claims an
   * entry by writing its own id before reversing it, and a writer that was only stalled must then
   * not approve it. Undefined: not checked.
   */
  writer?: string | null;
  /**
   * Also write the entry's risk observation (risk_observations, migration 007) in the same
   * statement, derived from the row as made final — what RiskEngine.record would insert for it:
   * at = received_at, the entry's merchant, terminal, operator, channel, kind and amount, the card
   * fingerprint (none for a QR payment), result approved / declined, reference = the journal id.
   * One commit instead of two, and the observation exists exactly when the final row does. Only
   * when the entry is actually made final (a null result wrote nothing).
   */
  observe?: boolean;
}

/**
 * The risk observation of each row of `updated` (a data-modifying CTE returning journal rows)
 * whose `flag` is true; see Finalization.observe.
 */
function observationInsert(updated: string, flag: string): string {
  return `INSERT INTO risk_observations (at, merchant_no, terminal_no, operator_no, card_fingerprint, channel, kind, amount, result, reference)
          SELECT u.received_at, u.merchant_no, u.terminal_no, u.operator_no, CASE WHEN u.channel = 'qr' THEN NULL ELSE u.pan_fingerprint END,
                 u.channel, u.kind, u.amount, CASE WHEN u.status = 'approved' THEN 'approved' ELSE 'declined' END, u.id::text
            FROM ${updated} AS u WHERE ${flag}`;
}

/**
 * Make a pending entry final. Returns the entry, or null when it was not pending any more, or
 * (with `writer`) was claimed by another host's recovery (crash recovery or a stand-in reversal
 * got there first).
 */
export async function finalizeEntry(db: Db, id: string, f: Finalization): Promise<JournalEntry | null> {
  // Outside a transaction, concurrent finalisations are grouped into one statement (src/store/batch.ts):
  // each is committed, durably, before its caller gets the result.
  const b = batcherFor<FinalizeInput, JournalEntry | null>(db, FINALIZE_BATCH, {
    single: (d, input) => finalizeOne(d, input.id, input.f),
    many: finalizeMany,
    maxBatch: 200,
    maxConcurrent: batchesInFlight(db),
  });
  // Not on PGlite: one connection, nothing to overlap; grouping would only add a turn of the event loop.
  return b === null || db.kind === 'pglite' ? finalizeOne(db, id, f) : b.call({ id, f });
}

interface FinalizeInput {
  id: string;
  f: Finalization;
}

const FINALIZE_BATCH = {};

async function finalizeOne(db: Db, id: string, f: Finalization): Promise<JournalEntry | null> {
  const r = await db.query<JournalRow>(
    `WITH f AS (
       UPDATE journal SET status = $2, response_code = $3, auth_code = $4, response = $5::jsonb, reason = $6, finalized_at = clock_timestamp(), pan_cipher = NULL
        WHERE id = $1 AND status = 'pending' AND (NOT $7::boolean OR instance_id IS NOT DISTINCT FROM $8::uuid)
        RETURNING ${JOURNAL_COLUMNS}
     ), o AS (${observationInsert('f', '$9::boolean')})
     SELECT * FROM f`,
    [id, f.status, f.responseCode, f.authCode ?? null, JSON.stringify(f.response), f.reason ?? null, f.writer !== undefined, f.writer ?? null, f.observe === true],
  );
  return one(r.rows);
}

/** Several finalisations in one statement; an entry no longer pending gets null, as alone. */
async function finalizeMany(db: Db, inputs: readonly FinalizeInput[]): Promise<(JournalEntry | null)[]> {
  const ids = new Set(inputs.map((x) => x.id));
  // The same entry twice in one batch: the second must see the first's effect, so run them alone.
  if (ids.size !== inputs.length) throw new StoreError('CONFLICT', 'one journal entry finalised twice in a batch');
  const doc = JSON.stringify(
    inputs.map((x) => ({
      id: x.id, st: x.f.status, rc: x.f.responseCode, ac: x.f.authCode ?? null, rsp: x.f.response, why: x.f.reason ?? null,
      chk: x.f.writer !== undefined, w: x.f.writer ?? null, obs: x.f.observe === true,
    })),
  );
  const r = await db.query<JournalRow>(
    `WITH f AS (
       UPDATE journal AS j SET status = v.st, response_code = v.rc, auth_code = v.ac, response = v.rsp, reason = v.why,
              finalized_at = clock_timestamp(), pan_cipher = NULL
         FROM jsonb_to_recordset($1::text::jsonb) AS v(id bigint, st text, rc text, ac text, rsp jsonb, why text, chk boolean, w uuid, obs boolean)
        WHERE j.id = v.id AND j.status = 'pending' AND (NOT v.chk OR j.instance_id IS NOT DISTINCT FROM v.w)
        RETURNING ${JOURNAL_COLUMNS.split(', ').map((c) => `j.${c}`).join(', ')}, v.obs
     ), o AS (${observationInsert('f', 'u.obs')})
     SELECT ${JOURNAL_COLUMNS} FROM f`,
    [doc],
  );
  const byId = new Map<string, JournalEntry>();
  for (const row of r.rows) {
    const e = toEntry(row);
    byId.set(e.id, e);
  }
  return inputs.map((x) => byId.get(x.id) ?? null);
}

/**
 * Mark an entry reversed if it is in one of `from` (default: approved). Returns the entry as it
 * is now, or null when it was not in one of those states (nothing done: exactly once).
 */
export async function markReversed(
  db: Db,
  id: string,
  reason: string,
  opts: { from?: readonly JournalStatus[]; responseCode?: string; response?: StoredResponse } = {},
): Promise<JournalEntry | null> {
  const from = opts.from ?? ['approved'];
  const r = await db.query<JournalRow>(
    `UPDATE journal SET status = 'reversed', reversal_reason = $2, reversed_at = clock_timestamp(),
            response_code = COALESCE($4, response_code), response = COALESCE($5::jsonb, response),
            finalized_at = COALESCE(finalized_at, clock_timestamp()), pan_cipher = NULL
      WHERE id = $1 AND status = ANY($3::text[])
      RETURNING ${JOURNAL_COLUMNS}`,
    [id, reason, [...from], opts.responseCode ?? null, opts.response === undefined ? null : JSON.stringify(opts.response)],
  );
  return one(r.rows);
}

/** Move an entry between two statuses (approved → voided, voided → approved); null when it was not in `from`. */
export async function transition(db: Db, id: string, from: JournalStatus, to: JournalStatus): Promise<JournalEntry | null> {
  const r = await db.query<JournalRow>(
    `UPDATE journal SET status = $3 WHERE id = $1 AND status = $2 RETURNING ${JOURNAL_COLUMNS}`,
    [id, from, to],
  );
  return one(r.rows);
}

/** The latest entry of a terminal with this batch and STAN (what a 0400 reverses). */
export async function findForReversal(
  db: Db,
  k: { merchantNo: string; terminalNo: string; batchNo: string; stan: string },
): Promise<JournalEntry | null> {
  const r = await db.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM journal
      WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3 AND stan = $4
      ORDER BY id DESC LIMIT 1`,
    [k.merchantNo, k.terminalNo, k.batchNo, k.stan],
  );
  return one(r.rows);
}

/** An original by terminal, batch and STAN among `kinds`, locked (FOR UPDATE) — use inside a transaction. */
export async function lockOriginalByBatchStan(
  tx: Db,
  k: { merchantNo: string; terminalNo: string; batchNo: string; stan: string; kinds: readonly JournalKind[] },
): Promise<JournalEntry | null> {
  const r = await tx.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM journal
      WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3 AND stan = $4 AND kind = ANY($5::text[])
      ORDER BY id DESC LIMIT 1 FOR UPDATE`,
    [k.merchantNo, k.terminalNo, k.batchNo, k.stan, [...k.kinds]],
  );
  return one(r.rows);
}

/** An original by the host's RRN within a merchant, locked. */
export async function lockOriginalByRrn(tx: Db, k: { merchantNo: string; rrn: string; kinds: readonly JournalKind[] }): Promise<JournalEntry | null> {
  const r = await tx.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM journal WHERE merchant_no = $1 AND rrn = $2 AND kind = ANY($3::text[])
      ORDER BY id DESC LIMIT 1 FOR UPDATE`,
    [k.merchantNo, k.rrn, [...k.kinds]],
  );
  return one(r.rows);
}

/** An approved pre-authorisation by its auth code and card, locked. */
export async function lockPreauthByAuthCode(tx: Db, k: { merchantNo: string; authCode: string; panFingerprint: string }): Promise<JournalEntry | null> {
  const r = await tx.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM journal
      WHERE merchant_no = $1 AND kind = 'preauth' AND auth_code = $2 AND pan_fingerprint = $3 AND status = 'approved'
      ORDER BY id DESC LIMIT 1 FOR UPDATE`,
    [k.merchantNo, k.authCode, k.panFingerprint],
  );
  return one(r.rows);
}

/** Entries (pending or approved) that refer to `originalId` with one of `kinds`: their count and amount. */
export async function childrenOf(db: Db, originalId: string, kinds: readonly JournalKind[], excludeId?: string): Promise<{ count: number; amount: number }> {
  const r = await db.query<{ n: string | number; total: string | number | null }>(
    `SELECT count(*) AS n, sum(amount) AS total FROM journal
      WHERE original_id = $1 AND kind = ANY($2::text[]) AND status IN ('pending', 'approved') AND id <> $3`,
    [originalId, [...kinds], excludeId ?? '0'],
  );
  const row = r.rows[0];
  return { count: Number(row?.n ?? 0), amount: Number(row?.total ?? 0) };
}

/** Every pending entry (crash recovery), oldest first. */
export async function pendingEntries(db: Db): Promise<JournalEntry[]> {
  const r = await db.query<JournalRow>(`SELECT ${JOURNAL_COLUMNS} FROM journal WHERE status = 'pending' ORDER BY id`);
  return r.rows.map(toEntry);
}

/**
 * The state of the host process that wrote a pending entry, as the database sees it:
 * none: no instance recorded (before migration 010, or a shared handle);
 * gone: the instance row is missing, stopped, or its heartbeat is older than `staleBeats` of its
 *   own intervals;
 * alive: heartbeat fresh (the caller may still know it is dead, see isPreviousIncarnation).
 */
export type WriterState = 'none' | 'gone' | 'alive';

export interface PendingWithWriter {
  entry: JournalEntry;
  writer: WriterState;
  /** The writer's host name and pid, when its instance row exists. */
  hostname: string | null;
  pid: number | null;
}

/** Every pending entry with the liveness of its writer (crash recovery), oldest first. */
export async function pendingWithWriters(db: Db, staleBeats: number): Promise<PendingWithWriter[]> {
  const r = await db.query<JournalRow & { w_state: WriterState; w_hostname: string | null; w_pid: number | string | null }>(
    `SELECT ${JOURNAL_COLUMNS.split(', ').map((c) => `j.${c}`).join(', ')},
            CASE WHEN j.instance_id IS NULL THEN 'none'
                 WHEN h.id IS NULL OR h.stopped_at IS NOT NULL
                      OR h.heartbeat_at < now() - (h.heartbeat_ms * $1::float8) * interval '1 millisecond' THEN 'gone'
                 ELSE 'alive' END AS w_state,
            h.hostname AS w_hostname, h.pid AS w_pid
       FROM journal j LEFT JOIN host_instances h ON h.id = j.instance_id
      WHERE j.status = 'pending'
      ORDER BY j.id`,
    [staleBeats],
  );
  return r.rows.map((row) => ({
    entry: toEntry(row),
    writer: row.w_state,
    hostname: row.w_hostname,
    pid: row.w_pid === null ? null : Number(row.w_pid),
  }));
}

/**
 * Take a pending entry over for recovery: it is re-tagged with `to` only if it is still pending and
 * still tagged `from` (compare-and-set). Of several hosts recovering at once exactly one wins; the
 * others get false and leave the entry alone. A winner that dies before finishing leaves the entry
 * tagged with its own (now dead) instance, so the next recovery picks it up again.
 */
export async function claimPending(db: Db, id: string, from: string | null, to: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE journal SET instance_id = $3::uuid WHERE id = $1 AND status = 'pending' AND instance_id IS NOT DISTINCT FROM $2::uuid`,
    [id, from, to],
  );
  return r.rowCount > 0;
}

export interface ListJournalOptions {
  merchantNo?: string;
  terminalNo?: string;
  batchNo?: string;
  status?: JournalStatus;
  limit?: number;
}

export async function listJournal(db: Db, o: ListJournalOptions = {}): Promise<JournalEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (col: string, v: unknown): void => {
    params.push(v);
    where.push(`${col} = $${params.length}`);
  };
  if (o.merchantNo !== undefined) add('merchant_no', o.merchantNo);
  if (o.terminalNo !== undefined) add('terminal_no', o.terminalNo);
  if (o.batchNo !== undefined) add('batch_no', o.batchNo);
  if (o.status !== undefined) add('status', o.status);
  params.push(o.limit ?? 10_000);
  const r = await db.query<JournalRow>(
    `SELECT ${JOURNAL_COLUMNS} FROM journal ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(toEntry);
}

// ---------------------------------------------------------------------------------------------
// Reversal records

export type ReversalOutcome = 'reversed' | 'not-found' | 'already-reversed' | 'not-approved' | 'voided' | 'mismatch' | 'pending';

export interface NewReversalRecord {
  merchantNo: string;
  terminalNo: string;
  batchNo: string;
  stan: string;
  amount: number;
  reasonCode: string;
  originalId: string | null;
  outcome: ReversalOutcome;
  rrn: string;
  operatorNo: string | null;
}

export interface ReversalRecord extends NewReversalRecord {
  id: string;
  createdAt: Date;
}

export async function recordReversal(db: Db, r: NewReversalRecord): Promise<void> {
  await db.query(
    `INSERT INTO journal_reversals (merchant_no, terminal_no, batch_no, stan, amount, reason_code, original_id, outcome, rrn, operator_no)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [r.merchantNo, r.terminalNo, r.batchNo, r.stan, r.amount, r.reasonCode, r.originalId, r.outcome, r.rrn, r.operatorNo],
  );
}

export async function listReversals(db: Db, ref: { merchantNo: string; terminalNo: string }): Promise<ReversalRecord[]> {
  const r = await db.query<{
    id: string | number; merchant_no: string; terminal_no: string; batch_no: string; stan: string; amount: string | number;
    reason_code: string; original_id: string | number | null; outcome: ReversalOutcome; rrn: string; operator_no: string | null; created_at: Date;
  }>(
    `SELECT id, merchant_no, terminal_no, batch_no, stan, amount, reason_code, original_id, outcome, rrn, operator_no, created_at
       FROM journal_reversals WHERE merchant_no = $1 AND terminal_no = $2 ORDER BY id`,
    [ref.merchantNo, ref.terminalNo],
  );
  return r.rows.map((x) => ({
    id: String(x.id),
    merchantNo: x.merchant_no,
    terminalNo: x.terminal_no,
    batchNo: x.batch_no,
    stan: x.stan,
    amount: Number(x.amount),
    reasonCode: x.reason_code,
    originalId: x.original_id === null ? null : String(x.original_id),
    outcome: x.outcome,
    rrn: x.rrn,
    operatorNo: x.operator_no,
    createdAt: x.created_at,
  }));
}
