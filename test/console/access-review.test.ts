import { afterAll, beforeAll, expect, it } from 'vitest';
import { disableIdleAccounts, startConsole } from '../../src/console/index.js';
import { getUser } from '../../src/console/store/users.js';
import { listEvents } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { ConsoleFixture, TEST_SCRYPT, type Account } from './fixture.js';

const DAY = 86_400_000;

describeBackends('console access review (PCI DSS 7.2.4, 8.2.6)', (backend) => {
  const f = new ConsoleFixture(backend, { signInLimits: { perIp: 10_000, perUser: 10_000 } });
  let admin: Account;
  let auditor: Account;
  beforeAll(async () => {
    await f.start();
    admin = await f.account('review-admin', 'platform-admin');
    auditor = await f.account('review-auditor', 'auditor');
    await f.create('never-used', 'auditor');
  });
  afterAll(() => f.stop());

  it('reports every account with permissions and last activity; a review is due when none was made', async () => {
    const r = await f.http('GET', '/api/access-review/report', { token: auditor.token });
    expect(r.status, r.text).toBe(200);
    const names = r.body.accounts.map((a: { username: string }) => a.username);
    expect(names).toEqual(['never-used', 'review-admin', 'review-auditor']);
    const adminLine = r.body.accounts.find((a: { username: string }) => a.username === 'review-admin');
    expect(adminLine.permissions).toContain('user.write');
    expect(adminLine.mfaEnrolled).toBe(true);
    expect(adminLine.lastActivityAt).not.toBeNull();
    expect(adminLine.idleFlag).toBe(false);
    expect(adminLine).not.toHaveProperty('passwordHash');
    expect(r.body.lastReview).toBeNull();
    expect(r.body.reviewOverdue).toBe(true);
  });

  it('records a review (who, when, what changed); the next is due in six months', async () => {
    const bad = await f.http('POST', '/api/access-review/reviews', { token: admin.token, body: { notes: '' } });
    expect(bad.status).toBe(400);
    const r = await f.http('POST', '/api/access-review/reviews', { token: admin.token, body: { notes: 'half-year review', changes: ['disabled never-used'] } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.reviewedBy).toBe('user:review-admin');
    expect(new Date(r.body.reviewedAt).getTime()).toBe(f.now.getTime());
    expect(r.body.changes).toEqual(['disabled never-used']);
    expect(r.body.accounts).toBe(3);
    const report = await f.http('GET', '/api/access-review/report', { token: auditor.token });
    expect(report.body.lastReview.id).toBe(r.body.id);
    const due = new Date(f.now.getTime());
    due.setUTCMonth(due.getUTCMonth() + 6);
    expect(report.body.nextReviewDue).toBe(due.toISOString());
    expect(report.body.reviewOverdue).toBe(false);
    const list = await f.http('GET', '/api/access-review/reviews', { token: auditor.token });
    expect(list.body.reviews).toHaveLength(1);
    const ev = await listEvents(f.db, { type: 'console.access-review.recorded' });
    expect(ev[0]?.actor).toBe('user:review-admin');
  });

  it('flags accounts idle more than 90 days and the job disables them', async () => {
    // The admin stays active; the others are idle.
    f.advance(60 * DAY);
    expect((await f.disableIdle()).length).toBe(0);
    f.advance(31 * DAY - 60_000); // 91 days minus a minute since creation/last use
    const ping = await f.signIn('review-admin', admin.password, admin.secret);
    expect(ping.status).toBe(200);
    // 91 days on, the password has expired too: change it to get a full session.
    expect(ping.body.passwordChangeRequired).toBe(true);
    const changed = await f.http('POST', '/api/auth/password', { token: ping.body.token, body: { currentPassword: admin.password, newPassword: 'Quarter-pass-91d' } });
    expect(changed.status, changed.text).toBe(200);
    f.advance(2 * 60_000);
    const report = await f.http('GET', '/api/access-review/report', { token: changed.body.token });
    const flagged = report.body.accounts.filter((a: { idleFlag: boolean }) => a.idleFlag).map((a: { username: string }) => a.username);
    expect(flagged).toEqual(['never-used', 'review-auditor']);
    expect(report.body.reviewOverdue).toBe(false);

    const disabled = await disableIdleAccounts(f.db, f.clock());
    expect(disabled).toEqual(['never-used', 'review-auditor']);
    expect((await getUser(f.db, 'review-auditor'))?.status).toBe('disabled');
    expect((await getUser(f.db, 'review-admin'))?.status).toBe('active');
    // Idempotent.
    expect(await disableIdleAccounts(f.db, f.clock())).toEqual([]);
    const ev = await listEvents(f.db, { type: 'console.user.disabled-idle' });
    expect(ev.map((e) => e.resource).sort()).toEqual(['user:never-used', 'user:review-auditor']);
    expect(ev[0]?.actor).toBe('system');
    expect(ev[0]?.origin).toBe('scheduler');
    // A disabled account cannot sign in; an administrator can re-enable it.
    f.advance(31_000);
    expect((await f.signIn('review-auditor', auditor.password, auditor.secret)).body.code).toBe('account_disabled');
    const enabled = await f.http('POST', '/api/users/review-auditor/enable', { token: changed.body.token });
    expect(enabled.body.status).toBe('active');
    f.advance(31_000);
    expect((await f.signIn('review-auditor', auditor.password, auditor.secret)).status).toBe(200);
  });

  it('startConsole runs the job at start and serves over HTTP', async () => {
    await f.create('stale-user', 'auditor');
    f.advance(91 * DAY);
    const running = await startConsole({ db: f.db, hsm: f.hsm, clock: f.clock, scrypt: TEST_SCRYPT, port: 0 });
    try {
      expect((await getUser(f.db, 'stale-user'))?.status).toBe('disabled');
      const r = await fetch(`http://127.0.0.1:${running.port}/openapi.json`);
      expect(r.status).toBe(200);
      expect(await running.runJobs()).toEqual([]);
    } finally {
      await running.close();
    }
  });
});
