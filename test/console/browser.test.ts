/**
 * The web console in a real headless Chromium (playwright-core) against a real console on a real
 * port and store: sign-in with TOTP, forced password change, the merchant administrator's view,
 * ordering a re-key, the audit log and its CSV export, alerts, sign-out and idle re-authentication.
 * Skipped (with a warning) when no Chromium is installed; CI installs one.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../../src/risk/alerts.js';
import { addMerchant, addTerminal, getTerminal, listEvents } from '../../src/store/index.js';
import { addOperator } from '../../src/store/operators.js';
import { describeBackends, merchantNo } from '../store/helpers.js';
import { ConsoleFixture } from './fixture.js';

const CHROMIUM = process.env['QIANDAO_CHROMIUM'] ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (set QIANDAO_CHROMIUM)`);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;

/** A wrong code: none of the codes the server accepts (steps now-1..now+1). */
function wrongCode(f: ConsoleFixture, secret: Buffer): string {
  const valid = new Set([-30_000, 0, 30_000].map((d) => {
    f.advance(d);
    const c = f.code(secret);
    f.advance(-d);
    return c;
  }));
  let n = 123456;
  while (valid.has(String(n).padStart(6, '0'))) n = (n + 1) % 1_000_000;
  return String(n).padStart(6, '0');
}

async function newPage(f: ConsoleFixture, width = 1280): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 800 }, baseURL: f.base });
  context.setDefaultTimeout(5000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A refused request (401/403) logs a resource error; CSP violations and script errors are what count.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return { context, page, errors };
}

async function signIn(page: Page, username: string, password: string, code: string): Promise<void> {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.fill('#totp', code);
  await page.click('#sign-in-form button[type=submit]');
}

async function changePassword(page: Page, current: string, next: string): Promise<void> {
  await page.waitForSelector('#password-form');
  await page.fill('#current-password', current);
  await page.fill('#new-password', next);
  await page.fill('#confirm-password', next);
  await page.click('#password-form button[type=submit]');
  await page.waitForSelector('#who-name').catch(async (e: unknown) => {
    throw new Error(`main view not shown: ${String(await page.textContent('main'))}`, { cause: e });
  });
}

const suite: typeof describeBackends = HAVE_CHROMIUM
  ? describeBackends
  : (title) => describe.skip(title, () => it(`needs Chromium at ${CHROMIUM}`, () => undefined));

if (HAVE_CHROMIUM) {
  beforeAll(async () => {
    // launch() gives the browser a fresh temporary user-data dir (removed at close), and every
    // newContext() is a separate, empty cookie jar.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
  });
}

