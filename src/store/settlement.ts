/**
 * Settlement (0500) and batch upload (0320) records, and the journal's totals of a batch
 * (migration 008_journal.sql; layouts in src/transactions/messages.ts).
 *
 * Totals: debit = approved (or later voided) purchases, QR purchases and completions; credit =
 * approved voids, completion voids and refunds; per card class. Reversed and declined entries do
 * not count.
 */
import type { Db } from './db.js';
import { StoreError } from './errors.js';

export interface StoredClassTotals {
  debitAmount: number;
  debitCount: number;
  creditAmount: number;
  creditCount: number;
}

export interface StoredTotals {
  domestic: StoredClassTotals;
  foreign: StoredClassTotals;
}

const DEBIT_KINDS = ['purchase', 'qr-purchase', 'preauth-completion'];
const CREDIT_KINDS = ['void', 'completion-void', 'refund'];

function zero(): StoredClassTotals {
  return { debitAmount: 0, debitCount: 0, creditAmount: 0, creditCount: 0 };
}

/** The journal's totals for a terminal's batch. */
export async function journalTotals(db: Db, ref: { merchantNo: string; terminalNo: string; batchNo: string }): Promise<StoredTotals> {
  const r = await db.query<{ card_class: 'domestic' | 'foreign'; side: 'debit' | 'credit'; n: string | number; total: string | number | null }>(
    `SELECT card_class, CASE WHEN kind = ANY($4::text[]) THEN 'debit' ELSE 'credit' END AS side, count(*) AS n, sum(amount) AS total
       FROM journal
      WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3
        AND status IN ('approved', 'voided')
        AND (kind = ANY($4::text[]) OR kind = ANY($5::text[]))
      GROUP BY card_class, side`,
    [ref.merchantNo, ref.terminalNo, ref.batchNo, DEBIT_KINDS, CREDIT_KINDS],
  );
  const out: StoredTotals = { domestic: zero(), foreign: zero() };
  for (const row of r.rows) {
    const t = out[row.card_class];
    if (row.side === 'debit') {
      t.debitCount += Number(row.n);
      t.debitAmount += Number(row.total ?? 0);
    } else {
      t.creditCount += Number(row.n);
      t.creditAmount += Number(row.total ?? 0);
    }
  }
  return out;
}

export interface Settlement {
  id: string;
  merchantNo: string;
  terminalNo: string;
  batchNo: string;
  stan: string;
  operatorNo: string | null;
  terminalTotals: StoredTotals;
  hostTotals: StoredTotals;
  domesticAgreed: boolean;
  foreignAgreed: boolean;
  endCode: string | null;
  uploadedCount: number | null;
  settledAt: Date;
  closedAt: Date | null;
}

interface SettlementRow {
  id: string | number;
  merchant_no: string;
  terminal_no: string;
  batch_no: string;
  stan: string;
  operator_no: string | null;
  terminal_totals: StoredTotals | string;
  host_totals: StoredTotals | string;
  domestic_agreed: boolean;
  foreign_agreed: boolean;
  end_code: string | null;
  uploaded_count: number | null;
  settled_at: Date;
  closed_at: Date | null;
}

const COLUMNS =
  'id, merchant_no, terminal_no, batch_no, stan, operator_no, terminal_totals, host_totals, domestic_agreed, foreign_agreed, end_code, uploaded_count, settled_at, closed_at';

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

function toSettlement(r: SettlementRow): Settlement {
  return {
    id: String(r.id),
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    batchNo: r.batch_no,
    stan: r.stan,
    operatorNo: r.operator_no,
    terminalTotals: json(r.terminal_totals),
    hostTotals: json(r.host_totals),
    domesticAgreed: r.domestic_agreed,
    foreignAgreed: r.foreign_agreed,
    endCode: r.end_code,
    uploadedCount: r.uploaded_count,
    settledAt: r.settled_at,
    closedAt: r.closed_at,
  };
}

export interface NewSettlement {
  merchantNo: string;
  terminalNo: string;
  batchNo: string;
  stan: string;
  operatorNo: string | null;
  terminalTotals: StoredTotals;
  hostTotals: StoredTotals;
  domesticAgreed: boolean;
  foreignAgreed: boolean;
}

