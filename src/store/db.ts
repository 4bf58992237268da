/**
 * The minimal database interface the repositories are written against.
 * Two implementations: embedded PGlite (pglite.ts) and PostgreSQL via pg.Pool
 * (postgres.ts). Both speak the same SQL; every error leaving `query`/`exec`
 * is a StoreError.
 */
import { StoreError } from './errors.js';

export interface QueryResult<T> {
  rows: T[];
  /** Rows returned (SELECT) or affected (INSERT/UPDATE/DELETE). */
  rowCount: number;
}

export type DbKind = 'pglite' | 'postgres';

export interface Db {
  readonly kind: DbKind;
  /** Dedicated schema this handle works in (search_path), if any. */
  readonly schema: string | undefined;
  /** One parameterised statement ($1, $2...). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** One or more statements without parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
  /**
   * Run `fn` in a transaction (READ COMMITTED): commit when it resolves, roll back
   * when it rejects. Use only `tx` inside `fn` — on PGlite the outer handle waits
   * for the transaction to finish, so using it inside `fn` would deadlock.
   * Calling `tx.transaction` nests with a savepoint.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Release the connection(s). Not allowed on a transaction handle. */
  close(): Promise<void>;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names are interpolated into SQL, so only plain lower-case identifiers are accepted. */
export function assertSchemaName(schema: string): string {
  if (!SCHEMA_RE.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}: use [a-z_][a-z0-9_]*, at most 63 characters`);
  }
  return schema;
}

/** Simple FIFO async mutex. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const prev = this.#tail;
    this.#tail = prev.then(() => next);
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Shared savepoint-based nesting for transaction handles. */
export async function withSavepoint<T>(tx: Db, depth: number, fn: () => Promise<T>): Promise<T> {
  const sp = `qd_sp_${depth}`;
  await tx.query(`SAVEPOINT ${sp}`);
  try {
    const result = await fn();
    await tx.query(`RELEASE SAVEPOINT ${sp}`);
    return result;
  } catch (e) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${sp}`);
    await tx.query(`RELEASE SAVEPOINT ${sp}`);
    throw e;
  }
}

/** How one back end runs a statement on the connection a transaction holds. */
export interface StatementRunner {
  query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  exec(sql: string): Promise<void>;
}

/**
 * The handle passed to a transaction's callback, for either back end: statements go to the
 * transaction's connection, nested transactions become savepoints, and the handle refuses use
 * once its transaction has ended.
 */
export class TransactionHandle implements Db {
  #done = false;

  constructor(
    readonly kind: DbKind,
    private readonly runner: StatementRunner,
    readonly schema: string | undefined,
    private readonly depth: number,
  ) {}

  #check(): void {
    if (this.#done) throw new StoreError('INTERNAL', 'transaction handle used after the transaction ended');
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    this.#check();
    return this.runner.query<T>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    this.#check();
    return this.runner.exec(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    this.#check();
    const inner = new TransactionHandle(this.kind, this.runner, this.schema, this.depth + 1);
    try {
      return await withSavepoint(this, this.depth + 1, () => fn(inner));
    } finally {
      inner.end();
    }
  }

  end(): void {
    this.#done = true;
  }

  async close(): Promise<void> {
    throw new StoreError('INTERNAL', 'cannot close a transaction handle');
  }
}
