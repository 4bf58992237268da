/** What every part of the console shares: store, HSM, clock and the authentication policy. */
import type { Hsm } from '../crypto/hsm/index.js';
import type { ScryptParams } from '../crypto/password.js';
import type { Db } from '../store/index.js';

export interface AuthPolicy {
  /** Failed sign-ins before the account locks (PCI DSS 8.3.4: at most 10). */
  maxFailures: number;
  /** Lockout duration (8.3.4: at least 30 minutes). */
  lockoutMs: number;
  /** Idle time after which the session needs re-authentication (8.2.8: 15 minutes). */
  idleMs: number;
  /** Absolute session lifetime. */
  sessionMs: number;
  /** Password age limit in days (8.3.9: 90). */
  passwordMaxAgeDays: number;
  /** Accounts idle longer than this are disabled (8.2.6: 90 days). */
  accountIdleDays: number;
}

export const DEFAULT_POLICY: Readonly<AuthPolicy> = Object.freeze({
  maxFailures: 10,
  lockoutMs: 30 * 60_000,
  idleMs: 15 * 60_000,
  sessionMs: 12 * 3_600_000,
  passwordMaxAgeDays: 90,
  accountIdleDays: 90,
});

export interface ConsoleContext {
  db: Db;
  hsm: Hsm;
  clock: () => Date;
  policy: AuthPolicy;
  /** scrypt cost for new password hashes; undefined = the library default. */
  scrypt: ScryptParams | undefined;
}
