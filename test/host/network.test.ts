import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessingRequirement } from '../../src/framing/index.js';
import { parseTlv } from '../../src/iso8583/index.js';
import { effectiveParameters, getTerminal, listEvents, requestRekey, setMerchantParameters, setTerminalParameters } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { addKeyedTerminal, startFixture, type Fixture } from './fixture.js';
import { TestTerminal } from './test-terminal.js';

const ref = (fx: Fixture, terminalNo = fx.terminalNo) => ({ merchantNo: fx.merchantNo, terminalNo });
const net = (fx: Fixture, code: string, terminalNo = fx.terminalNo) => ({
  41: terminalNo,
  42: fx.merchantNo,
  60: { 1: '00', 2: '000001', 3: code },
});

describeBackends('host network management', (backend) => {
  let fx: Fixture;
  let term: TestTerminal;
  beforeAll(async () => {
    fx = await startFixture(backend, { keyLifetimeSeconds: 3600 });
    term = await TestTerminal.connect(fx.host.port);
  });
  afterAll(async () => {
    term?.destroy();
    await fx?.close();
  });

  it('answers an echo test with 0830 / 00, asking a never-signed-on terminal to sign on', async () => {
    const rsp = await term.request('0820', net(fx, '301'));
    expect(rsp.message.mti).toBe('0830');
    expect(rsp.message.get(39)).toBe('00');
    expect(rsp.message.get(41)).toBe(fx.terminalNo);
    expect(rsp.message.get(60)).toEqual({ 1: '00', 2: '000001', 3: '301' });
    expect(rsp.header.processingRequirement).toBe(ProcessingRequirement.SignOnAgain);
  });

  it('sets no processing requirement once the terminal holds fresh keys', async () => {
    const on = await term.request('0800', net(fx, '003'));
    expect(on.message.get(39)).toBe('00');
    expect(on.header.processingRequirement).toBe(ProcessingRequirement.None);
    const echo = await term.request('0820', net(fx, '301'));
    expect(echo.header.processingRequirement).toBe(ProcessingRequirement.None);
  });

  it('asks for a parameter download when parameters changed, also on the sign-on response', async () => {
    await setMerchantParameters(fx.db, fx.merchantNo, { hostPhone: '4008888888' });
    const echo = await term.request('0820', net(fx, '301'));
    expect(echo.header.processingRequirement).toBe(ProcessingRequirement.DownloadParameters);
    const on = await term.request('0800', net(fx, '001'));
    expect(on.header.processingRequirement).toBe(ProcessingRequirement.DownloadParameters);
  });

  it('asks for a new sign-on after a rekey request, but not on the sign-on response itself', async () => {
    await requestRekey(fx.db, ref(fx));
    const echo = await term.request('0820', net(fx, '301'));
    expect(echo.header.processingRequirement).toBe(ProcessingRequirement.SignOnAgain);
    const on = await term.request('0800', net(fx, '004'));
    expect(on.header.processingRequirement).not.toBe(ProcessingRequirement.SignOnAgain);
  });

  it('answers a sign-off with 0830 / 00 and records it', async () => {
    const rsp = await term.request('0820', { ...net(fx, '002'), 63: '01 ' });
    expect(rsp.message.mti).toBe('0830');
    expect(rsp.message.get(39)).toBe('00');
    expect(rsp.header.processingRequirement).toBe(ProcessingRequirement.None);
    const events = await listEvents(fx.db, { type: 'sign-off', terminalNo: fx.terminalNo });
    expect(events).toHaveLength(1);
    expect(events[0]?.ok).toBe(true);
    expect(events[0]?.operatorNo).toBe('01');
  });

  it('refuses echo and sign-off from an unknown terminal with 97', async () => {
    expect((await term.request('0820', net(fx, '301', 'ZZ000000'))).message.get(39)).toBe('97');
    expect((await term.request('0820', net(fx, '002', 'ZZ000000'))).message.get(39)).toBe('97');
  });

  describe('unsupported requests', () => {
    it('answers an unknown network code with 40, echoing 11/41/42/60', async () => {
      const rsp = await term.request('0800', { ...net(fx, '999'), 11: '123456' });
      expect(rsp.message.mti).toBe('0810');
      expect(rsp.message.get(39)).toBe('40');
      expect(rsp.message.get(11)).toBe('123456');
      expect(rsp.message.get(41)).toBe(fx.terminalNo);
      expect(rsp.message.get(42)).toBe(fx.merchantNo);
      expect(rsp.message.get(60)).toEqual({ 1: '00', 2: '000001', 3: '999' });
      const events = await listEvents(fx.db, { type: 'request.unsupported', terminalNo: fx.terminalNo, limit: 1 });
      expect(events[0]?.ok).toBe(false);
    });

    it('answers a financial message no handler takes (0200, 60.1 = 77) with 0210 / 40', async () => {
      const rsp = await term.request('0200', {
        3: '990000',
        4: '000000000100',
        41: fx.terminalNo,
        42: fx.merchantNo,
        60: { 1: '77', 2: '000001', 3: '000' },
      });
      expect(rsp.message.mti).toBe('0210');
      expect(rsp.message.get(39)).toBe('40');
    });

    it('answers a sign-on with 60.1 other than 00 with 40', async () => {
      const rsp = await term.request('0800', { 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '01', 2: '000001', 3: '003' } });
      expect(rsp.message.get(39)).toBe('40');
    });
  });

  it('keeps the terminal online while connected and marks it offline after', async () => {
    const t2 = await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo);
    const other = await TestTerminal.connect(fx.host.port);
    await other.request('0820', net(fx, '301', t2));
    await expect.poll(async () => (await getTerminal(fx.db, ref(fx, t2)))?.connectionState, { timeout: 5000, interval: 20 }).toBe('online');
    // A second connection of the same terminal: closing one of them keeps it online.
    const second = await TestTerminal.connect(fx.host.port);
    await second.request('0820', net(fx, '301', t2));
    await second.close();
    await new Promise((r) => setTimeout(r, 100));
    expect((await getTerminal(fx.db, ref(fx, t2)))?.connectionState).toBe('online');
    await other.close();
    await expect.poll(async () => (await getTerminal(fx.db, ref(fx, t2)))?.connectionState, { timeout: 5000, interval: 20 }).toBe('offline');
  });
});

