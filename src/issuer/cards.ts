/**
 * Card accounts of the issuer simulator (table issuer_cards, migrations/006_issuer.sql).
 * Cards are found by the HSM's PAN fingerprint; the clear PAN is never stored.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';

export type CardStatus = 'active' | 'lost' | 'stolen' | 'blocked';
export const CARD_STATUSES: readonly CardStatus[] = ['active', 'lost', 'stolen', 'blocked'];

export interface Card {
  cardId: string;
  maskedPan: string;
  /** YYMM */
  expiry: string;
  serviceCode: string;
  /** Whether a PIN (PVV) is enrolled. */
  hasPin: boolean;
  pvki: number | null;
  status: CardStatus;
  /** ISO 4217 numeric. */
  currency: string;
  /** Ledger balance, minor units (= sum of postings). */
  balance: number;
  /** Balance minus active pre-authorisation holds. */
  available: number;
  /** Debits allowed per issuer day; null = no limit. */
  dailyLimit: number | null;
  pinTries: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Internal row, with what the simulator needs to verify PINs. */
export interface CardRow {
  card_id: string;
  pan_fingerprint: string;
  masked_pan: string;
  expiry: string;
  service_code: string;
  pvki: number | null;
  pvv: string | null;
  status: CardStatus;
  currency: string;
  balance: string | number;
  daily_limit: string | number | null;
  pin_tries: number;
  created_at: Date;
  updated_at: Date;
  held?: string | number | null;
}

export const CARD_COLUMNS =
  'c.card_id, c.pan_fingerprint, c.masked_pan, c.expiry, c.service_code, c.pvki, c.pvv, c.status, c.currency, c.balance, c.daily_limit, c.pin_tries, c.created_at, c.updated_at';

const HELD = `(SELECT coalesce(sum(h.amount), 0) FROM issuer_holds h WHERE h.card_id = c.card_id AND h.status = 'active') AS held`;

export function toCard(r: CardRow): Card {
  const balance = Number(r.balance);
  return {
    cardId: r.card_id,
    maskedPan: r.masked_pan,
    expiry: r.expiry,
    serviceCode: r.service_code,
    hasPin: r.pvv !== null,
    pvki: r.pvki === null ? null : Number(r.pvki),
    status: r.status,
    currency: r.currency,
    balance,
    available: balance - Number(r.held ?? 0),
    dailyLimit: r.daily_limit === null ? null : Number(r.daily_limit),
    pinTries: Number(r.pin_tries),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function newCardId(): string {
  return `card_${randomBytes(6).toString('hex')}`;
}

export async function getCardRow(db: Db, cardId: string): Promise<CardRow | undefined> {
  const r = await db.query<CardRow>(`SELECT ${CARD_COLUMNS}, ${HELD} FROM issuer_cards c WHERE c.card_id = $1`, [cardId]);
  return r.rows[0];
}

/** Lock a card row (FOR UPDATE) by fingerprint; use inside a transaction. */
export async function lockCardByFingerprint(db: Db, fingerprint: string): Promise<CardRow | undefined> {
  const r = await db.query<CardRow>(`SELECT ${CARD_COLUMNS} FROM issuer_cards c WHERE c.pan_fingerprint = $1 FOR UPDATE`, [fingerprint]);
  return r.rows[0];
}

/** Lock a card row (FOR UPDATE) by id; use inside a transaction. */
export async function lockCard(db: Db, cardId: string): Promise<CardRow | undefined> {
  const r = await db.query<CardRow>(`SELECT ${CARD_COLUMNS} FROM issuer_cards c WHERE c.card_id = $1 FOR UPDATE`, [cardId]);
  return r.rows[0];
}

export interface ListCardsOptions {
  status?: CardStatus;
  /** Cards whose masked PAN equals this (e.g. 629990*********1234). */
  maskedPan?: string;
  limit?: number;
}

export async function listCardRows(db: Db, opts: ListCardsOptions = {}): Promise<CardRow[]> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 1000), 0), 10_000);
  const r = await db.query<CardRow>(
    `SELECT ${CARD_COLUMNS}, ${HELD} FROM issuer_cards c
      WHERE ($1::text IS NULL OR c.status = $1) AND ($2::text IS NULL OR c.masked_pan = $2)
      ORDER BY c.created_at, c.card_id LIMIT $3`,
    [opts.status ?? null, opts.maskedPan ?? null, limit],
  );
  return r.rows;
}
