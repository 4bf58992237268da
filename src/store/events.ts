import type { Db } from './db.js';

export interface StoreEvent {
  /** bigserial, as a decimal string. */
  id: string;
  at: Date;
  type: string;
  merchantNo: string | null;
  terminalNo: string | null;
  operatorNo: string | null;
  ok: boolean;
  detail: unknown;
  /** Who acted (audit user ID): see NewEvent.actor. */
  actor: string | null;
  origin: string | null;
  resource: string | null;
}

export interface NewEvent {
  type: string;
  ok: boolean;
  merchantNo?: string | null;
  terminalNo?: string | null;
  operatorNo?: string | null;
  /** Any JSON value. Never put clear keys, PINs or full PANs here. */
  detail?: unknown;
  /**
   * Who acted — the audit trail's user ID: `terminal:<mid>/<tid>`, `operator:<mid>/<tid>/<op>`,
   * `user:<username>`, `cli:<os user>` or `system`. At most 200 characters.
   */
  actor?: string | null;
  /** Where from: `ip:port` of a terminal connection or HTTP client, `cli`, `scheduler`. */
  origin?: string | null;
  /** What was affected: `terminal:<mid>/<tid>`, `merchant:<mid>`, `operator:<mid>/<op>`, `user:<name>`… */
  resource?: string | null;
}

interface EventRow {
  id: string | number;
  at: Date;
  type: string;
  merchant_no: string | null;
  terminal_no: string | null;
  operator_no: string | null;
  ok: boolean;
  detail: unknown;
  actor: string | null;
  origin: string | null;
  resource: string | null;
}

const COLUMNS = 'id, at, type, merchant_no, terminal_no, operator_no, ok, detail, actor, origin, resource';

function toEvent(r: EventRow): StoreEvent {
  return {
    id: String(r.id),
    at: r.at,
    type: r.type,
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    operatorNo: r.operator_no,
    ok: r.ok,
    detail: r.detail,
    actor: r.actor,
    origin: r.origin,
    resource: r.resource,
  };
}

/** Append an event (the table refuses UPDATE, DELETE and TRUNCATE). */
export async function appendEvent(db: Db, e: NewEvent): Promise<StoreEvent> {
  const r = await db.query<EventRow>(
    `INSERT INTO events (type, merchant_no, terminal_no, operator_no, ok, detail, actor, origin, resource)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9) RETURNING ${COLUMNS}`,
    [
      e.type,
      e.merchantNo ?? null,
      e.terminalNo ?? null,
      e.operatorNo ?? null,
      e.ok,
      e.detail === undefined ? null : JSON.stringify(e.detail),
      e.actor ?? null,
      e.origin ?? null,
      e.resource ?? null,
    ],
  );
  return toEvent(r.rows[0] as EventRow);
}

export interface ListEventsOptions {
  type?: string;
  /** Match any of these types. */
  types?: string[];
  merchantNo?: string;
  terminalNo?: string;
  operatorNo?: string;
  actor?: string;
  resource?: string;
  ok?: boolean;
  /** at >= since */
  since?: Date;
  /** at < until */
  until?: Date;
  /** Keyset paging: id < beforeId (newest-first) or id > afterId (oldest-first). */
  beforeId?: string;
  afterId?: string;
  /** Default 'desc' (newest first). */
  order?: 'asc' | 'desc';
  /** Default 100, at most 10 000. */
  limit?: number;
}

export async function listEvents(db: Db, opts: ListEventsOptions = {}): Promise<StoreEvent[]> {
  const order = opts.order === 'asc' ? 'ASC' : 'DESC';
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 0), 10_000);
  const types = opts.types ?? (opts.type !== undefined ? [opts.type] : null);
  const r = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events
      WHERE ($1::text IS NULL OR type IN (SELECT jsonb_array_elements_text($1::text::jsonb)))
        AND ($2::text IS NULL OR merchant_no = $2)
        AND ($3::text IS NULL OR terminal_no = $3)
        AND ($4::text IS NULL OR operator_no = $4)
        AND ($5::boolean IS NULL OR ok = $5)
        AND ($6::timestamptz IS NULL OR at >= $6)
        AND ($7::timestamptz IS NULL OR at < $7)
        AND ($8::bigint IS NULL OR id < $8)
        AND ($9::bigint IS NULL OR id > $9)
        AND ($11::text IS NULL OR actor = $11)
        AND ($12::text IS NULL OR resource = $12)
      ORDER BY id ${order} LIMIT $10`,
    [
      types === null ? null : JSON.stringify(types),
      opts.merchantNo ?? null,
      opts.terminalNo ?? null,
      opts.operatorNo ?? null,
      opts.ok ?? null,
      opts.since ?? null,
      opts.until ?? null,
      opts.beforeId ?? null,
      opts.afterId ?? null,
      limit,
      opts.actor ?? null,
      opts.resource ?? null,
    ],
  );
  return r.rows.map(toEvent);
}
