/**
 * A running console on a real port over a fresh store (either back end), with a movable clock,
 * plus helpers to create users and sign them in (password + TOTP) over HTTP.
 */
import type { FastifyInstance } from 'fastify';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { buildConsole, createUser, disableIdleAccounts, type ConsoleOptions, type Role } from '../../src/console/index.js';
import { base32Decode, totp } from '../../src/console/auth/totp.js';
import type { Db } from '../../src/store/index.js';
import type { Backend } from '../store/helpers.js';

export const LMK = '0123456789ABCDEFFEDCBA98765432100123456789ABCDEFFEDCBA9876543210';
/** Cheapest scrypt cost the library accepts, so lockout tests stay fast. */
export const TEST_SCRYPT = { logN: 10, r: 8, p: 1 };

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface Account {
  username: string;
  password: string;
  secret: Buffer;
  token: string;
}

export class ConsoleFixture {
  now = new Date('2026-03-02T08:00:00.000Z');
  app!: FastifyInstance;
  db!: Db;
  hsm!: SoftHsm;
  base = '';
  #n = 0;

  constructor(
    private readonly backend: Backend,
    private readonly options: Partial<ConsoleOptions> = {},
  ) {}

  readonly clock = (): Date => new Date(this.now.getTime());

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  async start(): Promise<void> {
    this.db = await this.backend.open();
    this.hsm = await SoftHsm.open({ lmkHex: LMK, env: {}, logger: { warn: () => undefined } });
    this.app = await buildConsole({ db: this.db, hsm: this.hsm, clock: this.clock, scrypt: TEST_SCRYPT, ...this.options });
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = this.app.server.address();
    if (typeof addr !== 'object' || addr === null) throw new Error('no address');
    this.base = `http://127.0.0.1:${addr.port}`;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.hsm?.close();
    if (this.db) await this.backend.dispose(this.db);
  }

  async http(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    const res = await fetch(this.base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = undefined;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  /** Create a user directly (as `qiandao user add` does). */
  async create(username: string, role: Role, merchants: string[] = []): Promise<{ password: string; secret: Buffer; uri: string }> {
    const issued = await createUser({ db: this.db, hsm: this.hsm, clock: this.clock, scrypt: TEST_SCRYPT }, { username, role, merchants }, { actor: 'cli', origin: 'cli' });
    return { password: issued.initialPassword, secret: secretOf(issued.totpUri), uri: issued.totpUri };
  }

  disableIdle(): Promise<string[]> {
    return disableIdleAccounts(this.db, this.clock());
  }

  code(secret: Buffer): string {
    return totp(secret, this.now);
  }

  signIn(username: string, password: string, secret: Buffer | null, code?: string): Promise<HttpResult> {
    return this.http('POST', '/api/auth/sign-in', {
      body: { username, password, ...(secret !== null ? { totp: code ?? this.code(secret) } : {}) },
    });
  }

  /** Create, sign in with the one-time password, change it: a user with a full session. */
  async account(username: string, role: Role, merchants: string[] = []): Promise<Account> {
    const c = await this.create(username, role, merchants);
    const first = await this.signIn(username, c.password, c.secret);
    if (first.status !== 200) throw new Error(`sign-in failed: ${first.text}`);
    const password = `Fresh-pass-${String(++this.#n)}-2026x`;
    const changed = await this.http('POST', '/api/auth/password', { token: first.body.token, body: { currentPassword: c.password, newPassword: password } });
    if (changed.status !== 200) throw new Error(`password change failed: ${changed.text}`);
    return { username, password, secret: c.secret, token: changed.body.token };
  }
}

export function secretOf(uri: string): Buffer {
  const s = new URL(uri).searchParams.get('secret');
  if (s === null) throw new Error('no secret in URI');
  return base32Decode(s);
}
