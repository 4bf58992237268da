import { afterEach, expect, it } from 'vitest';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { CUP_POS_FRAME, encodeFrame } from '../../src/framing/index.js';
import { getTerminal, listEvents, listKeyGenerations } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { addKeyedTerminal, slowHsm, startFixture, type Fixture } from './fixture.js';
import { REQUEST_HEADER, REQUEST_TPDU, TestTerminal, requestFrame } from './test-terminal.js';

const signOn = (fx: Fixture, scheme = '003') => ({ 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '00', 2: '000000', 3: scheme } });

describeBackends('host connections', (backend) => {
  let fx: Fixture | undefined;
  const clients: TestTerminal[] = [];
  const connect = async (): Promise<TestTerminal> => {
    const c = await TestTerminal.connect(fx!.host.port);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await fx?.close();
    fx = undefined;
  });

  it('answers several requests in flight on one connection', async () => {
    fx = await startFixture(backend);
    const t = await connect();
    const [a, b, c] = await Promise.all([
      t.request('0800', signOn(fx, '001')),
      t.request('0820', { 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '00', 2: '000001', 3: '301' } }),
      t.request('0800', signOn(fx, '004')),
    ]);
    expect([a.message.mti, b.message.mti, c.message.mti]).toEqual(['0810', '0830', '0810']);
    expect([a.message.get(39), b.message.get(39), c.message.get(39)]).toEqual(['00', '00', '00']);
  });

  it('answers a malformed body with 30 and keeps the connection', async () => {
    fx = await startFixture(backend);
    const t = await connect();
    // 0800 whose bitmap announces fields 11 and 41 but carries only 11.
    const body = Buffer.from('0800' + '0020000000800000' + '000123', 'hex');
    t.write(encodeFrame(CUP_POS_FRAME, { tpdu: REQUEST_TPDU, header: REQUEST_HEADER, body }));
    const rsp = await t.receive();
    expect(rsp.message.mti).toBe('0810');
    expect(rsp.message.get(39)).toBe('30');
    expect(rsp.message.get(11)).toBe('000123');
    expect((await t.request('0800', signOn(fx))).message.get(39)).toBe('00');
    expect(fx.logs.join('\n')).toContain('malformed request');
  });

  it('answers 30 to a header with an undefined processing-requirement nibble', async () => {
    fx = await startFixture(backend);
    const t = await connect();
    const frame = requestFrame('0820', { 11: '000777', 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '00', 2: '000001', 3: '301' } });
    frame[2 + 5 + 2] = 0x0f; // terminal status 0, processing requirement F
    t.write(frame);
    const rsp = await t.receive();
    expect(rsp.message.mti).toBe('0830');
    expect(rsp.message.get(39)).toBe('30');
    expect(rsp.message.get(11)).toBe('000777');
  });

  it('ignores frames it cannot answer (bad TPDU, response MTI, keep-alive)', async () => {
    fx = await startFixture(backend);
    const t = await connect();
    const badTpdu = requestFrame('0820', { 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '00', 2: '000001', 3: '301' } });
    badTpdu[2] = 0x99;
    t.write(badTpdu);
    t.write(requestFrame('0810', { 11: '000001', 39: '00' }));
    t.write(Buffer.from([0, 0]));
    t.write(Buffer.from([0, 3, 1, 2, 3]));
    const rsp = await t.request('0800', signOn(fx));
    expect(rsp.message.get(39)).toBe('00');
    expect(t.unclaimed).toBe(0);
  });

  it('garbage, half a frame and an oversized frame on one connection do not disturb another terminal', async () => {
    fx = await startFixture(backend, { maxFrameLength: 1024 });
    const good = await connect();
    const garbage = await connect();
    const half = await connect();
    const oversized = await connect();

    garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const frame = requestFrame('0800', signOn(fx));
    half.write(frame.subarray(0, 20));
    oversized.write(Buffer.from([0x10, 0x00])); // declares 4096 > 1024

    const rsp = await good.request('0800', signOn(fx, '004'));
    expect(rsp.message.get(39)).toBe('00');
    await oversized.closed;
    await garbage.closed; // 'GE' = 0x4745 bytes, more than the maximum: framing lost
    expect(good.unclaimed).toBe(0);
    // The half frame waits for its rest and is then answered.
    half.write(frame.subarray(20));
    expect((await half.receive()).message.get(39)).toBe('00');
    expect(fx.logs.join('\n')).toContain('framing lost');
  });

  it('ten concurrent sign-ons of one terminal yield one consistent key generation', async () => {
    fx = await startFixture(backend);
    const terms = await Promise.all(Array.from({ length: 10 }, () => connect()));
    const rsps = await Promise.all(terms.map((t) => t.request('0800', signOn(fx!, '004'))));
    expect(rsps.every((r) => r.message.get(39) === '00')).toBe(true);
    const ref = { merchantNo: fx.merchantNo, terminalNo: fx.terminalNo };
    expect((await getTerminal(fx.db, ref))?.keyGeneration).toBe(10);
    const gens = await listKeyGenerations(fx.db, ref);
    expect(gens.map((g) => g.generation).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(gens.filter((g) => g.supersededAt === null)).toHaveLength(1);
    // Every response delivered distinct keys, and the current generation is one of them.
    const issued = new Set(rsps.map((r) => r.message.get(62)!.subarray(36, 40).toString('hex').toUpperCase()));
    expect(issued.size).toBe(10);
    expect(issued.has(gens.find((g) => g.supersededAt === null)!.makKcv)).toBe(true);
  });

  it('close() answers a sign-on in flight before ending the connection', async () => {
    fx = await startFixture(backend, { wrapHsm: (h) => slowHsm(h, 300) });
    const t = await connect();
    const pending = t.request('0800', signOn(fx, '003'));
    await expect.poll(() => fx!.host.pending, { interval: 5 }).toBe(1);
    const closing = fx.host.close();
    const rsp = await pending;
    expect(rsp.message.get(39)).toBe('00');
    await closing;
    await t.closed;
    await expect.poll(() => fx!.host.connections, { interval: 5 }).toBe(0);
    await expect(TestTerminal.connect(fx.host.port)).rejects.toThrow();
  });

  it('closes an idle connection', async () => {
    fx = await startFixture(backend, { idleTimeoutMs: 200 });
    const t = await connect();
    expect((await t.request('0820', { 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '00', 2: '000001', 3: '301' } })).message.get(39)).toBe('00');
    const started = Date.now();
    await t.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describeBackends('host failures', (backend) => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('answers A7 when the terminal master key is not usable by this HSM', async () => {
    fx = await startFixture(backend);
    const otherHsm = await SoftHsm.open({ lmkHex: 'AB'.repeat(32) });
    const foreignTmk = await otherHsm.generateKey({ usage: 'TMK', algorithm: 'tdes', length: 16 });
    await otherHsm.close();
    const t = await addKeyedTerminal(fx.db, foreignTmk, fx.merchantNo);
    const term = await TestTerminal.connect(fx.host.port);
    try {
      const rsp = await term.request('0800', { 41: t, 42: fx.merchantNo, 60: { 1: '00', 2: '000000', 3: '003' } });
      expect(rsp.message.get(39)).toBe('A7');
      expect(rsp.message.has(62)).toBe(false);
      const ev = await listEvents(fx.db, { type: 'sign-on.refused', terminalNo: t });
      expect((ev[0]?.detail as { responseCode: string }).responseCode).toBe('A7');
    } finally {
      term.destroy();
    }
  });

  it('answers 96 and records an event when a handler throws', async () => {
    fx = await startFixture(backend, {
      routes: [{ name: 'boom', mti: '0820', handler: () => Promise.reject(new Error('boom')) }],
    });
    const term = await TestTerminal.connect(fx.host.port);
    try {
      const rsp = await term.request('0820', { 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '00', 2: '000001', 3: '301' } });
      expect(rsp.message.mti).toBe('0830');
      expect(rsp.message.get(39)).toBe('96');
      await expect.poll(async () => (await listEvents(fx!.db, { type: 'request.failed', terminalNo: fx!.terminalNo })).length, { interval: 20 }).toBe(1);
    } finally {
      term.destroy();
    }
  });
});
