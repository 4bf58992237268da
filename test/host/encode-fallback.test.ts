/** A handler whose response cannot be encoded still gets the terminal an answer: 96, not silence. */
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_ROUTES, ResponseCode, startResponse, type Route } from '../../src/host/index.js';
import { TerminalClient } from '../../src/terminal/index.js';
import { describeBackends } from '../store/helpers.js';
import { CLEAR_TMK, startFixture, type Fixture } from './fixture.js';

const ROUTES: Route[] = [
  {
    name: 'broken',
    mti: '0200',
    messageType: '98',
    handler: (_ctx, req) => {
      const rsp = startResponse(req.message, ResponseCode.Approved);
      // Field 44 is alphanumeric: a dash cannot be encoded.
      (rsp as unknown as { set(n: number, v: string): void }).set(44, 'not-encodable');
      return Promise.resolve({ response: rsp });
    },
  },
  ...DEFAULT_ROUTES,
];

describeBackends('response encoding failure', (backend) => {
  let f: Fixture | undefined;
  let c: TerminalClient | undefined;
  afterEach(async () => {
    await c?.close();
    await f?.close();
  });

  it('is answered with 96 and the echoed fields', async () => {
    f = await startFixture(backend, { routes: ROUTES });
    c = new TerminalClient({ host: '127.0.0.1', port: f.host.port, terminalNo: f.terminalNo, merchantNo: f.merchantNo, tmk: CLEAR_TMK, reconnect: false, requestTimeoutMs: 5000 });
    await c.connect();
    const rsp = await c.request('0200', { 3: '000000', 41: f.terminalNo, 42: f.merchantNo, 60: { 1: '98', 2: '000001', 3: '000' } });
    expect(rsp.message.get(39)).toBe('96');
    expect(rsp.message.get(41)).toBe(f.terminalNo);
    expect(f.logs.some((l) => l.includes('could not encode the response: answering 96'))).toBe(true);
  });
});
