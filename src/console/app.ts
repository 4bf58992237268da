/**
 * buildConsole: the management API as a Fastify instance (not listening; call `listen`).
 * Plugins: cookies, rate limiting (sign-in), OpenAPI + Swagger UI; problem documents for every
 * error; every /api route authorised by role (see roles.ts).
 */
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Hsm } from '../crypto/hsm/index.js';
import type { ScryptParams } from '../crypto/password.js';
import type { Db } from '../store/index.js';
import { DEFAULT_POLICY, type AuthPolicy, type ConsoleContext } from './context.js';
import { registerDocsUi, registerOpenApi } from './openapi.js';
import { installProblemHandlers, ProblemError } from './problem.js';
import { accessReviewRoutes } from './routes/access-review.js';
import { alertRoutes } from './routes/alerts.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes, type SignInLimits } from './routes/auth.js';
import { merchantRoutes } from './routes/merchants.js';
import { operatorRoutes } from './routes/operators.js';
import { terminalRoutes } from './routes/terminals.js';
import { userRoutes } from './routes/users.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { uiRoutes } from './ui.js';

export interface ConsoleOptions {
  db: Db;
  hsm: Hsm;
  /** pino logger; default: silent. Request bodies, tokens and cookies are never logged. */
  logger?: Logger;
  /** Injectable clock (tests move time without sleeping). Default: real time. */
  clock?: () => Date;
  /** Tighter settings are allowed; looser than PCI DSS v4 is refused. */
  policy?: Partial<AuthPolicy>;
  /** scrypt cost for new password hashes (tests use a cheaper one). */
  scrypt?: ScryptParams;
  /** Sign-in rate limits; default 20 per IP and 10 per username per minute. */
  signInLimits?: Partial<SignInLimits>;
  /** Trust X-Forwarded-For from a reverse proxy (for the client IP in the audit trail). */
  trustProxy?: boolean;
}

function checkPolicy(p: AuthPolicy): AuthPolicy {
  const bad = (what: string): never => {
    throw new RangeError(`console policy: ${what}`);
  };
  if (!(p.maxFailures >= 1 && p.maxFailures <= 10)) bad('maxFailures must be 1..10 (PCI DSS 8.3.4)');
  if (!(p.lockoutMs >= 30 * 60_000)) bad('lockout must be at least 30 minutes (PCI DSS 8.3.4)');
  if (!(p.idleMs > 0 && p.idleMs <= 15 * 60_000)) bad('idle timeout must be at most 15 minutes (PCI DSS 8.2.8)');
  if (!(p.sessionMs > 0 && p.sessionMs <= 24 * 3_600_000)) bad('session lifetime must be at most 24 hours');
  if (!(p.passwordMaxAgeDays >= 1 && p.passwordMaxAgeDays <= 90)) bad('password age must be 1..90 days (PCI DSS 8.3.9)');
  if (!(p.accountIdleDays >= 1 && p.accountIdleDays <= 90)) bad('account idle limit must be 1..90 days (PCI DSS 8.2.6)');
  return p;
}

export async function buildConsole(opts: ConsoleOptions): Promise<FastifyInstance> {
  const policy = checkPolicy({ ...DEFAULT_POLICY, ...opts.policy });
  const ctx: ConsoleContext = { db: opts.db, hsm: opts.hsm, clock: opts.clock ?? (() => new Date()), policy, scrypt: opts.scrypt };
  const limits: SignInLimits = { perIp: 20, perUser: 10, windowMs: 60_000, ...opts.signInLimits };

  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    trustProxy: opts.trustProxy ?? false,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }) as unknown as FastifyInstance;

  installProblemHandlers(app);
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  await app.register(cookie);
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, context) =>
      new ProblemError(429, 'rate_limited', 'too many sign-in attempts from this address; try again later', { retryAfter: Math.ceil(context.ttl / 1000) }),
  });
  await registerOpenApi(app);

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (reply.getHeader('cache-control') === undefined) void reply.header('cache-control', 'no-store');
    return payload;
  });

  authRoutes(app, ctx, limits);
  merchantRoutes(app, ctx);
  terminalRoutes(app, ctx);
  operatorRoutes(app, ctx);
  userRoutes(app, ctx);
  auditRoutes(app, ctx);
  accessReviewRoutes(app, ctx);
  alertRoutes(app, ctx);
  uiRoutes(app);

  await registerDocsUi(app);
  return app;
}
