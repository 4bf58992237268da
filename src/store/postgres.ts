import pg from 'pg';
import { assertSchemaName, TransactionHandle, type Db, type QueryResult, type StatementRunner } from './db.js';
import { StoreError, toStoreError } from './errors.js';

export interface PostgresOptions {
  /** Connection string, e.g. postgres://user@host:5432/db. */
  url: string;
  /** Create (if needed) and work in this schema (search_path of every pooled connection). */
  schema?: string;
  /**
   * Pool size, default 10 (DEFAULT_POOL_SIZE). Sign-on work is grouped into batches (at most two
   * look-ups and two key issues in flight, plus one presence write: src/store/batch.ts), so a
   * sign-on storm needs about five connections however many terminals are in flight; the rest
   * serve other requests and the console. Measured on 2 cores: 4, 10 and 20 perform alike.
   */
  max?: number;
  /** Called for errors on idle pooled connections (otherwise ignored; the next query fails with UNAVAILABLE). */
  onPoolError?: (err: StoreError) => void;
}

interface Queryable {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

async function run<T>(client: Queryable, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
  try {
    const r = await client.query(sql, params ? [...params] : undefined);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
  } catch (e) {
    throw toStoreError(e);
  }
}

async function runExec(client: Queryable, sql: string): Promise<void> {
  try {
    // No parameters: pg uses the simple query protocol, which accepts several statements.
    await client.query(sql);
  } catch (e) {
    throw toStoreError(e);
  }
}

/** A transaction handle whose statements run on `client`. */
function txHandle(client: Queryable, schema: string | undefined): TransactionHandle {
  const runner: StatementRunner = {
    query: <T>(sql: string, params?: readonly unknown[]) => run<T>(client, sql, params),
    exec: (sql: string) => runExec(client, sql),
  };
  return new TransactionHandle('postgres', runner, schema, 0);
}

/** Connections in a PostgresDb's pool unless PostgresOptions.max says otherwise. */
export const DEFAULT_POOL_SIZE = 10;

/** PostgreSQL through a pg.Pool. */
export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  #closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string | undefined,
  ) {}

  static async open(options: PostgresOptions): Promise<PostgresDb> {
    const schema = options.schema === undefined ? undefined : assertSchemaName(options.schema);
    if (options.max !== undefined && (!Number.isInteger(options.max) || options.max < 1)) {
      throw new StoreError('CONSTRAINT', `pool size must be a positive integer, got ${String(options.max)}`);
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? DEFAULT_POOL_SIZE,
      ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    });
    pool.on('error', (err) => options.onPoolError?.(toStoreError(err)));
    const db = new PostgresDb(pool, schema);
    try {
      if (schema !== undefined) {
        // Serialise concurrent creators of the same schema (CREATE SCHEMA IF NOT EXISTS can race).
        await db.transaction(async (tx) => {
          await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`qiandao:schema:${schema}`]);
          await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        });
      } else {
        await db.query('SELECT 1');
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw toStoreError(e);
    }
    return db;
  }

  #check(): void {
    if (this.#closed) throw new StoreError('UNAVAILABLE', 'database unavailable (store closed)');
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    this.#check();
    return run<T>(this.pool, sql, params);
  }

  async exec(sql: string): Promise<void> {
    this.#check();
    // Several statements on a pool go to one connection in one simple-protocol round trip.
    return runExec(this.pool, sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    this.#check();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw toStoreError(e);
    }
    const tx = txHandle(client, this.schema);
    let broken: Error | undefined;
    try {
      await run(client, 'BEGIN');
      let out: T;
      try {
        out = await fn(tx);
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw e;
      }
      await run(client, 'COMMIT');
      return out;
    } catch (e) {
      if (broken === undefined && e instanceof StoreError && e.reason === 'UNAVAILABLE') broken = e;
      throw e;
    } finally {
      tx.end();
      // A connection whose state is unknown is destroyed rather than returned to the pool.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
