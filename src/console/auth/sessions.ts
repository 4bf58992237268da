/**
 * Sessions: an opaque 256-bit random bearer token, also sent as a cookie (HttpOnly, Secure,
 * SameSite=Strict). The store keeps only its SHA-256. A session ends after 15 minutes idle
 * (re-authentication, PCI DSS 8.2.8), after 12 hours in any case, at sign-out, and when the
 * user's privileges or credentials change (a new sign-in issues a new token: rotation).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ConsoleContext } from '../context.js';
import { unauthorized } from '../problem.js';
import { findSession, insertSession, revokeSession, touchSession, type SessionScope } from '../store/sessions.js';
import { getUser, touchActivity, type ConsoleUserWithHash } from '../store/users.js';

export const SESSION_COOKIE = 'qd_session';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface IssuedSession {
  token: string;
  scope: SessionScope;
  expiresAt: Date;
}

export async function issueSession(
  ctx: Pick<ConsoleContext, 'db' | 'clock' | 'policy'>,
  username: string,
  scope: SessionScope,
  origin: string | null,
  /** Keep an existing absolute expiry (token rotation must not extend a session). */
  keepExpiry?: Date,
): Promise<IssuedSession> {
  const token = randomBytes(32).toString('base64url');
  const now = ctx.clock();
  const expiresAt = keepExpiry ?? new Date(now.getTime() + ctx.policy.sessionMs);
  await insertSession(ctx.db, { tokenHash: hashToken(token), username, scope, now, expiresAt, origin });
  return { token, scope, expiresAt };
}

export interface Authenticated {
  user: ConsoleUserWithHash;
  scope: SessionScope;
  tokenHash: string;
  expiresAt: Date;
}

/**
 * Resolve a token to its user, or throw a 401 problem: `unauthenticated` (no/unknown/revoked
 * token), `session_expired` (12 h), `reauth_required` (idle 15 min; the session is ended).
 */
export async function authenticate(ctx: Pick<ConsoleContext, 'db' | 'clock' | 'policy'>, token: string | undefined): Promise<Authenticated> {
  if (token === undefined || token === '' || token.length > 200) throw unauthorized('unauthenticated', 'sign in first (bearer token or session cookie)');
  const tokenHash = hashToken(token);
  const s = await findSession(ctx.db, tokenHash);
  if (!s || s.revokedAt !== null) throw unauthorized('unauthenticated', 'the session is not valid; sign in again');
  const now = ctx.clock();
  if (now.getTime() >= s.expiresAt.getTime()) {
    await revokeSession(ctx.db, tokenHash, now);
    throw unauthorized('session_expired', 'the session has reached its maximum lifetime; sign in again');
  }
  if (now.getTime() - s.lastSeenAt.getTime() >= ctx.policy.idleMs) {
    await revokeSession(ctx.db, tokenHash, now);
    throw unauthorized('reauth_required', `the session was idle for more than ${Math.round(ctx.policy.idleMs / 60_000)} minutes; sign in again`);
  }
  const user = await getUser(ctx.db, s.username);
  if (!user || user.status !== 'active') {
    await revokeSession(ctx.db, tokenHash, now);
    throw unauthorized('unauthenticated', 'the account is disabled');
  }
  await touchSession(ctx.db, tokenHash, now);
  await touchActivity(ctx.db, user.username, now);
  return { user, scope: s.scope, tokenHash, expiresAt: s.expiresAt };
}
