import { copyFile, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  DEFAULT_MIGRATIONS_DIR,
  loadMigrations,
  migrate,
  StoreError,
  type Db,
} from '../../src/store/index.js';
import { describeBackends } from './helpers.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'qd-migrations-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

it('finds the repository migrations folder', async () => {
  const files = await loadMigrations();
  expect(DEFAULT_MIGRATIONS_DIR.replace(/\\/g, '/')).toMatch(/\/migrations\/?$/);
  expect(files[0]).toMatchObject({ version: 1, name: 'init', file: '001_init.sql' });
  expect(files[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
});

it('rejects badly named migration files', async () => {
  const dir = await mkdtemp(join(tmp, 'bad-'));
  await writeFile(join(dir, '1-oops.sql'), 'SELECT 1;');
  await expect(loadMigrations(dir)).rejects.toMatchObject({ reason: 'MIGRATION_INVALID' });
});

describeBackends('migrations', (backend) => {
  const opened: Db[] = [];
  afterAll(async () => {
    for (const db of opened) await backend.dispose(db);
  });
  const open = async (o: { migrate?: boolean } = {}) => {
    const db = await backend.open(o);
    opened.push(db);
    return db;
  };

  it('applies every migration once and is idempotent', async () => {
    const db = await open({ migrate: false });
    const shipped = (await loadMigrations()).map((m) => m.version);
    expect(shipped[0]).toBe(1);
    const first = await migrate(db);
    expect(first.applied.map((m) => m.version)).toEqual(shipped);
    expect(first.current).toBe(shipped.at(-1));
    const second = await migrate(db);
    expect(second.applied).toEqual([]);
    expect(second.current).toBe(shipped.at(-1));
    const rows = await db.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    expect(rows.rows).toHaveLength(shipped.length);
    expect(rows.rows[0]).toMatchObject({ version: 1, name: 'init' });
    const tables = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'event_seals',
        'events',
        'key_generations',
        'merchant_parameters',
        'merchants',
        'schema_migrations',
        'terminal_parameters',
        'terminals',
      ]),
    );
  });

  it('concurrent migrate calls apply each migration exactly once', async () => {
    const db = await open({ migrate: false });
    const shipped = (await loadMigrations()).map((m) => m.version);
    const results = await Promise.all([migrate(db), migrate(db), migrate(db)]);
    expect(results.flatMap((r) => r.applied.map((m) => m.version)).sort((a, b) => a - b)).toEqual(shipped);
  });

  it('applies a new migration later, in order, and detects an edited one', async () => {
    const dir = await mkdtemp(join(tmp, `${backend.name}-`));
    await copyFile(join(DEFAULT_MIGRATIONS_DIR, '001_init.sql'), join(dir, '001_init.sql'));
    const db = await open({ migrate: false });
    await migrate(db, { dir });

    await writeFile(join(dir, '002_extra.sql'), 'CREATE TABLE extra (id int PRIMARY KEY);\nINSERT INTO extra VALUES (1);\n');
    await writeFile(join(dir, '003_more.sql'), 'INSERT INTO extra VALUES (2);\n');
    const r = await migrate(db, { dir });
    expect(r.applied.map((m) => m.version)).toEqual([2, 3]);
    expect((await db.query('SELECT * FROM extra')).rowCount).toBe(2);

    // CRLF-only changes are not a change.
    await writeFile(join(dir, '003_more.sql'), 'INSERT INTO extra VALUES (2);\r\n');
    expect((await migrate(db, { dir })).applied).toEqual([]);

    await appendFile(join(dir, '002_extra.sql'), 'INSERT INTO extra VALUES (3);\n');
    await writeFile(join(dir, '004_never.sql'), 'CREATE TABLE never_applied (id int);\n');
    const err = await migrate(db, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ reason: 'MIGRATION_CHANGED' });
    expect((err as Error).message).toContain('002_extra.sql');
    // Nothing after the check ran.
    const t = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'never_applied'`);
    expect(t.rowCount).toBe(0);
  });

  it('a failing migration is rolled back and not recorded', async () => {
    const dir = await mkdtemp(join(tmp, `${backend.name}-fail-`));
    await copyFile(join(DEFAULT_MIGRATIONS_DIR, '001_init.sql'), join(dir, '001_init.sql'));
    await writeFile(join(dir, '002_broken.sql'), 'CREATE TABLE half (id int);\nSELECT * FROM no_such_table;\n');
    const db = await open({ migrate: false });
    await expect(migrate(db, { dir })).rejects.toMatchObject({ reason: 'INTERNAL' });
    const versions = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.rows.map((r) => r.version)).toEqual([1]);
    const half = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'half'`);
    expect(half.rowCount).toBe(0);
  });
});
