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
  /** Prepare frequently run statements (see StatementNames). Default true. */
  prepare?: boolean;
}

interface Queryable {
  query(config: pg.QueryConfig): Promise<pg.QueryResult>;
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/**
 * Statements worth preparing. PostgreSQL parses, analyses and plans an unnamed statement on every
 * execution; a named (prepared) one is parsed once per connection and, after a few executions,
 * usually runs a cached generic plan. The host's hot statements have fixed texts (grouped
 * statements take their rows as one JSON parameter), so a text seen PREPARE_AFTER times gets a
 * name and every connection prepares it on first use. Names are never reused for another text;
 * at most MAX_PREPARED texts are named per process (further texts stay unnamed), which bounds the
 * memory each backend spends on them.
 */
export class StatementNames {
  static readonly PREPARE_AFTER = 3;
  static readonly MAX_PREPARED = 400;
  readonly #seen = new Map<string, number>();
  readonly #names = new Map<string, string>();
  /** Texts whose prepared form failed once (e.g. a table changed under it): always unnamed. */
  readonly #never = new Set<string>();
  /** Names only ever go up: a forgotten text's name stays prepared on connections and must not be reused. */
  #issued = 0;

  /** The name to run `text` under, or undefined to run it unnamed. */
  nameFor(text: string): string | undefined {
    const named = this.#names.get(text);
    if (named !== undefined) return named;
    if (this.#issued >= StatementNames.MAX_PREPARED || this.#never.has(text)) return undefined;
    const n = (this.#seen.get(text) ?? 0) + 1;
    if (n < StatementNames.PREPARE_AFTER) {
      // Bounded too: one-off texts (ad-hoc console filters) must not accumulate.
      if (this.#seen.size >= 10 * StatementNames.MAX_PREPARED) this.#seen.clear();
      this.#seen.set(text, n);
      return undefined;
    }
    this.#seen.delete(text);
    this.#issued += 1;
    const name = `qd_${this.#issued}`;
    this.#names.set(text, name);
    return name;
  }

  /** Stop preparing `text` (its prepared form failed); existing connections keep the old entry unused. */
  forget(text: string): void {
    this.#names.delete(text);
    this.#never.add(text);
  }
}

/** "cached plan must not change result type": a prepared statement's table changed shape. */
function planChanged(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '0A000';
}

/**
 * Run one statement, prepared when `names` says so. If PostgreSQL refuses a prepared statement
 * because its table changed shape, the text is never prepared again, and outside a transaction the
 * statement is run again unnamed; inside one the transaction is already aborted, so the error goes
 * to the caller (a retry of the transaction runs it unnamed).
 */
async function run<T>(
  client: Queryable,
  sql: string,
  params: readonly unknown[] | undefined,
  names: StatementNames | undefined,
  inTransaction = false,
): Promise<QueryResult<T>> {
  const name = params !== undefined && names !== undefined ? names.nameFor(sql) : undefined;
  try {
    const r = name !== undefined ? await client.query({ name, text: sql, values: [...(params ?? [])] }) : await client.query(sql, params ? [...params] : undefined);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
  } catch (e) {
    if (name !== undefined && names !== undefined && planChanged(e)) {
      names.forget(sql);
      if (!inTransaction) return run<T>(client, sql, params, undefined);
    }
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
function txHandle(client: Queryable, schema: string | undefined, names: StatementNames | undefined): TransactionHandle {
  const runner: StatementRunner = {
    query: <T>(sql: string, params?: readonly unknown[]) => run<T>(client, sql, params, names, true),
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
  readonly #names: StatementNames | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string | undefined,
    prepare: boolean,
  ) {
    this.#names = prepare ? new StatementNames() : undefined;
  }

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
    const db = new PostgresDb(pool, schema, options.prepare !== false);
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
    return run<T>(this.pool, sql, params, this.#names);
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
    const tx = txHandle(client, this.schema, this.#names);
    let broken: Error | undefined;
    try {
      await run(client, 'BEGIN', undefined, undefined);
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
      await run(client, 'COMMIT', undefined, undefined);
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
