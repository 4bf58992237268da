/** `merchant update|enable` and `terminal enable` on an embedded store, with the host's view of them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { getMerchant, getTerminal, listEvents, openStore } from '../../src/store/index.js';
import { runCli } from './run-cli.js';

const M = '898110070119001';
const T = '11900001';
let dir = '';
let store: string[] = [];
const cli = (...args: string[]) => runCli([...args, ...store]);

beforeAll(async () => {
  // These runs are on the embedded store: the CLI must not pick up DATABASE_URL (CI sets it).
  vi.stubEnv('DATABASE_URL', '');
  dir = mkdtempSync(join(tmpdir(), 'qd-admin-enable-'));
  store = ['--data', dir];
  expect((await cli('merchant', 'add', '--merchant', M, '--name', 'Corner shop', '--mcc', '5411')).code).toBe(0);
  expect((await cli('terminal', 'add', '--merchant', M, '--terminal', T)).code).toBe(0);
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

it('updates a merchant and refuses bad or empty changes', async () => {
  const r = await cli('merchant', 'update', '--merchant', M, '--name', 'Corner shop 2', '--tz', 'Europe/Berlin', '--json');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ name: 'Corner shop 2', timeZone: 'Europe/Berlin', mcc: '5411' });
  const none = await cli('merchant', 'update', '--merchant', M);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('nothing to change');
  const tz = await cli('merchant', 'update', '--merchant', M, '--tz', 'Mars/Olympus');
  expect(tz.code).toBe(2);
  expect(tz.stderr).toContain('IANA');
  const missing = await cli('merchant', 'update', '--merchant', '898110070119999', '--name', 'x');
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('not found');
});

it('suspends and re-enables a merchant; a closed merchant stays closed', async () => {
  expect((await cli('merchant', 'disable', '--merchant', M)).stdout).toContain('suspended');
  expect((await cli('merchant', 'enable', '--merchant', M)).stdout).toContain('active');
  expect((await cli('merchant', 'disable', '--merchant', M, '--close')).stdout).toContain('closed');
  const again = await cli('merchant', 'enable', '--merchant', M);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain('closed for good');
});

it('disables and enables a terminal, recording both in the audit trail', async () => {
  expect((await cli('terminal', 'disable', '--merchant', M, '--terminal', T)).code).toBe(0);
  expect((await cli('terminal', 'enable', '--merchant', M, '--terminal', T)).stdout).toContain('enabled');
  const unknown = await cli('terminal', 'enable', '--merchant', M, '--terminal', '11909999');
  expect(unknown.code).toBe(2);
  const db = await openStore({ dataDir: join(dir, 'pglite') });
  try {
    expect((await getTerminal(db, { merchantNo: M, terminalNo: T }))?.status).toBe('active');
    expect((await getMerchant(db, M))?.status).toBe('closed');
    const types = (await listEvents(db, { resource: `terminal:${M}/${T}`, order: 'asc' })).map((e) => e.type);
    expect(types).toEqual(['admin.terminal.added', 'admin.terminal.disabled', 'admin.terminal.enabled']);
    const merchantEvents = (await listEvents(db, { resource: `merchant:${M}`, order: 'asc' })).map((e) => e.type);
    expect(merchantEvents).toEqual(['admin.merchant.added', 'admin.merchant.updated', 'admin.merchant.suspended', 'admin.merchant.active', 'admin.merchant.closed']);
  } finally {
    await db.close();
  }
});
