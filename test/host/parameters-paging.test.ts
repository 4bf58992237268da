/**
 * Paged parameter download over real TCP: a document larger than field 62 arrives in pages the
 * terminal asks for one by one; the download counts only when the last page is sent; a version
 * change mid-download makes the terminal start again.
 */
import { afterEach, expect, it } from 'vitest';
import { buildTlv, parseTlv } from '../../src/iso8583/index.js';
import { downloadParameters } from '../../src/terminal/parameters.js';
import { TerminalClient } from '../../src/terminal/index.js';
import { effectiveParameters, setMerchantParameters, setTerminalParameters } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { CLEAR_TMK, startFixture, type Fixture } from './fixture.js';
import { TestTerminal } from './test-terminal.js';

/** 60 parameters of ~40 bytes each: about 5 pages of 512 bytes. */
function bigDocument(tag = 'v1'): Record<string, string> {
  const doc: Record<string, string> = {};
  for (let i = 0; i < 60; i++) doc[`receiptLine${String(i).padStart(2, '0')}`] = `${tag} 欢迎光临 line ${i} `.padEnd(24, '.');
  return doc;
}

describeBackends('paged parameter download', (backend) => {
  let f: Fixture | undefined;
  let c: TerminalClient | undefined;
  let t: TestTerminal | undefined;
  afterEach(async () => {
    t?.destroy();
    await c?.close();
    await f?.close();
    t = undefined;
    c = undefined;
    f = undefined;
  });

  const net = (fx: Fixture, f62?: Buffer) => ({ 41: fx.terminalNo, 42: fx.merchantNo, 60: { 1: '00', 2: '000001', 3: '360' }, ...(f62 ? { 62: f62 } : {}) });
  const page = (n: number | string) => buildTlv([{ tag: 'DF05', value: Buffer.from(String(n), 'ascii') }]);

  it('sends a large document in pages, each within field 62, and marks it downloaded after the last', async () => {
    f = await startFixture(backend);
    await setMerchantParameters(f.db, f.merchantNo, bigDocument());
    await setTerminalParameters(f.db, { merchantNo: f.merchantNo, terminalNo: f.terminalNo }, { receiptLine07: 'terminal override' });
    t = await TestTerminal.connect(f.host.port);
    const first = await t.request('0800', net(f));
    expect(first.message.get(39)).toBe('00');
    const items = parseTlv(first.message.get(62)!);
    const count = Number(items.find((i) => i.tag === 'DF06')!.value.toString('ascii'));
    expect(count).toBeGreaterThan(2);
    expect(first.message.get(62)!.length).toBeLessThanOrEqual(512);
    // Only part of the document so far: still pending.
    expect((await effectiveParameters(f.db, { merchantNo: f.merchantNo, terminalNo: f.terminalNo })).pending).toBe(true);

    const beyond = await t.request('0800', net(f, page(count + 1)));
    expect(beyond.message.get(39)).toBe('30');
    const garbage = await t.request('0800', net(f, Buffer.from([0xdf])));
    expect(garbage.message.get(39)).toBe('30');
    const zero = await t.request('0800', net(f, page('0')));
    expect(zero.message.get(39)).toBe('30');

    c = new TerminalClient({ host: '127.0.0.1', port: f.host.port, terminalNo: f.terminalNo, merchantNo: f.merchantNo, tmk: CLEAR_TMK, reconnect: false });
    await c.connect();
    const got = await c.downloadParameters();
    expect(got.pages).toBe(count);
    expect(got.values).toEqual({ ...bigDocument(), receiptLine07: 'terminal override' });
    const eff = await effectiveParameters(f.db, { merchantNo: f.merchantNo, terminalNo: f.terminalNo });
    expect(eff.pending).toBe(false);
    expect(got.version).toBe(eff.version);
  });

  it('starts again from page 1 when the parameters change during the download', async () => {
    f = await startFixture(backend);
    await setMerchantParameters(f.db, f.merchantNo, bigDocument('v1'));
    c = new TerminalClient({ host: '127.0.0.1', port: f.host.port, terminalNo: f.terminalNo, merchantNo: f.merchantNo, tmk: CLEAR_TMK, reconnect: false });
    await c.connect();
    const fx = f;
    const client = c;
    let requests = 0;
    const got = await downloadParameters({
      request: async (f62) => {
        requests += 1;
        // An administrator edits the parameters after the terminal fetched page 2.
        if (requests === 3) await setMerchantParameters(fx.db, fx.merchantNo, bigDocument('v2'));
        return (await client.request('0800', net(fx, f62))).message;
      },
    });
    expect(got.values).toEqual(bigDocument('v2'));
    expect(requests).toBeGreaterThan(got.pages);
  });

  it('refuses with 96 a single parameter too large for a page', async () => {
    f = await startFixture(backend);
    await setMerchantParameters(f.db, f.merchantNo, { huge: 'x'.repeat(600) });
    t = await TestTerminal.connect(f.host.port);
    const rsp = await t.request('0800', net(f));
    expect(rsp.message.get(39)).toBe('96');
  });
});
