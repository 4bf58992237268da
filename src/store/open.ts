import type { Db } from './db.js';
import { migrate } from './migrate.js';

export interface OpenStoreOptions {
  /** PostgreSQL connection string. When set, PostgreSQL is used; otherwise embedded PGlite. */
  url?: string;
  /** PGlite data directory (default `./data`; `memory://` for in-memory). Ignored with `url`. */
  dataDir?: string;
  /** Create (if needed) and use this schema via search_path. Lower-case identifier. */
  schema?: string;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Migrations folder (default `<package root>/migrations`). */
  migrationsDir?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

/** Open the store: PostgreSQL when `url` is set, else PGlite; then migrate. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Db> {
  let db: Db;
  if (options.url) {
    const { PostgresDb } = await import('./postgres.js');
    db = await PostgresDb.open({
      url: options.url,
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.poolSize !== undefined ? { max: options.poolSize } : {}),
    });
  } else {
    const { PgliteDb } = await import('./pglite.js');
    db = await PgliteDb.open({
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
    });
  }
  if (options.migrate !== false) {
    try {
      await migrate(db, options.migrationsDir !== undefined ? { dir: options.migrationsDir } : {});
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
  }
  return db;
}

/** Drop the store's dedicated schema and everything in it (tests). No-op without a schema. */
export async function dropSchema(db: Db): Promise<void> {
  if (db.schema === undefined) return;
  await db.exec(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`);
}
