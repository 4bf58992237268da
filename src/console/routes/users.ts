/** /api/users: back-office accounts (platform administrators only). */
import type { FastifyInstance } from 'fastify';
import { getMerchant, type Db } from '../../store/index.js';
import { createUser, resetCredentials } from '../auth/accounts.js';
import { caller, guard } from '../auth/guard.js';
import { audit, userActor, userResource } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { badRequest, conflict, notFound } from '../problem.js';
import { isMerchantScoped, type Role } from '../roles.js';
import { errorResponses, MERCHANT_NO, ROLE, SECURITY, USERNAME } from '../schemas.js';
import { revokeUserSessions } from '../store/sessions.js';
import { clearLock, getUser, listUsers, publicUser, setUserMerchants, setUserRole, setUserStatus } from '../store/users.js';

const userParams = { type: 'object', required: ['username'], properties: { username: USERNAME } } as const;

export function userRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/users',
    {
      onRequest: guard(ctx, 'user.read'),
      schema: { tags: ['users'], summary: 'All back-office users', security: SECURITY, response: { 200: { type: 'object', properties: { users: { type: 'array', items: { $ref: 'User#' } } } }, ...errorResponses() } },
    },
    async () => ({ users: (await listUsers(ctx.db)).map(publicUser) }),
  );

  app.post(
    '/api/users',
    {
      onRequest: guard(ctx, 'user.write'),
      schema: {
        tags: ['users'],
        summary: 'Create a user: returns a one-time password (to change at first sign-in) and a TOTP enrolment URI, shown once',
        security: SECURITY,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'role'],
          properties: { username: USERNAME, role: ROLE, merchants: { type: 'array', maxItems: 1000, items: MERCHANT_NO } },
        },
        response: { 201: { $ref: 'IssuedCredentials#' }, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const body = request.body as { username: string; role: Role; merchants?: string[] };
      const issued = await createUser(ctx, body, { actor: userActor(caller(request).user.username), origin: request.ip });
      return reply.code(201).header('cache-control', 'no-store').send(issued);
    },
  );

  app.get(
    '/api/users/:username',
    {
      onRequest: guard(ctx, 'user.read'),
      schema: { tags: ['users'], summary: 'One user', security: SECURITY, params: userParams, response: { 200: { $ref: 'User#' }, ...errorResponses(404) } },
    },
    async (request) => {
      const { username } = request.params as { username: string };
      const u = await getUser(ctx.db, username);
      if (!u) throw notFound('user_not_found', `user ${username} not found`);
      return publicUser(u);
    },
  );

  app.patch(
    '/api/users/:username',
    {
      onRequest: guard(ctx, 'user.write'),
      schema: {
        tags: ['users'],
        summary: "Change a user's role or merchants (a permission change: the user's sessions end)",
        security: SECURITY,
        params: userParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { role: ROLE, merchants: { type: 'array', maxItems: 1000, items: MERCHANT_NO } },
        },
        response: { 200: { $ref: 'User#' }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { username } = request.params as { username: string };
      const body = request.body as { role?: Role; merchants?: string[] };
      const auth = caller(request);
      if (username === auth.user.username) throw conflict('self_change', 'you may not change your own permissions');
      return ctx.db.transaction(async (tx) => {
        const before = await getUser(tx, username);
        if (!before) throw notFound('user_not_found', `user ${username} not found`);
        const role = body.role ?? before.role;
        const merchants = body.merchants ?? (isMerchantScoped(role) ? before.merchants : []);
        if (isMerchantScoped(role) && merchants.length === 0) throw badRequest('merchants_required', 'a merchant administrator needs at least one merchant');
        if (!isMerchantScoped(role) && merchants.length > 0) throw badRequest('merchants_not_allowed', `a ${role} is not limited to merchants`);
        for (const m of merchants) if ((await getMerchant(tx, m)) === null) throw badRequest('unknown_merchant', `merchant ${m} does not exist`);
        const now = ctx.clock();
        await setUserRole(tx, username, role, now);
        await setUserMerchants(tx, username, merchants);
        const ended = await revokeUserSessions(tx, username, now);
        await audit(tx, {
          type: 'console.user.permissions',
          ok: true,
          actor: userActor(auth.user.username),
          origin: request.ip,
          resource: userResource(username),
          detail: { from: { role: before.role, merchants: before.merchants }, to: { role, merchants }, sessionsEnded: ended },
        });
        const after = await getUser(tx, username);
        return publicUser(after ?? before);
      });
    },
  );

  const statusChange = (path: string, summary: string, type: string, apply: (tx: Db, username: string, now: Date) => Promise<unknown>): void => {
    app.post(
      `/api/users/:username/${path}`,
      {
        onRequest: guard(ctx, 'user.write'),
        schema: { tags: ['users'], summary, security: SECURITY, params: userParams, response: { 200: { $ref: 'User#' }, ...errorResponses(404) } },
      },
      async (request) => {
        const { username } = request.params as { username: string };
        const auth = caller(request);
        if (username === auth.user.username) throw conflict('self_change', 'you may not change your own account this way');
        if ((await getUser(ctx.db, username)) === null) throw notFound('user_not_found', `user ${username} not found`);
        const now = ctx.clock();
        return ctx.db.transaction(async (tx) => {
          await apply(tx, username, now);
          await audit(tx, { type, ok: true, actor: userActor(auth.user.username), origin: request.ip, resource: userResource(username) });
          const u = await getUser(tx, username);
          if (!u) throw notFound('user_not_found', `user ${username} not found`);
          return publicUser(u);
        });
      },
    );
  };

  statusChange('disable', 'Disable a user (their sessions end)', 'console.user.disabled', async (tx, username, now) => {
    await setUserStatus(tx, username, 'disabled', 'disabled by an administrator', now);
    await revokeUserSessions(tx, username, now);
  });
  statusChange('enable', 'Re-enable a disabled user (clears any lockout; counts as activity)', 'console.user.enabled', (tx, username, now) =>
    setUserStatus(tx, username, 'active', null, now),
  );
  statusChange('unlock', 'Clear a lockout', 'console.user.unlocked', (tx, username, now) => clearLock(tx, username, now));

  app.post(
    '/api/users/:username/reset-credentials',
    {
      onRequest: guard(ctx, 'user.write'),
      schema: {
        tags: ['users'],
        summary: 'Issue a new one-time password and TOTP enrolment (sessions end; shown once)',
        security: SECURITY,
        params: userParams,
        response: { 200: { $ref: 'IssuedCredentials#' }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { username } = request.params as { username: string };
      const auth = caller(request);
      if (username === auth.user.username) throw conflict('self_change', 'ask another administrator to reset your credentials');
      const issued = await resetCredentials(ctx, username, { actor: userActor(auth.user.username), origin: request.ip });
      return reply.header('cache-control', 'no-store').send(issued);
    },
  );
}
