/**
 * The local operator table synced from the host over TCP (0800 / 906): numbers, names, status and
 * permissions arrive page by page; no password hash ever leaves the host; local passwords stay.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addOperator, disableOperator, grantPermission } from '../../src/store/operators.js';
import type { TerminalClient } from '../../src/terminal/index.js';
import { OperatorTable } from '../../src/terminal/operator-table.js';
import { downloadOperators } from '../../src/terminal/operators.js';
import { describeBackends } from '../store/helpers.js';
import { startFixture, type Fixture } from './fixture.js';
import { client } from './operator-helpers.js';

const API = { actor: 'user:test' };

describeBackends('operator list download and local table', (backend) => {
  let f: Fixture;
  let c: TerminalClient;
  beforeAll(async () => {
    f = await startFixture(backend);
    const m = f.merchantNo;
    await addOperator(f.db, { merchantNo: m, operatorNo: '00', name: 'Boss', password: '123456' }, API);
    // Enough cashiers (with long names) to need several 512-byte pages.
    for (let i = 1; i <= 30; i++) {
      const no = String(i).padStart(2, '0');
      await addOperator(f.db, { merchantNo: m, operatorNo: no, name: `Cashier ${no} 收银员 ${'x'.repeat(20)}`, password: '1234' }, API);
    }
    await grantPermission(f.db, { merchantNo: m, operatorNo: '02' }, 'refund', API);
    await disableOperator(f.db, { merchantNo: m, operatorNo: '03' }, API);
    c = client(f);
    await c.connect();
    await c.signOn();
  });
  afterAll(async () => {
    await c?.close();
    await f?.close();
  });

  it('downloads every operator over several MAC-protected pages, without passwords', async () => {
    const before = Number(c.lastStan);
    const rec = await downloadOperators(c);
    const pages = Number(c.lastStan) - before;
    expect(rec.map((r) => r.operatorNo)).toEqual(['00', ...Array.from({ length: 30 }, (_, i) => String(i + 1).padStart(2, '0'))]);
    expect(rec.find((r) => r.operatorNo === '01')).toEqual({ operatorNo: '01', status: 'active', permissions: ['balance', 'reprint', 'sale'], name: `Cashier 01 收银员 ${'x'.repeat(20)}` });
    expect(rec.find((r) => r.operatorNo === '02')?.permissions).toContain('refund');
    expect(rec.find((r) => r.operatorNo === '03')?.status).toBe('disabled');
    // A page holds at most 512 bytes: 7 cashier records of 72 bytes (+ separator), so 31 records take 5.
    expect(pages).toBe(5);
    expect(JSON.stringify(rec)).not.toContain('scrypt');
  });

  it('syncs the local table: new operators come without a password, the supervisor sets one', async () => {
    const table = await OperatorTable.create({ supervisorPassword: '654321', adminPassword: '87654321' }, { scrypt: { logN: 10, r: 8, p: 1 } });
    const r = table.syncFromHost(await downloadOperators(c));
    expect(r.added).toHaveLength(30);
    expect(await table.signOn('01', '1234')).toEqual({ ok: false, reason: 'no-password' });
    await table.addCashier('654321', { operatorNo: '02', name: 'Local two', password: '2222' });
    expect((await table.signOn('02', '2222')).ok).toBe(true);
    expect(table.can('refund')).toBe(true);
    expect(await table.signOn('03', '3333')).toEqual({ ok: false, reason: 'disabled' });
    // The supervisor's local password stays local: the host's 00 password does not work here.
    expect((await table.verify('00', '123456')).ok).toBe(false);
    expect((await table.verify('00', '654321')).ok).toBe(true);
  });
});
