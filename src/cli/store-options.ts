/**
 * Shared options for commands that work on the host's store (and HSM):
 *
 *   --database-url URL   PostgreSQL (else the DATABASE_URL environment variable; else embedded PGlite);
 *                        without a password (refused: argv is public), which goes in PGPASSWORD or ~/.pgpass
 *   --data DIR           data directory for the embedded store (DIR/pglite) and the development LMK (default ./data)
 *   --lmk-file FILE      SoftHsm LMK file (default DIR/lmk.hex); QIANDAO_LMK in the environment takes precedence
 *   --dev-lmk            (HSM commands) create a development LMK in the LMK file when there is none
 *   --schema NAME        (hidden, tests) work in this database schema
 *
 * The layout matches `qiandao demo`, so admin commands and the demo host see the same store and LMK.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SoftHsm } from '../crypto/hsm/soft-hsm.js';
import { openStore, type Db } from '../store/index.js';
import { CliError } from './errors.js';

/** parseArgs option descriptors; spread into a command's own options. */
export const STORE_OPTIONS = {
  'database-url': { type: 'string' },
  data: { type: 'string', default: './data' },
  'lmk-file': { type: 'string' },
  schema: { type: 'string' },
} as const;

/** Options of commands that also open the HSM. */
export const HSM_OPTIONS = {
  ...STORE_OPTIONS,
  'dev-lmk': { type: 'boolean', default: false },
} as const;

export const STORE_USAGE = '[--database-url URL | --data ./data]';
export const HSM_USAGE = '[--lmk-file ./data/lmk.hex] [--dev-lmk]';

export interface StoreOptionValues {
  'database-url'?: string | undefined;
  data?: string | undefined;
  'lmk-file'?: string | undefined;
  schema?: string | undefined;
  'dev-lmk'?: boolean | undefined;
}

export interface ResolvedStoreOptions {
  /** PostgreSQL URL, or undefined for PGlite. */
  url: string | undefined;
  dataDir: string;
  /** PGlite directory (dataDir/pglite) when url is undefined. */
  pgliteDir: string;
  lmkFile: string;
  schema: string | undefined;
}

/**
 * Refuse a `--database-url` that carries a password (`postgres://user:secret@…` or a `password=`
 * parameter): argv is readable by every local user (ps, /proc/PID/cmdline) and kept in shell
 * history. The password goes in DATABASE_URL, PGPASSWORD or ~/.pgpass instead (node-postgres reads
 * both). The message never repeats the URL.
 */
export function refuseUrlPassword(url: string | undefined, option = '--database-url'): void {
  if (url === undefined) return;
  let hasPassword: boolean;
  try {
    const u = new URL(url);
    hasPassword = u.password !== '' || u.searchParams.has('password');
  } catch {
    // not a URL the driver would parse either; look for the two forms in the text
    hasPassword = /:\/\/[^/@]*:[^/@]*@/.test(url) || /[?&]password=/i.test(url);
  }
  if (hasPassword) {
    throw new CliError(
      `${option} must not carry a password: a command line is visible to other users (ps) and kept in shell history. ` +
        'Give the URL without it and put the password in PGPASSWORD or ~/.pgpass, or pass the whole URL in DATABASE_URL',
    );
  }
}

export function resolveStoreOptions(
  values: StoreOptionValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedStoreOptions {
  refuseUrlPassword(values['database-url']);
  const dataDir = values.data ?? './data';
  const envUrl = env['DATABASE_URL'];
  const url = values['database-url'] ?? (envUrl !== undefined && envUrl !== '' ? envUrl : undefined);
  return {
    url,
    dataDir,
    pgliteDir: join(dataDir, 'pglite'),
    lmkFile: values['lmk-file'] ?? join(dataDir, 'lmk.hex'),
    schema: values.schema,
  };
}

/** Open the store described by the options (migrating it, as the host does). */
export async function openStoreFrom(values: StoreOptionValues): Promise<Db> {
  const o = resolveStoreOptions(values);
  if (o.url === undefined) mkdirSync(o.dataDir, { recursive: true });
  return openStore({
    ...(o.url !== undefined ? { url: o.url } : { dataDir: o.pgliteDir }),
    ...(o.schema !== undefined ? { schema: o.schema } : {}),
  });
}

/**
 * Open the SoftHsm: QIANDAO_LMK, else the LMK file. As with `qiandao host start`, a missing LMK
 * file is an error unless --dev-lmk is given, which creates one holding a development LMK (loud
 * warning on stderr; refused when NODE_ENV=production).
 */
export async function openHsmFrom(
  values: StoreOptionValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
  previous: { lmkHex?: string } = {},
): Promise<SoftHsm> {
  const o = resolveStoreOptions(values, env);
  const envLmk = env['QIANDAO_LMK'];
  if ((envLmk === undefined || envLmk === '') && values['dev-lmk'] !== true && !existsSync(o.lmkFile)) {
    throw new CliError(
      `no LMK: set QIANDAO_LMK or point --lmk-file at the host's LMK file (${o.lmkFile} does not exist); ` +
        '--dev-lmk creates a development LMK there',
    );
  }
  return SoftHsm.open({
    env,
    lmkFile: o.lmkFile,
    ...(previous.lmkHex !== undefined ? { previousLmkHex: previous.lmkHex } : {}),
    allowDevLmk: values['dev-lmk'] === true,
    logger: { warn: (m: string) => void process.stderr.write(`qiandao: warning: ${m}\n`) },
  });
}

/** Run `fn` with an open store, closing it afterwards. */
export async function withStore<T>(values: StoreOptionValues, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openStoreFrom(values);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Run `fn` with an open store and HSM, closing both afterwards. */
export async function withStoreAndHsm<T>(values: StoreOptionValues, fn: (db: Db, hsm: SoftHsm) => Promise<T>): Promise<T> {
  const hsm = await openHsmFrom(values);
  try {
    return await withStore(values, (db) => fn(db, hsm));
  } finally {
    await hsm.close();
  }
}
