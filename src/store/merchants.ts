import type { Db } from './db.js';
import { StoreError } from './errors.js';

export type MerchantStatus = 'active' | 'closed' | 'suspended';

export interface Merchant {
  /** Field 42, 15 characters. */
  merchantNo: string;
  name: string;
  /** Merchant category code, 4 digits. */
  mcc: string;
  /** IANA time-zone name used for the merchant's local dates (settlement, receipts). */
  timeZone: string;
  status: MerchantStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewMerchant {
  merchantNo: string;
  name: string;
  mcc: string;
  timeZone?: string;
  status?: MerchantStatus;
}

interface MerchantRow {
  merchant_no: string;
  name: string;
  mcc: string;
  time_zone: string;
  status: MerchantStatus;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'merchant_no, name, mcc, time_zone, status, created_at, updated_at';

function toMerchant(r: MerchantRow): Merchant {
  return {
    merchantNo: r.merchant_no,
    name: r.name,
    mcc: r.mcc,
    timeZone: r.time_zone,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Throws CONSTRAINT unless `tz` is an IANA zone name this runtime knows. */
export function assertTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new StoreError('CONSTRAINT', 'unknown IANA time zone', { table: 'merchants', constraint: 'merchants_time_zone_check' });
  }
}

/** Insert a merchant. DUPLICATE if the number exists; CONSTRAINT on bad format/status/time zone. */
export async function addMerchant(db: Db, m: NewMerchant): Promise<Merchant> {
  const timeZone = m.timeZone ?? 'Asia/Shanghai';
  assertTimeZone(timeZone);
  const r = await db.query<MerchantRow>(
    `INSERT INTO merchants (merchant_no, name, mcc, time_zone, status)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [m.merchantNo, m.name, m.mcc, timeZone, m.status ?? 'active'],
  );
  return toMerchant(r.rows[0] as MerchantRow);
}

export async function getMerchant(db: Db, merchantNo: string): Promise<Merchant | null> {
  const r = await db.query<MerchantRow>(`SELECT ${COLUMNS} FROM merchants WHERE merchant_no = $1`, [merchantNo]);
  return r.rows[0] ? toMerchant(r.rows[0]) : null;
}

/** Like getMerchant but NOT_FOUND instead of null. */
export async function requireMerchant(db: Db, merchantNo: string): Promise<Merchant> {
  const m = await getMerchant(db, merchantNo);
  if (!m) throw new StoreError('NOT_FOUND', 'merchant not found', { table: 'merchants' });
  return m;
}

export interface ListMerchantsOptions {
  status?: MerchantStatus;
  limit?: number;
  offset?: number;
}

/** Merchants ordered by merchant number. */
export async function listMerchants(db: Db, opts: ListMerchantsOptions = {}): Promise<Merchant[]> {
  const r = await db.query<MerchantRow>(
    `SELECT ${COLUMNS} FROM merchants
     WHERE ($1::text IS NULL OR status = $1)
     ORDER BY merchant_no LIMIT $2 OFFSET $3`,
    [opts.status ?? null, opts.limit ?? 1000, opts.offset ?? 0],
  );
  return r.rows.map(toMerchant);
}

export async function setMerchantStatus(db: Db, merchantNo: string, status: MerchantStatus): Promise<Merchant> {
  const r = await db.query<MerchantRow>(
    `UPDATE merchants SET status = $2 WHERE merchant_no = $1 RETURNING ${COLUMNS}`,
    [merchantNo, status],
  );
  if (!r.rows[0]) throw new StoreError('NOT_FOUND', 'merchant not found', { table: 'merchants' });
  return toMerchant(r.rows[0]);
}

export interface MerchantPatch {
  name?: string;
  mcc?: string;
  timeZone?: string;
}

export async function updateMerchant(db: Db, merchantNo: string, patch: MerchantPatch): Promise<Merchant> {
  if (patch.timeZone !== undefined) assertTimeZone(patch.timeZone);
  const r = await db.query<MerchantRow>(
    `UPDATE merchants SET name = coalesce($2, name), mcc = coalesce($3, mcc), time_zone = coalesce($4, time_zone)
     WHERE merchant_no = $1 RETURNING ${COLUMNS}`,
    [merchantNo, patch.name ?? null, patch.mcc ?? null, patch.timeZone ?? null],
  );
  if (!r.rows[0]) throw new StoreError('NOT_FOUND', 'merchant not found', { table: 'merchants' });
  return toMerchant(r.rows[0]);
}
