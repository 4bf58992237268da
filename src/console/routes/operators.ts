/**
 * POS operators of a merchant (the supervisor functions): list, add, view, disable/enable,
 * unlock, reset password, change role, grant/revoke permissions, open sessions; and the shared
 * operator roles. Calls src/store/operators.ts, which audits each change in the same transaction.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PERMISSIONS as OPERATOR_PERMISSIONS } from '../../operators/index.js';
import { requireMerchant } from '../../store/index.js';
import {
  addOperator,
  disableOperator,
  enableOperator,
  getOperator,
  grantPermission,
  listOperators,
  listOperatorSessions,
  listRoles,
  resetOperatorPassword,
  revokePermission,
  setOperatorRole,
  setRolePermission,
  unlockOperator,
  type OperatorAudit,
  type OperatorRef,
} from '../../store/operators.js';
import { assertMerchantScope, caller, guard } from '../auth/guard.js';
import { userActor } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { notFound } from '../problem.js';
import { errorResponses, MERCHANT_NO, SECURITY } from '../schemas.js';

const OPERATOR_NO = { type: 'string', pattern: '^[0-9]{2}$', description: 'Operator number, 2 digits (00 supervisor, 99 system administrator)' } as const;
const PASSWORD = { type: 'string', pattern: '^[0-9]{4,12}$', description: 'Digits only: cashiers 4-6, supervisor (00) 6, system administrator (99) 8' } as const;
const PERMISSION = { type: 'string', enum: [...OPERATOR_PERMISSIONS] } as const;
const merchantParams = { type: 'object', required: ['merchantNo'], properties: { merchantNo: MERCHANT_NO } } as const;
const operatorParams = { type: 'object', required: ['merchantNo', 'operatorNo'], properties: { merchantNo: MERCHANT_NO, operatorNo: OPERATOR_NO } } as const;
const DATE = { type: 'string', format: 'date-time' } as const;
const NULLABLE_DATE = { type: ['string', 'null'], format: 'date-time' } as const;

const operatorSchema = {
  type: 'object',
  properties: {
    merchantNo: { type: 'string' },
    operatorNo: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    status: { type: 'string' },
    failedAttempts: { type: 'integer' },
    lockedUntil: NULLABLE_DATE,
    mustChangePassword: { type: 'boolean' },
    passwordChangedAt: DATE,
    createdBy: { type: 'string' },
    changedBy: { type: 'string' },
    createdAt: DATE,
    updatedAt: DATE,
    permissions: { type: 'array', items: { type: 'string' } },
    overrides: { type: 'array', items: { type: 'object', properties: { permission: { type: 'string' }, effect: { type: 'string' } } } },
  },
} as const;

const roleSchema = {
  type: 'object',
  properties: { role: { type: 'string' }, description: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } } },
} as const;

export function operatorRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const who = (request: FastifyRequest): OperatorAudit => ({ actor: userActor(caller(request).user.username), origin: request.ip, now: ctx.clock() });
  const scoped = (request: FastifyRequest): OperatorRef => {
    const ref = request.params as OperatorRef;
    assertMerchantScope(caller(request), ref.merchantNo);
    return ref;
  };

  app.get(
    '/api/merchants/:merchantNo/operators',
    {
      onRequest: guard(ctx, 'operator.read'),
      schema: {
        tags: ['operators'],
        summary: "A merchant's POS operators with effective permissions",
        security: SECURITY,
        params: merchantParams,
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['active', 'disabled'] } } },
        response: { 200: { type: 'object', properties: { operators: { type: 'array', items: operatorSchema } } }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { merchantNo } = request.params as { merchantNo: string };
      const { status } = request.query as { status?: 'active' | 'disabled' };
      assertMerchantScope(caller(request), merchantNo);
      await requireMerchant(ctx.db, merchantNo);
      return { operators: await listOperators(ctx.db, merchantNo, status ? { status } : {}) };
    },
  );

  app.post(
    '/api/merchants/:merchantNo/operators',
    {
      onRequest: guard(ctx, 'operator.write'),
      schema: {
        tags: ['operators'],
        summary: 'Add an operator with an initial password (changed at first use on the terminal)',
        security: SECURITY,
        params: merchantParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['operatorNo', 'name', 'password'],
          properties: { operatorNo: OPERATOR_NO, name: { type: 'string', minLength: 1, maxLength: 40 }, role: { type: 'string', minLength: 1, maxLength: 40 }, password: PASSWORD },
        },
        response: { 201: operatorSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { merchantNo } = request.params as { merchantNo: string };
      const body = request.body as { operatorNo: string; name: string; role?: string; password: string };
      assertMerchantScope(caller(request), merchantNo);
      await requireMerchant(ctx.db, merchantNo);
      const op = await addOperator(ctx.db, { merchantNo, ...body }, who(request));
      return reply.code(201).send(op);
    },
  );

  app.get(
    '/api/merchants/:merchantNo/operators/:operatorNo',
    {
      onRequest: guard(ctx, 'operator.read'),
      schema: { tags: ['operators'], summary: 'One operator', security: SECURITY, params: operatorParams, response: { 200: operatorSchema, ...errorResponses(404) } },
    },
    async (request) => {
      const ref = scoped(request);
      const op = await getOperator(ctx.db, ref);
      if (!op) throw notFound('operator_not_found', `operator ${ref.operatorNo} of merchant ${ref.merchantNo} not found`);
      return op;
    },
  );

  const action = (path: string, summary: string, fn: (ref: OperatorRef, audit: OperatorAudit) => Promise<unknown>): void => {
    app.post(
      `/api/merchants/:merchantNo/operators/:operatorNo/${path}`,
      {
        onRequest: guard(ctx, 'operator.write'),
        schema: { tags: ['operators'], summary, security: SECURITY, params: operatorParams, response: { 200: operatorSchema, ...errorResponses(404) } },
      },
      async (request) => fn(scoped(request), who(request)),
    );
  };
  action('disable', 'Disable an operator (their terminal sessions end)', (ref, a) => disableOperator(ctx.db, ref, a));
  action('enable', 'Re-enable an operator', (ref, a) => enableOperator(ctx.db, ref, a));
  action('unlock', 'Clear an operator lockout', (ref, a) => unlockOperator(ctx.db, ref, a));

  app.post(
    '/api/merchants/:merchantNo/operators/:operatorNo/password',
    {
      onRequest: guard(ctx, 'operator.write'),
      schema: {
        tags: ['operators'],
        summary: 'Reset an operator password (to be changed at next use)',
        security: SECURITY,
        params: operatorParams,
        body: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: PASSWORD } },
        response: { 200: operatorSchema, ...errorResponses(404) },
      },
    },
    async (request) => resetOperatorPassword(ctx.db, scoped(request), (request.body as { password: string }).password, who(request)),
  );

  app.put(
    '/api/merchants/:merchantNo/operators/:operatorNo/role',
    {
      onRequest: guard(ctx, 'operator.write'),
      schema: {
        tags: ['operators'],
        summary: "Change a cashier's role",
        security: SECURITY,
        params: operatorParams,
        body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role: { type: 'string', minLength: 1, maxLength: 40 } } },
        response: { 200: operatorSchema, ...errorResponses(404) },
      },
    },
    async (request) => setOperatorRole(ctx.db, scoped(request), (request.body as { role: string }).role, who(request)),
  );

  app.post(
    '/api/merchants/:merchantNo/operators/:operatorNo/permissions',
    {
      onRequest: guard(ctx, 'operator.write'),
      schema: {
        tags: ['operators'],
        summary: 'Grant or revoke one permission for one operator (over the role)',
        security: SECURITY,
        params: operatorParams,
        body: { type: 'object', additionalProperties: false, required: ['permission', 'effect'], properties: { permission: PERMISSION, effect: { type: 'string', enum: ['grant', 'revoke'] } } },
        response: { 200: operatorSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { permission, effect } = request.body as { permission: string; effect: 'grant' | 'revoke' };
      const ref = scoped(request);
      return effect === 'grant' ? grantPermission(ctx.db, ref, permission, who(request)) : revokePermission(ctx.db, ref, permission, who(request));
    },
  );

  app.get(
    '/api/merchants/:merchantNo/operator-sessions',
    {
      onRequest: guard(ctx, 'operator.read'),
      schema: {
        tags: ['operators'],
        summary: 'Operator sessions on the merchant’s terminals (open only by default)',
        security: SECURITY,
        params: merchantParams,
        querystring: { type: 'object', additionalProperties: false, properties: { all: { type: 'boolean', default: false }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              sessions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    merchantNo: { type: 'string' },
                    terminalNo: { type: 'string' },
                    operatorNo: { type: 'string' },
                    signedOnAt: DATE,
                    lastActivity: DATE,
                    endedAt: NULLABLE_DATE,
                    endReason: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const { merchantNo } = request.params as { merchantNo: string };
      const q = request.query as { all: boolean; limit: number };
      assertMerchantScope(caller(request), merchantNo);
      await requireMerchant(ctx.db, merchantNo);
      return { sessions: await listOperatorSessions(ctx.db, merchantNo, { openOnly: !q.all, limit: q.limit }) };
    },
  );

  app.get(
    '/api/operator-roles',
    {
      onRequest: guard(ctx, 'operator.read'),
      schema: { tags: ['operators'], summary: 'Operator roles and their permissions', security: SECURITY, response: { 200: { type: 'object', properties: { roles: { type: 'array', items: roleSchema } } }, ...errorResponses() } },
    },
    async () => ({ roles: await listRoles(ctx.db) }),
  );

  app.put(
    '/api/operator-roles/:role/permissions/:permission',
    {
      onRequest: guard(ctx, 'operator-role.write'),
      schema: {
        tags: ['operators'],
        summary: 'Allow or remove a permission for an operator role (all merchants)',
        security: SECURITY,
        params: { type: 'object', required: ['role', 'permission'], properties: { role: { type: 'string', minLength: 1, maxLength: 40 }, permission: PERMISSION } },
        body: { type: 'object', additionalProperties: false, required: ['allowed'], properties: { allowed: { type: 'boolean' } } },
        response: { 200: roleSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { role, permission } = request.params as { role: string; permission: string };
      return setRolePermission(ctx.db, role, permission, (request.body as { allowed: boolean }).allowed, who(request));
    },
  );
}