suite('web console in Chromium', (backend) => {
  // Two failures lock an account (a tighter setting than the default 10), so the lockout is cheap to show.
  const f = new ConsoleFixture(backend, { signInLimits: { perIp: 10_000, perUser: 10_000 }, policy: { maxFailures: 2 } });
  const mine = merchantNo();
  const other = merchantNo();
  let root: { context: BrowserContext; page: Page; errors: string[] };
  let merchantAdmin: { context: BrowserContext; page: Page; errors: string[] };

  beforeAll(async () => {
    await f.start();
    await addMerchant(f.db, { merchantNo: mine, name: 'Lotus Tea House', mcc: '5812', timeZone: 'Asia/Shanghai' });
    await addMerchant(f.db, { merchantNo: other, name: 'Other Shop', mcc: '5411' });
    await addTerminal(f.db, { merchantNo: mine, terminalNo: '10000001' });
    await addTerminal(f.db, { merchantNo: mine, terminalNo: '10000002' });
    await addTerminal(f.db, { merchantNo: other, terminalNo: '20000001' });
    await addOperator(f.db, { merchantNo: mine, operatorNo: '01', name: 'Wang Fang', password: '1234' }, { actor: 'cli' });
    // A known last sign-on: 08:00 UTC is 16:00 in Shanghai.
    await f.db.query("UPDATE terminals SET last_sign_on_at = '2026-03-02T08:00:00Z', connection_state = 'online' WHERE merchant_no = $1 AND terminal_no = '10000001'", [mine]);
  });
  afterAll(async () => {
    await root?.context.close();
    await merchantAdmin?.context.close();
    await f.stop();
  });

  it('signs in with a one-time password, forces a password change, then shows the main view', async () => {
    const c = await f.create('root', 'platform-admin');
    root = await newPage(f);
    const { page, context } = root;
    const res = await page.goto('/');
    expect(res?.status()).toBe(200);
    const headers = res?.headers() ?? {};
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-frame-options']).toBe('DENY');

    await signIn(page, 'root', c.password, f.code(c.secret));
    await page.waitForSelector('#password-form');
    expect(await page.textContent('#password-form')).toContain('At least 12 characters with letters and digits, not one of your last 4');
    // Mismatched confirmation is caught in the page; a weak password by the API (its detail shown).
    await page.fill('#current-password', c.password);
    await page.fill('#new-password', 'Console-2026-strong');
    await page.fill('#confirm-password', 'Console-2026-other');
    await page.click('#password-form button[type=submit]');
    expect(await page.textContent('#password-message')).toContain('do not match');
    await page.fill('#new-password', 'only-letters-here');
    await page.fill('#confirm-password', 'only-letters-here');
    await page.click('#password-form button[type=submit]');
    await page.waitForSelector('#password-message >> text=passwords must contain both letters and digits');

    await changePassword(page, c.password, 'Console-2026-strong');
    expect(await page.textContent('#who-name')).toBe('root');
    expect(await page.textContent('#who-role')).toBe('platform-admin');
    expect(await page.isVisible('#tab-audit')).toBe(true);

    // The Secure, HttpOnly session cookie works on http://127.0.0.1 (a potentially trustworthy origin).
    const cookies = await context.cookies();
    const session = cookies.find((k) => k.name === 'qd_session');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict', path: '/api' });
    // Nothing in web storage, and the page cannot read the cookie.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);

    // Both merchants for the platform administrator, with the merchant-status action.
    const options = await page.$$eval('#merchant option', (os) => os.map((o) => o.getAttribute('value')));
    expect(options.sort()).toEqual([mine, other].sort());
    expect(await page.isVisible('#merchant-status')).toBe(true);
    await page.waitForSelector('tr[data-terminal="10000001"]');
    const when = page.locator('tr[data-terminal="10000001"] time');
    expect(await when.textContent()).toBe('2026-03-02 16:00:00');
    expect(await when.getAttribute('title')).toBe('2026-03-02 08:00:00 UTC');
    expect(await page.textContent('tr[data-terminal="10000001"]')).toContain('online');
    await page.screenshot({ path: '/tmp/qd-console.png', fullPage: true });
    expect(root.errors).toEqual([]);
  });

  it('shows the API error for a wrong TOTP code', async () => {
    f.advance(31_000);
    const c = await f.create('wrongcode', 'auditor');
    const { page, context, errors } = await newPage(f);
    try {
      await page.goto('/');
      await signIn(page, 'wrongcode', c.password, wrongCode(f, c.secret));
      const msg = page.locator('#sign-in-message .notice.error');
      await msg.waitFor();
      expect(await msg.textContent()).toBe('wrong username, password or one-time code');
      expect(await page.isVisible('#sign-in-form')).toBe(true);
      expect(await page.isHidden('#top')).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the lockout (423) detail after repeated failures', async () => {
    f.advance(31_000);
    const c = await f.create('lockme', 'auditor');
    const { page, context } = await newPage(f);
    try {
      await page.goto('/');
      const msg = page.locator('#sign-in-message .notice.error');
      // The second failure locks the account (still answered as a plain failure) …
      for (let n = 0; n < 2; n++) {
        await signIn(page, 'lockme', 'not-the-password-1', f.code(c.secret));
        await expect.poll(() => msg.textContent()).toBe('wrong username, password or one-time code');
      }
      // … and then even the right password is refused, with the API's 423 detail.
      await signIn(page, 'lockme', c.password, f.code(c.secret));
      await expect.poll(() => msg.textContent()).toBe('the account is locked after too many failed sign-ins; try again later or ask an administrator');
      expect(await page.isVisible('#sign-in-form')).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('shows an auditor the alerts (without acknowledging) and the audit log, nothing else', async () => {
    f.advance(31_000);
    const c = await f.create('auditor1', 'auditor');
    const { page, context, errors } = await newPage(f);
    try {
      await page.goto('/');
      await signIn(page, 'auditor1', c.password, f.code(c.secret));
      await changePassword(page, c.password, 'Auditor-view-2026');
      const tabs = await page.locator('#tabs .tab').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-view')));
      expect(tabs).toEqual(['alerts', 'audit']);
      const alert = await raiseAlert(f.db, { kind: 'sign-on.burst', severity: 'info', merchantNo: other, terminalNo: '20000009', summary: 'seen by the auditor' });
      await page.click('#tab-alerts');
      const row = page.locator(`tr[data-alert="${alert?.id}"]`);
      await row.waitFor();
      expect(await row.locator('button').count()).toBe(0); // read-only: no Acknowledge
      await page.click('#tab-audit');
      await page.waitForSelector('#audit-filters');
      expect(await page.$('#merchant')).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('serves the page assets with their content types and security headers', async () => {
    for (const [path, type] of [
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'],
    ] as const) {
      const r = await f.http('GET', path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(type);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    // Data is rendered through DOM nodes: no HTML-string sinks in the script.
    expect((await f.http('GET', '/app.js')).text).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/);
    expect((await f.http('GET', '/nothing.js')).status).toBe(404);
  });

  it("shows a merchant administrator only their merchant's terminals, no platform-only actions, and orders a re-key", async () => {
    f.advance(31_000);
    const c = await f.create('madmin', 'merchant-admin', [mine]);
    merchantAdmin = await newPage(f);
    const { page } = merchantAdmin;
    await page.goto('/');
    await signIn(page, 'madmin', c.password, f.code(c.secret));
    await changePassword(page, c.password, 'Merchant-admin-2026');
    expect(await page.textContent('#who-role')).toBe('merchant-admin');
    const options = await page.$$eval('#merchant option', (os) => os.map((o) => o.getAttribute('value')));
    expect(options).toEqual([mine]);
    await page.waitForSelector('tr[data-terminal]');
    const tids = await page.$$eval('tr[data-terminal]', (rows) => rows.map((r) => r.getAttribute('data-terminal')));
    expect(tids.sort()).toEqual(['10000001', '10000002']);
    expect(await page.$('#tab-audit')).toBeNull();
    expect(await page.$('#merchant-status')).toBeNull();

    await page.click('tr[data-terminal="10000002"] button[data-action="rekey"]');
    await page.waitForSelector('tr[data-terminal="10000002"] >> text=re-key requested');
    expect(await page.textContent('#status')).toContain('Re-key ordered for terminal 10000002');
    expect((await getTerminal(f.db, { merchantNo: mine, terminalNo: '10000002' }))?.rekeyRequested).toBe(true);
    expect((await getTerminal(f.db, { merchantNo: mine, terminalNo: '10000001' }))?.rekeyRequested).toBe(false);
    const events = await listEvents(f.db, { type: 'console.terminal.rekey-requested' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'user:madmin', merchantNo: mine, terminalNo: '10000002', ok: true });
    expect(await page.isDisabled('tr[data-terminal="10000002"] button[data-action="rekey"]')).toBe(true);

    // Sign-on history panel for a terminal.
    await page.click('tr[data-terminal="10000001"] button:has-text("Sign-ons")');
    await page.waitForSelector('#h-sign-ons');
    expect(await page.textContent('#h-sign-ons')).toBe('Sign-on history of terminal 10000001');

    // The API refuses another merchant even when asked directly from the page.
    const status = await page.evaluate(async (mid) => (await fetch(`/api/merchants/${mid}/terminals`, { credentials: 'same-origin' })).status, other);
    expect(status).toBe(403);
    expect(merchantAdmin.errors).toEqual([]);
  });

  it('resets an operator password and shows the one-time password once', async () => {
    const { page } = merchantAdmin;
    await page.click('#tab-operators');
    await page.waitForSelector('tr[data-operator="01"]');
    expect(await page.textContent('tr[data-operator="01"]')).toContain('Wang Fang');
    page.once('dialog', (d) => void d.accept());
    await page.click('tr[data-operator="01"] button:has-text("Reset password")');
    const otp = page.locator('#one-time-password');
    await otp.waitFor();
    expect(await otp.textContent()).toMatch(/^[0-9]{6}$/);
  });

  it('lists and acknowledges an alert of the merchant', async () => {
    const alert = await raiseAlert(f.db, { kind: 'sign-on.burst', severity: 'warning', merchantNo: mine, terminalNo: '10000001', summary: 'Many sign-ons from 10000001 <b>burst</b>' });
    await raiseAlert(f.db, { kind: 'sign-on.burst', severity: 'critical', merchantNo: other, terminalNo: '20000001', summary: 'other merchant alert' });
    const { page } = merchantAdmin;
    await page.click('#tab-alerts');
    const row = page.locator(`tr[data-alert="${alert?.id}"]`);
    await row.waitFor();
    // Rendered as text, not markup.
    expect(await row.locator('td').nth(4).textContent()).toBe('Many sign-ons from 10000001 <b>burst</b>');
    expect(await page.locator('tr[data-alert]').count()).toBe(1);
    await row.locator('button:has-text("Acknowledge")').click();
    await page.waitForSelector('#status >> text=acknowledged');
    const events = await listEvents(f.db, { type: 'alert.acknowledged' });
    expect(events[0]).toMatchObject({ actor: 'user:madmin', resource: `alert:${alert?.id}` });
  });

  it('filters the audit log and links the CSV export with the same filters', async () => {
    const { page, context } = root;
    await page.click('#tab-audit');
    await page.waitForSelector('#audit-filters');
    await page.fill('#f-actor', 'user:madmin');
    await page.fill('#f-type', 'console.terminal.rekey-requested');
    await page.click('#audit-filters button[type=submit]');
    // (waitForFunction with a string would need 'unsafe-eval', which the page's CSP refuses.)
    await expect.poll(async () => [await page.locator('#audit-body tbody tr').count(), await page.locator('#audit-body td.empty').count()]).toEqual([1, 0]);
    const cells = await page.$$eval('#audit-body tbody tr td', (tds) => tds.map((t) => t.textContent));
    expect(cells[1]).toBe('console.terminal.rekey-requested');
    expect(cells[3]).toBe('user:madmin');
    expect(cells[4]).toBe(`terminal:${mine}/10000002`);
    await page.screenshot({ path: '/tmp/qd-console-audit.png' });

    const href = await page.getAttribute('#audit-csv', 'href');
    expect(href).toBe('/api/audit/events.csv?actor=user%3Amadmin&type=console.terminal.rekey-requested');
    // The link works with the page's own session cookie.
    const csv = await context.request.get(href ?? '');
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const lines = (await csv.text()).trim().split(/\r?\n/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('user:madmin');

    // A time range that excludes everything.
    await page.fill('#f-since', '2020-01-01T00:00');
    await page.fill('#f-until', '2020-01-02T00:00');
    await page.click('#audit-filters button[type=submit]');
    await page.waitForSelector('#audit-body td.empty');
    expect(await page.getAttribute('#audit-csv', 'href')).toContain('since=2020-01-01T00%3A00%3A00.000Z');
    expect(root.errors).toEqual([]);
  });

  it('works in a narrow window without page-wide horizontal scrolling', async () => {
    const { page } = root;
    await page.setViewportSize({ width: 420, height: 800 });
    await page.click('#tab-terminals');
    await page.waitForSelector('tr[data-terminal]');
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: '/tmp/qd-console-narrow.png', fullPage: true });
    // Keyboard: the tabs are reachable and operable without a mouse.
    await page.focus('#tab-operators');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#h-operators');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out to the sign-in screen and the API refuses the old session', async () => {
    const { page, context } = root;
    const token = (await context.cookies()).find((k) => k.name === 'qd_session')?.value;
    expect(token).toBeTruthy();
    expect((await f.http('GET', '/api/auth/me', { token })).status).toBe(200);
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-form');
    expect(await page.textContent('#sign-in-message')).toContain('signed out');
    const after = await f.http('GET', '/api/auth/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('unauthenticated');
    await page.reload();
    await page.waitForSelector('#sign-in-form');
  });

  it('returns to the sign-in screen with a note after 15 minutes idle', async () => {
    const { page } = merchantAdmin;
    f.advance(16 * 60_000);
    await page.click('#tab-terminals');
    await page.waitForSelector('#sign-in-form');
    expect(await page.textContent('#sign-in-message')).toContain('idle for more than 15 minutes');
    expect(await page.isHidden('#top')).toBe(true);
  });
});
