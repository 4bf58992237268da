import type { Db } from './db.js';
import { StoreError } from './errors.js';
import { terminalNotFound, type TerminalRef } from './terminals.js';

/** Flat string -> string parameter document (host addresses, timeouts, flags...). */
export type Parameters = Record<string, string>;

/** Changes: a string sets the key, null removes it. */
export type ParameterPatch = Record<string, string | null>;

export interface ParameterDocument {
  values: Parameters;
  /** 0 when nothing was ever set. */
  version: number;
  updatedAt: Date | null;
}

export interface EffectiveParameters {
  /** Merchant values overlaid with the terminal's overrides. */
  values: Parameters;
  /** Version the terminal should hold (terminals.params_version). */
  version: number;
  downloadedVersion: number;
  /** version > downloadedVersion */
  pending: boolean;
}

interface DocRow {
  doc: Parameters;
  version: number;
  updated_at: Date;
}

function splitPatch(patch: ParameterPatch): { set: string; remove: string } {
  const set: Parameters = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k.length === 0 || k.length > 100) throw new StoreError('CONSTRAINT', 'parameter keys must be 1..100 characters');
    if (v === null) remove.push(k);
    else if (typeof v === 'string') set[k] = v;
    else throw new StoreError('CONSTRAINT', 'parameter values must be strings (or null to remove)');
  }
  return { set: JSON.stringify(set), remove: JSON.stringify(remove) };
}

function toDoc(r: DocRow | undefined): ParameterDocument {
  return r ? { values: r.doc, version: Number(r.version), updatedAt: r.updated_at } : { values: {}, version: 0, updatedAt: null };
}

// $2 = keys to set (JSON object), $3 = keys to remove (JSON array).
const REMOVE = `ARRAY(SELECT jsonb_array_elements_text($3::text::jsonb))`;

/**
 * Merge `patch` into the merchant's parameters, bump their version and the
 * paramsVersion of every terminal of the merchant. NOT_FOUND for an unknown merchant.
 */
export async function setMerchantParameters(db: Db, merchantNo: string, patch: ParameterPatch): Promise<ParameterDocument> {
  const { set, remove } = splitPatch(patch);
  return db.transaction(async (tx) => {
    const m = await tx.query('SELECT 1 FROM merchants WHERE merchant_no = $1 FOR KEY SHARE', [merchantNo]);
    if (m.rowCount === 0) throw new StoreError('NOT_FOUND', 'merchant not found', { table: 'merchants' });
    const r = await tx.query<DocRow>(
      `INSERT INTO merchant_parameters AS p (merchant_no, doc) VALUES ($1, $2::text::jsonb - ${REMOVE})
       ON CONFLICT (merchant_no) DO UPDATE
         SET doc = (p.doc || $2::text::jsonb) - ${REMOVE}, version = p.version + 1, updated_at = now()
       RETURNING doc, version, updated_at`,
      [merchantNo, set, remove],
    );
    await tx.query('UPDATE terminals SET params_version = params_version + 1 WHERE merchant_no = $1', [merchantNo]);
    return toDoc(r.rows[0]);
  });
}

export async function getMerchantParameters(db: Db, merchantNo: string): Promise<ParameterDocument> {
  const r = await db.query<DocRow>('SELECT doc, version, updated_at FROM merchant_parameters WHERE merchant_no = $1', [
    merchantNo,
  ]);
  return toDoc(r.rows[0]);
}

/** Merge `patch` into the terminal's overrides and bump its paramsVersion. NOT_FOUND for an unknown terminal. */
export async function setTerminalParameters(db: Db, ref: TerminalRef, patch: ParameterPatch): Promise<ParameterDocument> {
  const { set, remove } = splitPatch(patch);
  return db.transaction(async (tx) => {
    const t = await tx.query(
      'UPDATE terminals SET params_version = params_version + 1 WHERE merchant_no = $1 AND terminal_no = $2',
      [ref.merchantNo, ref.terminalNo],
    );
    if (t.rowCount === 0) throw terminalNotFound();
    const r = await tx.query<DocRow>(
      `INSERT INTO terminal_parameters AS p (merchant_no, terminal_no, doc) VALUES ($1, $4, $2::text::jsonb - ${REMOVE})
       ON CONFLICT (merchant_no, terminal_no) DO UPDATE
         SET doc = (p.doc || $2::text::jsonb) - ${REMOVE}, version = p.version + 1, updated_at = now()
       RETURNING doc, version, updated_at`,
      [ref.merchantNo, set, remove, ref.terminalNo],
    );
    return toDoc(r.rows[0]);
  });
}

/** The terminal's own overrides only. */
export async function getTerminalParameters(db: Db, ref: TerminalRef): Promise<ParameterDocument> {
  const r = await db.query<DocRow>(
    'SELECT doc, version, updated_at FROM terminal_parameters WHERE merchant_no = $1 AND terminal_no = $2',
    [ref.merchantNo, ref.terminalNo],
  );
  return toDoc(r.rows[0]);
}

/** What the terminal should download: merchant values overlaid with terminal overrides. NOT_FOUND for an unknown terminal. */
export async function effectiveParameters(db: Db, ref: TerminalRef): Promise<EffectiveParameters> {
  const r = await db.query<{ values: Parameters; params_version: number; params_downloaded_version: number }>(
    `SELECT coalesce(mp.doc, '{}'::jsonb) || coalesce(tp.doc, '{}'::jsonb) AS values,
            t.params_version, t.params_downloaded_version
       FROM terminals t
       LEFT JOIN merchant_parameters mp ON mp.merchant_no = t.merchant_no
       LEFT JOIN terminal_parameters tp ON tp.merchant_no = t.merchant_no AND tp.terminal_no = t.terminal_no
      WHERE t.merchant_no = $1 AND t.terminal_no = $2`,
    [ref.merchantNo, ref.terminalNo],
  );
  const row = r.rows[0];
  if (!row) throw terminalNotFound();
  const version = Number(row.params_version);
  const downloadedVersion = Number(row.params_downloaded_version);
  return { values: row.values, version, downloadedVersion, pending: version > downloadedVersion };
}
