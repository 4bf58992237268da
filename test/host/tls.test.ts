/** The host over TLS: a terminal that trusts the host certificate signs on; others are refused cleanly. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerminalClient, TerminalError } from '../../src/terminal/index.js';
import { describeBackends } from '../store/helpers.js';
import { CLEAR_TMK, startFixture, type Fixture } from './fixture.js';
import { selfSignedCert } from '../helpers/self-signed-cert.js';

let dir: string;
let key: Buffer;
let cert: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qiandao-tls-'));
  ({ key, cert } = selfSignedCert(dir));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeBackends('host over TLS', (backend) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture(backend, { tls: { key, cert } });
  });
  afterAll(async () => f.close());

  const terminal = (tls: ConnectionOptions): TerminalClient =>
    new TerminalClient({
      host: '127.0.0.1',
      port: f.host.port,
      terminalNo: f.terminalNo,
      merchantNo: f.merchantNo,
      tmk: CLEAR_TMK,
      reconnect: false,
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 5_000,
      tls,
    });

  it('a terminal that trusts the host certificate signs on over TLS', async () => {
    const c = terminal({ ca: cert });
    try {
      await c.connect();
      const r = await c.signOn();
      expect(r.responseCode).toBe('00');
      expect(r.kcvs.tdk).toMatch(/^[0-9A-F]{8}$/);
    } finally {
      await c.close();
    }
  });

  it('a terminal that does not trust the certificate cannot connect, and the host keeps serving', async () => {
    const untrusting = terminal({});
    await expect(untrusting.connect()).rejects.toBeInstanceOf(TerminalError);
    await untrusting.close();

    // A plain-TCP client sending a cleartext frame gets no answer and is disconnected.
    const plain = netConnect({ host: '127.0.0.1', port: f.host.port });
    plain.on('error', () => undefined);
    plain.write(Buffer.from('003C600601000060310031181208000020000000C00012000000', 'hex'));
    await new Promise<void>((resolve) => plain.once('close', () => resolve()));

    const c = terminal({ ca: cert });
    try {
      await c.connect();
      expect((await c.signOn()).responseCode).toBe('00');
    } finally {
      await c.close();
    }
  });
});
