import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsm } from '../../src/crypto/hsm/hsm.js';
import { tdesEcbDecrypt } from '../../src/crypto/cipher.js';
import { kcv } from '../../src/crypto/kcv.js';
import { swapTpdu } from '../../src/framing/index.js';
import {
  addMerchant,
  addTerminal,
  currentAndGraceKeys,
  getTerminal,
  listEvents,
  listKeyGenerations,
  setMerchantStatus,
  setTerminalStatus,
} from '../../src/store/index.js';
import { describeBackends, merchantNo as newMerchantNo } from '../store/helpers.js';
import { CLEAR_TMK, addKeyedTerminal, newTerminalNo, startFixture, type Fixture } from './fixture.js';
import { REQUEST_TPDU, TestTerminal, type Received } from './test-terminal.js';

function signOnFields(f: { terminalNo: string; merchantNo: string }, scheme: string, operator = '01 ') {
  return { 41: f.terminalNo, 42: f.merchantNo, 60: { 1: '00', 2: '000000', 3: scheme }, 63: operator };
}

/** Decrypt field 62 under the clear TMK as a terminal would, checking every KCV. */
function openKeys(scheme: string, f62: Buffer): { pik: Buffer; mak: Buffer; tdk?: Buffer; kcvs: string[] } {
  const check = (key: Buffer, expected: Buffer): string => {
    const k = kcv(key, { alg: 'tdes', length: 4 });
    expect(k.toString('hex')).toBe(expected.toString('hex'));
    return k.toString('hex').toUpperCase();
  };
  if (scheme === '001') {
    expect(f62.length).toBe(24);
    const pik = tdesEcbDecrypt(CLEAR_TMK, f62.subarray(0, 8));
    const mak = tdesEcbDecrypt(CLEAR_TMK, f62.subarray(12, 20));
    return { pik, mak, kcvs: [check(pik, f62.subarray(8, 12)), check(mak, f62.subarray(20, 24))] };
  }
  expect(f62.length).toBe(scheme === '003' ? 40 : 60);
  const pik = tdesEcbDecrypt(CLEAR_TMK, f62.subarray(0, 16));
  expect(f62.subarray(28, 36).equals(Buffer.alloc(8))).toBe(true);
  const mak = tdesEcbDecrypt(CLEAR_TMK, f62.subarray(20, 28));
  const kcvs = [check(pik, f62.subarray(16, 20)), check(mak, f62.subarray(36, 40))];
  if (scheme === '003') return { pik, mak, kcvs };
  const tdk = tdesEcbDecrypt(CLEAR_TMK, f62.subarray(40, 56));
  kcvs.push(check(tdk, f62.subarray(56, 60)));
  return { pik, mak, tdk, kcvs };
}

