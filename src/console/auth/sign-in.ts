/**
 * Sign-in: password (scrypt), lockout after `maxFailures` failures for `lockoutMs` (PCI DSS
 * 8.3.4), TOTP for users with an enrolment — administrators always (8.4.1/8.4.2) — and a
 * restricted session when the password is one-time or older than 90 days (8.3.5, 8.3.9).
 * Every outcome is audited (10.2.1.4, 10.2.1.5). The answer to a wrong username is the same as
 * to a wrong password.
 */
import { hashPassword, verifyPassword } from '../../crypto/password.js';
import type { Hsm } from '../../crypto/hsm/index.js';
import { audit, userActor, userResource } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { ProblemError } from '../problem.js';
import { mfaRequired } from '../roles.js';
import { clearLock, getUser, publicUser, recordFailure, recordSignIn, type ConsoleUser } from '../store/users.js';
import { getTotp, useTotpStep } from '../store/totp.js';
import { passwordExpired } from './password-policy.js';
import { openSecret } from './secret-box.js';
import { issueSession, type IssuedSession } from './sessions.js';
import { verifyTotp } from './totp.js';

export interface SignInInput {
  username: string;
  password: string;
  totp?: string | undefined;
}

export interface SignInResult {
  session: IssuedSession;
  user: ConsoleUser;
  passwordChangeRequired: boolean;
}

let dummyHash: Promise<string> | null = null;

/** Spend the time of one verification when the user does not exist (no username probing by timing). */
async function burnVerification(ctx: Pick<ConsoleContext, 'scrypt'>, password: string): Promise<void> {
  dummyHash ??= hashPassword('qiandao-no-such-user-0', ctx.scrypt);
  await verifyPassword(password, await dummyHash).catch(() => false);
}

const invalid = (): ProblemError => new ProblemError(401, 'invalid_credentials', 'wrong username, password or one-time code');

export async function signIn(ctx: ConsoleContext & { hsm: Hsm }, input: SignInInput, origin: string): Promise<SignInResult> {
  const { db } = ctx;
  const now = ctx.clock();
  const username = input.username.toLowerCase();
  const base = { actor: userActor(username), origin, resource: userResource(username) };
  const failed = async (reason: string, err: ProblemError = invalid()): Promise<never> => {
    await audit(db, { ...base, type: 'console.sign-in', ok: false, detail: { reason } });
    throw err;
  };

  const user = await getUser(db, username);
  const enrolment = user ? await getTotp(db, username) : null;
  const codeGiven = input.totp !== undefined && input.totp !== '';
  // Every account is enrolled at creation, so a missing code is answered before the password is
  // looked at, the same way for unknown users: the answer reveals nothing about the password.
  if (!codeGiven && (user === null || enrolment !== null || mfaRequired(user.role))) {
    await audit(db, { ...base, type: 'console.sign-in', ok: false, detail: { reason: 'TOTP code required' } });
    throw new ProblemError(401, 'mfa_required', 'a one-time code (TOTP) is required with the password');
  }
  if (!user) {
    await burnVerification(ctx, input.password);
    return failed('unknown user');
  }
  if (user.lockedUntil !== null) {
    if (user.lockedUntil.getTime() > now.getTime()) {
      return failed(
        'account locked',
        new ProblemError(423, 'account_locked', 'the account is locked after too many failed sign-ins; try again later or ask an administrator', {
          lockedUntil: user.lockedUntil.toISOString(),
        }),
      );
    }
    await clearLock(db, username, now);
  }

  const onFailure = async (reason: string): Promise<never> => {
    const state = await recordFailure(db, username, now, ctx.policy.maxFailures, ctx.policy.lockoutMs);
    await audit(db, { ...base, type: 'console.sign-in', ok: false, detail: { reason, failedAttempts: state.failedAttempts } });
    if (state.lockedUntil !== null && state.failedAttempts === ctx.policy.maxFailures) {
      await audit(db, { ...base, type: 'console.lockout', ok: true, detail: { failedAttempts: state.failedAttempts, lockedUntil: state.lockedUntil.toISOString() } });
    }
    throw invalid();
  };

  if (!(await verifyPassword(input.password, user.passwordHash))) return onFailure('wrong password');
  if (enrolment === null && mfaRequired(user.role)) {
    return failed('no TOTP enrolment', new ProblemError(403, 'mfa_not_enrolled', 'administrators need a TOTP enrolment; ask a platform administrator to reset the credentials'));
  }
  if (enrolment !== null) {
    const secret = await openSecret(db, ctx.hsm, enrolment);
    let step: number | null;
    try {
      step = verifyTotp(secret, input.totp ?? '', now, enrolment.lastStep);
    } finally {
      secret.fill(0);
    }
    if (step === null || !(await useTotpStep(db, username, step))) return onFailure('wrong or replayed TOTP code');
  }
  if (user.status !== 'active') {
    return failed('account disabled', new ProblemError(403, 'account_disabled', 'the account is disabled; ask an administrator'));
  }

  await recordSignIn(db, username, now);
  const passwordChangeRequired = user.mustChangePassword || passwordExpired(user.passwordChangedAt, now, ctx.policy.passwordMaxAgeDays);
  const session = await issueSession(ctx, username, passwordChangeRequired ? 'password-change' : 'full', origin);
  await audit(db, { ...base, type: 'console.sign-in', ok: true, detail: { mfa: enrolment !== null, passwordChangeRequired } });
  const fresh = await getUser(db, username);
  return { session, user: publicUser(fresh ?? user), passwordChangeRequired };
}
