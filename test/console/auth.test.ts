import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { ConsoleFixture } from './fixture.js';

const MIN = 60_000;
const DAY = 86_400_000;

describeBackends('console authentication', (backend) => {
  // Rate limits out of the way here; they have their own suite below.
  const f = new ConsoleFixture(backend, { signInLimits: { perIp: 10_000, perUser: 10_000 } });
  beforeAll(() => f.start());
  afterAll(() => f.stop());

  it('a one-time password signs in to a password-change-only session', async () => {
    const c = await f.create('otp-user', 'platform-admin');
    const r = await f.signIn('otp-user', c.password, c.secret);
    expect(r.status, r.text).toBe(200);
    expect(r.body.passwordChangeRequired).toBe(true);
    expect(r.body.scope).toBe('password-change');
    const refused = await f.http('GET', '/api/merchants', { token: r.body.token });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('password_change_required');
    // The new password must follow the rules.
    const weak = await f.http('POST', '/api/auth/password', { token: r.body.token, body: { currentPassword: c.password, newPassword: 'short1' } });
    expect(weak.status).toBe(400);
    expect(weak.body.code).toBe('password_too_short');
    const same = await f.http('POST', '/api/auth/password', { token: r.body.token, body: { currentPassword: c.password, newPassword: c.password } });
    expect(same.body.code).toBe('password_reused');
    const ok = await f.http('POST', '/api/auth/password', { token: r.body.token, body: { currentPassword: c.password, newPassword: 'Brand-new-pass-77' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.scope).toBe('full');
    // Rotation: the old token is dead, the new one works.
    expect(ok.body.token).not.toBe(r.body.token);
    expect((await f.http('GET', '/api/auth/me', { token: r.body.token })).status).toBe(401);
    expect((await f.http('GET', '/api/merchants', { token: ok.body.token })).status).toBe(200);
  });

  it('session token: HttpOnly Secure SameSite=Strict cookie, works as cookie, stored only as SHA-256', async () => {
    const a = await f.account('cookie-user', 'platform-admin');
    f.advance(31_000);
    const r = await f.signIn('cookie-user', a.password, a.secret);
    expect(r.status, r.text).toBe(200);
    const setCookie = r.headers.get('set-cookie') ?? '';
    expect(setCookie).toContain(`qd_session=${r.body.token}`);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const viaCookie = await f.http('GET', '/api/auth/me', { headers: { cookie: `qd_session=${r.body.token}` } });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.body.user.username).toBe('cookie-user');
    expect(viaCookie.body.user).not.toHaveProperty('passwordHash');
    const rows = await f.db.query<{ token_hash: string }>(`SELECT token_hash FROM console_sessions WHERE username = 'cookie-user'`);
    const hashes = rows.rows.map((x) => x.token_hash);
    expect(hashes).toContain(createHash('sha256').update(r.body.token).digest('hex'));
    expect(hashes).not.toContain(r.body.token);
    // Rotation on demand: a new token, the same absolute expiry, the old token dead.
    f.advance(60_000);
    const rotated = await f.http('POST', '/api/auth/refresh', { token: r.body.token });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.token).not.toBe(r.body.token);
    expect(rotated.body.expiresAt).toBe(r.body.expiresAt);
    expect(rotated.headers.get('set-cookie')).toContain(`qd_session=${rotated.body.token}`);
    expect((await f.http('GET', '/api/auth/me', { token: r.body.token })).body.code).toBe('unauthenticated');
    r.body.token = rotated.body.token;
    // Sign-out ends the session.
    expect((await f.http('POST', '/api/auth/sign-out', { token: r.body.token })).status).toBe(204);
    expect((await f.http('GET', '/api/auth/me', { token: r.body.token })).status).toBe(401);
  });

  it('TOTP is required for administrators; wrong and replayed codes are refused; ±1 step accepted', async () => {
    const a = await f.account('mfa-user', 'merchant-admin', []).catch(() => null);
    expect(a).toBeNull(); // a merchant administrator needs merchants
    const m = await f.create('mfa-admin', 'platform-admin');
    const noCode = await f.signIn('mfa-admin', m.password, null);
    expect(noCode.status).toBe(401);
    expect(noCode.body.code).toBe('mfa_required');
    f.advance(31_000);
    const wrong = await f.signIn('mfa-admin', m.password, m.secret, f.code(m.secret) === '000000' ? '111111' : '000000');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');
    // A wrong code counts towards the lockout like a wrong password.
    const counted = await f.db.query<{ failed_attempts: number }>(`SELECT failed_attempts FROM console_users WHERE username = 'mfa-admin'`);
    expect(Number(counted.rows[0]?.failed_attempts)).toBe(1);
    const code = f.code(m.secret);
    expect((await f.signIn('mfa-admin', m.password, m.secret, code)).status).toBe(200);
    const replay = await f.signIn('mfa-admin', m.password, m.secret, code);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('invalid_credentials');
    // The previous step's code (clock drift) is accepted once time has moved on.
    f.advance(60_000);
    const prev = new Date(f.now.getTime() - 30_000);
    const { totp } = await import('../../src/console/auth/totp.js');
    expect((await f.signIn('mfa-admin', m.password, m.secret, totp(m.secret, prev))).status).toBe(200);
    // The TOTP secret is stored encrypted: neither its hex nor base32 appear in the table.
    const stored = await f.db.query<{ secret_enc: string }>(`SELECT secret_enc FROM console_totp WHERE username = 'mfa-admin'`);
    expect(stored.rows[0]?.secret_enc).not.toContain(m.secret.toString('hex'));
    expect(stored.rows[0]?.secret_enc.length).toBe(64);
  });

  it('an unknown user gets the same answer as a wrong password', async () => {
    const r = await f.http('POST', '/api/auth/sign-in', { body: { username: 'nobody-here', password: 'whatever-123', totp: '123456' } });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('invalid_credentials');
  });

  it('locks the account after 10 failures for 30 minutes, audited', async () => {
    const a = await f.account('lock-user', 'platform-admin');
    for (let i = 0; i < 10; i++) {
      f.advance(1000);
      const r = await f.signIn('lock-user', 'wrong-password-1', a.secret);
      expect(r.status).toBe(401);
    }
    f.advance(31_000);
    const locked = await f.signIn('lock-user', a.password, a.secret);
    expect(locked.status).toBe(423);
    expect(locked.body.code).toBe('account_locked');
    f.advance(29 * MIN);
    expect((await f.signIn('lock-user', a.password, a.secret)).status).toBe(423);
    f.advance(MIN);
    const ok = await f.signIn('lock-user', a.password, a.secret);
    expect(ok.status, ok.text).toBe(200);
    const lockouts = await listEvents(f.db, { type: 'console.lockout', resource: 'user:lock-user' });
    expect(lockouts).toHaveLength(1);
    const failures = await listEvents(f.db, { type: 'console.sign-in', actor: 'user:lock-user', ok: false });
    expect(failures.length).toBeGreaterThanOrEqual(11);
    for (const e of failures) {
      expect(e.origin).toBe('127.0.0.1');
      expect(e.resource).toBe('user:lock-user');
      expect(JSON.stringify(e.detail)).not.toContain('wrong-password-1');
    }
    const success = await listEvents(f.db, { type: 'console.sign-in', actor: 'user:lock-user', ok: true });
    expect(success.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses reuse of any of the last 4 passwords', async () => {
    const a = await f.account('reuse-user', 'platform-admin');
    let token = a.token;
    let current = a.password;
    const used = [current];
    for (const p of ['Second-pass-0002', 'Third-pass-00003', 'Fourth-pass-0004']) {
      const r = await f.http('POST', '/api/auth/password', { token, body: { currentPassword: current, newPassword: p } });
      expect(r.status, r.text).toBe(200);
      token = r.body.token;
      current = p;
      used.push(p);
    }
    // The last 4 (including the current one) are refused.
    for (const old of used) {
      const r = await f.http('POST', '/api/auth/password', { token, body: { currentPassword: current, newPassword: old } });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('password_reused');
    }
    const fifth = await f.http('POST', '/api/auth/password', { token, body: { currentPassword: current, newPassword: 'Fifth-pass-00005' } });
    expect(fifth.status).toBe(200);
    // Now the oldest one (the first changed-to password) has dropped out of the history.
    const back = await f.http('POST', '/api/auth/password', { token: fifth.body.token, body: { currentPassword: 'Fifth-pass-00005', newPassword: used[0] } });
    expect(back.status, back.text).toBe(200);
    const wrongCurrent = await f.http('POST', '/api/auth/password', { token: back.body.token, body: { currentPassword: 'not-my-pass-1', newPassword: 'Sixth-pass-000006' } });
    expect(wrongCurrent.status).toBe(403);
    expect(wrongCurrent.body.code).toBe('wrong_password');
  });

  it('wrong current passwords on the password-change endpoint lock the account and end its sessions', async () => {
    const a = await f.account('guess-user', 'platform-admin');
    for (let i = 1; i < 10; i++) {
      const r = await f.http('POST', '/api/auth/password', { token: a.token, body: { currentPassword: `guess-number-${i}`, newPassword: 'Never-set-00001' } });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('wrong_password');
    }
    const tenth = await f.http('POST', '/api/auth/password', { token: a.token, body: { currentPassword: 'guess-number-10', newPassword: 'Never-set-00001' } });
    expect(tenth.status).toBe(423);
    expect(tenth.body.code).toBe('account_locked');
    // The session is gone, and the right password cannot be used from it any more.
    const after = await f.http('POST', '/api/auth/password', { token: a.token, body: { currentPassword: a.password, newPassword: 'Never-set-00001' } });
    expect(after.status).toBe(401);
  });

  it('a password older than 90 days forces a change at sign-in', async () => {
    const a = await f.account('aging-user', 'platform-admin');
    f.advance(89 * DAY);
    const early = await f.signIn('aging-user', a.password, a.secret);
    expect(early.body.passwordChangeRequired).toBe(false);
    f.advance(DAY);
    const r = await f.signIn('aging-user', a.password, a.secret);
    expect(r.status).toBe(200);
    expect(r.body.passwordChangeRequired).toBe(true);
    expect((await f.http('GET', '/api/merchants', { token: r.body.token })).body.code).toBe('password_change_required');
  });

  it('15 minutes idle needs re-authentication; 12 hours is the absolute limit', async () => {
    const a = await f.account('idle-user', 'platform-admin');
    f.advance(14 * MIN);
    expect((await f.http('GET', '/api/auth/me', { token: a.token })).status).toBe(200);
    f.advance(15 * MIN);
    const idle = await f.http('GET', '/api/auth/me', { token: a.token });
    expect(idle.status).toBe(401);
    expect(idle.body.code).toBe('reauth_required');
    expect(idle.headers.get('content-type')).toContain('application/problem+json');
    expect((await f.http('GET', '/api/auth/me', { token: a.token })).body.code).toBe('unauthenticated');

    f.advance(31_000);
    const s = await f.signIn('idle-user', a.password, a.secret);
    for (let i = 0; i < 12 * 6 - 1; i++) {
      f.advance(10 * MIN);
      expect((await f.http('GET', '/api/auth/me', { token: s.body.token })).status).toBe(200);
    }
    f.advance(10 * MIN);
    const expired = await f.http('GET', '/api/auth/me', { token: s.body.token });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('session_expired');
  });

  it('a permission change ends the user’s sessions', async () => {
    const admin = await f.account('perm-admin', 'platform-admin');
    const other = await f.account('perm-target', 'auditor');
    expect((await f.http('GET', '/api/audit/events', { token: other.token })).status).toBe(200);
    const r = await f.http('PATCH', '/api/users/perm-target', { token: admin.token, body: { role: 'platform-admin' } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.role).toBe('platform-admin');
    expect((await f.http('GET', '/api/audit/events', { token: other.token })).status).toBe(401);
    const ev = await listEvents(f.db, { type: 'console.user.permissions', resource: 'user:perm-target' });
    expect(ev[0]?.actor).toBe('user:perm-admin');
    expect(ev[0]?.detail).toMatchObject({ from: { role: 'auditor' }, to: { role: 'platform-admin' } });
  });

  it('a disabled account cannot sign in and its sessions end', async () => {
    const admin = await f.account('dis-admin', 'platform-admin');
    const u = await f.account('dis-user', 'auditor');
    expect((await f.http('POST', '/api/users/dis-user/disable', { token: admin.token })).status).toBe(200);
    expect((await f.http('GET', '/api/audit/events', { token: u.token })).status).toBe(401);
    f.advance(31_000);
    const r = await f.signIn('dis-user', u.password, u.secret);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('account_disabled');
  });
});

describeBackends('console sign-in rate limits', (backend) => {
  const f = new ConsoleFixture(backend, { signInLimits: { perIp: 5, perUser: 2, windowMs: 60_000 } });
  beforeAll(() => f.start());
  afterAll(() => f.stop());

  it('limits attempts per username, then per IP, with problem documents', async () => {
    const attempt = (username: string) => f.http('POST', '/api/auth/sign-in', { body: { username, password: 'guess-guess-1', totp: '000000' } });
    expect((await attempt('victim')).status).toBe(401);
    expect((await attempt('victim')).status).toBe(401);
    const limited = await attempt('victim');
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect((await attempt('someone-else')).status).toBe(401);
    expect((await attempt('third-user')).status).toBe(401);
    const perIp = await attempt('fourth-user');
    expect(perIp.status).toBe(429);
    expect(perIp.body.code).toBe('rate_limited');
  });
});

describe('console policy bounds', () => {
  it('refuses settings looser than PCI DSS v4', async () => {
    const { buildConsole } = await import('../../src/console/index.js');
    const stub = {} as never;
    await expect(buildConsole({ db: stub, hsm: stub, policy: { maxFailures: 11 } })).rejects.toThrow(/8\.3\.4/);
    await expect(buildConsole({ db: stub, hsm: stub, policy: { lockoutMs: 29 * MIN } })).rejects.toThrow(/30 minutes/);
    await expect(buildConsole({ db: stub, hsm: stub, policy: { idleMs: 16 * MIN } })).rejects.toThrow(/8\.2\.8/);
    await expect(buildConsole({ db: stub, hsm: stub, policy: { passwordMaxAgeDays: 91 } })).rejects.toThrow(/8\.3\.9/);
  });
});
