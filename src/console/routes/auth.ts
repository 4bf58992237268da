/** /api/auth: sign in, sign out, change password, who am I. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { changePassword } from '../auth/accounts.js';
import { caller, guard } from '../auth/guard.js';
import { MAX_PASSWORD_LENGTH } from '../auth/password-policy.js';
import { issueSession, SESSION_COOKIE, type IssuedSession } from '../auth/sessions.js';
import { signIn } from '../auth/sign-in.js';
import { audit, userActor, userResource } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { ProblemError } from '../problem.js';
import { errorResponses, SECURITY } from '../schemas.js';
import { getUser, publicUser } from '../store/users.js';
import { revokeSession, revokeUserSessions } from '../store/sessions.js';

export interface SignInLimits {
  /** Sign-in attempts per client IP per window. */
  perIp: number;
  /** Sign-in attempts per username per window. */
  perUser: number;
  windowMs: number;
}

const sessionResponse = {
  type: 'object',
  properties: {
    token: { type: 'string', description: 'Opaque bearer token (also set as the qd_session cookie)' },
    expiresAt: { type: 'string', format: 'date-time' },
    scope: { type: 'string', enum: ['full', 'password-change'] },
    passwordChangeRequired: { type: 'boolean' },
    user: { $ref: 'User#' },
  },
} as const;

function setSessionCookie(reply: FastifyReply, s: IssuedSession, maxAgeMs: number): void {
  void reply.setCookie(SESSION_COOKIE, s.token, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/api',
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

export function authRoutes(app: FastifyInstance, ctx: ConsoleContext, limits: SignInLimits): void {
  // Per-username limit (the route's own config limits per IP).
  const perUser = app.createRateLimit({
    max: limits.perUser,
    timeWindow: limits.windowMs,
    keyGenerator: (req) => `user:${String((req.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}`,
  });

  app.post(
    '/api/auth/sign-in',
    {
      config: { rateLimit: { max: limits.perIp, timeWindow: limits.windowMs, hook: 'preHandler' } },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with username, password and TOTP code; returns a session token and sets the session cookie',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 },
            totp: { type: 'string', maxLength: 10 },
          },
        },
        response: { 200: sessionResponse, 423: { $ref: 'Problem#' }, 429: { $ref: 'Problem#' }, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const limit = await perUser(request);
      if (!limit.isAllowed && limit.isExceeded) {
        throw new ProblemError(429, 'rate_limited', 'too many sign-in attempts for this user; try again later', { retryAfter: limit.ttlInSeconds });
      }
      const body = request.body as { username: string; password: string; totp?: string };
      const r = await signIn(ctx, body, request.ip);
      setSessionCookie(reply, r.session, ctx.policy.sessionMs);
      return { token: r.session.token, expiresAt: r.session.expiresAt, scope: r.session.scope, passwordChangeRequired: r.passwordChangeRequired, user: r.user };
    },
  );

  app.post(
    '/api/auth/sign-out',
    {
      onRequest: guard(ctx, null, { allowPasswordChange: true }),
      schema: { tags: ['auth'], summary: 'End the session', security: SECURITY, response: { 204: { type: 'null' }, ...errorResponses() } },
    },
    async (request, reply) => {
      const auth = caller(request);
      await revokeSession(ctx.db, auth.tokenHash, ctx.clock());
      await audit(ctx.db, { type: 'console.sign-out', ok: true, actor: userActor(auth.user.username), origin: request.ip, resource: userResource(auth.user.username) });
      void reply.clearCookie(SESSION_COOKIE, { path: '/api' });
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      onRequest: guard(ctx, null, { allowPasswordChange: true }),
      schema: {
        tags: ['auth'],
        summary: 'Rotate the session token: a new token for the same session (same absolute expiry); the old one stops working',
        security: SECURITY,
        response: { 200: sessionResponse, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const auth = caller(request);
      const now = ctx.clock();
      const s = await issueSession(ctx, auth.user.username, auth.scope, request.ip, auth.expiresAt);
      await revokeSession(ctx.db, auth.tokenHash, now);
      setSessionCookie(reply, s, auth.expiresAt.getTime() - now.getTime());
      return { token: s.token, expiresAt: s.expiresAt, scope: s.scope, passwordChangeRequired: s.scope === 'password-change', user: publicUser(auth.user) };
    },
  );

  app.get(
    '/api/auth/me',
    {
      onRequest: guard(ctx, null, { allowPasswordChange: true }),
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and session scope',
        security: SECURITY,
        response: { 200: { type: 'object', properties: { user: { $ref: 'User#' }, scope: { type: 'string' } } }, ...errorResponses() },
      },
    },
    async (request) => {
      const auth = caller(request);
      return { user: publicUser(auth.user), scope: auth.scope };
    },
  );

  app.post(
    '/api/auth/password',
    {
      // Limited like sign-in (per client IP); wrong current passwords also count toward the lockout.
      config: { rateLimit: { max: limits.perIp, timeWindow: limits.windowMs, hook: 'preHandler' } },
      onRequest: guard(ctx, null, { allowPasswordChange: true }),
      schema: {
        tags: ['auth'],
        summary: 'Change your password (at least 12 characters, letters and digits, not one of the last 4); returns a new session',
        security: SECURITY,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['currentPassword', 'newPassword'],
          properties: {
            currentPassword: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 },
            newPassword: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 },
          },
        },
        response: { 200: sessionResponse, 423: { $ref: 'Problem#' }, 429: { $ref: 'Problem#' }, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const auth = caller(request);
      const body = request.body as { currentPassword: string; newPassword: string };
      await changePassword(ctx, auth.user.username, body.currentPassword, body.newPassword, request.ip);
      // Credential change: every session of the user ends; this caller gets a fresh full one (rotation).
      await revokeUserSessions(ctx.db, auth.user.username, ctx.clock());
      const s = await issueSession(ctx, auth.user.username, 'full', request.ip);
      setSessionCookie(reply, s, ctx.policy.sessionMs);
      const fresh = await getUser(ctx.db, auth.user.username);
      return { token: s.token, expiresAt: s.expiresAt, scope: s.scope, passwordChangeRequired: false, user: publicUser(fresh ?? auth.user) };
    },
  );
}
