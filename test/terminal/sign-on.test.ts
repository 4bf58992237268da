import { describe, it, expect, afterEach } from 'vitest';
import { once } from 'node:events';
import { TerminalClient, TerminalError, formatHostTime, type KeyScheme, type TerminalClientOptions } from '../../src/terminal/index.js';
import { kcv } from '../../src/crypto/kcv.js';
import { toHex } from '../../src/crypto/cipher.js';
import {
  CLEAR_KEYS, MERCHANT_NO, ScriptedHost, TERMINAL_NO, TEST_TMK, keyBlock, responseFrame, signOnFields,
} from './scripted-host.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(options: Partial<TerminalClientOptions> = {}): Promise<{ host: ScriptedHost; client: TerminalClient }> {
  const host = await new ScriptedHost().start();
  cleanup.push(() => host.stop());
  const client = new TerminalClient({
    host: '127.0.0.1',
    port: host.port,
    terminalNo: TERMINAL_NO,
    merchantNo: MERCHANT_NO,
    tmk: TEST_TMK,
    tpdu: { destination: '0006' },
    requestTimeoutMs: 2000,
    reconnect: false,
    ...options,
  });
  cleanup.push(() => client.close());
  await client.connect();
  return { host, client };
}

const hex4 = (key: Buffer): string => toHex(kcv(key, { alg: 'tdes', length: 4 }));

