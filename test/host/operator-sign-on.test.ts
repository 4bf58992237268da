/**
 * Operators end to end over real TCP against the real host, on both stores: terminal sign-on, then
 * operator sign-on (password as a PIN block under the session PIK, MAC'ed), wrong passwords and the
 * lockout, permission refusals from the operator gate, supervisor approval of a refund, sign-off,
 * first-use password change and management from the terminal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CryptoError } from '../../src/crypto/errors.js';
import type { Hsm } from '../../src/crypto/hsm/hsm.js';
import { OperatorResponseCode } from '../../src/operators/index.js';
import { listEvents, type Db } from '../../src/store/index.js';
import { addOperator, getOpenSession, getOperator, unlockOperator } from '../../src/store/operators.js';
import { TerminalClient } from '../../src/terminal/index.js';
import { changePassword, manageOperator, operatorSignOff, operatorSignOn, passwordBlock, supervisorApprove } from '../../src/terminal/operators.js';
import { describeBackends } from '../store/helpers.js';
import { addKeyedTerminal, startFixture, type Fixture } from './fixture.js';
import { GATE_ROUTES, client, gateRequest } from './operator-helpers.js';

const API = { actor: 'user:test', origin: 'test' };

async function seed(db: Db, merchantNo: string): Promise<void> {
  const add = (operatorNo: string, name: string, password: string, mustChangePassword = false) =>
    addOperator(db, { merchantNo, operatorNo, name, password, mustChangePassword }, API);
  await add('00', 'Supervisor', '123456');
  await add('01', 'Cashier one', '1111');
  await add('02', 'Cashier two', '2222');
  await add('05', 'Lock me', '5555');
  await add('07', 'New cashier', '7777', true);
  await add('99', 'Admin', '12345678');
}

describeBackends('operators over the wire', (backend) => {
  let f: Fixture;
  const clients: TerminalClient[] = [];

  async function signedOnClient(): Promise<TerminalClient> {
    const terminalNo = await addKeyedTerminal(f.db, f.tmk, f.merchantNo);
    const c = client(f, terminalNo);
    clients.push(c);
    await c.connect();
    await c.signOn();
    return c;
  }

  beforeAll(async () => {
    f = await startFixture(backend, { routes: GATE_ROUTES });
    await seed(f.db, f.merchantNo);
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) await c.close();
    await f?.close();
  });

  it('signs an operator on after the terminal, with a MAC-protected answer listing the permissions', async () => {
    const c = await signedOnClient();
    const a = await operatorSignOn(c, '01', '1111');
    expect(a.responseCode).toBe('00');
    expect(a.macValid).toBe(true);
    expect(a.operatorNo).toBe('01');
    expect(a.permissions).toEqual(['balance', 'reprint', 'sale']);
    const s = await getOpenSession(f.db, { merchantNo: f.merchantNo, terminalNo: c.terminalNo });
    expect(s?.operatorNo).toBe('01');
    const ev = await listEvents(f.db, { type: 'operator.sign-on', terminalNo: c.terminalNo });
    expect(ev).toHaveLength(1);
    expect(ev[0]?.actor).toBe(`operator:${f.merchantNo}/${c.terminalNo}/01`);
    expect(ev[0]?.resource).toBe(`operator:${f.merchantNo}/01`);
    expect(JSON.stringify(ev[0]?.detail)).not.toContain('1111');
    // A second operator replaces the first at the same terminal.
    expect((await operatorSignOn(c, '02', '2222')).responseCode).toBe('00');
    expect((await getOpenSession(f.db, { merchantNo: f.merchantNo, terminalNo: c.terminalNo }))?.operatorNo).toBe('02');
  });

  it('refuses a wrong password (55), an unknown operator (Q4), a missing MAC (A0) and a missing block (30)', async () => {
    const c = await signedOnClient();
    const wrong = await operatorSignOn(c, '02', '9999');
    expect(wrong.responseCode).toBe('55');
    expect(wrong.macValid).toBe(true);
    expect((await getOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '02' }))?.failedAttempts).toBe(1);
    expect((await operatorSignOn(c, '42', '4242')).responseCode).toBe(OperatorResponseCode.UnknownOperator);
    const base = { 41: c.terminalNo, 42: c.merchantNo, 60: { 1: '00', 2: '000001', 3: '901' }, 63: '01' };
    const noMac = await c.request('0800', { ...base, 52: passwordBlock(c, '01', '1111'), 53: '2600000000000000' });
    expect(noMac.message.get(39)).toBe('A0');
    const noBlock = await c.request('0800', base, { mac: true });
    expect(noBlock.message.get(39)).toBe('30');
    // The block is bound to the operator number: 01's block sent as 02 does not verify.
    const swapped = await c.request('0800', { ...base, 63: '02', 52: passwordBlock(c, '01', '2222'), 53: '2600000000000000' }, { mac: true });
    expect(swapped.message.get(39)).toBe('55');
    // A right password clears the count.
    expect((await operatorSignOn(c, '02', '2222')).responseCode).toBe('00');
    expect((await getOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '02' }))?.failedAttempts).toBe(0);
    const refused = await listEvents(f.db, { type: 'operator.sign-on.refused', terminalNo: c.terminalNo });
    expect(refused.map((e) => (e.detail as { responseCode: string }).responseCode).sort()).toEqual(['30', '55', '55', 'A0', 'Q4']);
  });

  it('locks an operator after five wrong passwords (75) until unlocked', async () => {
    const c = await signedOnClient();
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push((await operatorSignOn(c, '05', '0000')).responseCode);
    expect(codes).toEqual(['55', '55', '55', '55', '75']);
    expect((await operatorSignOn(c, '05', '5555')).responseCode).toBe('75');
    const op = await getOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '05' });
    expect(op?.lockedUntil?.getTime()).toBeGreaterThan(Date.now() + 29 * 60_000);
    expect(await listEvents(f.db, { type: 'operator.locked', operatorNo: '05' })).toHaveLength(1);
    // The supervisor unlocks from the terminal.
    expect((await operatorSignOn(c, '00', '123456')).responseCode).toBe('00');
    const un = await manageOperator(c, '05', { action: 'unlock' });
    expect(un.responseCode).toBe('00');
    expect((await operatorSignOn(c, '05', '5555')).responseCode).toBe('00');
    // ...and from the API.
    for (let i = 0; i < 5; i++) await operatorSignOn(c, '05', '0000');
    expect((await operatorSignOn(c, '05', '5555')).responseCode).toBe('75');
    await unlockOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '05' }, API);
    expect((await operatorSignOn(c, '05', '5555')).responseCode).toBe('00');
    const unlocks = await listEvents(f.db, { type: 'operator.unlocked', operatorNo: '05' });
    expect(unlocks.map((e) => e.actor).sort()).toEqual([`operator:${f.merchantNo}/${c.terminalNo}/00`, 'user:test']);
  });

  it('refuses financial requests with no operator (Q1) or without the permission (Q2)', async () => {
    const c = await signedOnClient();
    const none = await gateRequest(c, '000000');
    expect(none.message.get(39)).toBe(OperatorResponseCode.NoOperator);
    expect(c.verifyResponseMac(none)).toBe(true);
    await operatorSignOn(c, '01', '1111');
    expect((await gateRequest(c, '000000')).message.get(39)).toBe('00');
    expect((await gateRequest(c, '310000')).message.get(39)).toBe('00');
    const refund = await gateRequest(c, '200000');
    expect(refund.message.get(39)).toBe(OperatorResponseCode.NotPermitted);
    expect(refund.message.get(44)).toContain('lacks permiss');
    expect((await gateRequest(c, '900000')).message.get(39)).toBe('Q2');
    // Signing off ends it.
    expect((await operatorSignOff(c, '01')).responseCode).toBe('00');
    expect((await gateRequest(c, '000000')).message.get(39)).toBe('Q1');
    expect((await operatorSignOff(c, '01')).responseCode).toBe('Q1');
  });

  it('a supervisor approves one refund for the cashier signed on', async () => {
    const c = await signedOnClient();
    await operatorSignOn(c, '01', '1111');
    expect((await supervisorApprove(c, { permission: 'refund', password: '000000' })).responseCode).toBe('55');
    expect((await supervisorApprove(c, { permission: 'refund', password: '123456', approverNo: '02' })).responseCode).toBe('55');
    expect((await supervisorApprove(c, { permission: 'refund', password: '1111', approverNo: '01' })).responseCode).toBe('Q2');
    const ok = await supervisorApprove(c, { permission: 'refund', password: '123456' });
    expect(ok.responseCode).toBe('00');
    expect(ok.macValid).toBe(true);
    const first = await gateRequest(c, '200000');
    expect(first.message.get(39)).toBe('00');
    expect(first.message.get(44)).toBe('01 by 00');
    // Single use.
    expect((await gateRequest(c, '200000')).message.get(39)).toBe('Q2');
    // Bound to the terminal: another terminal's cashier gets nothing from it.
    await supervisorApprove(c, { permission: 'refund', password: '123456' });
    const other = await signedOnClient();
    await operatorSignOn(other, '02', '2222');
    expect((await gateRequest(other, '200000')).message.get(39)).toBe('Q2');
    const used = await listEvents(f.db, { type: 'operator.approval-used', terminalNo: c.terminalNo });
    expect(used).toHaveLength(1);
    expect(used[0]?.detail).toMatchObject({ permission: 'refund', approvedBy: '00' });
  });

  it('terminal sign-off signs the operator off too', async () => {
    const c = await signedOnClient();
    await operatorSignOn(c, '01', '1111');
    await c.signOff();
    expect(await getOpenSession(f.db, { merchantNo: f.merchantNo, terminalNo: c.terminalNo })).toBeNull();
    const ev = await listEvents(f.db, { type: 'operator.sign-off', terminalNo: c.terminalNo });
    expect(ev[0]?.detail).toMatchObject({ reason: 'terminal-sign-off' });
  });

  it('asks for a password change on first use (Q3), then signs the operator on with the new one', async () => {
    const c = await signedOnClient();
    expect((await operatorSignOn(c, '07', '7777')).responseCode).toBe('Q3');
    expect((await changePassword(c, '07', '7777', '1234567')).responseCode).not.toBe('00');
    expect((await changePassword(c, '07', '0000', '4321')).responseCode).toBe('55');
    const changed = await changePassword(c, '07', '7777', '4321');
    expect(changed.responseCode).toBe('00');
    expect(changed.permissions).toContain('sale');
    expect((await getOpenSession(f.db, { merchantNo: f.merchantNo, terminalNo: c.terminalNo }))?.operatorNo).toBe('07');
    expect((await operatorSignOn(c, '07', '7777')).responseCode).toBe('55');
    expect((await operatorSignOn(c, '07', '4321')).responseCode).toBe('00');
    const ev = await listEvents(f.db, { type: 'operator.password-changed', operatorNo: '07' });
    expect(ev[0]?.actor).toBe(`operator:${f.merchantNo}/${c.terminalNo}/07`);
  });

  it('the supervisor adds, disables and re-permissions cashiers from the terminal; a cashier may not', async () => {
    const c = await signedOnClient();
    await operatorSignOn(c, '01', '1111');
    expect((await manageOperator(c, '02', { action: 'disable' })).responseCode).toBe('Q2');
    await operatorSignOn(c, '00', '123456');
    expect((await manageOperator(c, '99', { action: 'disable' })).responseCode).toBe('Q2');
    const added = await manageOperator(c, '08', { action: 'add', name: 'Eight', password: '8888' });
    expect(added.responseCode).toBe('00');
    expect((await manageOperator(c, '08', { action: 'add', name: 'Eight', password: '8888' })).responseCode).toBe('94');
    expect((await manageOperator(c, '08', { action: 'grant', permission: 'refund' })).responseCode).toBe('00');
    const eight = await getOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '08' });
    expect(eight?.mustChangePassword).toBe(true);
    expect(eight?.permissions).toContain('refund');
    expect(eight?.createdBy).toBe(`operator:${f.merchantNo}/${c.terminalNo}/00`);
    expect((await manageOperator(c, '08', { action: 'disable' })).responseCode).toBe('00');
    expect((await operatorSignOn(c, '08', '8888')).responseCode).toBe('Q4');
    expect((await manageOperator(c, '77', { action: 'unlock' })).responseCode).toBe('Q4');
  });
});

describeBackends('operators over the wire, idle limit', (backend) => {
  let f: Fixture;
  let c: TerminalClient;
  beforeAll(async () => {
    f = await startFixture(backend, { routes: GATE_ROUTES, operatorIdleSeconds: 1 });
    await seed(f.db, f.merchantNo);
    c = client(f);
    await c.connect();
    await c.signOn();
  });
  afterAll(async () => {
    await c?.close();
    await f?.close();
  });

  it('keeps a sign-on alive while requests come within the idle limit (activity is recorded)', async () => {
    expect((await operatorSignOn(c, '01', '1111')).responseCode).toBe('00');
    // 6 x 0.4 s: well past the 1 s limit in all, but never 1 s without a request.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 400));
      expect((await gateRequest(c, '000000')).message.get(39)).not.toBe('Q1');
    }
  });

  it('lets an idle sign-on lapse (Q1)', async () => {
    expect((await operatorSignOn(c, '01', '1111')).responseCode).toBe('00');
    await new Promise((r) => setTimeout(r, 1500));
    const lapsed = await gateRequest(c, '000000');
    expect(lapsed.message.get(39)).toBe('Q1');
    const ev = await listEvents(f.db, { type: 'operator.sign-off', terminalNo: c.terminalNo });
    expect(ev[0]?.detail).toMatchObject({ reason: 'idle' });
  });
});

describeBackends('operators over the wire, HSM failing', (backend) => {
  let f: Fixture;
  let c: TerminalClient;
  beforeAll(async () => {
    // An HSM whose password check fails as with a key block not under its LMK.
    const failing = (hsm: Hsm): Hsm =>
      new Proxy(hsm, {
        get(target, prop, receiver) {
          if (prop === 'verifyPinBlockSecret') return () => Promise.reject(new CryptoError('BAD_KEY_BLOCK', 'key block MAC does not verify'));
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    f = await startFixture(backend, { wrapHsm: failing });
    await seed(f.db, f.merchantNo);
    c = client(f);
    await c.connect();
    await c.signOn();
  });
  afterAll(async () => {
    await c?.close();
    await f?.close();
  });

  it('answers A7 and does not count the attempt against the operator', async () => {
    for (let i = 0; i < 6; i++) expect((await operatorSignOn(c, '01', '1111')).responseCode).toBe('A7');
    const op = await getOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '01' });
    expect(op?.failedAttempts).toBe(0);
    expect(op?.lockedUntil).toBeNull();
  });
});
