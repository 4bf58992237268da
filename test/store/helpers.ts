import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { dropSchema, openStore, type Db } from '../../src/store/index.js';

export const DATABASE_URL = process.env.DATABASE_URL;

if (!DATABASE_URL) console.warn('DATABASE_URL not set: skipping PostgreSQL store tests');

export interface Backend {
  name: 'pglite' | 'postgres';
  /** Fresh, empty store (migrated unless migrate: false). */
  open(options?: { migrate?: boolean; migrationsDir?: string }): Promise<Db>;
  /** Drop what open() created and close. */
  dispose(db: Db): Promise<void>;
}

export function uniqueSchema(): string {
  return `qd_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

const pglite: Backend = {
  name: 'pglite',
  open: (o = {}) => openStore({ dataDir: 'memory://', ...o }),
  dispose: (db) => db.close(),
};

const postgres: Backend = {
  name: 'postgres',
  open: (o = {}) => openStore({ url: DATABASE_URL, schema: uniqueSchema(), ...o }),
  dispose: async (db) => {
    try {
      await dropSchema(db);
    } finally {
      await db.close();
    }
  },
};

/** Run the same suite against PGlite and (when DATABASE_URL is set) PostgreSQL. */
export function describeBackends(title: string, suite: (backend: Backend) => void): void {
  describe(`${title} [pglite]`, () => suite(pglite));
  describe.skipIf(!DATABASE_URL)(`${title} [postgres]`, () => suite(postgres));
}

let counter = 0;
/** Unique 15-digit merchant number within a test file. */
export function merchantNo(): string {
  counter += 1;
  return `8981000${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(5, '0')}`;
}

/** A suite that is about PostgreSQL only (grouped statements, several connections); skipped without DATABASE_URL. */
export function describePostgres(title: string, suite: (backend: Backend) => void): void {
  describe.skipIf(!DATABASE_URL)(`${title} [postgres]`, () => suite(postgres));
}
