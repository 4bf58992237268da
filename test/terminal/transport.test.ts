import { describe, it, expect, afterEach } from 'vitest';
import { once } from 'node:events';
import { TerminalClient, TerminalError, type TerminalClientOptions } from '../../src/terminal/index.js';
import { MERCHANT_NO, ScriptedHost, TERMINAL_NO, TEST_TMK, responseFrame, signOnFields } from './scripted-host.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function makeClient(port: number, options: Partial<TerminalClientOptions> = {}): TerminalClient {
  const client = new TerminalClient({
    host: '127.0.0.1',
    port,
    terminalNo: TERMINAL_NO,
    merchantNo: MERCHANT_NO,
    tmk: TEST_TMK,
    requestTimeoutMs: 2000,
    reconnect: false,
    ...options,
  });
  cleanup.push(() => client.close());
  return client;
}

async function setup(options: Partial<TerminalClientOptions> = {}): Promise<{ host: ScriptedHost; client: TerminalClient }> {
  const host = await new ScriptedHost().start();
  cleanup.push(() => host.stop());
  const client = makeClient(host.port, options);
  await client.connect();
  return { host, client };
}

const echoReply = { 39: '00', 60: { 1: '00', 2: '000001', 3: '301' } } as const;
const echoFields = { 41: TERMINAL_NO, 42: MERCHANT_NO, 60: { 1: '00', 2: '000001', 3: '301' } };