describe('TerminalClient.signOn', () => {
  it.each<[KeyScheme]>([['001'], ['003'], ['004']])('scheme %s: sends a genuine 0800 and loads verified keys', async (scheme) => {
    const { host, client } = await setup({ keyScheme: scheme, operatorNo: '01 ', batchNo: '000007' });
    const hostNow = new Date();
    const { time, date } = formatHostTime(hostNow, 480);
    const done = client.signOn();
    const req = await host.next();
    expect(req.message.mti).toBe('0800');
    expect(req.message.fields()).toEqual([11, 41, 42, 60, 63]);
    expect(req.message.get(11)).toBe('000001');
    expect(req.message.get(41)).toBe(TERMINAL_NO);
    expect(req.message.get(42)).toBe(MERCHANT_NO);
    expect(req.message.get(60)).toEqual({ 1: '00', 2: '000007', 3: scheme });
    expect(req.message.get(63)).toBe('01 ');
    expect(req.tpdu).toEqual({ id: 0x60, destination: '0006', source: '0000' });
    expect(req.header.processingRequirement).toBe(0);
    req.conn.write(responseFrame(req, signOnFields(scheme, { 12: time, 13: date })));

    const result = await done;
    expect(result.responseCode).toBe('00');
    expect(result.batchNo).toBe('000519');
    expect(result.processingRequirement).toBe(0);
    expect(client.batchNo).toBe('000519');
    const pik = scheme === '001' ? CLEAR_KEYS.pik8 : CLEAR_KEYS.pik16;
    expect(result.kcvs.pik).toBe(hex4(pik));
    expect(result.kcvs.mak).toBe(hex4(CLEAR_KEYS.mak8));
    if (scheme === '004') expect(result.kcvs.tdk).toBe(hex4(CLEAR_KEYS.tdk16));
    else expect(result.kcvs.tdk).toBeUndefined();
    expect(client.signedOn).toBe(true);
    const keys = client.workingKeys!;
    expect(keys.pik).toEqual(pik);
    expect(keys.mak).toEqual(CLEAR_KEYS.mak8);
    expect(keys.tdk).toEqual(scheme === '004' ? CLEAR_KEYS.tdk16 : undefined);
    // host time has second resolution
    expect(Math.abs(result.hostTime!.getTime() - hostNow.getTime())).toBeLessThan(1500);
    expect(Math.abs(client.clockOffsetMs!)).toBeLessThan(1500);
    expect(client.lastSignOnAt).toBeInstanceOf(Date);
  });

  it('reports the host clock offset when the host clock is ahead', async () => {
    const { host, client } = await setup();
    const { time, date } = formatHostTime(new Date(Date.now() + 3_600_000), 480);
    const done = client.signOn();
    const req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004', { 12: time, 13: date })));
    await done;
    expect(client.clockOffsetMs! - 3_600_000).toBeGreaterThan(-1500);
    expect(client.clockOffsetMs! - 3_600_000).toBeLessThan(1500);
    expect(Math.abs(client.hostNow().getTime() - Date.now() - 3_600_000)).toBeLessThan(1500);
  });

  it.each<['pik' | 'mak' | 'tdk']>([['pik'], ['mak'], ['tdk']])('%s KCV mismatch: throws and keeps no keys', async (which) => {
    const { host, client } = await setup();
    // first a good sign-on, so there are keys to lose
    let done = client.signOn();
    let req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004')));
    await done;
    const old = client.workingKeys!;

    done = client.signOn();
    req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004', { 62: keyBlock('004', TEST_TMK, which) })));
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as TerminalError).reason).toBe('KCV_MISMATCH');
    expect((err as TerminalError).message).toContain(which.toUpperCase());
    expect(client.signedOn).toBe(false);
    expect(client.workingKeys).toBeNull();
    expect(client.kcvs).toBeNull();
    // the earlier keys were wiped, not just dropped
    expect(old.pik.every((b) => b === 0)).toBe(true);
    expect(old.mak.every((b) => b === 0)).toBe(true);
  });

  it('keys encrypted under another TMK are refused', async () => {
    const { host, client } = await setup({ keyScheme: '003' });
    const done = client.signOn();
    const req = await host.next();
    const otherTmk = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
    req.conn.write(responseFrame(req, signOnFields('003', { 62: keyBlock('003', otherTmk) })));
    await expect(done).rejects.toMatchObject({ name: 'TerminalError', reason: 'KCV_MISMATCH' });
    expect(client.workingKeys).toBeNull();
  });

  it('refusal 97: TerminalError DECLINED with code and meaning', async () => {
    const { host, client } = await setup();
    const done = client.signOn();
    const req = await host.next();
    req.conn.write(responseFrame(req, { 39: '97', 60: { 1: '00', 2: '000001', 3: '004' } }));
    const err = (await done.catch((e: unknown) => e)) as TerminalError;
    expect(err).toBeInstanceOf(TerminalError);
    expect(err.reason).toBe('DECLINED');
    expect(err.responseCode).toBe('97');
    expect(err.meaning).toBe('terminal not registered');
    expect(err.stan).toBe('000001');
    expect(err.message).toContain('97');
    expect(client.signedOn).toBe(false);
  });

  it('field 62 of the wrong length for the scheme: BAD_KEY_BLOCK', async () => {
    const { host, client } = await setup({ keyScheme: '004' });
    const done = client.signOn();
    const req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004', { 62: keyBlock('003') })));
    await expect(done).rejects.toMatchObject({ reason: 'BAD_KEY_BLOCK' });
    expect(client.signedOn).toBe(false);
  });

  it('a response for another terminal is refused', async () => {
    const { host, client } = await setup();
    const done = client.signOn();
    const req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004', { 41: '99999999' })));
    await expect(done).rejects.toMatchObject({ reason: 'BAD_RESPONSE' });
  });

  it('concurrent signOn calls share one exchange', async () => {
    const { host, client } = await setup();
    const a = client.signOn();
    const b = client.signOn();
    expect(a).toBe(b);
    const req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004')));
    await a;
    expect(host.requests).toHaveLength(1);
  });

  it('emits signedOn and processing requirement 1 → parametersPending', async () => {
    const { host, client } = await setup();
    const pending = once(client, 'parametersPending');
    const signed = once(client, 'signedOn');
    const done = client.signOn();
    const req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004'), 1));
    const result = await done;
    expect(result.processingRequirement).toBe(1);
    expect(await pending).toEqual([{ mti: '0810' }]);
    expect((await signed)[0]).toBe(result);
  });

  it('signOff sends 0820/002 and wipes the keys', async () => {
    const { host, client } = await setup();
    let done: Promise<unknown> = client.signOn();
    let req = await host.next();
    req.conn.write(responseFrame(req, signOnFields('004')));
    await done;
    const keys = client.workingKeys!;
    done = client.signOff();
    req = await host.next();
    expect(req.message.mti).toBe('0820');
    expect(req.message.get(60)).toEqual({ 1: '00', 2: '000519', 3: '002' });
    req.conn.write(responseFrame(req, { 39: '00', 60: { 1: '00', 2: '000519', 3: '002' } }));
    await done;
    expect(client.signedOn).toBe(false);
    expect(keys.pik.every((b) => b === 0)).toBe(true);
  });
});
