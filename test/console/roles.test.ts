/**
 * The role matrix: every endpoint × every role → allowed or refused (403), including a merchant
 * administrator reaching for another merchant's data. Table-driven; each row runs over real HTTP.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addMerchant, addTerminal } from '../../src/store/index.js';
import { addOperator } from '../../src/store/operators.js';
import { raiseAlert } from '../../src/risk/alerts.js';
import { describeBackends, merchantNo } from '../store/helpers.js';
import { ConsoleFixture, type Account } from './fixture.js';

type Who = 'platform' | 'merchant' | 'auditor';
/** 'ok' = any 2xx; a number = exactly that status. */
type Expect = 'ok' | 403;

interface Row {
  name: string;
  method: string;
  path: (ids: Ids) => string;
  body?: (ids: Ids, n: number) => unknown;
  expect: Record<Who, Expect>;
}

interface Ids {
  mine: string;
  other: string;
  tid: string;
}

const ALL: Record<Who, Expect> = { platform: 'ok', merchant: 'ok', auditor: 'ok' };
const PLATFORM_ONLY: Record<Who, Expect> = { platform: 'ok', merchant: 403, auditor: 403 };
const ADMINS: Record<Who, Expect> = { platform: 'ok', merchant: 'ok', auditor: 403 };
const AUDIT: Record<Who, Expect> = { platform: 'ok', merchant: 403, auditor: 'ok' };
const EVERYONE: Record<Who, Expect> = { platform: 'ok', merchant: 'ok', auditor: 'ok' };

let seq = 0;
/** Alerts raised in beforeAll, one taken per acknowledgement row and role (an alert is acknowledged once). */
const alertIds: Record<'mine' | 'other', string[]> = { mine: [], other: [] };
const ackPath = (i: Ids, whose: 'mine' | 'other'): string =>
  i.mine === '{merchantNo}' ? '/api/alerts/{id}/ack' : `/api/alerts/${alertIds[whose].shift() ?? '999999'}/ack`;
