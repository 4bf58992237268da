/**
 * RFC 9457 problem details: every error the console answers is an `application/problem+json`
 * document with type, title, status, detail, instance and a machine-readable `code`.
 * Messages never carry passwords, hashes, tokens or TOTP secrets.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPolicyError } from '../operators/index.js';
import { isStoreError } from '../store/index.js';

export const PROBLEM_BASE = 'https://qiandao.dev/problems/';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  /** Validation failures: where and what. */
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  415: 'Unsupported media type',
  423: 'Locked',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** An error the console turns into a problem document. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  /** For @fastify/rate-limit, which reads statusCode. */
  get statusCode(): number {
    return this.status;
  }
}

export const badRequest = (code: string, detail: string): ProblemError => new ProblemError(400, code, detail);
export const unauthorized = (code: string, detail: string): ProblemError => new ProblemError(401, code, detail);
export const forbidden = (code: string, detail: string): ProblemError => new ProblemError(403, code, detail);
export const notFound = (code: string, detail: string): ProblemError => new ProblemError(404, code, detail);
export const conflict = (code: string, detail: string): ProblemError => new ProblemError(409, code, detail);

export function problem(status: number, code: string, detail: string, instance?: string, extra: Record<string, unknown> = {}): ProblemDocument {
  return {
    type: PROBLEM_BASE + code,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(instance !== undefined ? { instance } : {}),
    code,
    ...extra,
  };
}

export function sendProblem(reply: FastifyReply, doc: ProblemDocument): FastifyReply {
  return reply.code(doc.status).header('content-type', 'application/problem+json; charset=utf-8').send(doc);
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function validationErrors(err: FastifyError): { path: string; message: string }[] {
  const list = (err.validation ?? []) as AjvIssue[];
  const where = err.validationContext ?? 'body';
  return list.map((v) => {
    const extraProp = typeof v.params?.['additionalProperty'] === 'string' ? `/${v.params['additionalProperty']}` : '';
    const missing = typeof v.params?.['missingProperty'] === 'string' ? `/${v.params['missingProperty']}` : '';
    return { path: `${where}${v.instancePath ?? ''}${extraProp}${missing}`, message: v.message ?? 'invalid' };
  });
}

/** Map any error to a problem document (never leaking internals on 500). */
export function toProblem(err: unknown, instance: string): ProblemDocument {
  if (err instanceof ProblemError) return problem(err.status, err.code, err.message, instance, err.extra);
  if (err instanceof OperatorPolicyError) {
    const status = err.reason === 'NOT_ALLOWED' ? 409 : 400;
    return problem(status, err.reason.toLowerCase(), err.message, instance);
  }
  if (isStoreError(err)) {
    if (err.reason === 'NOT_FOUND') return problem(404, 'not_found', err.message, instance);
    if (err.reason === 'DUPLICATE') return problem(409, 'duplicate', err.message, instance);
    if (err.reason === 'CONSTRAINT') return problem(400, 'constraint_violation', err.message, instance);
    if (err.reason === 'CONFLICT') return problem(409, 'conflict', err.message, instance);
    if (err.reason === 'UNAVAILABLE') return problem(503, 'store_unavailable', 'the store is unavailable', instance);
    return problem(500, 'internal_error', 'internal error', instance);
  }
  const fe = err as Partial<FastifyError> | null;
  if (fe && Array.isArray(fe.validation)) {
    const errors = validationErrors(fe as FastifyError);
    return problem(400, 'validation_failed', `request ${fe.validationContext ?? 'input'} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, instance, { errors });
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 429) return problem(429, 'rate_limited', 'too many requests; try again later', instance);
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, wrong content type, body too large): their messages name no data.
    const code = typeof fe?.code === 'string' ? fe.code.toLowerCase().replace(/^fst_err_/, '') : 'bad_request';
    return problem(status, code, fe?.message ?? 'bad request', instance);
  }
  return problem(500, 'internal_error', 'internal error', instance);
}

/** Install the problem-document error and not-found handlers. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const doc = toProblem(err, request.url.split('?')[0] ?? request.url);
    if (doc.status >= 500) request.log.error({ err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, 'request failed');
    if (err instanceof ProblemError && err.status === 429 && typeof err.extra['retryAfter'] === 'number') {
      void reply.header('retry-after', String(err.extra['retryAfter']));
    }
    return sendProblem(reply, doc);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendProblem(reply, problem(404, 'route_not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`, request.url.split('?')[0])),
  );
}