describeBackends('host sign-on', (backend) => {
  let fx: Fixture;
  let term: TestTerminal;
  beforeAll(async () => {
    fx = await startFixture(backend);
    term = await TestTerminal.connect(fx.host.port);
  });
  afterAll(async () => {
    term?.destroy();
    await fx?.close();
  });

  for (const scheme of ['001', '003', '004'] as const) {
    it(`signs on with 60.3 = ${scheme} and delivers keys under the TMK`, async () => {
      const before = await getTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo: fx.terminalNo });
      const rsp: Received = await term.request('0800', { ...signOnFields(fx, scheme) });
      const m = rsp.message;
      expect(m.mti).toBe('0810');
      expect(m.get(39)).toBe('00');
      expect(m.get(41)).toBe(fx.terminalNo);
      expect(m.get(42)).toBe(fx.merchantNo);
      expect(m.get(60)).toEqual({ 1: '00', 2: '000001', 3: scheme });
      expect(m.get(12)).toMatch(/^([01]\d|2[0-3])[0-5]\d[0-5]\d$/);
      expect(m.get(13)).toMatch(/^(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/);
      expect(m.get(37)).toMatch(/^\d{12}$/);
      expect(rsp.tpdu).toEqual(swapTpdu(REQUEST_TPDU));
      expect(rsp.header.processingRequirement).toBe(0);

      const keys = openKeys(scheme, m.get(62)!);
      expect(keys.pik.length).toBe(scheme === '001' ? 8 : 16);
      expect(keys.mak.length).toBe(8);

      const stored = await currentAndGraceKeys(fx.db, { merchantNo: fx.merchantNo, terminalNo: fx.terminalNo }, 300);
      expect(stored.current?.scheme).toBe(scheme);
      expect(stored.current?.generation).toBe((before?.keyGeneration ?? 0) + 1);
      expect(stored.current?.pikKcv).toBe(keys.kcvs[0]);
      expect(stored.current?.makKcv).toBe(keys.kcvs[1]);
      expect(stored.current?.tdkKcv ?? null).toBe(keys.kcvs[2] ?? null);
      // The stored blocks are the keys the terminal received.
      const pikWrapped = { usage: 'PIK' as const, algorithm: 'tdes' as const, length: keys.pik.length, kcv: '', block: stored.current!.pikBlock };
      expect((await fx.hsm.kcv(pikWrapped, 4)).equals(kcv(keys.pik, { alg: 'tdes', length: 4 }))).toBe(true);

      const t = await getTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo: fx.terminalNo });
      expect(t?.lastSignOnOperator).toBe('01');
      await expect
        .poll(async () => (await getTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo: fx.terminalNo }))?.connectionState, { interval: 20 })
        .toBe('online');
    });
  }

  it('records the sign-on as a keys.rotated event with actor, origin and resource', async () => {
    const rsp = await term.request('0800', signOnFields(fx, '003'));
    expect(rsp.message.get(39)).toBe('00');
    const [e] = await listEvents(fx.db, { type: 'keys.rotated', merchantNo: fx.merchantNo, terminalNo: fx.terminalNo, limit: 1 });
    const t = await getTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo: fx.terminalNo });
    expect(e).toMatchObject({
      ok: true,
      actor: `terminal:${fx.merchantNo}/${fx.terminalNo}`,
      resource: `terminal:${fx.merchantNo}/${fx.terminalNo}`,
      operatorNo: '01',
      detail: { generation: t?.keyGeneration, scheme: '003' },
    });
    expect(e?.origin).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(e?.origin).toBe(t?.lastAddress);
  });

  it('issues a different retrieval reference number each time', async () => {
    const a = await term.request('0800', signOnFields(fx, '001'));
    const b = await term.request('0800', signOnFields(fx, '001'));
    expect(a.message.get(37)).not.toBe(b.message.get(37));
  });

  it('never writes working keys to the log', async () => {
    const rsp = await term.request('0800', signOnFields(fx, '004'));
    const hex = rsp.message.get(62)!.toString('hex');
    const text = fx.logs.join('\n').toLowerCase();
    expect(text).toContain('terminal signed on');
    expect(text).not.toContain(hex.slice(0, 16));
    expect(text).not.toContain(hex.slice(40, 56));
  });

  describe('refusals', () => {
    async function refused(fields: Record<number, unknown>, code: string): Promise<void> {
      const rsp = await term.request('0800', fields as never);
      expect(rsp.message.mti).toBe('0810');
      expect(rsp.message.get(39)).toBe(code);
      expect(rsp.message.has(62)).toBe(false);
      expect(rsp.header.processingRequirement).toBe(0);
      const events = await listEvents(fx.db, { type: 'sign-on.refused', terminalNo: fields[41] as string, limit: 1 });
      expect(events[0]?.ok).toBe(false);
      expect((events[0]?.detail as { responseCode: string }).responseCode).toBe(code);
      expect(events[0]?.actor).toBe(`terminal:${fields[42] as string}/${fields[41] as string}`);
      expect(events[0]?.resource).toBe(events[0]?.actor);
      expect(events[0]?.origin).toMatch(/^127\.0\.0\.1:\d+$/);
    }

    it('97 for an unknown terminal', async () => {
      await refused(signOnFields({ terminalNo: 'ZZ999999', merchantNo: fx.merchantNo }, '003'), '97');
    });

    it('03 for an unknown merchant', async () => {
      await refused(signOnFields({ terminalNo: fx.terminalNo, merchantNo: '999999999999999' }, '003'), '03');
    });

    it('03 for a terminal of another merchant', async () => {
      const other = newMerchantNo();
      await addMerchant(fx.db, { merchantNo: other, name: 'Other shop', mcc: '5812' });
      await refused(signOnFields({ terminalNo: fx.terminalNo, merchantNo: other }, '003'), '03');
    });

    it('03 for a suspended merchant', async () => {
      const m = newMerchantNo();
      await addMerchant(fx.db, { merchantNo: m, name: 'Suspended shop', mcc: '5812' });
      const t = await addKeyedTerminal(fx.db, fx.tmk, m);
      await setMerchantStatus(fx.db, m, 'suspended');
      await refused(signOnFields({ terminalNo: t, merchantNo: m }, '003'), '03');
    });

    it('58 for a disabled terminal', async () => {
      const t = await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo);
      await setTerminalStatus(fx.db, { merchantNo: fx.merchantNo, terminalNo: t }, 'disabled');
      await refused(signOnFields({ terminalNo: t, merchantNo: fx.merchantNo }, '001'), '58');
    });

    it('97 for a terminal without a master key', async () => {
      const t = newTerminalNo();
      await addTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo: t });
      await refused(signOnFields({ terminalNo: t, merchantNo: fx.merchantNo }, '001'), '97');
    });
  });
});

