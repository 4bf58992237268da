import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  addMerchant,
  addTerminal,
  appendEvent,
  getMerchant,
  listEvents,
  listKeyGenerations,
  loadMigrations,
  openStore,
  rotateKeys,
} from '../../src/store/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qd-pglite-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('PGlite on disk: write, close, reopen (migrations skipped), read back', async () => {
  const dataDir = join(dir, 'nested', 'data');
  const ref = { merchantNo: '898100000000777', terminalNo: '77700001' };
  const db = await openStore({ dataDir });
  await addMerchant(db, { merchantNo: ref.merchantNo, name: 'Disk', mcc: '5411', timeZone: 'Asia/Shanghai' });
  await addTerminal(db, ref);
  await rotateKeys(db, { ...ref, scheme: '003', blocks: { pik: 'P1', mak: 'M1' }, kcvs: { pik: 'AAAAAA', mak: 'BBBBBB' } });
  await appendEvent(db, { type: 'disk', ok: true, detail: { n: 1 } });
  await db.close();

  const again = await openStore({ dataDir });
  try {
    expect((await getMerchant(again, ref.merchantNo))?.name).toBe('Disk');
    expect((await listKeyGenerations(again, ref)).map((g) => g.generation)).toEqual([1]);
    expect((await listEvents(again, { type: 'disk' }))[0]?.detail).toEqual({ n: 1 });
    const m = await again.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(m.rows[0]?.n).toBe((await loadMigrations()).length);
  } finally {
    await again.close();
  }
});

it('PGlite with a dedicated schema keeps it across reopen', async () => {
  const dataDir = join(dir, 'schema');
  const db = await openStore({ dataDir, schema: 'tenant_a' });
  await addMerchant(db, { merchantNo: '898100000000778', name: 'Schema', mcc: '5411' });
  await db.close();
  const again = await openStore({ dataDir, schema: 'tenant_a' });
  try {
    expect((await getMerchant(again, '898100000000778'))?.name).toBe('Schema');
    const r = await again.query<{ s: string }>('SELECT current_schema() AS s');
    expect(r.rows[0]?.s).toBe('tenant_a');
  } finally {
    await again.close();
  }
});
