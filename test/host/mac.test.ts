/**
 * MACs between the real TerminalClient and the real host over TCP: the client MACs a request with
 * the MAC key it received at sign-on, the host verifies it with the key generation it stored (or
 * the previous one inside the grace window), and MACs its answer, which the client verifies.
 * A test route stands in for the financial handlers that use src/host/mac.ts.
 */
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_ROUTES, ResponseCode, startResponse, type Handler, type Route } from '../../src/host/index.js';
import { macResponse, verifyRequestMac } from '../../src/host/mac.js';
import { TerminalClient, isTerminalError } from '../../src/terminal/index.js';
import { describeBackends } from '../store/helpers.js';
import { CLEAR_TMK, startFixture, type Fixture } from './fixture.js';

/** 0200 / 60.1 = 99: answers 00 with a MAC when the request's MAC verifies, A0 (no MAC) when not. */
const macEcho: Handler = async (ctx, req) => {
  const ref = { merchantNo: req.message.get(42) ?? '', terminalNo: req.message.get(41) ?? '' };
  const check = await verifyRequestMac(ctx, req, ref);
  if (!check.ok) {
    const rsp = startResponse(req.message, ResponseCode.MacError);
    rsp.set(44, check.reason.replace('-', ' '));
    return { response: rsp };
  }
  const rsp = startResponse(req.message, ResponseCode.Approved);
  rsp.set(44, check.grace ? `grace ${check.keys.generation}` : `current ${check.keys.generation}`);
  await macResponse(ctx, rsp, check.mak);
  return { response: rsp };
};

const ROUTES: Route[] = [...DEFAULT_ROUTES, { name: 'mac-echo', mti: '0200', messageType: '99', handler: macEcho }];

function client(f: Fixture, over: Partial<ConstructorParameters<typeof TerminalClient>[0]> = {}): TerminalClient {
  return new TerminalClient({
    host: '127.0.0.1',
    port: f.host.port,
    terminalNo: f.terminalNo,
    merchantNo: f.merchantNo,
    tmk: CLEAR_TMK,
    keyScheme: '003',
    reconnect: false,
    autoSignOn: false,
    requestTimeoutMs: 10_000,
    ...over,
  });
}

function fields(f: Fixture) {
  return { 3: '000000', 41: f.terminalNo, 42: f.merchantNo, 60: { 1: '99', 2: '000001', 3: '000' } } as const;
}

describeBackends('request and response MACs', (backend) => {
  let f: Fixture | undefined;
  const clients: TerminalClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await f?.close();
    f = undefined;
  });

  it('a MAC made with the sign-on keys verifies on the host, and the answer MAC on the terminal', async () => {
    f = await startFixture(backend, { routes: ROUTES });
    const c = client(f);
    clients.push(c);
    await c.connect();
    await c.signOn();
    const rsp = await c.request('0200', fields(f), { mac: true });
    expect(rsp.message.get(39)).toBe('00');
    expect(rsp.message.get(44)).toBe('current 1');
    expect(c.verifyResponseMac(rsp)).toBe(true);
    // One flipped bit in the answer and the terminal refuses it.
    const tampered = Buffer.from(rsp.body);
    tampered[tampered.length - 9] = (tampered[tampered.length - 9] as number) ^ 0x01;
    expect(c.verifyResponseMac({ ...rsp, body: tampered })).toBe(false);
  });

  it('a request without a MAC, or with a wrong one, is refused with A0', async () => {
    f = await startFixture(backend, { routes: ROUTES });
    const c = client(f);
    clients.push(c);
    await c.connect();
    await c.signOn();
    const plain = await c.request('0200', fields(f));
    expect(plain.message.get(39)).toBe('A0');
    expect(plain.message.get(44)).toBe('no mac');
    // A different terminal's keys: sign on a second client for the same terminal (new generation)
    // and let the first one MAC with its now-superseded key beyond a zero grace window.
    await f.close();
    f = await startFixture(backend, { routes: ROUTES, graceSeconds: 0 });
    const a = client(f);
    const b = client(f);
    clients.push(a, b);
    await a.connect();
    await b.connect();
    await a.signOn();
    await b.signOn();
    const stale = await a.request('0200', fields(f), { mac: true });
    expect(stale.message.get(39)).toBe('A0');
    expect(stale.message.get(44)).toBe('mismatch');
    expect(a.verifyResponseMac(stale)).toBe(false);
  });

  it('the previous key generation verifies inside the grace window', async () => {
    f = await startFixture(backend, { routes: ROUTES, graceSeconds: 300 });
    const a = client(f);
    const b = client(f);
    clients.push(a, b);
    await a.connect();
    await b.connect();
    await a.signOn();
    await b.signOn();
    const late = await a.request('0200', fields(f), { mac: true });
    expect(late.message.get(39)).toBe('00');
    expect(late.message.get(44)).toBe('grace 1');
    expect(a.verifyResponseMac(late)).toBe(true);
    const fresh = await b.request('0200', fields(f), { mac: true });
    expect(fresh.message.get(44)).toBe('current 2');
  });

  it('a terminal that never signed on has no keys: the client refuses to MAC, the host answers no-keys', async () => {
    f = await startFixture(backend, { routes: ROUTES });
    const c = client(f);
    clients.push(c);
    await c.connect();
    const err = await c.request('0200', fields(f), { mac: true }).catch((e: unknown) => e);
    expect(isTerminalError(err, 'NOT_SIGNED_ON')).toBe(true);
    const fake = await c.request('0200', { ...fields(f), 64: Buffer.alloc(8) });
    expect(fake.message.get(39)).toBe('A0');
    expect(fake.message.get(44)).toBe('no keys');
  });
});
