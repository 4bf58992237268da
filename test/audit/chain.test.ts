/**
 * The audit chain over the event log: sealing links every committed event; verification finds the
 * first link broken by a modified or deleted event or a removed seal. Tampering is done the way an
 * intruder with database rights would: by disabling the append-only triggers first.
 */
import { afterEach, expect, it } from 'vitest';
import { sealAll, sealEvents, verifyChain } from '../../src/audit/index.js';
import { appendEvent, openStore, type Db } from '../../src/store/index.js';
import { DATABASE_URL, describeBackends, uniqueSchema } from '../store/helpers.js';

async function addEvents(db: Db, n: number, from = 0): Promise<void> {
  for (let i = 0; i < n; i++) {
    await appendEvent(db, {
      type: 'test.event',
      ok: i % 3 !== 0,
      merchantNo: '898100000000001',
      detail: { i: from + i, note: 'päyment ✓', nested: { b: 2, a: [1, 'x'] } },
      actor: `user:alice${from + i}`,
      origin: '127.0.0.1:5000',
      resource: 'merchant:898100000000001',
    });
  }
}

describeBackends('audit chain', (backend) => {
  let db: Db | undefined;
  afterEach(async () => {
    if (db) await backend.dispose(db);
    db = undefined;
  });

  it('seals every event once, verifies, and reports what is not yet sealed', async () => {
    db = await backend.open();
    await addEvents(db, 25);
    expect(await sealAll(db, { limit: 10 })).toBe(25);
    expect(await sealAll(db)).toBe(0);
    await addEvents(db, 3, 25);
    const v = await verifyChain(db);
    expect(v).toMatchObject({ ok: true, verified: 25, unsealed: 3, headSeq: '25', broken: null });
    expect(await sealAll(db)).toBe(3);
    expect(await verifyChain(db)).toMatchObject({ ok: true, verified: 28, unsealed: 0 });
  });

  it('an empty log verifies', async () => {
    db = await backend.open();
    expect(await verifyChain(db)).toMatchObject({ ok: true, verified: 0, unsealed: 0, headSeq: '0' });
  });

  it('finds a modified event at its own link', async () => {
    db = await backend.open();
    await addEvents(db, 10);
    await sealAll(db);
    const target = await db.query<{ id: string }>(`SELECT e.id::text AS id FROM events e ORDER BY e.id OFFSET 6 LIMIT 1`);
    const id = target.rows[0]!.id;
    await db.exec('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await db.query(`UPDATE events SET ok = NOT ok WHERE id = $1`, [id]);
    const v = await verifyChain(db);
    expect(v.ok).toBe(false);
    expect(v.verified).toBe(6);
    expect(v.broken).toMatchObject({ kind: 'content', seq: '7', eventId: id });
  });

  it('finds a deleted event and a removed seal', async () => {
    db = await backend.open();
    await addEvents(db, 8);
    await sealAll(db);
    await db.exec('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await db.query(`DELETE FROM events WHERE id = (SELECT event_id FROM event_seals WHERE seq = 5)`);
    expect((await verifyChain(db)).broken).toMatchObject({ kind: 'missing-event', seq: '5' });

    await db.exec('ALTER TABLE event_seals DISABLE TRIGGER event_seals_no_update_delete');
    await db.query(`DELETE FROM event_seals WHERE seq IN (3, 5)`);
    expect((await verifyChain(db)).broken).toMatchObject({ kind: 'sequence', seq: '4' });
  });

  it('finds a rewritten seal hash (the link after it no longer follows)', async () => {
    db = await backend.open();
    await addEvents(db, 4);
    await sealAll(db);
    await db.exec('ALTER TABLE event_seals DISABLE TRIGGER event_seals_no_update_delete');
    await db.query(`UPDATE event_seals SET hash = repeat('a', 64) WHERE seq = 2`);
    expect((await verifyChain(db)).broken).toMatchObject({ kind: 'content', seq: '2' });
  });

  it('the tables refuse updates and deletes while the triggers are on', async () => {
    db = await backend.open();
    await addEvents(db, 2);
    await sealAll(db);
    await expect(db.query(`UPDATE event_seals SET hash = repeat('b', 64)`)).rejects.toThrow(/not permitted/);
    await expect(db.query(`DELETE FROM events`)).rejects.toThrow(/not permitted/);
  });

  it('parallel sealers never seal an event twice', async () => {
    db = await backend.open();
    await addEvents(db, 40);
    const d = db;
    const counts = await Promise.all([sealAll(d, { limit: 7 }), sealAll(d, { limit: 7 }), sealAll(d, { limit: 7 })]);
    const total = counts.reduce((a, b) => a + b, 0);
    // A sealer that finds the lock taken stops; whatever is left is sealed by one more pass.
    const rest = await sealAll(d);
    expect(total + rest).toBe(40);
    expect(await verifyChain(d)).toMatchObject({ ok: true, verified: 40, unsealed: 0 });
  });
});

it.skipIf(!DATABASE_URL)('an event whose transaction commits after later events were sealed is still sealed [postgres]', async () => {
  const schema = uniqueSchema();
  const a = await openStore({ url: DATABASE_URL, schema });
  const b = await openStore({ url: DATABASE_URL, schema, migrate: false });
  try {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    const slow = a.transaction(async (tx) => {
      await appendEvent(tx, { type: 'late', ok: true });
      inserted();
      await gate;
    });
    await insertedP;
    await appendEvent(b, { type: 'early', ok: true });
    expect(await sealAll(b)).toBe(1);
    release();
    await slow;
    expect(await sealAll(b)).toBe(1);
    const order = await b.query<{ type: string }>(`SELECT e.type FROM event_seals s JOIN events e ON e.id = s.event_id ORDER BY s.seq`);
    expect(order.rows.map((r) => r.type)).toEqual(['early', 'late']);
    expect(await verifyChain(b)).toMatchObject({ ok: true, verified: 2, unsealed: 0 });
    expect((await sealEvents(b)).sealed).toBe(0);
  } finally {
    await b.close();
    const { dropSchema } = await import('../../src/store/index.js');
    await dropSchema(a);
    await a.close();
  }
});
