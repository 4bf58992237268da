import { batcherFor, batchesInFlight } from './batch.js';
import type { Db } from './db.js';
import { StoreError } from './errors.js';
import type { Merchant, MerchantStatus } from './merchants.js';

export type TerminalStatus = 'active' | 'disabled';
export type ConnectionState = 'offline' | 'online';

/** Identifies a terminal: terminal numbers are unique within a merchant. */
export interface TerminalRef {
  merchantNo: string;
  terminalNo: string;
}

export interface Terminal extends TerminalRef {
  model: string | null;
  serial: string | null;
  status: TerminalStatus;
  /** Terminal master key as a key block under the LMK (never clear). */
  tmkBlock: string | null;
  tmkKcv: string | null;
  /** Current batch number, 6 digits. */
  batchNo: string;
  /** Current working-key generation (0 = never signed on). */
  keyGeneration: number;
  keysIssuedAt: Date | null;
  lastSignOnAt: Date | null;
  lastSignOnOperator: string | null;
  lastStatus: unknown;
  lastStatusAt: Date | null;
  connectionState: ConnectionState;
  lastAddress: string | null;
  /** Parameter version the terminal should hold. */
  paramsVersion: number;
  /** Last parameter version the terminal confirmed downloading. */
  paramsDownloadedVersion: number;
  rekeyRequested: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewTerminal extends TerminalRef {
  model?: string | null;
  serial?: string | null;
  status?: TerminalStatus;
  tmkBlock?: string | null;
  tmkKcv?: string | null;
  batchNo?: string;
}

interface TerminalRow {
  merchant_no: string;
  terminal_no: string;
  model: string | null;
  serial: string | null;
  status: TerminalStatus;
  tmk_block: string | null;
  tmk_kcv: string | null;
  batch_no: string;
  key_generation: number;
  keys_issued_at: Date | null;
  last_sign_on_at: Date | null;
  last_sign_on_operator: string | null;
  last_status: unknown;
  last_status_at: Date | null;
  connection_state: ConnectionState;
  last_address: string | null;
  params_version: number;
  params_downloaded_version: number;
  rekey_requested: boolean;
  created_at: Date;
  updated_at: Date;
}

export const TERMINAL_COLUMNS =
  'merchant_no, terminal_no, model, serial, status, tmk_block, tmk_kcv, batch_no, key_generation, keys_issued_at, ' +
  'last_sign_on_at, last_sign_on_operator, last_status, last_status_at, connection_state, last_address, ' +
  'params_version, params_downloaded_version, rekey_requested, created_at, updated_at';

export function toTerminal(r: TerminalRow): Terminal {
  return {
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    model: r.model,
    serial: r.serial,
    status: r.status,
    tmkBlock: r.tmk_block,
    tmkKcv: r.tmk_kcv,
    batchNo: r.batch_no,
    keyGeneration: Number(r.key_generation),
    keysIssuedAt: r.keys_issued_at,
    lastSignOnAt: r.last_sign_on_at,
    lastSignOnOperator: r.last_sign_on_operator,
    lastStatus: r.last_status,
    lastStatusAt: r.last_status_at,
    connectionState: r.connection_state,
    lastAddress: r.last_address,
    paramsVersion: Number(r.params_version),
    paramsDownloadedVersion: Number(r.params_downloaded_version),
    rekeyRequested: r.rekey_requested,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function terminalNotFound(): StoreError {
  return new StoreError('NOT_FOUND', 'terminal not found', { table: 'terminals' });
}

/**
 * Insert a terminal. DUPLICATE if (merchantNo, terminalNo) exists; CONSTRAINT if the
 * merchant does not exist (foreign key) or a value has the wrong format.
 */
export async function addTerminal(db: Db, t: NewTerminal): Promise<Terminal> {
  const r = await db.query<TerminalRow>(
    `INSERT INTO terminals (merchant_no, terminal_no, model, serial, status, tmk_block, tmk_kcv, batch_no)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${TERMINAL_COLUMNS}`,
    [
      t.merchantNo,
      t.terminalNo,
      t.model ?? null,
      t.serial ?? null,
      t.status ?? 'active',
      t.tmkBlock ?? null,
      t.tmkKcv ?? null,
      t.batchNo ?? '000001',
    ],
  );
  return toTerminal(r.rows[0] as TerminalRow);
}

export async function getTerminal(db: Db, ref: TerminalRef): Promise<Terminal | null> {
  const r = await db.query<TerminalRow>(
    `SELECT ${TERMINAL_COLUMNS} FROM terminals WHERE merchant_no = $1 AND terminal_no = $2`,
    [ref.merchantNo, ref.terminalNo],
  );
  return r.rows[0] ? toTerminal(r.rows[0]) : null;
}

/** What getTerminalAndMerchant found: the merchant row (if any) and the terminal under it (if any). */
export interface TerminalAndMerchant {
  merchant: Merchant | null;
  /** null when the merchant is unknown or has no terminal with this number. */
  terminal: Terminal | null;
}

export type JoinedRow = TerminalRow & {
  m_merchant_no: string;
  m_name: string;
  m_mcc: string;
  m_time_zone: string;
  m_status: MerchantStatus;
  m_created_at: Date;
  m_updated_at: Date;
};

export const JOINED_TERMINAL_COLUMNS = TERMINAL_COLUMNS.split(', ')
  .map((c) => `t.${c}`)
  .join(', ');

export const MERCHANT_COLUMNS =
  'm.merchant_no AS m_merchant_no, m.name AS m_name, m.mcc AS m_mcc, m.time_zone AS m_time_zone, ' +
  'm.status AS m_status, m.created_at AS m_created_at, m.updated_at AS m_updated_at';

export function toTerminalAndMerchant(row: JoinedRow | undefined): TerminalAndMerchant {
  if (row === undefined || (row.m_merchant_no as string | null) === null) return { merchant: null, terminal: null };
  const merchant: Merchant = {
    merchantNo: row.m_merchant_no,
    name: row.m_name,
    mcc: row.m_mcc,
    timeZone: row.m_time_zone,
    status: row.m_status,
    createdAt: row.m_created_at,
    updatedAt: row.m_updated_at,
  };
  return { merchant, terminal: (row.terminal_no as string | null) === null ? null : toTerminal(row) };
}

async function lookupOne(db: Db, ref: TerminalRef): Promise<TerminalAndMerchant> {
  const r = await db.query<JoinedRow>(
    `SELECT ${MERCHANT_COLUMNS}, ${JOINED_TERMINAL_COLUMNS}
       FROM merchants m
       LEFT JOIN terminals t ON t.merchant_no = m.merchant_no AND t.terminal_no = $2
      WHERE m.merchant_no = $1`,
    [ref.merchantNo, ref.terminalNo],
  );
  return toTerminalAndMerchant(r.rows[0]);
}

async function lookupMany(db: Db, refs: readonly TerminalRef[]): Promise<TerminalAndMerchant[]> {
  const doc = JSON.stringify(refs.map((r, i) => ({ i, m: r.merchantNo, t: r.terminalNo })));
  const r = await db.query<JoinedRow & { i: number }>(
    `SELECT v.i, ${MERCHANT_COLUMNS}, ${JOINED_TERMINAL_COLUMNS}
       FROM jsonb_to_recordset($1::text::jsonb) AS v(i int, m text, t text)
       LEFT JOIN merchants m ON m.merchant_no = v.m
       LEFT JOIN terminals t ON t.merchant_no = m.merchant_no AND t.terminal_no = v.t`,
    [doc],
  );
  const out: TerminalAndMerchant[] = refs.map(() => ({ merchant: null, terminal: null }));
  for (const row of r.rows) out[Number(row.i)] = toTerminalAndMerchant(row);
  return out;
}

/** Identifies the look-up Batcher of a Db. */
const LOOKUP_BATCHER = {};

/**
 * The merchant and its terminal `ref.terminalNo` in one round trip (what a request's
 * authorisation needs): `{ merchant: null, terminal: null }` when the merchant is unknown.
 * Concurrent look-ups on one store handle are grouped into one statement (src/store/batch.ts).
 */
export function getTerminalAndMerchant(db: Db, ref: TerminalRef): Promise<TerminalAndMerchant> {
  const batcher = batcherFor(db, LOOKUP_BATCHER, { single: lookupOne, many: lookupMany, maxBatch: 250, maxConcurrent: batchesInFlight(db) });
  const key = { merchantNo: ref.merchantNo, terminalNo: ref.terminalNo };
  return batcher === null ? lookupOne(db, key) : batcher.call(key);
}

/** Like getTerminal but NOT_FOUND instead of null. */
export async function requireTerminal(db: Db, ref: TerminalRef): Promise<Terminal> {
  const t = await getTerminal(db, ref);
  if (!t) throw terminalNotFound();
  return t;
}

export interface ListTerminalsOptions {
  merchantNo?: string;
  status?: TerminalStatus;
  connectionState?: ConnectionState;
  rekeyRequested?: boolean;
  /** Only terminals whose paramsDownloadedVersion is behind paramsVersion. */
  paramsPending?: boolean;
  limit?: number;
  offset?: number;
}

/** Terminals ordered by (merchantNo, terminalNo). */
export async function listTerminals(db: Db, opts: ListTerminalsOptions = {}): Promise<Terminal[]> {
  const r = await db.query<TerminalRow>(
    `SELECT ${TERMINAL_COLUMNS} FROM terminals
     WHERE ($1::text IS NULL OR merchant_no = $1)
       AND ($2::text IS NULL OR status = $2)
       AND ($3::text IS NULL OR connection_state = $3)
       AND ($4::boolean IS NULL OR rekey_requested = $4)
       AND ($5::boolean IS NULL OR (params_downloaded_version < params_version) = $5)
     ORDER BY merchant_no, terminal_no LIMIT $6 OFFSET $7`,
    [
      opts.merchantNo ?? null,
      opts.status ?? null,
      opts.connectionState ?? null,
      opts.rekeyRequested ?? null,
      opts.paramsPending ?? null,
      opts.limit ?? 1000,
      opts.offset ?? 0,
    ],
  );
  return r.rows.map(toTerminal);
}

async function updateOne(db: Db, ref: TerminalRef, set: string, params: readonly unknown[]): Promise<Terminal> {
  const r = await db.query<TerminalRow>(
    `UPDATE terminals SET ${set} WHERE merchant_no = $1 AND terminal_no = $2 RETURNING ${TERMINAL_COLUMNS}`,
    [ref.merchantNo, ref.terminalNo, ...params],
  );
  if (!r.rows[0]) throw terminalNotFound();
  return toTerminal(r.rows[0]);
}

export function setTerminalStatus(db: Db, ref: TerminalRef, status: TerminalStatus): Promise<Terminal> {
  return updateOne(db, ref, 'status = $3', [status]);
}

/** Update model / serial (null clears, undefined keeps). */
export function updateTerminalInfo(
  db: Db,
  ref: TerminalRef,
  info: { model?: string | null; serial?: string | null },
): Promise<Terminal> {
  return updateOne(
    db,
    ref,
    'model = CASE WHEN $3 THEN $4 ELSE model END, serial = CASE WHEN $5 THEN $6 ELSE serial END',
    [info.model !== undefined, info.model ?? null, info.serial !== undefined, info.serial ?? null],
  );
}

/**
 * Store a new terminal master key (LMK-wrapped). Working keys issued under the old
 * TMK are useless to the terminal, so a rekey is requested as well.
 */
export function setTerminalTmk(db: Db, ref: TerminalRef, tmk: { block: string; kcv: string }): Promise<Terminal> {
  return updateOne(db, ref, 'tmk_block = $3, tmk_kcv = $4, rekey_requested = true', [tmk.block, tmk.kcv]);
}

/** Ask for new working keys at the terminal's next sign-on (cleared by rotateKeys). */
export function requestRekey(db: Db, ref: TerminalRef): Promise<Terminal> {
  return updateOne(db, ref, 'rekey_requested = true', []);
}

/** Record a status report from the terminal (any JSON value), stamped now. */
export function recordStatus(db: Db, ref: TerminalRef, status: unknown): Promise<Terminal> {
  return updateOne(db, ref, 'last_status = $3::text::jsonb, last_status_at = now()', [JSON.stringify(status ?? null)]);
}

/** Connection came up or went down; `address` (peer ip:port) is kept when omitted. */
export function setConnection(db: Db, ref: TerminalRef, state: ConnectionState, address?: string): Promise<Terminal> {
  return updateOne(db, ref, 'connection_state = $3, last_address = coalesce($4, last_address)', [state, address ?? null]);
}

export interface ConnectionUpdate extends TerminalRef {
  state: ConnectionState;
  /** Peer ip:port; last_address is kept when omitted or null. */
  address?: string | null;
}

/**
 * Several connection-state updates in one statement (the host's presence batching). Each
 * terminal should appear at most once; unknown terminals are skipped. Returns the rows updated.
 * Rows are locked in (merchant, terminal) byte order, the order in which a batch of sign-ons
 * (qd_sign_on, keys.ts) locks them too, so that the two cannot deadlock.
 */
export async function setConnections(db: Db, updates: readonly ConnectionUpdate[]): Promise<number> {
  if (updates.length === 0) return 0;
  const doc = JSON.stringify(
    updates.map((u) => ({ merchant_no: u.merchantNo, terminal_no: u.terminalNo, state: u.state, address: u.address ?? null })),
  );
  const r = await db.query(
    `WITH v AS (
       SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS v(merchant_no text, terminal_no text, state text, address text)
     ), locked AS (
       SELECT x.merchant_no, x.terminal_no, v.state, v.address
         FROM terminals x JOIN v ON x.merchant_no = v.merchant_no AND x.terminal_no = v.terminal_no
        ORDER BY x.merchant_no COLLATE "C", x.terminal_no COLLATE "C"
          FOR UPDATE OF x
     )
     UPDATE terminals t
        SET connection_state = l.state, last_address = coalesce(l.address, t.last_address)
       FROM locked l
      WHERE t.merchant_no = l.merchant_no AND t.terminal_no = l.terminal_no`,
    [doc],
  );
  return r.rowCount;
}

/** Mark every terminal offline (host start-up: connections did not survive the restart). Returns the count. */
export async function markAllOffline(db: Db): Promise<number> {
  const r = await db.query(`UPDATE terminals SET connection_state = 'offline' WHERE connection_state <> 'offline'`);
  return r.rowCount;
}

/**
 * The terminal confirmed downloading parameters `version`. Never moves the
 * downloaded version backwards nor past the current paramsVersion.
 */
export function markParamsDownloaded(db: Db, ref: TerminalRef, version: number): Promise<Terminal> {
  return updateOne(
    db,
    ref,
    'params_downloaded_version = GREATEST(params_downloaded_version, LEAST($3::int, params_version))',
    [version],
  );
}

/** Set the current batch number (6 digits), e.g. after settlement. */
export function setBatchNo(db: Db, ref: TerminalRef, batchNo: string): Promise<Terminal> {
  return updateOne(db, ref, 'batch_no = $3', [batchNo]);
}
