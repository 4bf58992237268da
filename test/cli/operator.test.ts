/** `qiandao operator …` in-process against a real store (PGlite in a data dir, and PostgreSQL when DATABASE_URL is set). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPassword } from '../../src/crypto/password.js';
import { listEvents, type Db } from '../../src/store/index.js';
import { addOperator, getOpenSession, recordFailedPassword } from '../../src/store/operators.js';
import { CLEAR_TMK, startFixture, type Fixture } from '../host/fixture.js';
import { describeBackends } from '../store/helpers.js';
import { CLI_BACKENDS, cliStore } from './cli-store.js';
import { runCli } from './run-cli.js';

const M = '898110070110101';

for (const backend of CLI_BACKENDS) {
  describe.skipIf(!backend.enabled)(`operator commands on ${backend.name}`, () => {
    const store = cliStore(backend, 'oper');
    const cli = (args: string[], stdin?: string) => runCli([...args, ...store.args], stdin);
    const openDirect = (): Promise<Db> => store.open();
    async function direct<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      const db = await openDirect();
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    }

    beforeAll(async () => {
        const r = await cli(['merchant', 'add', '--merchant', M, '--name', 'Tea House', '--mcc', '5812']);
      expect(r.code, r.stderr).toBe(0);
    });

    it('adds operators with the password from stdin, hashed; refuses bad input with exit 2', async () => {
      const sup = await cli(['operator', 'add', '--merchant', M, '--operator', '00', '--name', 'Boss', '--no-change'], '135790\n');
      expect(sup.code, sup.stderr).toBe(0);
      expect(sup.stdout).toBe(`operator 00 (Boss, supervisor) added to merchant ${M}\n`);
      const cash = await cli(['operator', 'add', '--merchant', M, '--operator', '01', '--name', 'Li Wei', '--json'], '2468\n');
      expect(cash.code, cash.stderr).toBe(0);
      const json = JSON.parse(cash.stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ operatorNo: '01', role: 'cashier', mustChangePassword: true, permissions: ['balance', 'reprint', 'sale'], locked: false });
      expect(cash.stdout).not.toContain('2468');
      expect(cash.stdout).not.toContain('scrypt');
      const hash = await direct(async (db) => (await db.query<{ password_hash: string }>("SELECT password_hash FROM operators WHERE operator_no = '01'")).rows[0]?.password_hash);
      expect(await verifyPassword('2468', hash ?? '')).toBe(true);

      const short = await cli(['operator', 'add', '--merchant', M, '--operator', '00', '--name', 'X'], '1234\n');
      expect(short.code).toBe(2);
      const dup = await cli(['operator', 'add', '--merchant', M, '--operator', '01', '--name', 'Again'], '2468\n');
      expect(dup.code).toBe(2);
      expect(dup.stderr).toBe(`qiandao: operator 01 of merchant ${M} already exists\n`);
      const badNo = await cli(['operator', 'add', '--merchant', M, '--operator', '100', '--name', 'X'], '2468\n');
      expect(badNo.code).toBe(2);
      expect(badNo.stderr).toContain('--operator must be two digits');
      const noPw = await cli(['operator', 'add', '--merchant', M, '--operator', '02', '--name', 'X']);
      expect(noPw.code).toBe(2);
      expect(noPw.stderr).toContain('standard input');
      const badRole = await cli(['operator', 'add', '--merchant', M, '--operator', '03', '--name', 'X', '--role', 'supervisor'], '2468\n');
      expect(badRole.code).toBe(2);
      const noMerchant = await cli(['operator', 'add', '--merchant', '898110070119999', '--operator', '02', '--name', 'X'], '2468\n');
      expect(noMerchant.code).toBe(2);
      expect(noMerchant.stderr).toBe('qiandao: merchant 898110070119999 not found\n');
    });

    it('lists, shows, grants, revokes, disables, enables, unlocks and resets, each an audit event', async () => {
      const list = await cli(['operator', 'list', '--merchant', M]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout.split('\n')[0]).toMatch(/^OPERATOR\s+ROLE\s+STATUS\s+LOCKED\s+PERMISSIONS\s+NAME$/);
      expect(list.stdout).toContain('Li Wei');

      const grant = await cli(['operator', 'grant', '--merchant', M, '--operator', '01', '--permission', 'refund']);
      expect(grant.code, grant.stderr).toBe(0);
      expect(grant.stdout).toBe('operator 01 permissions: balance, refund, reprint, sale\n');
      const revoke = await cli(['operator', 'revoke', '--merchant', M, '--operator', '01', '--permission', 'sale']);
      expect(revoke.stdout).toBe('operator 01 permissions: balance, refund, reprint\n');
      const badPerm = await cli(['operator', 'grant', '--merchant', M, '--operator', '01', '--permission', 'fly']);
      expect(badPerm.code).toBe(2);

      expect((await cli(['operator', 'disable', '--merchant', M, '--operator', '01'])).stdout).toBe('operator 01 disabled\n');
      const disabled = await cli(['operator', 'list', '--merchant', M, '--status', 'disabled', '--json']);
      expect((JSON.parse(disabled.stdout) as { operatorNo: string }[]).map((o) => o.operatorNo)).toEqual(['01']);
      expect((await cli(['operator', 'enable', '--merchant', M, '--operator', '01'])).code).toBe(0);

      await direct(async (db) => {
        for (let i = 0; i < 5; i++) await recordFailedPassword(db, { merchantNo: M, operatorNo: '01' });
      });
      const show = await cli(['operator', 'show', '--merchant', M, '--operator', '01']);
      expect(show.stdout).toMatch(/locked\s+until 20/);
      expect((await cli(['operator', 'unlock', '--merchant', M, '--operator', '01'])).code).toBe(0);
      expect((await cli(['operator', 'show', '--merchant', M, '--operator', '01'])).stdout).toMatch(/locked\s+no/);

      const reset = await cli(['operator', 'reset-password', '--merchant', M, '--operator', '01'], '8642\n');
      expect(reset.code, reset.stderr).toBe(0);
      const missing = await cli(['operator', 'unlock', '--merchant', M, '--operator', '42']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe(`qiandao: operator 42 of merchant ${M} not found\n`);

      const events = await direct((db) => listEvents(db, { resource: `operator:${M}/01`, order: 'asc' }));
      expect(events.map((e) => e.type)).toEqual([
        'operator.added',
        'operator.permission-granted',
        'operator.permission-revoked',
        'operator.disabled',
        'operator.enabled',
        'operator.unlocked',
        'operator.password-reset',
      ]);
      expect(events.every((e) => e.actor?.startsWith('cli:') && e.origin === 'cli')).toBe(true);
      expect(JSON.stringify(events)).not.toContain('8642');
    });
  });
}

describeBackends('qiandao terminal operator-sign-on / supervisor-approve / operator-sign-off', (backend) => {
  let f: Fixture;
  let dir = '';
  let conn: string[] = [];
  beforeAll(async () => {
    f = await startFixture(backend);
    await addOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '00', name: 'Boss', password: '123456', mustChangePassword: false }, { actor: 'user:test' });
    await addOperator(f.db, { merchantNo: f.merchantNo, operatorNo: '01', name: 'Li', password: '1111', mustChangePassword: false }, { actor: 'user:test' });
    dir = mkdtempSync(join(tmpdir(), 'qiandao-oper-term-'));
    const tmkFile = join(dir, 'tmk.hex');
    writeFileSync(tmkFile, CLEAR_TMK.toString('hex'));
    conn = ['--port', String(f.host.port), '--tid', f.terminalNo, '--mid', f.merchantNo, '--tmk-file', tmkFile, '--scheme', '003'];
  });
  afterAll(async () => {
    await f?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs an operator on with the password from stdin, refuses a wrong one with exit 1', async () => {
    const bad = await runCli(['terminal', 'operator-sign-on', ...conn, '--operator', '01'], '9999\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('operator 01 sign-on refused: 55');
    const ok = await runCli(['terminal', 'operator-sign-on', ...conn, '--operator', '01'], '1111\n');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('operator 01 sign-on: 00 approved\n');
    expect((await getOpenSession(f.db, { merchantNo: f.merchantNo, terminalNo: f.terminalNo }))?.operatorNo).toBe('01');
    const noPw = await runCli(['terminal', 'operator-sign-on', ...conn, '--operator', '01']);
    expect(noPw.code).toBe(2);
    // A bad option is reported before the password is read (nobody types a secret for nothing).
    const badTmk = await runCli(['terminal', 'operator-sign-on', ...conn, '--tmk-file', join(dir, 'missing.hex'), '--operator', '01']);
    expect(badTmk.code).toBe(2);
    expect(badTmk.stderr).toContain('missing.hex');
    expect(badTmk.stderr).not.toContain('password');
  });

  it('records a supervisor approval, then signs the operator off', async () => {
    const bad = await runCli(['terminal', 'supervisor-approve', ...conn, '--permission', 'fly'], '123456\n');
    expect(bad.code).toBe(2);
    const ok = await runCli(['terminal', 'supervisor-approve', ...conn, '--permission', 'refund', '--json'], '123456\n');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ responseCode: '00', macValid: true, operatorNo: '00' });
    expect(await listEvents(f.db, { type: 'operator.approval', terminalNo: f.terminalNo })).toHaveLength(1);
    const off = await runCli(['terminal', 'operator-sign-off', ...conn, '--operator', '01']);
    expect(off.code, off.stderr).toBe(0);
    expect(await getOpenSession(f.db, { merchantNo: f.merchantNo, terminalNo: f.terminalNo })).toBeNull();
    const again = await runCli(['terminal', 'operator-sign-off', ...conn, '--operator', '01']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Q1 no operator signed on');
  });
});
