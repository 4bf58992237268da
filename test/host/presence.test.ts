/** Presence: connection state mirrored into the store, changes batched into few statements. */
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Presence } from '../../src/host/presence.js';
import type { Db } from '../../src/store/db.js';
import { addMerchant, addTerminal, requireTerminal, type TerminalRef } from '../../src/store/index.js';
import { describeBackends, merchantNo } from '../store/helpers.js';

function counting(db: Db): { db: Db; count: () => number } {
  let n = 0;
  return {
    db: {
      kind: db.kind,
      schema: db.schema,
      query: (sql, params) => {
        n += 1;
        return db.query(sql, params);
      },
      exec: (sql) => db.exec(sql),
      transaction: (fn) => db.transaction(fn),
      close: () => db.close(),
    },
    count: () => n,
  };
}

describeBackends('presence', (backend) => {
  let db: Db;
  let m: string;
  let seq = 0;
  const logs: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
  async function terminal(): Promise<TerminalRef> {
    seq += 1;
    const ref = { merchantNo: m, terminalNo: `P${String(seq).padStart(7, '0')}` };
    await addTerminal(db, ref);
    return ref;
  }
  beforeAll(async () => {
    db = await backend.open();
    m = merchantNo();
    await addMerchant(db, { merchantNo: m, name: 'Presence', mcc: '5411' });
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('changes made together are written in one statement with the same end state as one by one', async () => {
    const [a, b, c] = [await terminal(), await terminal(), await terminal()];
    const counted = counting(db);
    const p = new Presence(counted.db, logger);
    p.up(a, '10.9.0.1:1');
    p.up(b, '10.9.0.2:2');
    p.down(a); // connect, sign on, hang up: offline, but last_address is the connection's
    p.up(c, '10.9.0.3:3');
    p.up(c, '10.9.0.4:4'); // a second connection of c: the newest address
    await p.settle();
    expect(counted.count()).toBe(1);
    expect(await requireTerminal(db, a)).toMatchObject({ connectionState: 'offline', lastAddress: '10.9.0.1:1' });
    expect(await requireTerminal(db, b)).toMatchObject({ connectionState: 'online', lastAddress: '10.9.0.2:2' });
    expect(await requireTerminal(db, c)).toMatchObject({ connectionState: 'online', lastAddress: '10.9.0.4:4' });

    // c stays online while one of its two connections is open.
    p.down(c);
    await p.settle();
    expect((await requireTerminal(db, c)).connectionState).toBe('online');
    p.down(c);
    await p.settle();
    expect(await requireTerminal(db, c)).toMatchObject({ connectionState: 'offline', lastAddress: '10.9.0.4:4' });
  });

  it('changes arriving while a write is in flight go out in order in the next one', async () => {
    const a = await terminal();
    const p = new Presence(db, logger);
    p.up(a, '10.9.1.1:1');
    // Let the first batch start, then change a again before it is done.
    await new Promise((r) => setTimeout(r, 25));
    p.down(a);
    p.up(a, '10.9.1.2:2');
    p.down(a);
    await p.settle();
    expect(await requireTerminal(db, a)).toMatchObject({ connectionState: 'offline', lastAddress: '10.9.1.2:2' });
  });

  it('a failing store is logged, not thrown, and settle() still resolves', async () => {
    const broken: Db = { kind: db.kind, schema: db.schema, query: () => Promise.reject(new Error('store down')), exec: db.exec.bind(db), transaction: db.transaction.bind(db), close: db.close.bind(db) };
    const p = new Presence(broken, logger);
    logs.length = 0;
    p.up({ merchantNo: m, terminalNo: 'P9999999' }, '10.9.2.1:1');
    await p.settle();
    expect(logs.join('\n')).toContain('could not record connection state');
  });
});
