/**
 * /api/alerts: monitoring alerts (sign-on monitor, risk rules) for the people watching terminals.
 * Read with alert.read (administrators and auditors), acknowledge with alert.ack (administrators);
 * merchant administrators see and acknowledge only their merchants' alerts (alerts not tied to a
 * merchant are not shown to them).
 */
import type { FastifyInstance } from 'fastify';
import { acknowledgeAlert, getAlert, listAlerts, RiskError, type Alert, type AlertSeverity, type ListAlertsOptions } from '../../risk/index.js';
import { assertMerchantScope, caller, guard, merchantFilter } from '../auth/guard.js';
import { userActor } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { badRequest, conflict, forbidden, notFound } from '../problem.js';
import { errorResponses, MERCHANT_NO, SECURITY, TERMINAL_NO } from '../schemas.js';

const ALERT_ID = { type: 'string', pattern: '^[0-9]{1,18}$' } as const;
const NULLABLE_STRING = { type: ['string', 'null'] } as const;
const NULLABLE_DATE = { type: ['string', 'null'], format: 'date-time' } as const;

const alertSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    merchantNo: NULLABLE_STRING,
    terminalNo: NULLABLE_STRING,
    operatorNo: NULLABLE_STRING,
    summary: { type: 'string' },
    detail: {},
    raisedAt: { type: 'string', format: 'date-time' },
    acknowledgedAt: NULLABLE_DATE,
    acknowledgedBy: NULLABLE_STRING,
  },
} as const;

interface AlertQuery {
  open?: boolean;
  kind?: string;
  merchantNo?: string;
  terminalNo?: string;
  severity?: AlertSeverity;
  before?: string;
  limit: number;
}

export function alertRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/alerts',
    {
      onRequest: guard(ctx, 'alert.read'),
      schema: {
        tags: ['alerts'],
        summary: 'Monitoring alerts, newest first (merchant administrators: their merchants only); page with `before` = nextBefore',
        security: SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            open: { type: 'boolean', description: 'Only alerts not yet acknowledged' },
            kind: { type: 'string', minLength: 1, maxLength: 100 },
            merchantNo: MERCHANT_NO,
            terminalNo: TERMINAL_NO,
            severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
            before: ALERT_ID,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: { 200: { type: 'object', properties: { alerts: { type: 'array', items: alertSchema }, nextBefore: { type: ['string', 'null'] } } }, ...errorResponses() },
      },
    },
    async (request) => {
      const q = request.query as AlertQuery;
      const auth = caller(request);
      const base: ListAlertsOptions = { limit: q.limit };
      if (q.open !== undefined) base.open = q.open;
      if (q.kind !== undefined) base.kind = q.kind;
      if (q.terminalNo !== undefined) base.terminalNo = q.terminalNo;
      if (q.severity !== undefined) base.severity = q.severity;
      if (q.before !== undefined) base.beforeId = q.before;
      let alerts: Alert[];
      const scope = merchantFilter(auth);
      if (q.merchantNo !== undefined) {
        assertMerchantScope(auth, q.merchantNo);
        alerts = await listAlerts(ctx.db, { ...base, merchantNo: q.merchantNo });
      } else if (scope !== null) {
        // One query per assigned merchant, merged newest first.
        const all: Alert[] = [];
        for (const m of scope) all.push(...(await listAlerts(ctx.db, { ...base, merchantNo: m })));
        alerts = all.sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0)).slice(0, q.limit);
      } else {
        alerts = await listAlerts(ctx.db, base);
      }
      const last = alerts[alerts.length - 1];
      return { alerts, nextBefore: alerts.length === q.limit && last ? last.id : null };
    },
  );

  app.post(
    '/api/alerts/:id/ack',
    {
      onRequest: guard(ctx, 'alert.ack'),
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an alert (who and when are recorded, with an alert.acknowledged event)',
        security: SECURITY,
        params: { type: 'object', required: ['id'], properties: { id: ALERT_ID } },
        response: { 200: alertSchema, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const auth = caller(request);
      const existing = await getAlert(ctx.db, id);
      if (existing === null) throw notFound('alert_not_found', `alert ${id} not found`);
      const scope = merchantFilter(auth);
      if (scope !== null) {
        if (existing.merchantNo === null) throw forbidden('merchant_out_of_scope', `alert ${id} is not about a merchant assigned to this user`);
        assertMerchantScope(auth, existing.merchantNo);
      }
      try {
        return await acknowledgeAlert(ctx.db, id, userActor(auth.user.username));
      } catch (e) {
        if (e instanceof RiskError) {
          if (e.reason === 'NOT_FOUND') throw notFound('alert_not_found', e.message);
          if (e.reason === 'ALREADY_ACKNOWLEDGED') throw conflict('alert_already_acknowledged', e.message);
          throw badRequest('bad_input', e.message);
        }
        throw e;
      }
    },
  );
}
