/** /api/access-review: the report, and review records (PCI DSS 7.2.4). */
import type { FastifyInstance } from 'fastify';
import { accessReviewReport } from '../access-review.js';
import { caller, guard } from '../auth/guard.js';
import { audit, userActor } from '../audit.js';
import type { ConsoleContext } from '../context.js';
import { errorResponses, ROLE, SECURITY } from '../schemas.js';
import { insertReview, listReviews } from '../store/reviews.js';
import { listUsers } from '../store/users.js';

const DATE = { type: 'string', format: 'date-time' } as const;
const NULLABLE_DATE = { type: ['string', 'null'], format: 'date-time' } as const;
const reviewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    reviewedBy: { type: 'string' },
    reviewedAt: DATE,
    notes: { type: 'string' },
    changes: { type: 'array', items: { type: 'string' } },
    accounts: { type: 'integer' },
  },
} as const;

export function accessReviewRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/access-review/report',
    {
      onRequest: guard(ctx, 'review.read'),
      schema: {
        tags: ['access review'],
        summary: 'Every account with its permissions and last activity; idle accounts (> 90 days) flagged; next review due',
        security: SECURITY,
        response: {
          200: {
            type: 'object',
            properties: {
              generatedAt: DATE,
              accounts: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    username: { type: 'string' },
                    role: ROLE,
                    merchants: { type: 'array', items: { type: 'string' } },
                    permissions: { type: 'array', items: { type: 'string' } },
                    status: { type: 'string' },
                    disabledReason: { type: ['string', 'null'] },
                    mfaEnrolled: { type: 'boolean' },
                    createdAt: DATE,
                    createdBy: { type: 'string' },
                    lastSignInAt: NULLABLE_DATE,
                    lastActivityAt: NULLABLE_DATE,
                    idleDays: { type: 'integer' },
                    idleFlag: { type: 'boolean' },
                    passwordChangedAt: DATE,
                    lockedUntil: NULLABLE_DATE,
                  },
                },
              },
              lastReview: { anyOf: [reviewSchema, { type: 'null' }] },
              nextReviewDue: DATE,
              reviewOverdue: { type: 'boolean' },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async () => accessReviewReport(ctx.db, ctx.clock(), ctx.policy.accountIdleDays),
  );

  app.get(
    '/api/access-review/reviews',
    {
      onRequest: guard(ctx, 'review.read'),
      schema: { tags: ['access review'], summary: 'Review records, newest first', security: SECURITY, response: { 200: { type: 'object', properties: { reviews: { type: 'array', items: reviewSchema } } }, ...errorResponses() } },
    },
    async () => ({ reviews: await listReviews(ctx.db) }),
  );

  app.post(
    '/api/access-review/reviews',
    {
      onRequest: guard(ctx, 'review.write'),
      schema: {
        tags: ['access review'],
        summary: 'Record a completed access review: who reviewed (the caller), when (now), what was changed',
        security: SECURITY,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['notes'],
          properties: {
            notes: { type: 'string', minLength: 1, maxLength: 4000 },
            changes: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 500 }, default: [] },
          },
        },
        response: { 201: reviewSchema, ...errorResponses() },
      },
    },
    async (request, reply) => {
      const body = request.body as { notes: string; changes: string[] };
      const auth = caller(request);
      const review = await ctx.db.transaction(async (tx) => {
        const accounts = (await listUsers(tx)).length;
        const r = await insertReview(tx, { reviewedBy: userActor(auth.user.username), reviewedAt: ctx.clock(), notes: body.notes, changes: body.changes, accounts });
        await audit(tx, { type: 'console.access-review.recorded', ok: true, actor: userActor(auth.user.username), origin: request.ip, resource: `access-review:${r.id}`, detail: { changes: body.changes.length, accounts } });
        return r;
      });
      return reply.code(201).send(review);
    },
  );
}
