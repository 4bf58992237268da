/**
 * Typed store errors. Messages are built here from the SQLSTATE, table and
 * constraint name only: PostgreSQL's own message and DETAIL can echo row
 * values (key blocks, KCVs, serials), so they are never copied.
 */

export type StoreErrorReason =
  | 'NOT_FOUND'
  | 'DUPLICATE'
  | 'CONSTRAINT'
  | 'CONFLICT'
  | 'MIGRATION_CHANGED'
  | 'MIGRATION_INVALID'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export interface StoreErrorInfo {
  /** SQLSTATE or Node socket error code, when the error came from the database. */
  code?: string;
  table?: string;
  constraint?: string;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly reason: StoreErrorReason;
  readonly code: string | undefined;
  readonly table: string | undefined;
  readonly constraint: string | undefined;

  constructor(reason: StoreErrorReason, message: string, info: StoreErrorInfo = {}) {
    super(message);
    this.reason = reason;
    this.code = info.code;
    this.table = info.table;
    this.constraint = info.constraint;
  }
}

export function isStoreError(e: unknown, reason?: StoreErrorReason): e is StoreError {
  return e instanceof StoreError && (reason === undefined || e.reason === reason);
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Convert an error thrown by `pg` or PGlite into a StoreError (StoreErrors pass through). */
export function toStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  const code = str(o.code);
  const table = str(o.table);
  const constraint = str(o.constraint);
  const info: StoreErrorInfo = { code, table, constraint };
  const where = [table && `table ${table}`, constraint && `constraint ${constraint}`].filter(Boolean).join(', ');
  const suffix = where ? ` (${where})` : '';
  const message = e instanceof Error ? e.message : String(e);

  if (code === '23505') return new StoreError('DUPLICATE', `duplicate key${suffix}`, info);
  if (code === '23503') return new StoreError('CONSTRAINT', `foreign key violation${suffix}`, info);
  if (code === '23514') return new StoreError('CONSTRAINT', `check constraint violation${suffix}`, info);
  if (code === '23502') return new StoreError('CONSTRAINT', `missing required value${suffix}`, info);
  if (code === '23001') return new StoreError('CONSTRAINT', `operation not permitted${suffix}`, info);
  if (code?.startsWith('23')) return new StoreError('CONSTRAINT', `integrity constraint violation ${code}${suffix}`, info);
  // Class 22 (data exception): invalid input syntax, value out of range, bad JSON...
  if (code?.startsWith('22')) return new StoreError('CONSTRAINT', `invalid data value (SQLSTATE ${code})${suffix}`, info);
  if (code === '40001' || code === '40P01' || code === '55P03') {
    return new StoreError('CONFLICT', `concurrent update conflict (SQLSTATE ${code})${suffix}`, info);
  }
  if (
    (code !== undefined && (SOCKET_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300')) ||
    /connection terminated|timeout exceeded when trying to connect|pglite is closed|pool after calling end|client has encountered a connection error|not queryable/i.test(message)
  ) {
    return new StoreError('UNAVAILABLE', `database unavailable${code ? ` (${code})` : ''}`, info);
  }
  // Class 42 (syntax error / undefined object) messages name identifiers, not values.
  if (code?.startsWith('42')) return new StoreError('INTERNAL', `database error ${code}: ${message}`, info);
  return new StoreError('INTERNAL', `database error${code ? ` (SQLSTATE ${code})` : ''}`, info);
}
