/** /api/audit/events: the audit trail, filtered by who / what / when, paged, and as CSV. */
import type { FastifyInstance } from 'fastify';
import { listEvents, type ListEventsOptions, type StoreEvent } from '../../store/index.js';
import { caller, guard } from '../auth/guard.js';
import { audit, userActor } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { csvLine } from '../csv.js';
import { badRequest } from '../problem.js';
import { errorResponses, SECURITY } from '../schemas.js';

/** Most rows one CSV export returns. */
export const EXPORT_MAX_ROWS = 100_000;

const filterProperties = {
  actor: { type: 'string', minLength: 1, maxLength: 200, description: 'Who: e.g. user:alice, terminal:<mid>/<tid>, system' },
  type: { type: 'string', minLength: 1, maxLength: 100, description: 'Event type, e.g. console.sign-in' },
  resource: { type: 'string', minLength: 1, maxLength: 200, description: 'What: e.g. user:alice, merchant:<mid>' },
  merchantNo: { type: 'string', minLength: 1, maxLength: 15 },
  terminalNo: { type: 'string', minLength: 1, maxLength: 8 },
  ok: { type: 'boolean' },
  since: { type: 'string', format: 'date-time', description: 'at >= since' },
  until: { type: 'string', format: 'date-time', description: 'at < until' },
} as const;

interface Filters {
  actor?: string;
  type?: string;
  resource?: string;
  merchantNo?: string;
  terminalNo?: string;
  ok?: boolean;
  since?: string;
  until?: string;
}

function toOptions(q: Filters): ListEventsOptions {
  const o: ListEventsOptions = {};
  if (q.actor !== undefined) o.actor = q.actor;
  if (q.type !== undefined) o.type = q.type;
  if (q.resource !== undefined) o.resource = q.resource;
  if (q.merchantNo !== undefined) o.merchantNo = q.merchantNo;
  if (q.terminalNo !== undefined) o.terminalNo = q.terminalNo;
  if (q.ok !== undefined) o.ok = q.ok;
  if (q.since !== undefined) o.since = new Date(q.since);
  if (q.until !== undefined) o.until = new Date(q.until);
  if (o.since && o.until && o.since.getTime() > o.until.getTime()) throw badRequest('bad_time_range', 'since must not be after until');
  return o;
}

export const CSV_COLUMNS = ['id', 'at', 'type', 'ok', 'actor', 'origin', 'resource', 'merchantNo', 'terminalNo', 'operatorNo', 'detail'] as const;

export function eventCsvLine(e: StoreEvent): string {
  return csvLine(CSV_COLUMNS.map((c) => e[c]));
}

export function auditRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/audit/events',
    {
      onRequest: guard(ctx, 'audit.read'),
      schema: {
        tags: ['audit'],
        summary: 'Audit trail, newest first; page with `before` = the previous page’s nextBefore',
        security: SECURITY,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...filterProperties, before: { type: 'string', pattern: '^[0-9]{1,18}$' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: {
          200: { type: 'object', properties: { events: { type: 'array', items: { $ref: 'AuditEvent#' } }, nextBefore: { type: ['string', 'null'] } } },
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const q = request.query as Filters & { before?: string; limit: number };
      const events = await listEvents(ctx.db, { ...toOptions(q), ...(q.before !== undefined ? { beforeId: q.before } : {}), limit: q.limit });
      const last = events[events.length - 1];
      return { events, nextBefore: events.length === q.limit && last ? last.id : null };
    },
  );

  app.get(
    '/api/audit/events.csv',
    {
      onRequest: guard(ctx, 'audit.read'),
      schema: {
        tags: ['audit'],
        summary: `Export the filtered audit trail as CSV (oldest first, at most ${EXPORT_MAX_ROWS} rows)`,
        security: SECURITY,
        querystring: { type: 'object', additionalProperties: false, properties: filterProperties },
        produces: ['text/csv'],
        response: errorResponses(),
      },
    },
    async (request, reply) => {
      const q = request.query as Filters;
      const opts = toOptions(q);
      let out = csvLine(CSV_COLUMNS);
      let after: string | undefined;
      let rows = 0;
      for (;;) {
        const page = await listEvents(ctx.db, { ...opts, order: 'asc', limit: 1000, ...(after !== undefined ? { afterId: after } : {}) });
        for (const e of page) out += eventCsvLine(e);
        rows += page.length;
        const last = page[page.length - 1];
        if (page.length < 1000 || !last || rows >= EXPORT_MAX_ROWS) break;
        after = last.id;
      }
      // Exporting the audit trail is itself an auditable action.
      await audit(ctx.db, { type: 'console.audit.exported', ok: true, actor: userActor(caller(request).user.username), origin: request.ip, resource: 'audit:events', detail: { filters: q, rows } });
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="qiandao-audit.csv"')
        .header('cache-control', 'no-store')
        .send(out);
    },
  );
}
