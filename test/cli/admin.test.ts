import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kcv } from '../../src/crypto/kcv.js';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { dropSchema, getTerminal, listEvents, openStore, type Db } from '../../src/store/index.js';
import { pino } from 'pino';
import { startHost } from '../../src/host/index.js';
import { TerminalClient } from '../../src/terminal/index.js';
import { runCli } from './run-cli.js';


const M = '898110070110001';
const M2 = '898110070110002';
const T = '12345678';
const DATABASE_URL = process.env['DATABASE_URL'];

function xor(parts: Buffer[]): Buffer {
  const out = Buffer.alloc(parts[0]!.length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i]! ^= p[i]!;
  return out;
}

interface Backend {
  name: string;
  enabled: boolean;
}

const backends: Backend[] = [
  { name: 'PGlite (--data)', enabled: true },
  { name: 'PostgreSQL (DATABASE_URL, unique schema)', enabled: DATABASE_URL !== undefined && DATABASE_URL !== '' },
];

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`admin commands on ${backend.name}`, () => {
    const isPg = backend.name.startsWith('PostgreSQL');
    const schema = `qd_test_${process.pid}_admin_${Date.now().toString(36)}`;
    let dir = '';
    let store: string[] = [];

    const cli = (...args: string[]) => runCli([...args, ...store]);
    const openDirect = (): Promise<Db> =>
      isPg ? openStore({ url: DATABASE_URL!, schema }) : openStore({ dataDir: join(dir, 'pglite') });

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'qiandao-admin-'));
      store = isPg ? ['--database-url', DATABASE_URL!, '--schema', schema, '--data', dir] : ['--data', dir];
      // The PGlite pass must not pick up DATABASE_URL; the HSM must use the LMK file in the data dir.
      vi.stubEnv('DATABASE_URL', '');
      vi.stubEnv('QIANDAO_LMK', '');
    });

    afterAll(async () => {
      vi.unstubAllEnvs();
      if (isPg) {
        const db = await openStore({ url: DATABASE_URL!, schema, migrate: false });
        await dropSchema(db);
        await db.close();
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('merchant add / list / show / duplicate', async () => {
      const add = await cli('merchant', 'add', '--merchant', M, '--name', 'Corner Shop', '--mcc', '5411');
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/merchant 898110070110001 added \(Corner Shop, MCC 5411, Asia\/Shanghai, active\)/);

      const add2 = await cli('merchant', 'add', '--merchant', M2, '--name', 'Noodle Bar', '--mcc', '5812', '--tz', 'Asia/Hong_Kong', '--json');
      expect(add2.code, add2.stderr).toBe(0);
      expect(JSON.parse(add2.stdout)).toMatchObject({ merchantNo: M2, timeZone: 'Asia/Hong_Kong', status: 'active' });

      const dup = await cli('merchant', 'add', '--merchant', M, '--name', 'Again', '--mcc', '5411');
      expect(dup.code).toBe(2);
      expect(dup.stderr).toBe(`qiandao: merchant ${M} already exists\n`);

      const list = await cli('merchant', 'list');
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout.split('\n')[0]).toMatch(/^MERCHANT\s+STATUS\s+MCC\s+TIME ZONE\s+NAME$/);
      expect(list.stdout).toContain('Corner Shop');
      expect(list.stdout).toContain('Noodle Bar');

      const json = await cli('merchant', 'list', '--json');
      expect((JSON.parse(json.stdout) as { merchantNo: string }[]).map((m) => m.merchantNo)).toEqual([M, M2]);

      const show = await cli('merchant', 'show', '--merchant', M);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toMatch(/name\s+Corner Shop/);
      expect(show.stdout).toMatch(/terminals\s+-/);
    });

    it('merchant input errors exit 2 with a one-line message', async () => {
      const cases: [string[], RegExp][] = [
        [['merchant', 'add', '--merchant', '12345', '--name', 'x', '--mcc', '5411'], /--merchant must be 15 letters or digits/],
        [['merchant', 'add', '--merchant', M, '--name', 'x', '--mcc', '54a1'], /--mcc must be 4 digits/],
        [['merchant', 'add', '--merchant', M, '--mcc', '5411'], /--name is required/],
        [['merchant', 'add', '--merchant', M, '--name', 'x', '--mcc', '5411', '--tz', 'Mars/Olympus'], /--tz must be an IANA time-zone name/],
        [['merchant', 'show', '--merchant', '898110070119999'], /^qiandao: merchant 898110070119999 not found\n$/],
        [['merchant', 'disable', '--merchant', '898110070119999'], /^qiandao: merchant 898110070119999 not found\n$/],
        [['merchant', 'list', '--status', 'gone'], /--status must be one of active, suspended, closed/],
        [['merchant', 'list', '--bogus'], /Unknown option '--bogus'/],
      ];
      for (const [args, re] of cases) {
        const r = await cli(...args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr, args.join(' ')).toMatch(re);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
      }
    });

    it('terminal add / list / show and its errors', async () => {
      const add = await cli('terminal', 'add', '--merchant', M, '--terminal', T, '--model', 'PAX S90', '--serial', 'SN-1');
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/terminal 12345678 added to merchant 898110070110001/);
      expect((await cli('terminal', 'add', '--merchant', M, '--terminal', '12345679', '--json')).code).toBe(0);

      const dup = await cli('terminal', 'add', '--merchant', M, '--terminal', T);
      expect(dup.code).toBe(2);
      expect(dup.stderr).toBe(`qiandao: terminal ${T} of merchant ${M} already exists\n`);

      const noMerchant = await cli('terminal', 'add', '--merchant', '898110070119999', '--terminal', T);
      expect(noMerchant.code).toBe(2);
      expect(noMerchant.stderr).toBe('qiandao: merchant 898110070119999 not found\n');

      const badNo = await cli('terminal', 'add', '--merchant', M, '--terminal', '1234567');
      expect(badNo.code).toBe(2);
      expect(badNo.stderr).toMatch(/--terminal must be 8 letters or digits/);

      const list = await cli('terminal', 'list', '--merchant', M);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/898110070110001\s+12345678\s+active\s+offline\s+000001\s+0\s+-\s+no\s+-/);
      const listJson = JSON.parse((await cli('terminal', 'list', '--json')).stdout) as Record<string, unknown>[];
      expect(listJson.map((t) => t['terminalNo'])).toEqual([T, '12345679']);
      expect(listJson[0]).not.toHaveProperty('tmkBlock');
      expect((await cli('terminal', 'list', '--merchant', M2)).stdout).toBe('no terminals\n');
      expect((await cli('terminal', 'list', '--merchant', '898110070119999')).code).toBe(2);

      const show = await cli('terminal', 'show', '--merchant', M, '--terminal', T);
      expect(show.code, show.stderr).toBe(0);
      for (const re of [/status\s+active/, /model\s+PAX S90/, /connection\s+offline/, /batch\s+000001/, /key generation\s+0/, /last sign-on\s+-/, /last status\s+-/, /TMK KCV\s+- \(no TMK/]) {
        expect(show.stdout).toMatch(re);
      }

      const missing = await cli('terminal', 'show', '--merchant', M, '--terminal', '99999999');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe(`qiandao: terminal 99999999 of merchant ${M} not found\n`);
      const missingMerchant = await cli('terminal', 'show', '--merchant', '898110070119999', '--terminal', T);
      expect(missingMerchant.stderr).toBe('qiandao: merchant 898110070119999 not found\n');
    });

    it('terminal tmk stores a block whose KCV is the KCV of the XOR of the printed components', async () => {
      const noLmk = await cli('terminal', 'tmk', '--merchant', M, '--terminal', T);
      expect(noLmk.code).toBe(2);
      expect(noLmk.stderr).toMatch(/^qiandao: no LMK: set QIANDAO_LMK or point --lmk-file at the host's LMK file .* --dev-lmk creates/);
      expect(noLmk.stdout).toBe('');

      const r = await cli('terminal', 'tmk', '--merchant', M, '--terminal', T, '--components', '3', '--dev-lmk');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/DEVELOPMENT LMK/);
      expect(statSync(join(dir, 'lmk.hex')).mode & 0o077).toBe(0);
      expect(r.stderr).toMatch(/3 CLEAR key components are printed/);
      const comps = [...r.stdout.matchAll(/^component (\d)\s+([0-9A-F]{32})\s+KCV ([0-9A-F]{6})$/gm)];
      expect(comps.map((m) => m[1])).toEqual(['1', '2', '3']);
      for (const m of comps) expect(kcv(Buffer.from(m[2]!, 'hex'), { alg: 'tdes' }).toString('hex').toUpperCase()).toBe(m[3]);
      const printedKcv = /^TMK KCV\s+([0-9A-F]{6})$/m.exec(r.stdout)?.[1];
      const combined = xor(comps.map((m) => Buffer.from(m[2]!, 'hex')));
      const expectedKcv = kcv(combined, { alg: 'tdes' }).toString('hex').toUpperCase();
      expect(printedKcv).toBe(expectedKcv);

      const db = await openDirect();
      try {
        const t = await getTerminal(db, { merchantNo: M, terminalNo: T });
        expect(t?.tmkKcv).toBe(expectedKcv);
        expect(t?.rekeyRequested).toBe(true);
        // The stored block itself unwraps (under the data dir's LMK) to that key.
        const hsm = await SoftHsm.open({ lmkFile: join(dir, 'lmk.hex'), env: {} });
        const wrapped = { usage: 'TMK' as const, algorithm: 'tdes' as const, length: 16, kcv: t!.tmkKcv!, block: t!.tmkBlock! };
        expect((await hsm.kcv(wrapped)).toString('hex').toUpperCase()).toBe(expectedKcv);
        await hsm.close();
        const ev = await listEvents(db, { merchantNo: M, terminalNo: T, type: 'admin.terminal.tmk' });
        expect(ev[0]?.detail).toEqual({ kcv: expectedKcv, components: 3, exported: false });
        // The audit trail names who did it (the OS user at the CLI) and what it touched.
        expect(ev[0]).toMatchObject({ actor: expect.stringMatching(/^cli:.+/), origin: 'cli', resource: `terminal:${M}/${T}` });
        const added = await listEvents(db, { type: 'admin.terminal.added', resource: `terminal:${M}/${T}` });
        expect(added).toHaveLength(1);
        expect(JSON.stringify(ev)).not.toContain(comps[0]![2]!);
      } finally {
        await db.close();
      }

      const show = await cli('terminal', 'show', '--merchant', M, '--terminal', T, '--json');
      const shown = JSON.parse(show.stdout) as { tmkKcv: string; rekeyRequested: boolean; events: { type: string }[] };
      expect(shown).toMatchObject({ tmkKcv: expectedKcv, rekeyRequested: true });
      expect(shown).not.toHaveProperty('tmkBlock');
      expect(shown.events.map((e) => e.type)).toContain('admin.terminal.tmk');
    });

    it('terminal tmk --export-file writes the clear TMK (0600) and prints only its KCV', async () => {
      const file = join(dir, 'tmk-12345679.hex');
      const r = await cli('terminal', 'tmk', '--merchant', M, '--terminal', '12345679', '--export-file', file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/component/);
      expect(r.stderr).toMatch(/test terminals only/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const hex = readFileSync(file, 'utf8').trim();
      expect(hex).toMatch(/^[0-9A-F]{32}$/);
      const k = kcv(Buffer.from(hex, 'hex'), { alg: 'tdes' }).toString('hex').toUpperCase();
      expect(r.stdout).toMatch(new RegExp(`^TMK KCV\\s+${k}$`, 'm'));
      expect(r.stderr).not.toMatch(/DEVELOPMENT LMK/); // the LMK file made by the first tmk is reused
      const show = JSON.parse((await cli('terminal', 'show', '--merchant', M, '--terminal', '12345679', '--json')).stdout) as { tmkKcv: string };
      expect(show.tmkKcv).toBe(k);

      // The host, on the same store and LMK, signs the terminal on with the exported TMK.
      const db = await openDirect();
      const hsm = await SoftHsm.open({ lmkFile: join(dir, 'lmk.hex'), env: {} });
      const host = await startHost({ port: 0, db, hsm, logger: pino({ level: 'silent' }) });
      const client = new TerminalClient({
        host: '127.0.0.1',
        port: host.port,
        terminalNo: '12345679',
        merchantNo: M,
        tmk: Buffer.from(hex, 'hex'),
        keyScheme: '004',
        operatorNo: '01 ',
        reconnect: false,
      });
      try {
        await client.connect();
        const signOn = await client.signOn();
        expect(signOn.responseCode).toBe('00');
      } finally {
        await client.close();
        await host.close();
        await db.close();
        await hsm.close();
      }
      const after = await cli('terminal', 'show', '--merchant', M, '--terminal', '12345679');
      expect(after.stdout).toMatch(/key generation\s+1 \(issued /);
      expect(after.stdout).toMatch(/last sign-on\s+\d{4}-/);
      expect(after.stdout).toMatch(/rekey requested\s+no/);
    });

    it('terminal tmk errors', async () => {
      const bad = await cli('terminal', 'tmk', '--merchant', M, '--terminal', T, '--components', '4');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--components must be 2 or 3/);
      const missing = await cli('terminal', 'tmk', '--merchant', M, '--terminal', '99999999');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/terminal 99999999 of merchant 898110070110001 not found/);
      expect(missing.stdout).toBe('');
    });

    it('terminal rekey / disable, merchant disable', async () => {
      const rekey = await cli('terminal', 'rekey', '--merchant', M, '--terminal', '12345679');
      expect(rekey.code, rekey.stderr).toBe(0);
      expect(rekey.stdout).toMatch(/rekey requested/);
      const disable = await cli('terminal', 'disable', '--merchant', M, '--terminal', '12345679');
      expect(disable.code, disable.stderr).toBe(0);
      const t = JSON.parse((await cli('terminal', 'show', '--merchant', M, '--terminal', '12345679', '--json')).stdout) as {
        status: string;
        rekeyRequested: boolean;
        events: { type: string }[];
      };
      expect(t).toMatchObject({ status: 'disabled', rekeyRequested: true });
      expect(t.events.map((e) => e.type).slice(0, 2)).toEqual(['admin.terminal.disabled', 'admin.terminal.rekey_requested']);
      expect((await cli('terminal', 'list', '--status', 'disabled', '--json')).stdout).toContain('12345679');
      const miss = await cli('terminal', 'rekey', '--merchant', M, '--terminal', '99999999');
      expect(miss.code).toBe(2);
      expect((await cli('terminal', 'disable', '--merchant', M, '--terminal', '99999999')).code).toBe(2);

      const md = await cli('merchant', 'disable', '--merchant', M2);
      expect(md.code, md.stderr).toBe(0);
      expect(md.stdout).toBe(`merchant ${M2} suspended\n`);
      expect((await cli('merchant', 'disable', '--merchant', M2, '--close')).stdout).toBe(`merchant ${M2} closed\n`);
      const closed = JSON.parse((await cli('merchant', 'list', '--status', 'closed', '--json')).stdout) as { merchantNo: string }[];
      expect(closed.map((m) => m.merchantNo)).toEqual([M2]);
    });
  });
}

describe('a database password is not accepted on the command line', () => {
  it.each([
    ['merchant', 'list'],
    ['host', 'start'],
  ])('%s %s refuses --database-url with a password (in the authority or as a parameter), without repeating it', async (...path) => {
    for (const url of ['postgres://qiandao:s3cretPw@127.0.0.1:5432/qd', 'postgres://qiandao@127.0.0.1:5432/qd?password=s3cretPw', 'not a url://u:s3cretPw@h/db']) {
      const r = await runCli([...path, '--database-url', url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--database-url must not carry a password.*PGPASSWORD or ~\/\.pgpass.*DATABASE_URL/);
      expect(r.stderr + r.stdout).not.toContain('s3cretPw');
    }
  });
});
