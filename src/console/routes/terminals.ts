/** /api/merchants/:merchantNo/terminals: register, view, disable/enable, order a re-key, sign-on history. */
import type { FastifyInstance } from 'fastify';
import {
  addTerminal,
  isStoreError,
  listEvents,
  listKeyGenerations,
  listTerminals,
  requestRekey,
  requireMerchant,
  requireTerminal,
  setTerminalStatus,
  type Terminal,
  type TerminalStatus,
} from '../../store/index.js';
import { assertMerchantScope, caller, guard } from '../auth/guard.js';
import { audit, userActor } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { conflict } from '../problem.js';
import { errorResponses, MERCHANT_NO, SECURITY, TERMINAL_NO } from '../schemas.js';

const merchantParams = { type: 'object', required: ['merchantNo'], properties: { merchantNo: MERCHANT_NO } } as const;
const terminalParams = { type: 'object', required: ['merchantNo', 'terminalNo'], properties: { merchantNo: MERCHANT_NO, terminalNo: TERMINAL_NO } } as const;

/** Event types that make up a terminal's sign-on history besides its key generations. */
export const SIGN_ON_EVENT_TYPES = ['sign-on.refused', 'sign-off', 'operator.sign-on', 'operator.sign-off', 'operator.locked'];

/** The console never shows key blocks; only whether a TMK is loaded and its check value. */
export function terminalView(t: Terminal): Record<string, unknown> {
  const { tmkBlock, ...rest } = t;
  return { ...rest, tmkLoaded: tmkBlock !== null };
}