describeBackends('host sign-on: status re-checked under the row lock', (backend) => {
  let fx: Fixture;
  let term: TestTerminal;
  /** Runs inside generateKey, i.e. after the authorisation read and before the keys are stored. */
  let duringKeyGeneration: (() => Promise<void>) | null = null;
  const hooked = (hsm: Hsm): Hsm =>
    new Proxy(hsm, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        if (prop === 'generateKey') {
          return async (...args: Parameters<Hsm['generateKey']>) => {
            const hook = duringKeyGeneration;
            duringKeyGeneration = null;
            await hook?.();
            return target.generateKey(...args);
          };
        }
        return (v as (...a: unknown[]) => unknown).bind(target);
      },
    });
  beforeAll(async () => {
    fx = await startFixture(backend, { wrapHsm: hooked });
    term = await TestTerminal.connect(fx.host.port);
  });
  afterAll(async () => {
    term?.destroy();
    await fx?.close();
  });

  it('58 when the terminal is disabled between authorisation and key storage; no keys, a refusal event', async () => {
    const t = await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo);
    const ref = { merchantNo: fx.merchantNo, terminalNo: t };
    duringKeyGeneration = async () => {
      await setTerminalStatus(fx.db, ref, 'disabled');
    };
    const rsp = await term.request('0800', signOnFields(ref, '004'));
    expect(rsp.message.get(39)).toBe('58');
    expect(rsp.message.has(62)).toBe(false);
    expect((await getTerminal(fx.db, ref))?.keyGeneration).toBe(0);
    expect(await listKeyGenerations(fx.db, ref)).toHaveLength(0);
    expect(await listEvents(fx.db, { ...ref, type: 'keys.rotated' })).toHaveLength(0);
    const [e] = await listEvents(fx.db, { ...ref, type: 'sign-on.refused' });
    expect(e).toMatchObject({ ok: false, detail: { responseCode: '58', reason: 'terminal disabled' } });
  });

  it('03 when the merchant is suspended meanwhile', async () => {
    const m = newMerchantNo();
    await addMerchant(fx.db, { merchantNo: m, name: 'Suspended later', mcc: '5812' });
    const t = await addKeyedTerminal(fx.db, fx.tmk, m);
    duringKeyGeneration = async () => {
      await setMerchantStatus(fx.db, m, 'suspended');
    };
    const rsp = await term.request('0800', signOnFields({ merchantNo: m, terminalNo: t }, '001'));
    expect(rsp.message.get(39)).toBe('03');
    expect(await listKeyGenerations(fx.db, { merchantNo: m, terminalNo: t })).toHaveLength(0);
    const [e] = await listEvents(fx.db, { merchantNo: m, terminalNo: t, type: 'sign-on.refused' });
    expect(e).toMatchObject({ ok: false, detail: { responseCode: '03', reason: 'merchant suspended' } });
  });
});
