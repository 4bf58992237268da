import { afterAll, beforeAll, expect, it } from 'vitest';
import { appendEvent, listEvents, StoreError, type Db } from '../../src/store/index.js';
import { describeBackends } from './helpers.js';

describeBackends('events', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('appends events and lists them newest first with filters', async () => {
    const e1 = await appendEvent(db, {
      type: 'sign_on',
      ok: true,
      merchantNo: '898100000000001',
      terminalNo: '60000001',
      operatorNo: '001',
      detail: { generation: 1 },
    });
    expect(e1).toMatchObject({ type: 'sign_on', ok: true, merchantNo: '898100000000001', terminalNo: '60000001', operatorNo: '001', detail: { generation: 1 } });
    expect(typeof e1.id).toBe('string');
    expect(e1.at).toBeInstanceOf(Date);

    // Events may name unknown merchants/terminals (no foreign keys), and need no detail.
    const e2 = await appendEvent(db, { type: 'sign_on', ok: false, merchantNo: '999999999999999', terminalNo: '66666666' });
    expect(e2.detail).toBeNull();
    const e3 = await appendEvent(db, { type: 'status', ok: true, merchantNo: '898100000000001', terminalNo: '60000001', detail: ['a', 1] });
    expect(e3.detail).toEqual(['a', 1]);
    await appendEvent(db, { type: 'host.start', ok: true, detail: 'plain string' });

    const all = await listEvents(db);
    expect(all.map((e) => e.type)).toEqual(['host.start', 'status', 'sign_on', 'sign_on']);
    expect(BigInt(all[0]!.id) > BigInt(all[1]!.id)).toBe(true);

    expect((await listEvents(db, { type: 'sign_on' })).map((e) => e.id)).toEqual([e2.id, e1.id]);
    expect((await listEvents(db, { types: ['status', 'host.start'] })).length).toBe(2);
    expect((await listEvents(db, { merchantNo: '898100000000001', terminalNo: '60000001' })).map((e) => e.id)).toEqual([e3.id, e1.id]);
    expect((await listEvents(db, { ok: false })).map((e) => e.id)).toEqual([e2.id]);
    expect((await listEvents(db, { operatorNo: '001' })).map((e) => e.id)).toEqual([e1.id]);
    expect((await listEvents(db, { order: 'asc', limit: 2 })).map((e) => e.id)).toEqual([e1.id, e2.id]);
    expect((await listEvents(db, { order: 'asc', afterId: e2.id })).map((e) => e.id)).toEqual([e3.id, all[0]!.id]);
    expect((await listEvents(db, { beforeId: e2.id })).map((e) => e.id)).toEqual([e1.id]);
    expect(await listEvents(db, { since: new Date(Date.now() + 3_600_000) })).toEqual([]);
    expect((await listEvents(db, { until: new Date(Date.now() + 3_600_000) })).length).toBe(4);
    expect((await listEvents(db, { since: new Date(Date.now() - 3_600_000), limit: 1 })).length).toBe(1);
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const e = await appendEvent(db, { type: 'audit', ok: true });
    for (const sql of [
      `UPDATE events SET ok = false WHERE id = ${e.id}`,
      `DELETE FROM events WHERE id = ${e.id}`,
      'DELETE FROM events',
      'TRUNCATE events',
    ]) {
      const err = await db.query(sql).catch((x: unknown) => x);
      expect(err, sql).toBeInstanceOf(StoreError);
      expect(err, sql).toMatchObject({ reason: 'CONSTRAINT', code: '23001' });
    }
    const [still] = await listEvents(db, { type: 'audit' });
    expect(still).toEqual(e);
  });
});