export function terminalRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/merchants/:merchantNo/terminals',
    {
      onRequest: guard(ctx, 'terminal.read'),
      schema: {
        tags: ['terminals'],
        summary: "A merchant's terminals and their status",
        security: SECURITY,
        params: merchantParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['active', 'disabled'] },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'object', properties: { terminals: { type: 'array', items: { $ref: 'Terminal#' } } } }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { merchantNo } = request.params as { merchantNo: string };
      const q = request.query as { status?: TerminalStatus; limit: number; offset: number };
      assertMerchantScope(caller(request), merchantNo);
      await requireMerchant(ctx.db, merchantNo);
      const list = await listTerminals(ctx.db, { merchantNo, ...(q.status ? { status: q.status } : {}), limit: q.limit, offset: q.offset });
      return { terminals: list.map(terminalView) };
    },
  );

  app.post(
    '/api/merchants/:merchantNo/terminals',
    {
      onRequest: guard(ctx, 'terminal.write'),
      schema: {
        tags: ['terminals'],
        summary: 'Register a terminal (its TMK is loaded separately, with `qiandao tmk`)',
        security: SECURITY,
        params: merchantParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['terminalNo'],
          properties: {
            terminalNo: TERMINAL_NO,
            model: { type: 'string', minLength: 1, maxLength: 100 },
            serial: { type: 'string', minLength: 1, maxLength: 100 },
          },
        },
        response: { 201: { $ref: 'Terminal#' }, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { merchantNo } = request.params as { merchantNo: string };
      const body = request.body as { terminalNo: string; model?: string; serial?: string };
      const auth = caller(request);
      assertMerchantScope(auth, merchantNo);
      await requireMerchant(ctx.db, merchantNo);
      try {
        const t = await ctx.db.transaction(async (tx) => {
          const created = await addTerminal(tx, { merchantNo, terminalNo: body.terminalNo, model: body.model ?? null, serial: body.serial ?? null });
          await audit(tx, {
            type: 'console.terminal.registered',
            ok: true,
            actor: userActor(auth.user.username),
            origin: request.ip,
            resource: `terminal:${merchantNo}/${body.terminalNo}`,
            merchantNo,
            terminalNo: body.terminalNo,
          });
          return created;
        });
        return reply.code(201).send(terminalView(t));
      } catch (e) {
        if (isStoreError(e, 'DUPLICATE')) throw conflict('terminal_exists', `terminal ${body.terminalNo} of merchant ${merchantNo} already exists`);
        throw e;
      }
    },
  );

  app.get(
    '/api/merchants/:merchantNo/terminals/:terminalNo',
    {
      onRequest: guard(ctx, 'terminal.read'),
      schema: { tags: ['terminals'], summary: 'One terminal: status, connection, keys (check values only)', security: SECURITY, params: terminalParams, response: { 200: { $ref: 'Terminal#' }, ...errorResponses(404) } },
    },
    async (request) => {
      const ref = request.params as { merchantNo: string; terminalNo: string };
      assertMerchantScope(caller(request), ref.merchantNo);
      return terminalView(await requireTerminal(ctx.db, ref));
    },
  );

  app.post(
    '/api/merchants/:merchantNo/terminals/:terminalNo/status',
    {
      onRequest: guard(ctx, 'terminal.write'),
      schema: {
        tags: ['terminals'],
        summary: 'Disable or re-enable a terminal',
        security: SECURITY,
        params: terminalParams,
        body: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: { type: 'string', enum: ['active', 'disabled'] } } },
        response: { 200: { $ref: 'Terminal#' }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const ref = request.params as { merchantNo: string; terminalNo: string };
      const { status } = request.body as { status: TerminalStatus };
      const auth = caller(request);
      assertMerchantScope(auth, ref.merchantNo);
      return ctx.db.transaction(async (tx) => {
        const t = await setTerminalStatus(tx, ref, status);
        await audit(tx, {
          type: 'console.terminal.status',
          ok: true,
          actor: userActor(auth.user.username),
          origin: request.ip,
          resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
          merchantNo: ref.merchantNo,
          terminalNo: ref.terminalNo,
          detail: { status },
        });
        return terminalView(t);
      });
    },
  );

  app.post(
    '/api/merchants/:merchantNo/terminals/:terminalNo/rekey',
    {
      onRequest: guard(ctx, 'terminal.write'),
      schema: { tags: ['terminals'], summary: 'Order a re-key: the terminal is asked to sign on again for new working keys', security: SECURITY, params: terminalParams, response: { 200: { $ref: 'Terminal#' }, ...errorResponses(404) } },
    },
    async (request) => {
      const ref = request.params as { merchantNo: string; terminalNo: string };
      const auth = caller(request);
      assertMerchantScope(auth, ref.merchantNo);
      return ctx.db.transaction(async (tx) => {
        const t = await requestRekey(tx, ref);
        await audit(tx, {
          type: 'console.terminal.rekey-requested',
          ok: true,
          actor: userActor(auth.user.username),
          origin: request.ip,
          resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
          merchantNo: ref.merchantNo,
          terminalNo: ref.terminalNo,
        });
        return terminalView(t);
      });
    },
  );

  app.get(
    '/api/merchants/:merchantNo/terminals/:terminalNo/sign-ons',
    {
      onRequest: guard(ctx, 'terminal.read'),
      schema: {
        tags: ['terminals'],
        summary: 'Sign-on history: key generations issued (check values only) and refused sign-ons / sign-offs',
        security: SECURITY,
        params: terminalParams,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              generations: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    generation: { type: 'integer' },
                    scheme: { type: 'string' },
                    pikKcv: { type: 'string' },
                    makKcv: { type: 'string' },
                    tdkKcv: { type: ['string', 'null'] },
                    createdAt: { type: 'string', format: 'date-time' },
                    supersededAt: { type: ['string', 'null'], format: 'date-time' },
                  },
                },
              },
              events: { type: 'array', items: { $ref: 'AuditEvent#' } },
            },
          },
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const ref = request.params as { merchantNo: string; terminalNo: string };
      const { limit } = request.query as { limit: number };
      assertMerchantScope(caller(request), ref.merchantNo);
      await requireTerminal(ctx.db, ref);
      const generations = await listKeyGenerations(ctx.db, ref, limit);
      const events = await listEvents(ctx.db, { merchantNo: ref.merchantNo, terminalNo: ref.terminalNo, types: SIGN_ON_EVENT_TYPES, limit });
      return {
        generations: generations.map((g) => ({ generation: g.generation, scheme: g.scheme, pikKcv: g.pikKcv, makKcv: g.makKcv, tdkKcv: g.tdkKcv, createdAt: g.createdAt, supersededAt: g.supersededAt })),
        events,
      };
    },
  );
}
