/**
 * The real TerminalClient against the real host over TCP: the host orders a re-sign-on (an
 * administrator's re-key, and working keys past their lifetime) or a parameter download through
 * the header's processing-requirement nibble, and the terminal obeys.
 */
import { afterEach, expect, it } from 'vitest';
import { once } from 'node:events';
import { TerminalClient } from '../../src/terminal/index.js';
import { listKeyGenerations, requestRekey, setMerchantParameters } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { CLEAR_TMK, startFixture, type Fixture } from './fixture.js';

function client(f: Fixture): TerminalClient {
  return new TerminalClient({
    host: '127.0.0.1',
    port: f.host.port,
    terminalNo: f.terminalNo,
    merchantNo: f.merchantNo,
    tmk: CLEAR_TMK,
    keyScheme: '004',
    reconnect: false,
    requestTimeoutMs: 10_000,
  });
}

async function currentGeneration(f: Fixture): Promise<{ generation: number; pikKcv: string; makKcv: string } | undefined> {
  const gens = await listKeyGenerations(f.db, { merchantNo: f.merchantNo, terminalNo: f.terminalNo });
  return gens.find((g) => g.supersededAt === null);
}

describeBackends('TerminalClient against the host', (backend) => {
  let f: Fixture | undefined;
  let c: TerminalClient | undefined;
  afterEach(async () => {
    await c?.close();
    await f?.close();
    c = undefined;
    f = undefined;
  });

  it('an ordered re-key makes the terminal sign on again and take the new keys', async () => {
    f = await startFixture(backend);
    c = client(f);
    await c.connect();
    const first = await c.signOn();
    expect(first.responseCode).toBe('00');
    expect((await currentGeneration(f))?.generation).toBe(1);

    await requestRekey(f.db, { merchantNo: f.merchantNo, terminalNo: f.terminalNo });
    const resigned = once(c, 'signedOn');
    const echo = await c.echo(); // the echo response carries nibble 3: sign on again
    expect(echo.responseCode).toBe('00');
    await resigned;

    const gen = await currentGeneration(f);
    expect(gen?.generation).toBe(2);
    // The terminal holds exactly the keys the host recorded for generation 2.
    expect(c.kcvs?.pik).toBe(gen?.pikKcv.slice(0, 8));
    expect(c.kcvs?.mak).toBe(gen?.makKcv.slice(0, 8));
    expect(c.kcvs?.pik).not.toBe(first.kcvs.pik);
  });

  it('working keys past their lifetime make the terminal sign on again', async () => {
    f = await startFixture(backend, { keyLifetimeSeconds: 1 });
    c = client(f);
    await c.connect();
    await c.signOn();
    const before = await c.echo();
    expect(before.responseCode).toBe('00');
    expect((await currentGeneration(f))?.generation).toBe(1); // fresh keys: no re-sign-on yet

    await new Promise((r) => setTimeout(r, 1_300));
    const resigned = once(c, 'signedOn');
    await c.echo();
    await resigned;
    expect((await currentGeneration(f))?.generation).toBe(2);
  });

  it('changed parameters are announced to the terminal', async () => {
    f = await startFixture(backend);
    c = client(f);
    await c.connect();
    await c.signOn();
    await setMerchantParameters(f.db, f.merchantNo, { receiptHeader: 'Thank you' });
    const pending = once(c, 'parametersPending');
    await c.echo();
    await expect(pending).resolves.toBeDefined();
  });
});
