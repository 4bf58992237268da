import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';
import { StoreError } from './errors.js';

/**
 * `<root>/migrations`: both src/store/migrate.ts and dist/store/migrate.js sit two
 * levels below the package root.
 */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** Migrations applied by this call, in order. */
  applied: { version: number; name: string }[];
  /** Highest version now recorded. */
  current: number;
}

const FILE_RE = /^(\d{3,})_([A-Za-z0-9_-]+)\.sql$/;

/** sha256 of the file with line endings normalised (a CRLF checkout is not a change). */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new StoreError('MIGRATION_INVALID', `migrations directory not readable: ${dir}`);
  }
  const out: MigrationFile[] = [];
  for (const file of names) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE_RE.exec(file);
    if (!m) throw new StoreError('MIGRATION_INVALID', `bad migration file name ${file} (expected NNN_name.sql)`);
    const version = Number(m[1]);
    const sql = await readFile(join(dir, file), 'utf8');
    out.push({ version, name: m[2] ?? '', file, sql, checksum: migrationChecksum(sql) });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]?.version === out[i - 1]?.version) {
      throw new StoreError('MIGRATION_INVALID', `duplicate migration version ${out[i]?.version}`);
    }
  }
  return out;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

// Advisory lock key per schema, so parallel test schemas don't wait on each other.
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('qiandao:migrate:' || coalesce(current_schema(), '')))`;

function verify(files: MigrationFile[], applied: AppliedRow[]): void {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of applied) {
    const f = byVersion.get(row.version);
    if (f !== undefined && f.checksum !== row.checksum) {
      throw new StoreError(
        'MIGRATION_CHANGED',
        `migration ${f.file} was changed after it was applied (checksum mismatch); add a new migration instead`,
      );
    }
  }
}

/**
 * Apply pending migrations in version order, each in its own transaction under an
 * advisory lock, recording version, name and checksum in `schema_migrations`.
 * Idempotent. Throws MIGRATION_CHANGED (before applying anything) if an applied
 * file's checksum differs. Applied versions with no file are tolerated.
 * Migration files must not contain their own BEGIN/COMMIT.
 */
export async function migrate(db: Db, options: { dir?: string } = {}): Promise<MigrateResult> {
  const files = await loadMigrations(options.dir);

  await db.transaction(async (tx) => {
    await tx.query(LOCK_SQL);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });

  const readApplied = async (q: Db): Promise<AppliedRow[]> =>
    (await q.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows;

  verify(files, await readApplied(db));

  const applied: MigrateResult['applied'] = [];
  for (const f of files) {
    const did = await db.transaction(async (tx) => {
      await tx.query(LOCK_SQL);
      // Re-read under the lock: another process may have applied it meanwhile.
      const rows = await readApplied(tx);
      verify(files, rows);
      if (rows.some((r) => r.version === f.version)) return false;
      try {
        await tx.exec(f.sql);
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
        throw new StoreError(e.reason, `migration ${f.file} failed: ${e.message}`, e);
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        f.version,
        f.name,
        f.checksum,
      ]);
      return true;
    });
    if (did) applied.push({ version: f.version, name: f.name });
  }

  const cur = await db.query<{ v: number | null }>('SELECT max(version)::int AS v FROM schema_migrations');
  return { applied, current: cur.rows[0]?.v ?? 0 };
}