const ROWS: Row[] = [
  { name: 'who am I', method: 'GET', path: () => '/api/auth/me', expect: ALL },
  { name: 'list merchants', method: 'GET', path: () => '/api/merchants', expect: ADMINS },
  { name: 'add merchant', method: 'POST', path: () => '/api/merchants', body: () => ({ merchantNo: merchantNo(), name: 'New shop', mcc: '5411' }), expect: PLATFORM_ONLY },
  { name: 'view own merchant', method: 'GET', path: (i) => `/api/merchants/${i.mine}`, expect: ADMINS },
  { name: 'view other merchant', method: 'GET', path: (i) => `/api/merchants/${i.other}`, expect: PLATFORM_ONLY },
  { name: 'merchant status', method: 'POST', path: (i) => `/api/merchants/${i.mine}/status`, body: () => ({ status: 'active' }), expect: PLATFORM_ONLY },
  { name: 'list own terminals', method: 'GET', path: (i) => `/api/merchants/${i.mine}/terminals`, expect: ADMINS },
  { name: "list other merchant's terminals", method: 'GET', path: (i) => `/api/merchants/${i.other}/terminals`, expect: PLATFORM_ONLY },
  { name: 'view own terminal', method: 'GET', path: (i) => `/api/merchants/${i.mine}/terminals/${i.tid}`, expect: ADMINS },
  { name: "view other merchant's terminal", method: 'GET', path: (i) => `/api/merchants/${i.other}/terminals/${i.tid}`, expect: PLATFORM_ONLY },
  { name: 'register terminal (own)', method: 'POST', path: (i) => `/api/merchants/${i.mine}/terminals`, body: () => ({ terminalNo: `R${String(++seq).padStart(7, '0')}` }), expect: ADMINS },
  { name: 'register terminal (other)', method: 'POST', path: (i) => `/api/merchants/${i.other}/terminals`, body: () => ({ terminalNo: `S${String(++seq).padStart(7, '0')}` }), expect: PLATFORM_ONLY },
  { name: 'disable own terminal', method: 'POST', path: (i) => `/api/merchants/${i.mine}/terminals/${i.tid}/status`, body: () => ({ status: 'active' }), expect: ADMINS },
  { name: "disable other merchant's terminal", method: 'POST', path: (i) => `/api/merchants/${i.other}/terminals/${i.tid}/status`, body: () => ({ status: 'active' }), expect: PLATFORM_ONLY },
  { name: 're-key own terminal', method: 'POST', path: (i) => `/api/merchants/${i.mine}/terminals/${i.tid}/rekey`, expect: ADMINS },
  { name: "re-key other merchant's terminal", method: 'POST', path: (i) => `/api/merchants/${i.other}/terminals/${i.tid}/rekey`, expect: PLATFORM_ONLY },
  { name: 'own terminal sign-on history', method: 'GET', path: (i) => `/api/merchants/${i.mine}/terminals/${i.tid}/sign-ons`, expect: ADMINS },
  { name: "other merchant's sign-on history", method: 'GET', path: (i) => `/api/merchants/${i.other}/terminals/${i.tid}/sign-ons`, expect: PLATFORM_ONLY },
  { name: 'list own operators', method: 'GET', path: (i) => `/api/merchants/${i.mine}/operators`, expect: ADMINS },
  { name: "list other merchant's operators", method: 'GET', path: (i) => `/api/merchants/${i.other}/operators`, expect: PLATFORM_ONLY },
  { name: 'add operator (own)', method: 'POST', path: (i) => `/api/merchants/${i.mine}/operators`, body: () => ({ operatorNo: String(10 + (++seq % 80)), name: 'Cashier', password: '1234' }), expect: ADMINS },
  { name: 'add operator (other)', method: 'POST', path: (i) => `/api/merchants/${i.other}/operators`, body: () => ({ operatorNo: String(10 + (++seq % 80)), name: 'Cashier', password: '1234' }), expect: PLATFORM_ONLY },
  { name: 'view own operator', method: 'GET', path: (i) => `/api/merchants/${i.mine}/operators/01`, expect: ADMINS },
  { name: "view other merchant's operator", method: 'GET', path: (i) => `/api/merchants/${i.other}/operators/01`, expect: PLATFORM_ONLY },
  { name: 'disable own operator', method: 'POST', path: (i) => `/api/merchants/${i.mine}/operators/01/disable`, expect: ADMINS },
  { name: "disable other merchant's operator", method: 'POST', path: (i) => `/api/merchants/${i.other}/operators/01/disable`, expect: PLATFORM_ONLY },
  { name: 'enable own operator', method: 'POST', path: (i) => `/api/merchants/${i.mine}/operators/01/enable`, expect: ADMINS },
  { name: "enable other merchant's operator", method: 'POST', path: (i) => `/api/merchants/${i.other}/operators/01/enable`, expect: PLATFORM_ONLY },
  { name: 'unlock own operator', method: 'POST', path: (i) => `/api/merchants/${i.mine}/operators/01/unlock`, expect: ADMINS },
  { name: "unlock other merchant's operator", method: 'POST', path: (i) => `/api/merchants/${i.other}/operators/01/unlock`, expect: PLATFORM_ONLY },
  { name: 'reset own operator password', method: 'POST', path: (i) => `/api/merchants/${i.mine}/operators/01/password`, body: () => ({ password: '4321' }), expect: ADMINS },
  { name: "reset other merchant's operator password", method: 'POST', path: (i) => `/api/merchants/${i.other}/operators/01/password`, body: () => ({ password: '4321' }), expect: PLATFORM_ONLY },
  { name: 'own operator role', method: 'PUT', path: (i) => `/api/merchants/${i.mine}/operators/01/role`, body: () => ({ role: 'cashier' }), expect: ADMINS },
  { name: "other merchant's operator role", method: 'PUT', path: (i) => `/api/merchants/${i.other}/operators/01/role`, body: () => ({ role: 'cashier' }), expect: PLATFORM_ONLY },
  { name: 'own operator permission', method: 'POST', path: (i) => `/api/merchants/${i.mine}/operators/01/permissions`, body: () => ({ permission: 'refund', effect: 'grant' }), expect: ADMINS },
  { name: "other merchant's operator permission", method: 'POST', path: (i) => `/api/merchants/${i.other}/operators/01/permissions`, body: () => ({ permission: 'refund', effect: 'grant' }), expect: PLATFORM_ONLY },
  { name: 'own operator sessions', method: 'GET', path: (i) => `/api/merchants/${i.mine}/operator-sessions`, expect: ADMINS },
  { name: "other merchant's operator sessions", method: 'GET', path: (i) => `/api/merchants/${i.other}/operator-sessions`, expect: PLATFORM_ONLY },
  { name: 'operator roles', method: 'GET', path: () => '/api/operator-roles', expect: ADMINS },
  { name: 'change an operator role', method: 'PUT', path: () => '/api/operator-roles/cashier/permissions/balance', body: () => ({ allowed: true }), expect: PLATFORM_ONLY },
  { name: 'list users', method: 'GET', path: () => '/api/users', expect: PLATFORM_ONLY },
  { name: 'view user', method: 'GET', path: () => '/api/users/target-user', expect: PLATFORM_ONLY },
  { name: 'create user', method: 'POST', path: () => '/api/users', body: () => ({ username: `made-${String(++seq)}`, role: 'auditor' }), expect: PLATFORM_ONLY },
  { name: 'change permissions', method: 'PATCH', path: () => '/api/users/target-user', body: () => ({ role: 'auditor' }), expect: PLATFORM_ONLY },
  { name: 'unlock user', method: 'POST', path: () => '/api/users/target-user/unlock', expect: PLATFORM_ONLY },
  { name: 'enable user', method: 'POST', path: () => '/api/users/target-user/enable', expect: PLATFORM_ONLY },
  { name: 'disable user', method: 'POST', path: () => '/api/users/spare-user/disable', expect: PLATFORM_ONLY },
  { name: 'reset credentials', method: 'POST', path: () => '/api/users/spare-user/reset-credentials', expect: PLATFORM_ONLY },
  { name: 'audit log', method: 'GET', path: () => '/api/audit/events', expect: AUDIT },
  { name: 'audit export', method: 'GET', path: () => '/api/audit/events.csv', expect: AUDIT },
  { name: 'access-review report', method: 'GET', path: () => '/api/access-review/report', expect: AUDIT },
  { name: 'access reviews', method: 'GET', path: () => '/api/access-review/reviews', expect: AUDIT },
  { name: 'list alerts', method: 'GET', path: () => '/api/alerts', expect: EVERYONE },
  { name: "other merchant's alerts", method: 'GET', path: (i) => `/api/alerts?merchantNo=${i.other}`, expect: AUDIT },
  { name: 'acknowledge own alert', method: 'POST', path: (i) => ackPath(i, 'mine'), expect: ADMINS },
  { name: "acknowledge other merchant's alert", method: 'POST', path: (i) => ackPath(i, 'other'), expect: PLATFORM_ONLY },
  { name: 'record access review', method: 'POST', path: () => '/api/access-review/reviews', body: () => ({ notes: 'quarterly check', changes: [] }), expect: PLATFORM_ONLY },
];

