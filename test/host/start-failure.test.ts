/**
 * startHost refuses bad options before it registers as a host instance, and a failure after
 * registering (bad TLS material, port in use) marks the instance stopped: nothing is left that
 * other hosts would take for a live one.
 */
import { createServer } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { startHost } from '../../src/host/index.js';
import type { Db } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';

const LMK = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

describeBackends('startHost failures', (backend) => {
  let db: Db;
  let hsm: SoftHsm;
  beforeAll(async () => {
    db = await backend.open();
    hsm = await SoftHsm.open({ lmkHex: LMK });
  });
  afterAll(async () => {
    await hsm.close();
    await backend.dispose(db);
  });
  const base = () => ({ port: 0, db, hsm, issuer: undefined, logger: pino({ level: 'silent' }) });
  const instances = async (): Promise<{ live: number; total: number }> => {
    const r = await db.query<{ live: number; total: number }>('SELECT count(*) FILTER (WHERE stopped_at IS NULL)::int AS live, count(*)::int AS total FROM host_instances');
    return r.rows[0]!;
  };

  it('refuses a bad option without registering an instance', async () => {
    const before = await instances();
    for (const bad of [{ idleTimeoutMs: -1 }, { closeTimeoutMs: Number.NaN }, { recoveryIntervalMs: -5 }, { heartbeatMs: 0 }, { heartbeatMs: 2 ** 31 }, { graceSeconds: -1 }, { maxFrameLength: -1 }]) {
      await expect(startHost({ ...base(), ...bad })).rejects.toThrow();
    }
    expect(await instances()).toEqual(before);
  });

  it('marks the instance stopped when it cannot listen', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      const before = await instances();
      await expect(startHost({ ...base(), port })).rejects.toThrow(/EADDRINUSE/);
      const after = await instances();
      expect(after.total).toBe(before.total + 1);
      expect(after.live).toBe(before.live);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('marks the instance stopped when the TLS material is unusable', async () => {
    const before = await instances();
    await expect(startHost({ ...base(), tls: { key: 'not a key', cert: 'not a certificate' } })).rejects.toThrow();
    const after = await instances();
    expect(after.live).toBe(before.live);
  });
});
