import { afterAll, beforeAll, expect, it } from 'vitest';
import { addMerchant } from '../../src/store/index.js';
import { describeBackends, merchantNo } from '../store/helpers.js';
import { ConsoleFixture, type Account } from './fixture.js';

function expectProblem(r: { status: number; headers: Headers; body: Record<string, unknown> }, status: number, code: string): void {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.body).toMatchObject({ status, code, type: `https://qiandao.dev/problems/${code}` });
  expect(typeof r.body['title']).toBe('string');
  expect(typeof r.body['detail']).toBe('string');
}

describeBackends('console problem documents and OpenAPI', (backend) => {
  const f = new ConsoleFixture(backend, { signInLimits: { perIp: 10_000, perUser: 10_000 } });
  let admin: Account;
  const mid = merchantNo();
  beforeAll(async () => {
    await f.start();
    admin = await f.account('prob-admin', 'platform-admin');
    await addMerchant(f.db, { merchantNo: mid, name: 'Shop', mcc: '5411' });
  });
  afterAll(() => f.stop());

  it('bad input is a 400 with validation details', async () => {
    const r = await f.http('POST', '/api/merchants', { token: admin.token, body: { merchantNo: '123', name: 'x', mcc: '54', extra: 1 } });
    expectProblem(r, 400, 'validation_failed');
    expect(r.body.instance).toBe('/api/merchants');
    expect(Array.isArray(r.body.errors)).toBe(true);
    expect(r.body.errors[0].path).toMatch(/^body/);
    const missing = await f.http('POST', '/api/users', { token: admin.token, body: { role: 'auditor' } });
    expectProblem(missing, 400, 'validation_failed');
    expect(missing.body.errors[0].path).toBe('body/username');
    const extra = await f.http('POST', '/api/access-review/reviews', { token: admin.token, body: { notes: 'n', sneaky: true } });
    expectProblem(extra, 400, 'validation_failed');
    expect(extra.body.errors[0].path).toBe('body/sneaky');
    const badRole = await f.http('POST', '/api/users', { token: admin.token, body: { username: 'new-user', role: 'root' } });
    expectProblem(badRole, 400, 'validation_failed');
    const badParam = await f.http('GET', '/api/merchants/short', { token: admin.token });
    expectProblem(badParam, 400, 'validation_failed');
    expect(badParam.body.errors[0].path).toMatch(/^params/);
  });

  it('malformed JSON and unknown routes are problems too', async () => {
    const r = await f.http('POST', '/api/auth/sign-in', { body: '{"username":' });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expectProblem(await f.http('GET', '/api/nothing-here', { token: admin.token }), 404, 'route_not_found');
  });

  it('store and policy errors map to 404 / 409 / 400', async () => {
    expectProblem(await f.http('GET', `/api/merchants/${merchantNo()}`, { token: admin.token }), 404, 'not_found');
    expectProblem(await f.http('POST', '/api/merchants', { token: admin.token, body: { merchantNo: mid, name: 'Again', mcc: '5411' } }), 409, 'merchant_exists');
    expectProblem(await f.http('POST', '/api/users', { token: admin.token, body: { username: 'prob-admin', role: 'auditor' } }), 409, 'user_exists');
    expectProblem(await f.http('POST', '/api/users', { token: admin.token, body: { username: 'scoped-x', role: 'merchant-admin' } }), 400, 'merchants_required');
    expectProblem(
      await f.http('POST', '/api/users', { token: admin.token, body: { username: 'scoped-y', role: 'merchant-admin', merchants: [merchantNo()] } }),
      400,
      'unknown_merchant',
    );
    // Supervisor (00) passwords are 6 digits: the operator policy answers 400.
    expectProblem(await f.http('POST', `/api/merchants/${mid}/operators`, { token: admin.token, body: { operatorNo: '00', name: 'Boss', password: '1234' } }), 400, 'bad_password');
    expectProblem(await f.http('PATCH', '/api/users/prob-admin', { token: admin.token, body: { role: 'auditor' } }), 409, 'self_change');
  });

  it('created users get credentials once; hashes are never returned', async () => {
    const r = await f.http('POST', '/api/users', { token: admin.token, body: { username: 'fresh-one', role: 'merchant-admin', merchants: [mid] } });
    expect(r.status, r.text).toBe(201);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.initialPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(r.body.totpUri).toMatch(/^otpauth:\/\/totp\/qiandao:fresh-one\?secret=[A-Z2-7]+/);
    expect(r.body.user.merchants).toEqual([mid]);
    const list = await f.http('GET', '/api/users', { token: admin.token });
    expect(list.text).not.toMatch(/scrypt|passwordHash|password_hash/);
    expect(list.text).not.toContain(r.body.initialPassword);
    // The new user can sign in with the one-time password and code.
    const secret = new URL(r.body.totpUri).searchParams.get('secret');
    expect(secret).not.toBeNull();
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = await f.http('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.components.securitySchemes.bearerAuth.scheme).toBe('bearer');
    expect(doc.body.paths['/api/auth/sign-in'].post.requestBody).toBeDefined();
    expect(doc.body.paths['/api/merchants/{merchantNo}/terminals'].get.security).toEqual([{ bearerAuth: [] }, { cookieAuth: [] }]);
    const ui = await fetch(`${f.base}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });
});
