/**
 * Account life cycle: create a user (one-time password + TOTP enrolment), reset credentials,
 * change a password under the policy. Used by the API and by `qiandao user add`.
 */
import { hashPassword, verifyPassword } from '../../crypto/password.js';
import type { Hsm } from '../../crypto/hsm/index.js';
import { getMerchant, type Db } from '../../store/index.js';
import { audit, userResource } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { badRequest, conflict, notFound, ProblemError } from '../problem.js';
import { isMerchantScoped, type Role } from '../roles.js';
import { getUser, insertUser, passwordHistory, publicUser, recordFailure, setPassword, type ConsoleUser } from '../store/users.js';
import { revokeUserSessions } from '../store/sessions.js';
import { putTotp } from '../store/totp.js';
import { checkPasswordRules, initialPassword, isReused } from './password-policy.js';
import { sealSecret } from './secret-box.js';
import { newTotpSecret, otpauthUri } from './totp.js';

export const USERNAME_RE = /^[a-z][a-z0-9._-]{2,63}$/;

export interface NewUserInput {
  username: string;
  role: Role;
  merchants?: readonly string[];
}

export interface IssuedCredentials {
  user: ConsoleUser;
  /** Shown once; must be changed at first sign-in. */
  initialPassword: string;
  /** otpauth:// enrolment URI for an authenticator app; shown once. */
  totpUri: string;
}

async function checkMerchants(db: Db, role: Role, merchants: readonly string[]): Promise<void> {
  if (isMerchantScoped(role) && merchants.length === 0) throw badRequest('merchants_required', 'a merchant administrator needs at least one merchant');
  if (!isMerchantScoped(role) && merchants.length > 0) throw badRequest('merchants_not_allowed', `a ${role} is not limited to merchants`);
  for (const m of merchants) {
    if ((await getMerchant(db, m)) === null) throw badRequest('unknown_merchant', `merchant ${m} does not exist`);
  }
}

async function enrolTotp(db: Db, hsm: Hsm, username: string, now: Date): Promise<string> {
  const secret = newTotpSecret();
  try {
    await putTotp(db, username, await sealSecret(db, hsm, secret), now);
    return otpauthUri(secret, username);
  } finally {
    secret.fill(0);
  }
}

export async function createUser(
  ctx: Pick<ConsoleContext, 'db' | 'hsm' | 'clock' | 'scrypt'>,
  input: NewUserInput,
  by: { actor: string; origin: string },
): Promise<IssuedCredentials> {
  const username = input.username;
  if (!USERNAME_RE.test(username)) throw badRequest('invalid_username', 'usernames are 3-64 characters: a lower-case letter, then letters, digits, . _ -');
  const merchants = input.merchants ?? [];
  const now = ctx.clock();
  const password = initialPassword();
  const hash = await hashPassword(password, ctx.scrypt);
  const result = await ctx.db.transaction(async (tx) => {
    if ((await getUser(tx, username)) !== null) throw conflict('user_exists', `user ${username} already exists`);
    await checkMerchants(tx, input.role, merchants);
    await insertUser(tx, { username, role: input.role, merchants, passwordHash: hash, createdBy: by.actor, now });
    const totpUri = await enrolTotp(tx, ctx.hsm, username, now);
    await audit(tx, {
      type: 'console.user.created',
      ok: true,
      actor: by.actor,
      origin: by.origin,
      resource: userResource(username),
      detail: { role: input.role, merchants: [...merchants] },
    });
    const user = await getUser(tx, username);
    if (!user) throw new ProblemError(500, 'internal_error', 'user vanished');
    return { user: publicUser(user), totpUri };
  });
  return { ...result, initialPassword: password };
}

/** New one-time password and a new TOTP enrolment; sessions revoked, lock cleared. */
export async function resetCredentials(
  ctx: Pick<ConsoleContext, 'db' | 'hsm' | 'clock' | 'scrypt'>,
  username: string,
  by: { actor: string; origin: string },
): Promise<IssuedCredentials> {
  const now = ctx.clock();
  const password = initialPassword();
  const hash = await hashPassword(password, ctx.scrypt);
  const result = await ctx.db.transaction(async (tx) => {
    if ((await getUser(tx, username)) === null) throw notFound('user_not_found', `user ${username} not found`);
    await setPassword(tx, username, hash, now, true);
    await tx.query(`UPDATE console_users SET failed_attempts = 0, locked_until = NULL WHERE username = $1`, [username]);
    await revokeUserSessions(tx, username, now);
    const totpUri = await enrolTotp(tx, ctx.hsm, username, now);
    await audit(tx, { type: 'console.user.credentials-reset', ok: true, actor: by.actor, origin: by.origin, resource: userResource(username) });
    const user = await getUser(tx, username);
    if (!user) throw notFound('user_not_found', `user ${username} not found`);
    return { user: publicUser(user), totpUri };
  });
  return { ...result, initialPassword: password };
}

/**
 * Change a user's own password: the current one must verify, the new one must pass the rules and
 * differ from the last four. Audited either way.
 */
export async function changePassword(
  ctx: Pick<ConsoleContext, 'db' | 'clock' | 'scrypt' | 'policy'>,
  username: string,
  current: string,
  next: string,
  origin: string,
): Promise<void> {
  const fail = async (code: string, detail: string, status = 400): Promise<never> => {
    await audit(ctx.db, { type: 'console.password.change', ok: false, actor: `user:${username}`, origin, resource: userResource(username), detail: { reason: code } });
    throw new ProblemError(status, code, detail);
  };
  const user = await getUser(ctx.db, username);
  if (!user) return fail('user_not_found', 'user not found', 404);
  if (!(await verifyPassword(current, user.passwordHash))) {
    // A wrong current password counts like a failed sign-in (PCI DSS 8.3.4): a stolen session
    // cannot guess the password without limit. At the limit the account locks and every session ends.
    const now = ctx.clock();
    const state = await recordFailure(ctx.db, username, now, ctx.policy.maxFailures, ctx.policy.lockoutMs);
    if (state.lockedUntil !== null && state.failedAttempts >= ctx.policy.maxFailures) {
      await revokeUserSessions(ctx.db, username, now);
      await audit(ctx.db, { type: 'console.lockout', ok: true, actor: `user:${username}`, origin, resource: userResource(username), detail: { failedAttempts: state.failedAttempts, lockedUntil: state.lockedUntil.toISOString(), via: 'password-change' } });
      return fail('account_locked', 'too many wrong passwords: the account is locked and signed out', 423);
    }
    return fail('wrong_password', 'the current password is wrong', 403);
  }
  const violation = checkPasswordRules(next, username);
  if (violation) return fail(violation.code, violation.detail);
  if (await isReused(next, await passwordHistory(ctx.db, username))) {
    return fail('password_reused', 'the new password must differ from the last 4 passwords');
  }
  const hash = await hashPassword(next, ctx.scrypt);
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    await setPassword(tx, username, hash, now, false);
    await audit(tx, { type: 'console.password.change', ok: true, actor: `user:${username}`, origin, resource: userResource(username) });
  });
}
