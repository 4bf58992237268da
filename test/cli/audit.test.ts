/** `qiandao audit seal|verify|tail` against an embedded store on disk. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { appendEvent, openStore } from '../../src/store/index.js';
import { runCli } from './run-cli.js';

let dir = '';
let store: string[] = [];

beforeAll(async () => {
  // These runs are on the embedded store: the CLI must not pick up DATABASE_URL (CI sets it).
  vi.stubEnv('DATABASE_URL', '');
  dir = mkdtempSync(join(tmpdir(), 'qd-audit-cli-'));
  store = ['--data', dir];
  const db = await openStore({ dataDir: join(dir, 'pglite') });
  for (let i = 0; i < 5; i++) {
    await appendEvent(db, { type: i === 3 ? 'user.sign-in' : 'merchant.added', ok: i !== 3, actor: `user:u${i}`, origin: '10.0.0.9', resource: 'merchant:898110070110001' });
  }
  await db.close();
});

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

it('seals, verifies, tails with filters, and exits 1 on a broken chain', async () => {
  const before = await runCli(['audit', 'verify', ...store]);
  expect(before.code).toBe(0);
  expect(before.stdout).toContain('0 links verified, 5 events not yet sealed');

  expect((await runCli(['audit', 'seal', ...store])).stdout).toContain('sealed 5 events');
  const ok = await runCli(['audit', 'verify', '--json', ...store]);
  expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, verified: 5, unsealed: 0 });

  const tail = await runCli(['audit', 'tail', '-n', '2', ...store]);
  expect(tail.code).toBe(0);
  const lines = tail.stdout.trim().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^ID\s+AT\s+TYPE/);
  expect(lines[1]).toContain('user:u3');
  expect(lines[2]).toContain('user:u4');
  const failed = await runCli(['audit', 'tail', '--failed', '--json', ...store]);
  const events = failed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; actor: string });
  expect(events).toEqual([expect.objectContaining({ type: 'user.sign-in', actor: 'user:u3' })]);

  const bad = await runCli(['audit', 'tail', '-n', 'x', ...store]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('-n must be a whole number');

  const db = await openStore({ dataDir: join(dir, 'pglite') });
  try {
    await db.exec('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await db.exec(`UPDATE events SET actor = 'user:mallory' WHERE actor = 'user:u2'`);
  } finally {
    await db.close();
  }
  const broken = await runCli(['audit', 'verify', ...store]);
  expect(broken.code).toBe(1);
  expect(broken.stderr).toMatch(/audit chain broken at link 3 \(event \d+\): content/);
});
