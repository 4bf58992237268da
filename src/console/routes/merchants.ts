/** /api/merchants: list, add, view, change status. */
import type { FastifyInstance } from 'fastify';
import { addMerchant, listMerchants, requireMerchant, setMerchantStatus, type MerchantStatus } from '../../store/index.js';
import { assertMerchantScope, caller, guard, merchantFilter } from '../auth/guard.js';
import { audit, userActor } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { conflict } from '../problem.js';
import { errorResponses, MERCHANT_NO, SECURITY } from '../schemas.js';
import { isStoreError } from '../../store/index.js';

const STATUS = { type: 'string', enum: ['active', 'suspended', 'closed'] } as const;
const merchantParams = { type: 'object', required: ['merchantNo'], properties: { merchantNo: MERCHANT_NO } } as const;

export function merchantRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/merchants',
    {
      onRequest: guard(ctx, 'merchant.read'),
      schema: {
        tags: ['merchants'],
        summary: 'List merchants (merchant administrators see only theirs)',
        security: SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: STATUS, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, offset: { type: 'integer', minimum: 0, default: 0 } },
        },
        response: { 200: { type: 'object', properties: { merchants: { type: 'array', items: { $ref: 'Merchant#' } } } }, ...errorResponses() },
      },
    },
    async (request) => {
      const q = request.query as { status?: MerchantStatus; limit: number; offset: number };
      const scope = merchantFilter(caller(request));
      if (scope !== null) {
        const all = [];
        for (const m of scope) {
          const merchant = await requireMerchant(ctx.db, m).catch(() => null);
          if (merchant && (q.status === undefined || merchant.status === q.status)) all.push(merchant);
        }
        return { merchants: all.slice(q.offset, q.offset + q.limit) };
      }
      return { merchants: await listMerchants(ctx.db, { ...(q.status ? { status: q.status } : {}), limit: q.limit, offset: q.offset }) };
    },
  );

  app.post(
    '/api/merchants',
    {
      onRequest: guard(ctx, 'merchant.write'),
      schema: {
        tags: ['merchants'],
        summary: 'Add a merchant',
        security: SECURITY,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['merchantNo', 'name', 'mcc'],
          properties: {
            merchantNo: MERCHANT_NO,
            name: { type: 'string', minLength: 1, maxLength: 200 },
            mcc: { type: 'string', pattern: '^[0-9]{4}$' },
            timeZone: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: { 201: { $ref: 'Merchant#' }, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const body = request.body as { merchantNo: string; name: string; mcc: string; timeZone?: string };
      const actor = userActor(caller(request).user.username);
      try {
        const m = await ctx.db.transaction(async (tx) => {
          const created = await addMerchant(tx, body);
          await audit(tx, { type: 'console.merchant.added', ok: true, actor, origin: request.ip, resource: `merchant:${body.merchantNo}`, merchantNo: body.merchantNo, detail: { name: body.name, mcc: body.mcc } });
          return created;
        });
        return reply.code(201).send(m);
      } catch (e) {
        if (isStoreError(e, 'DUPLICATE')) throw conflict('merchant_exists', `merchant ${body.merchantNo} already exists`);
        throw e;
      }
    },
  );

  app.get(
    '/api/merchants/:merchantNo',
    {
      onRequest: guard(ctx, 'merchant.read'),
      schema: { tags: ['merchants'], summary: 'One merchant', security: SECURITY, params: merchantParams, response: { 200: { $ref: 'Merchant#' }, ...errorResponses(404) } },
    },
    async (request) => {
      const { merchantNo } = request.params as { merchantNo: string };
      assertMerchantScope(caller(request), merchantNo);
      return requireMerchant(ctx.db, merchantNo);
    },
  );

  app.post(
    '/api/merchants/:merchantNo/status',
    {
      onRequest: guard(ctx, 'merchant.write'),
      schema: {
        tags: ['merchants'],
        summary: 'Suspend, close or reactivate a merchant',
        security: SECURITY,
        params: merchantParams,
        body: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: STATUS } },
        response: { 200: { $ref: 'Merchant#' }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { merchantNo } = request.params as { merchantNo: string };
      const { status } = request.body as { status: MerchantStatus };
      const actor = userActor(caller(request).user.username);
      return ctx.db.transaction(async (tx) => {
        const m = await setMerchantStatus(tx, merchantNo, status);
        await audit(tx, { type: 'console.merchant.status', ok: true, actor, origin: request.ip, resource: `merchant:${merchantNo}`, merchantNo, detail: { status } });
        return m;
      });
    },
  );
}
