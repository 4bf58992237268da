/** The terminal's local operator table (offline operation). */
import { describe, expect, it } from 'vitest';
import { OperatorPolicyError } from '../../src/operators/index.js';
import { OperatorTable } from '../../src/terminal/operator-table.js';

const FAST = { scrypt: { logN: 10, r: 8, p: 1 } };

function table(): Promise<OperatorTable> {
  return OperatorTable.create({ supervisorPassword: '123456', adminPassword: '12345678' }, FAST);
}

describe('local operator table', () => {
  it('starts with 00 and 99; the supervisor adds and deletes cashiers; passwords are stored hashed', async () => {
    const t = await table();
    expect(t.list().map((o) => o.operatorNo)).toEqual(['00', '99']);
    await t.addCashier('123456', { operatorNo: '01', name: 'Li', password: '1111' });
    await expect(t.addCashier('000000', { operatorNo: '02', name: 'X', password: '2222' })).rejects.toThrow(/supervisor password refused/);
    await expect(t.addCashier('123456', { operatorNo: '99', name: 'X', password: '12345678' })).rejects.toThrow(/cashiers 01-98/);
    await expect(t.addCashier('123456', { operatorNo: '01', name: 'Again', password: '1111' })).rejects.toThrow(/exists/);
    await expect(t.addCashier('123456', { operatorNo: '02', name: 'X', password: '12' })).rejects.toThrow(OperatorPolicyError);
    const json = JSON.stringify(t.toJSON());
    expect(json).not.toContain('1111');
    expect(json).toContain('scrypt$10$');
    await t.deleteCashier('123456', '01');
    expect(t.get('01')).toBeNull();
  });

  it('logs a cashier on, checks permissions, locks after five wrong passwords until the supervisor resets', async () => {
    const t = await table();
    await t.addCashier('123456', { operatorNo: '03', name: 'Wang', password: '3333' });
    expect((await t.signOn('03', '3333')).ok).toBe(true);
    expect(t.current).toBe('03');
    expect(t.can('sale')).toBe(true);
    expect(t.can('refund')).toBe(false);
    // The supervisor's log-in opens management only; it does not replace the cashier.
    expect((await t.signOn('00', '123456')).ok).toBe(true);
    expect(t.current).toBe('03');
    const reasons: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.signOn('03', '0000');
      reasons.push(r.ok ? 'ok' : r.reason);
    }
    expect(reasons).toEqual(['wrong-password', 'wrong-password', 'wrong-password', 'wrong-password', 'locked']);
    expect(await t.signOn('03', '3333')).toEqual({ ok: false, reason: 'locked' });
    await t.resetCashierPassword('123456', '03', '4444');
    expect((await t.signOn('03', '4444')).ok).toBe(true);
    await t.changePassword('03', '4444', '5555');
    expect((await t.signOn('03', '4444')).ok).toBe(false);
    expect((await t.signOn('03', '5555')).ok).toBe(true);
  });

  it('syncs numbers, names, status and permissions from the host, keeping local passwords', async () => {
    const t = await table();
    await t.addCashier('123456', { operatorNo: '01', name: 'Li', password: '1111' });
    await t.addCashier('123456', { operatorNo: '02', name: 'Gone', password: '2222' });
    await t.signOn('02', '2222');
    const r = t.syncFromHost([
      { operatorNo: '00', name: 'Boss', status: 'active', permissions: ['sale', 'refund', 'manage-operators'] },
      { operatorNo: '01', name: 'Li Wei', status: 'active', permissions: ['sale', 'refund'] },
      { operatorNo: '05', name: 'New', status: 'active', permissions: ['sale'] },
    ]);
    expect(r).toEqual({ added: ['05'], updated: ['00', '01'], disabled: ['02'] });
    expect(t.current).toBeNull();
    expect(t.get('01')).toMatchObject({ name: 'Li Wei', permissions: ['sale', 'refund'] });
    expect((await t.signOn('01', '1111')).ok).toBe(true);
    expect(t.can('refund')).toBe(true);
    expect(await t.signOn('05', '5555')).toEqual({ ok: false, reason: 'no-password' });
    await t.addCashier('123456', { operatorNo: '05', name: 'New', password: '5555' });
    expect((await t.signOn('05', '5555')).ok).toBe(true);
    expect(await t.signOn('02', '2222')).toEqual({ ok: false, reason: 'disabled' });
    // Round trip through JSON keeps everything.
    const back = OperatorTable.fromJSON(JSON.parse(JSON.stringify(t.toJSON())), FAST);
    expect(back.list()).toEqual(t.list());
    expect((await back.verify('05', '5555')).ok).toBe(true);
  });
});