describeBackends('host parameter download and status upload', (backend) => {
  let fx: Fixture;
  let term: TestTerminal;
  beforeAll(async () => {
    fx = await startFixture(backend);
    term = await TestTerminal.connect(fx.host.port);
    expect((await term.request('0800', net(fx, '003'))).message.get(39)).toBe('00');
  });
  afterAll(async () => {
    term?.destroy();
    await fx?.close();
  });

  it('downloads the effective parameters as TLV and clears the pending flag', async () => {
    await setMerchantParameters(fx.db, fx.merchantNo, { hostPhone: '4008888888', timeoutSeconds: '60' });
    await setTerminalParameters(fx.db, ref(fx), { timeoutSeconds: '45' });
    const before = await term.request('0820', net(fx, '301'));
    expect(before.header.processingRequirement).toBe(ProcessingRequirement.DownloadParameters);

    const rsp = await term.request('0800', net(fx, '360'));
    expect(rsp.message.mti).toBe('0810');
    expect(rsp.message.get(39)).toBe('00');
    const items = parseTlv(rsp.message.get(62)!);
    const version = items.find((i) => i.tag === 'DF03')?.value.toString('ascii');
    const params: Record<string, string> = {};
    for (const it of items.filter((i) => i.tag === 'E1')) {
      const inner = parseTlv(it.value);
      params[inner.find((i) => i.tag === 'DF01')!.value.toString('utf8')] = inner.find((i) => i.tag === 'DF02')!.value.toString('utf8');
    }
    expect(params).toEqual({ hostPhone: '4008888888', timeoutSeconds: '45' });
    const eff = await effectiveParameters(fx.db, ref(fx));
    expect(version).toBe(String(eff.version));
    expect(eff.pending).toBe(false);
    expect(rsp.header.processingRequirement).toBe(ProcessingRequirement.None);
  });

  it('records an uploaded status', async () => {
    const rsp = await term.request('0820', { ...net(fx, '362'), 62: Buffer.from('0102', 'hex') });
    expect(rsp.message.mti).toBe('0830');
    expect(rsp.message.get(39)).toBe('00');
    const t = await getTerminal(fx.db, ref(fx));
    expect(t?.lastStatus).toEqual({ terminalStatus: 0, field62: '0102' });
    expect(t?.lastStatusAt).not.toBeNull();
  });
});
