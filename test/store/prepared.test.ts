/**
 * PostgreSQL: statements run often are prepared (named) per connection — src/store/postgres.ts,
 * StatementNames — and a prepared statement whose table changed shape falls back to running
 * unnamed instead of failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatementNames } from '../../src/store/postgres.js';
import { openStore, type Db } from '../../src/store/index.js';
import { DATABASE_URL, uniqueSchema } from './helpers.js';

describe('StatementNames', () => {
  it('names a text after it was seen PREPARE_AFTER times, always the same name, never a name twice', () => {
    const n = new StatementNames();
    const a = 'SELECT $1::int';
    const b = 'SELECT $1::text';
    for (let i = 1; i < StatementNames.PREPARE_AFTER; i++) expect(n.nameFor(a)).toBeUndefined();
    const nameA = n.nameFor(a);
    expect(nameA).toMatch(/^qd_\d+$/);
    expect(n.nameFor(a)).toBe(nameA);
    for (let i = 1; i < StatementNames.PREPARE_AFTER; i++) n.nameFor(b);
    const nameB = n.nameFor(b);
    expect(nameB).toBeDefined();
    expect(nameB).not.toBe(nameA);
    n.forget(a);
    for (let i = 0; i < 2 * StatementNames.PREPARE_AFTER; i++) expect(n.nameFor(a)).toBeUndefined();
    // A text named after a forget never gets a name already given out (connections still hold those).
    const c = 'SELECT $1::bigint';
    let nameC: string | undefined;
    for (let i = 0; i < StatementNames.PREPARE_AFTER; i++) nameC = n.nameFor(c);
    expect(nameC).toBeDefined();
    expect([nameA, nameB]).not.toContain(nameC);
    expect(n.nameFor(b)).toBe(nameB);
  });

  it('names at most MAX_PREPARED texts', () => {
    const n = new StatementNames();
    let named = 0;
    for (let t = 0; t < StatementNames.MAX_PREPARED + 50; t++) {
      for (let i = 0; i < StatementNames.PREPARE_AFTER; i++) if (n.nameFor(`SELECT ${t} + $1::int`) !== undefined && i === StatementNames.PREPARE_AFTER - 1) named++;
    }
    expect(named).toBe(StatementNames.MAX_PREPARED);
  });
});

describe.skipIf(!DATABASE_URL)('prepared statements [postgres]', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openStore({ url: DATABASE_URL as string, schema: uniqueSchema() });
  });
  afterAll(async () => {
    await db.exec(`DROP SCHEMA IF EXISTS ${db.schema as string} CASCADE`).catch(() => undefined);
    await db.close();
  });

  it('prepares a statement run repeatedly on a connection, and it keeps returning the right rows', async () => {
    const sql = 'SELECT $1::int * 2 AS doubled, current_setting($2) AS prepared_probe';
    await db.transaction(async (tx) => {
      for (let i = 1; i <= StatementNames.PREPARE_AFTER + 3; i++) {
        const r = await tx.query<{ doubled: number }>(sql, [i, 'search_path']);
        expect(r.rows[0]?.doubled).toBe(2 * i);
      }
      const p = await tx.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
      expect(p.rows.some((r) => r.statement === sql && /^qd_\d+$/.test(r.name))).toBe(true);
    });
  });

  it('runs a prepared statement again after its table changed shape (unnamed from then on)', async () => {
    await db.exec('CREATE TABLE shape_probe (id int PRIMARY KEY, a text)');
    await db.query("INSERT INTO shape_probe VALUES (1, 'x')");
    const sql = 'SELECT * FROM shape_probe WHERE id = $1';
    // Enough runs that every pooled connection in use has it prepared.
    for (let i = 0; i < StatementNames.PREPARE_AFTER + 20; i++) expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, a: 'x' }]);
    await db.exec("ALTER TABLE shape_probe ADD COLUMN b text DEFAULT 'y'");
    // PostgreSQL refuses the prepared plan (its result type changed): the store runs it unnamed.
    for (let i = 0; i < 5; i++) expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, a: 'x', b: 'y' }]);
  });

  it('inside a transaction the refusal aborts that transaction; a retry runs unnamed', async () => {
    await db.exec('CREATE TABLE shape_probe2 (id int PRIMARY KEY, a text)');
    await db.query("INSERT INTO shape_probe2 VALUES (1, 'x')");
    const sql = 'SELECT * FROM shape_probe2 WHERE id = $1';
    const attempt = (): Promise<unknown> =>
      db.transaction(async (tx) => {
        const first = await tx.query(sql, [1]);
        for (let i = 0; i < StatementNames.PREPARE_AFTER + 2; i++) await tx.query(sql, [1]);
        return first.rows;
      });
    await attempt();
    await db.exec("ALTER TABLE shape_probe2 ADD COLUMN b text DEFAULT 'y'");
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) outcomes.push(await attempt().then(() => 'ok', (e: Error) => e.name));
    // Each failure was a typed StoreError, and once the text is forgotten every attempt succeeds.
    expect(outcomes.every((o) => o === 'ok' || o === 'StoreError')).toBe(true);
    expect(outcomes.slice(-3)).toEqual(['ok', 'ok', 'ok']);
    expect(await db.query(sql, [1]).then((r) => r.rows)).toEqual([{ id: 1, a: 'x', b: 'y' }]);
  });
});