describe('TerminalClient transport', () => {
  it('echo sends 0820/301 and resolves on 0830', async () => {
    const { host, client } = await setup();
    const done = client.echo();
    const req = await host.next();
    expect(req.message.mti).toBe('0820');
    expect(req.message.get(60)).toEqual({ 1: '00', 2: '000001', 3: '301' });
    req.conn.write(responseFrame(req, echoReply));
    const r = await done;
    expect(r.responseCode).toBe('00');
    expect(r.roundTripMs).toBeGreaterThanOrEqual(0);
  });

  it('echo refused with 39 = 96 → DECLINED', async () => {
    const { host, client } = await setup();
    const done = client.echo();
    const req = await host.next();
    req.conn.write(responseFrame(req, { ...echoReply, 39: '96' }));
    await expect(done).rejects.toMatchObject({ reason: 'DECLINED', responseCode: '96', meaning: 'system malfunction' });
  });

  it('a response split into 3-byte pieces is reassembled', async () => {
    const { host, client } = await setup();
    const done = client.signOn();
    const req = await host.next();
    await req.conn.writeSplit(responseFrame(req, signOnFields('004')), 3, 1);
    expect((await done).responseCode).toBe('00');
  });

  it('two responses in one TCP write both resolve', async () => {
    const { host, client } = await setup();
    const a = client.echo();
    const b = client.signOn();
    const ra = await host.next();
    const rb = await host.next();
    ra.conn.write(Buffer.concat([responseFrame(ra, echoReply), responseFrame(rb, signOnFields('004'))]));
    await expect(a).resolves.toMatchObject({ responseCode: '00' });
    await expect(b).resolves.toMatchObject({ responseCode: '00', batchNo: '000519' });
  });

  it('out-of-order responses are matched by STAN', async () => {
    const { host, client } = await setup();
    const calls = [0, 1, 2, 3].map(() => client.request('0820', echoFields));
    expect(client.inFlight).toBe(4);
    const reqs: Awaited<ReturnType<typeof host.next>>[] = [];
    for (let i = 0; i < 4; i++) reqs.push(await host.next());
    expect(reqs.map((r) => r.message.get(11))).toEqual(['000001', '000002', '000003', '000004']);
    // answer 3, 1, 4, 2 — each tagged with its request's STAN in field 37; 3 and 1 in one write
    const frame = (i: number): Buffer => responseFrame(reqs[i]!, { ...echoReply, 37: `RRN${reqs[i]!.message.get(11)}000` });
    reqs[0]!.conn.write(Buffer.concat([frame(2), frame(0)]));
    await reqs[0]!.conn.writeSplit(Buffer.concat([frame(3), frame(1)]), 7, 1);
    const res = await Promise.all(calls);
    res.forEach((r, i) => {
      expect(r.message.get(11)).toBe(reqs[i]!.message.get(11));
      expect(r.message.get(37)).toBe(`RRN${reqs[i]!.message.get(11)}000`);
      expect(r.message.mti).toBe('0830');
      expect(r.tpdu.source).toBe('0000');
    });
    expect(client.inFlight).toBe(0);
  });

  it('timeout → TIMEOUT; a late response is reported as unmatched', async () => {
    const { host, client } = await setup({ requestTimeoutMs: 80 });
    const t0 = Date.now();
    const done = client.echo();
    const req = await host.next();
    const err = (await done.catch((e: unknown) => e)) as TerminalError;
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.reason).toBe('TIMEOUT');
    expect(err.stan).toBe('000001');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
    const unmatched = once(client, 'unmatchedResponse');
    req.conn.write(responseFrame(req, echoReply));
    expect(await unmatched).toEqual([{ mti: '0830', stan: '000001' }]);
    expect(client.connected).toBe(true);
  });

  it('a response with the STAN but another MTI is not taken: it is reported as unmatched, and the request gets its own answer', async () => {
    // As when a late 0210 arrives while the reversal 0400 that repeats its STAN is in flight.
    const { host, client } = await setup();
    const done = client.request('0800', { 41: TERMINAL_NO, 42: MERCHANT_NO, 60: { 1: '00', 2: '000001', 3: '004' } });
    const req = await host.next();
    const unmatched = once(client, 'unmatchedResponse');
    req.message.mti = '0820'; // answer as if to an 0820 (→ 0830) with the same STAN
    req.conn.write(responseFrame(req, echoReply));
    expect(await unmatched).toEqual([{ mti: '0830', stan: req.message.get(11) }]);
    expect(client.inFlight).toBe(1);
    req.message.mti = '0800';
    req.conn.write(responseFrame(req, signOnFields('004')));
    expect((await done).message.mti).toBe('0810');
  });

  it('an undecodable frame is a protocolError and the link stays up', async () => {
    const { host, client } = await setup();
    const errors: Error[] = [];
    client.on('protocolError', (e) => errors.push(e));
    const done = client.echo();
    const req = await host.next();
    // length 2 + TPDU + header + garbage MTI byte
    req.conn.write(Buffer.from('000C' + '6000000000' + '603100311108' + 'FF', 'hex'));
    req.conn.write(responseFrame(req, echoReply));
    await done;
    expect(errors).toHaveLength(1);
  });

  it('processing requirement 3 triggers an automatic sign-on', async () => {
    const { host, client } = await setup();
    const required = once(client, 'signOnRequired');
    const signed = once(client, 'signedOn');
    const done = client.echo();
    const req = await host.next();
    req.conn.write(responseFrame(req, echoReply, 3));
    await done;
    expect(await required).toEqual([{ mti: '0830', reason: 'processingRequirement' }]);
    const again = await host.next();
    expect(again.message.mti).toBe('0800');
    expect(again.message.get(60)?.[3]).toBe('004');
    again.conn.write(responseFrame(again, signOnFields('004')));
    const [result] = await signed;
    expect(result.responseCode).toBe('00');
    expect(client.signedOn).toBe(true);
  });

  it('response code A0 (MAC error) triggers an automatic sign-on', async () => {
    const { host, client } = await setup();
    const required = once(client, 'signOnRequired');
    const done = client.echo();
    const req = await host.next();
    req.conn.write(responseFrame(req, { ...echoReply, 39: 'A0' }));
    await expect(done).rejects.toMatchObject({ reason: 'DECLINED', responseCode: 'A0' });
    expect(await required).toEqual([{ mti: '0830', reason: 'responseCode', responseCode: 'A0' }]);
    const again = await host.next();
    expect(again.message.mti).toBe('0800');
    const signed = once(client, 'signedOn');
    again.conn.write(responseFrame(again, signOnFields('004')));
    await signed;
  });

  it('autoSignOn: false only reports the request', async () => {
    const { host, client } = await setup({ autoSignOn: false });
    const required = once(client, 'signOnRequired');
    const done = client.echo();
    const req = await host.next();
    req.conn.write(responseFrame(req, echoReply, 3));
    await done;
    await required;
    await new Promise((r) => setTimeout(r, 30));
    expect(host.requests).toHaveLength(1);
  });

  it('an unanswered idle echo drops the link and the client reconnects', async () => {
    const { host, client } = await setup({ echoIntervalMs: 30, requestTimeoutMs: 60, reconnect: { initialMs: 10, maxMs: 20 } });
    const failed = once(client, 'echoFailed');
    const reconnected = once(client, 'reconnected');
    await host.next(); // the idle echo, never answered
    const [err] = await failed;
    expect(err).toMatchObject({ reason: 'TIMEOUT' });
    await reconnected;
    expect(host.connections.length).toBeGreaterThanOrEqual(2);
  });

  it('a failed automatic sign-on is reported as autoSignOnFailed', async () => {
    const { host, client } = await setup();
    const failed = once(client, 'autoSignOnFailed');
    const done = client.echo();
    const req = await host.next();
    req.conn.write(responseFrame(req, echoReply, 3));
    await done;
    const again = await host.next();
    again.conn.write(responseFrame(again, { 39: '97', 60: { 1: '00', 2: '000001', 3: '004' } }));
    const [err] = await failed;
    expect(err).toMatchObject({ reason: 'DECLINED', responseCode: '97' });
  });

  it('idle echo timer sends echo tests when the link is quiet', async () => {
    const { host } = await setup({ echoIntervalMs: 50 });
    const first = await host.next();
    expect(first.message.mti).toBe('0820');
    expect(first.message.get(60)?.[3]).toBe('301');
    first.conn.write(responseFrame(first, echoReply));
    const second = await host.next();
    expect(second.message.get(60)?.[3]).toBe('301');
    expect(second.message.get(11)).toBe('000002');
    second.conn.write(responseFrame(second, echoReply));
  });

  it('STAN wraps from 999999 to 000001', async () => {
    const { host, client } = await setup({ firstStan: 999_999 });
    const a = client.echo();
    const ra = await host.next();
    const b = client.echo();
    const rb = await host.next();
    expect(ra.message.get(11)).toBe('999999');
    expect(rb.message.get(11)).toBe('000001');
    ra.conn.write(Buffer.concat([responseFrame(rb, echoReply), responseFrame(ra, echoReply)]));
    await Promise.all([a, b]);
  });

  it('requests fail NOT_CONNECTED before connect and CLOSED after close', async () => {
    const host = await new ScriptedHost().start();
    cleanup.push(() => host.stop());
    const client = makeClient(host.port);
    await expect(client.echo()).rejects.toMatchObject({ reason: 'NOT_CONNECTED' });
    await client.close();
    await expect(client.echo()).rejects.toMatchObject({ reason: 'CLOSED' });
    await expect(client.connect()).rejects.toMatchObject({ reason: 'CLOSED' });
  });

  it('connect to a closed port fails with CONNECT_FAILED', async () => {
    const host = await new ScriptedHost().start();
    const port = host.port;
    await host.stop();
    const client = makeClient(port);
    await expect(client.connect()).rejects.toMatchObject({ reason: 'CONNECT_FAILED' });
  });

  it('server drop: in-flight requests fail, reconnect with backoff, sign-on works again', async () => {
    const host = await new ScriptedHost().start();
    const port = host.port;
    const client = makeClient(port, { reconnect: { initialMs: 20, maxMs: 80 }, random: () => 0.999 });
    await client.connect();
    let done = client.signOn();
    let req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004')));
    await done;

    const reconnecting: Array<{ attempt: number; delayMs: number }> = [];
    const failures: number[] = [];
    client.on('reconnecting', (i) => reconnecting.push(i));
    client.on('reconnectFailed', (i) => failures.push(i.attempt));
    const disconnected = once(client, 'disconnected');
    const inFlight = client.echo();
    await host.next();
    await host.stop(); // drop the connection and refuse new ones
    await expect(inFlight).rejects.toMatchObject({ reason: 'DISCONNECTED' });
    await disconnected;
    expect(client.connected).toBe(false);

    // let a few attempts fail against the closed port
    while (failures.length < 3) await once(client, 'reconnectFailed');
    const host2 = await new ScriptedHost().start(port);
    cleanup.push(() => host2.stop());
    const [info] = await once(client, 'reconnected');
    expect(info.attempts).toBeGreaterThanOrEqual(4);
    expect(client.connected).toBe(true);
    const delays = reconnecting.map((r) => r.delayMs);
    expect(reconnecting.map((r) => r.attempt)).toEqual(delays.map((_, i) => i + 1));
    expect(delays.slice(0, 3)).toEqual([20, 40, 80]);
    for (const d of delays) expect(d).toBeLessThanOrEqual(80);
    // keys survive the reconnect; sign-on works again on the new link
    expect(client.signedOn).toBe(true);
    done = client.signOn();
    req = await host2.next();
    req.conn.write(responseFrame(req, signOnFields('004')));
    expect((await done).responseCode).toBe('00');
  });

  it('a dropped connection comes back after a server-side reset', async () => {
    const { host, client } = await setup({ reconnect: { initialMs: 10, maxMs: 50 } });
    const reconnected = once(client, 'reconnected');
    host.dropAll();
    await reconnected;
    const done = client.echo();
    const req = await host.next();
    expect(req.conn).toBe(host.connections[1]);
    req.conn.write(responseFrame(req, echoReply));
    await done;
  });
});
