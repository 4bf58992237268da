/**
 * The store a CLI test file runs its commands against: PGlite in a temporary data directory, or
 * (when DATABASE_URL is set) PostgreSQL in a unique schema. DATABASE_URL and QIANDAO_LMK are
 * stubbed empty while the file runs, so only the options given reach the CLI; everything is
 * removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, vi } from 'vitest';
import { dropSchema, openStore, type Db } from '../../src/store/index.js';

const DATABASE_URL = process.env['DATABASE_URL'];

export interface CliBackend {
  name: string;
  pg: boolean;
  enabled: boolean;
}

export const CLI_BACKENDS: readonly CliBackend[] = [
  { name: 'PGlite (--data)', pg: false, enabled: true },
  { name: 'PostgreSQL (DATABASE_URL, unique schema)', pg: true, enabled: DATABASE_URL !== undefined && DATABASE_URL !== '' },
];

export interface CliStore {
  /** The temporary directory (--data), set once the file's beforeAll hooks run. */
  readonly dir: string;
  /** The store options (and `extraArgs`) to append to every command. */
  readonly args: string[];
  /** A direct handle on the same store; close it (PGlite: before the next command runs). */
  open(): Promise<Db>;
}

/** Register the store's set-up and removal in the calling describe block. */
export function cliStore(backend: CliBackend, label: string, extraArgs: readonly string[] = []): CliStore {
  const schema = `qd_test_${process.pid}_${label}_${Date.now().toString(36)}`;
  let dir = '';
  let args: string[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `qiandao-${label}-`));
    args = [...(backend.pg ? ['--database-url', DATABASE_URL!, '--schema', schema, '--data', dir] : ['--data', dir]), ...extraArgs];
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('QIANDAO_LMK', '');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    if (backend.pg) {
      const db = await openStore({ url: DATABASE_URL!, schema, migrate: false });
      await dropSchema(db);
      await db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get args() {
      return args;
    },
    open: () => (backend.pg ? openStore({ url: DATABASE_URL!, schema }) : openStore({ dataDir: join(dir, 'pglite') })),
  };
}