describeBackends('console role matrix', (backend) => {
  const f = new ConsoleFixture(backend, { signInLimits: { perIp: 10_000, perUser: 10_000 } });
  const ids: Ids = { mine: merchantNo(), other: merchantNo(), tid: '10000001' };
  const accounts = {} as Record<Who, Account>;

  beforeAll(async () => {
    await f.start();
    for (const m of [ids.mine, ids.other]) {
      await addMerchant(f.db, { merchantNo: m, name: `Shop ${m}`, mcc: '5411' });
      await addTerminal(f.db, { merchantNo: m, terminalNo: ids.tid });
      await addOperator(f.db, { merchantNo: m, operatorNo: '01', name: 'First cashier', password: '1234' }, { actor: 'cli' });
    }
    accounts.platform = await f.account('padmin', 'platform-admin');
    accounts.merchant = await f.account('madmin', 'merchant-admin', [ids.mine]);
    accounts.auditor = await f.account('auditor1', 'auditor');
    await f.create('target-user', 'auditor');
    await f.create('spare-user', 'auditor');
    for (const whose of ['mine', 'other'] as const) {
      alertIds[whose] = [];
      for (let n = 0; n < 3; n++) {
        const a = await raiseAlert(f.db, { kind: 'sign-on.burst', severity: 'warning', merchantNo: ids[whose], terminalNo: ids.tid, summary: `test alert ${n}` });
        if (a) alertIds[whose].push(a.id);
      }
    }
  });
  afterAll(() => f.stop());

  for (const row of ROWS) {
    for (const who of ['platform', 'merchant', 'auditor'] as const) {
      const want = row.expect[who];
      it(`${row.name}: ${who} → ${want === 'ok' ? 'allowed' : String(want)}`, async () => {
        f.advance(1000); // keep sessions fresh and distinct in time
        const r = await f.http(row.method, row.path(ids), { token: accounts[who].token, ...(row.body ? { body: row.body(ids, 0) } : {}) });
        if (want === 'ok') {
          expect(r.status, r.text).toBeGreaterThanOrEqual(200);
          expect(r.status, r.text).toBeLessThan(300);
        } else {
          expect(r.status, r.text).toBe(want);
          expect(r.body.code).toMatch(/^(forbidden|merchant_out_of_scope)$/);
          expect(r.headers.get('content-type')).toContain('application/problem+json');
        }
      });
    }
  }

  it('no route is left out of the matrix or unauthenticated', async () => {
    const doc = (await f.http('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const covered = new Set(
      ROWS.map(
        (r) =>
          `${r.method} ${r
            .path({ mine: '{merchantNo}', other: '{merchantNo}', tid: '{terminalNo}' })
            .replace(/\/api\/users\/[a-z-]+(?=\/|$)/, '/api/users/{username}')
            .replace(/\/operators\/01(?=\/|$)/, '/operators/{operatorNo}')
            .replace('/operator-roles/cashier/permissions/balance', '/operator-roles/{role}/permissions/{permission}')}`,
      ),
    );
    // Sign-in is public; sign-out, refresh and password change act on the caller's own session (auth.test.ts).
    const skip = new Set(['POST /api/auth/sign-in', 'POST /api/auth/sign-out', 'POST /api/auth/refresh', 'POST /api/auth/password']);
    const missing = documented.filter((d) => !covered.has(d) && !skip.has(d));
    expect(missing).toEqual([]);
    // Without a session every documented route but sign-in answers 401 (before any validation).
    for (const d of documented) {
      if (d === 'POST /api/auth/sign-in') continue;
      const [method, path] = d.split(' ') as [string, string];
      const url = path.replace('{merchantNo}', ids.mine).replace('{terminalNo}', ids.tid).replace('{username}', 'padmin').replace('{operatorNo}', '01').replace('{role}', 'cashier').replace('{permission}', 'sale');
      const r = await f.http(method, url, method === 'GET' ? {} : { body: {} });
      expect(r.status, `${d}: ${r.text}`).toBe(401);
      expect(r.body.code).toBe('unauthenticated');
    }
  });
});
