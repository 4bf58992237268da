import { afterAll, beforeAll, expect, it } from 'vitest';
import { addMerchant, getMerchant, openStore, StoreError, type Db } from '../../src/store/index.js';
import { DATABASE_URL, describeBackends, merchantNo } from './helpers.js';

describeBackends('db', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('reports kind and rowCount', async () => {
    expect(db.kind).toBe(backend.name);
    const r = await db.query<{ n: number }>('SELECT g::int AS n FROM generate_series(1, 3) g');
    expect(r.rowCount).toBe(3);
    expect(r.rows.map((x) => x.n)).toEqual([1, 2, 3]);
  });

  it('commits a transaction and returns its value', async () => {
    const no = merchantNo();
    const out = await db.transaction(async (tx) => {
      await addMerchant(tx, { merchantNo: no, name: 'Tx Shop', mcc: '5411' });
      return 'done';
    });
    expect(out).toBe('done');
    expect(await getMerchant(db, no)).not.toBeNull();
  });

  it('rolls back when the callback throws, passing the error through', async () => {
    const no = merchantNo();
    const boom = new Error('boom');
    await expect(
      db.transaction(async (tx) => {
        await addMerchant(tx, { merchantNo: no, name: 'Gone', mcc: '5411' });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await getMerchant(db, no)).toBeNull();
  });

  it('nests with savepoints: an inner failure rolls back only the inner part', async () => {
    const outer = merchantNo();
    const inner = merchantNo();
    await db.transaction(async (tx) => {
      await addMerchant(tx, { merchantNo: outer, name: 'Outer', mcc: '5411' });
      await expect(
        tx.transaction(async (tx2) => {
          await addMerchant(tx2, { merchantNo: inner, name: 'Inner', mcc: '5411' });
          await addMerchant(tx2, { merchantNo: inner, name: 'Inner again', mcc: '5411' });
        }),
      ).rejects.toMatchObject({ reason: 'DUPLICATE' });
    });
    expect(await getMerchant(db, outer)).not.toBeNull();
    expect(await getMerchant(db, inner)).toBeNull();
  });

  it('statements from other callers never run inside a transaction', async () => {
    const no = merchantNo();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (t) => {
      await addMerchant(t, { merchantNo: no, name: 'Pending', mcc: '5411' });
      await gate;
      throw new Error('abort');
    });
    // Give the transaction time to insert, then read from outside it.
    await new Promise((r) => setTimeout(r, 50));
    const read = getMerchant(db, no);
    release();
    await expect(tx).rejects.toThrow('abort');
    // Whatever the back end, the outside read never sees the uncommitted (then rolled back) row.
    expect(await read).toBeNull();
  });

  it('a transaction handle cannot be used after the transaction', async () => {
    let leaked: Db | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.query('SELECT 1')).rejects.toBeInstanceOf(StoreError);
    await expect(leaked!.close()).rejects.toBeInstanceOf(StoreError);
  });

  it('maps SQL errors to StoreError without echoing values', async () => {
    const err = await db.query('SELECT $1::int', ['secret-ABCDEF']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ reason: 'CONSTRAINT', code: '22P02' });
    expect((err as Error).message).not.toContain('secret');
  });

  it('a closed store fails with UNAVAILABLE', async () => {
    const other = await backend.open({ migrate: false });
    await backend.dispose(other);
    await expect(other.query('SELECT 1')).rejects.toMatchObject({ reason: 'UNAVAILABLE' });
    await other.close(); // idempotent
  });
});

it.skipIf(!DATABASE_URL)('PostgreSQL unreachable → UNAVAILABLE', async () => {
  await expect(openStore({ url: 'postgres://postgres@127.0.0.1:1/none', migrate: false })).rejects.toMatchObject({
    reason: 'UNAVAILABLE',
  });
});

it('rejects unsafe schema names', async () => {
  await expect(openStore({ dataDir: 'memory://', schema: 'x; DROP TABLE y' })).rejects.toThrow(/invalid schema name/);
});
