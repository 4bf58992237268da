import { mkdirSync } from 'node:fs';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { assertSchemaName, Mutex, TransactionHandle, type Db, type QueryResult, type StatementRunner } from './db.js';
import { StoreError, toStoreError } from './errors.js';

export interface PgliteOptions {
  /** Data directory, or `memory://` for an in-memory database. Default `./data`. */
  dataDir?: string;
  /** Create (if needed) and work in this schema. */
  schema?: string;
}

type Runner = Pick<Transaction, 'query' | 'exec'>;

function result<T>(r: Results<T>): QueryResult<T> {
  const rowCount = r.rowCount ?? (r.command === 'SELECT' ? r.rows.length : (r.affectedRows ?? r.rows.length));
  return { rows: r.rows, rowCount };
}

async function run<T>(runner: Runner, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
  try {
    return result(await runner.query<T>(sql, params ? [...params] : undefined));
  } catch (e) {
    throw toStoreError(e);
  }
}

async function runExec(runner: Runner, sql: string): Promise<void> {
  try {
    await runner.exec(sql);
  } catch (e) {
    throw toStoreError(e);
  }
}

/** A transaction handle whose statements run on `tx`. */
function txHandle(tx: Runner, schema: string | undefined): TransactionHandle {
  const runner: StatementRunner = {
    query: <T>(sql: string, params?: readonly unknown[]) => run<T>(tx, sql, params),
    exec: (sql: string) => runExec(tx, sql),
  };
  return new TransactionHandle('pglite', runner, schema, 0);
}

/**
 * Embedded PostgreSQL (PGlite, WASM). PGlite is a single connection, so every
 * top-level statement and every transaction runs under one mutex: a statement
 * from another caller can never land inside someone else's transaction.
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  readonly #mutex = new Mutex();
  #closed = false;

  private constructor(
    private readonly pg: PGlite,
    readonly schema: string | undefined,
    readonly dataDir: string,
  ) {}

  static async open(options: PgliteOptions = {}): Promise<PgliteDb> {
    const dataDir = options.dataDir ?? './data';
    const schema = options.schema === undefined ? undefined : assertSchemaName(options.schema);
    if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
    let pg: PGlite;
    try {
      pg = await PGlite.create(dataDir);
    } catch (e) {
      throw new StoreError('UNAVAILABLE', `cannot open PGlite data directory: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (schema !== undefined) {
      try {
        await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema};`);
      } catch (e) {
        await pg.close();
        throw toStoreError(e);
      }
    }
    return new PgliteDb(pg, schema, dataDir);
  }

  #check(): void {
    if (this.#closed) throw new StoreError('UNAVAILABLE', 'database unavailable (store closed)');
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    this.#check();
    return this.#mutex.run(() => run<T>(this.pg, sql, params));
  }

  async exec(sql: string): Promise<void> {
    this.#check();
    return this.#mutex.run(() => runExec(this.pg, sql));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    this.#check();
    return this.#mutex.run(async () => {
      let handle: TransactionHandle | undefined;
      let fnFailure: { error: unknown } | undefined;
      try {
        return await this.pg.transaction(async (tx) => {
          handle = txHandle(tx, this.schema);
          try {
            return await fn(handle);
          } catch (e) {
            fnFailure = { error: e };
            throw e;
          }
        });
      } catch (e) {
        // Errors from fn pass through untouched; BEGIN/COMMIT/ROLLBACK failures become StoreErrors.
        if (fnFailure !== undefined && fnFailure.error === e) throw e;
        throw toStoreError(e);
      } finally {
        handle?.end();
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Wait for running work, then close.
    await this.#mutex.run(() => this.pg.close());
  }
}
