/**
 * End to end over real TCP: terminals sign on to the running host (which writes `keys.rotated`
 * and `sign-on.refused` events with the peer address), then the monitor reads the event log.
 * The second loopback address 127.0.0.2 plays the "new network address".
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CUP_POS_FRAME, FrameDecoder, parseFramePayload } from '../../src/framing/index.js';
import { unpack } from '../../src/iso8583/index.js';
import { cupPos } from '../../src/specs/cup-pos.js';
import { listAlerts, runMonitorOnce } from '../../src/risk/index.js';
import { addOperator } from '../../src/store/operators.js';
import { operatorSignOn } from '../../src/terminal/operators.js';
import { client } from '../host/operator-helpers.js';
import { describeBackends } from '../store/helpers.js';
import { addKeyedTerminal, startFixture, type Fixture } from '../host/fixture.js';
import { nextStan, requestFrame } from '../host/test-terminal.js';

/** One sign-on (0800, 60.3 = 003) from `localAddress`; resolves with field 39. */
function signOnFrom(port: number, localAddress: string, merchantNo: string, terminalNo: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder(CUP_POS_FRAME);
    const s = connect({ port, host: '127.0.0.1', localAddress }, () => {
      s.write(requestFrame('0800', { 11: nextStan(), 41: terminalNo, 42: merchantNo, 60: { 1: '00', 2: '000000', 3: '003' }, 63: '01 ' }));
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no response'));
    }, 10_000);
    s.on('error', reject);
    s.on('data', (chunk: Buffer) => {
      const { frames } = decoder.push(chunk);
      const f = frames[0];
      if (f === undefined) return;
      clearTimeout(timer);
      const msg = unpack(cupPos, parseFramePayload(CUP_POS_FRAME, f).body, { eager: true });
      s.end();
      resolve(String(msg.get(39)));
    });
  });
}

describeBackends('sign-on monitor over real TCP', (backend) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture(backend);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('learns the first address, alerts once for a sign-on from another host', async () => {
    const { merchantNo: m, terminalNo: t } = fx;
    expect(await signOnFrom(fx.host.port, '127.0.0.1', m, t)).toBe('00');
    expect(await signOnFrom(fx.host.port, '127.0.0.1', m, t)).toBe('00');
    let r = await runMonitorOnce(fx.db);
    expect(r.processed).toBe(2);
    expect(r.alerts.filter((a) => a.kind === 'sign-on-new-address')).toEqual([]);

    expect(await signOnFrom(fx.host.port, '127.0.0.2', m, t)).toBe('00');
    // A refused sign-on (unknown terminal of the merchant) from the new host: no baseline, no alert.
    expect(await signOnFrom(fx.host.port, '127.0.0.2', m, 'T9999999')).toBe('97');
    expect(await signOnFrom(fx.host.port, '127.0.0.2', m, t)).toBe('00');
    r = await runMonitorOnce(fx.db);
    expect(r.processed).toBe(3);
    const fresh = r.alerts.filter((a) => a.kind === 'sign-on-new-address');
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ merchantNo: m, terminalNo: t });
    expect(fresh[0]?.summary).toBe(`terminal ${t} of merchant ${m} signed on from new address 127.0.0.2 (known: 127.0.0.1)`);
    expect((await listAlerts(fx.db, { kind: 'sign-on-new-address' })).length).toBe(1);
  });

  it('raises one alert for an operator whose sign-on fails 5 times (wrong password, then locked)', async () => {
    await addOperator(fx.db, { merchantNo: fx.merchantNo, operatorNo: '03', name: 'Cashier three', password: '3333' }, { actor: 'user:test', origin: 'test' });
    const terminalNo = await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo);
    const c = client(fx, terminalNo);
    await c.connect();
    try {
      await c.signOn();
      await runMonitorOnce(fx.db); // judge the terminal sign-on first
      const codes: string[] = [];
      for (let i = 0; i < 4; i++) codes.push((await operatorSignOn(c, '03', '9999')).responseCode);
      expect(codes.every((x) => x !== '00')).toBe(true);
      expect((await runMonitorOnce(fx.db)).alerts.filter((a) => a.kind === 'sign-on-failures')).toEqual([]);
      codes.push((await operatorSignOn(c, '03', '9999')).responseCode);
      codes.push((await operatorSignOn(c, '03', '3333')).responseCode); // locked by now: still a failure
      expect(codes.every((x) => x !== '00')).toBe(true);
      const r = await runMonitorOnce(fx.db);
      const alerts = r.alerts.filter((a) => a.kind === 'sign-on-failures');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ merchantNo: fx.merchantNo, terminalNo, operatorNo: '03' });
      expect(alerts[0]?.summary).toBe(`operator 03 of merchant ${fx.merchantNo}: 5 failed sign-ons within 900 s (limit 5)`);
      expect((await runMonitorOnce(fx.db)).alerts).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