/** Record (or, for a repeated 0500 of an open batch, replace) the settlement of a batch. CONFLICT when the batch is closed. */
export async function recordSettlement(db: Db, s: NewSettlement): Promise<Settlement> {
  const r = await db.query<SettlementRow>(
    `INSERT INTO settlements (merchant_no, terminal_no, batch_no, stan, operator_no, terminal_totals, host_totals, domestic_agreed, foreign_agreed)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)
     ON CONFLICT (merchant_no, terminal_no, batch_no) DO UPDATE
       SET stan = EXCLUDED.stan, operator_no = EXCLUDED.operator_no, terminal_totals = EXCLUDED.terminal_totals,
           host_totals = EXCLUDED.host_totals, domestic_agreed = EXCLUDED.domestic_agreed, foreign_agreed = EXCLUDED.foreign_agreed,
           settled_at = clock_timestamp()
       WHERE settlements.closed_at IS NULL
     RETURNING ${COLUMNS}`,
    [s.merchantNo, s.terminalNo, s.batchNo, s.stan, s.operatorNo, JSON.stringify(s.terminalTotals), JSON.stringify(s.hostTotals), s.domesticAgreed, s.foreignAgreed],
  );
  const row = r.rows[0];
  if (row === undefined) throw new StoreError('CONFLICT', 'batch already closed');
  return toSettlement(row);
}

export async function getSettlement(db: Db, ref: { merchantNo: string; terminalNo: string; batchNo: string }): Promise<Settlement | null> {
  const r = await db.query<SettlementRow>(`SELECT ${COLUMNS} FROM settlements WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3`, [
    ref.merchantNo,
    ref.terminalNo,
    ref.batchNo,
  ]);
  const row = r.rows[0];
  return row === undefined ? null : toSettlement(row);
}

/** True when the batch was settled and closed (batch-upload end received). */
export async function isBatchClosed(db: Db, ref: { merchantNo: string; terminalNo: string; batchNo: string }): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM settlements WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3 AND closed_at IS NOT NULL`,
    [ref.merchantNo, ref.terminalNo, ref.batchNo],
  );
  return r.rowCount > 0;
}

/**
 * Close a settled batch (batch-upload end). Returns the settlement, or null when the batch was
 * never settled; a batch already closed is returned unchanged (`alreadyClosed`).
 */
export async function closeBatch(
  db: Db,
  ref: { merchantNo: string; terminalNo: string; batchNo: string },
  end: { code: '202' | '207'; count: number },
): Promise<{ settlement: Settlement; alreadyClosed: boolean } | null> {
  const r = await db.query<SettlementRow>(
    `UPDATE settlements SET end_code = $4, uploaded_count = $5, closed_at = clock_timestamp()
      WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3 AND closed_at IS NULL
      RETURNING ${COLUMNS}`,
    [ref.merchantNo, ref.terminalNo, ref.batchNo, end.code, end.count],
  );
  const row = r.rows[0];
  if (row !== undefined) return { settlement: toSettlement(row), alreadyClosed: false };
  const s = await getSettlement(db, ref);
  return s === null ? null : { settlement: s, alreadyClosed: true };
}

export interface NewBatchUploadRecord {
  merchantNo: string;
  terminalNo: string;
  batchNo: string;
  uploadStan: string;
  recordStan: string;
  cardClass: 'domestic' | 'foreign';
  panFingerprint: string | null;
  maskedPan: string | null;
  amount: number;
}

/**
 * Store one batch-upload record, linked to the approved journal entry of the batch with the same
 * STAN and amount when there is one. Returns whether it matched.
 */
export async function recordBatchUpload(db: Db, rec: NewBatchUploadRecord): Promise<boolean> {
  const r = await db.query<{ journal_id: string | number | null }>(
    `INSERT INTO batch_uploads (merchant_no, terminal_no, batch_no, upload_stan, record_stan, card_class, pan_fingerprint, masked_pan, amount, journal_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
             (SELECT id FROM journal WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3 AND stan = $5 AND amount = $9
                 AND status IN ('approved', 'voided') ORDER BY id DESC LIMIT 1))
     RETURNING journal_id`,
    [rec.merchantNo, rec.terminalNo, rec.batchNo, rec.uploadStan, rec.recordStan, rec.cardClass, rec.panFingerprint, rec.maskedPan, rec.amount],
  );
  return r.rows[0]?.journal_id !== null && r.rows[0]?.journal_id !== undefined;
}

export async function countBatchUploads(db: Db, ref: { merchantNo: string; terminalNo: string; batchNo: string }): Promise<{ records: number; matched: number }> {
  const r = await db.query<{ n: string | number; m: string | number }>(
    `SELECT count(*) AS n, count(journal_id) AS m FROM batch_uploads WHERE merchant_no = $1 AND terminal_no = $2 AND batch_no = $3`,
    [ref.merchantNo, ref.terminalNo, ref.batchNo],
  );
  return { records: Number(r.rows[0]?.n ?? 0), matched: Number(r.rows[0]?.m ?? 0) };
}
