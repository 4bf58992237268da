/**
 * Authorisation on every route: resolve the session (bearer token or cookie), then check the
 * role's permission and, for merchant-scoped roles, the merchant in the path.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ConsoleContext } from '../context.js';
import { forbidden } from '../problem.js';
import { hasPermission, isMerchantScoped, type Permission } from '../roles.js';
import { authenticate, SESSION_COOKIE, type Authenticated } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    consoleAuth?: Authenticated;
  }
}

export function tokenOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+([A-Za-z0-9_-]{1,200})\s*$/i.exec(h);
    return m ? m[1] : '';
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return typeof cookie === 'string' ? cookie : undefined;
}

export interface GuardOptions {
  /** Allow a password-change-only session (the password change itself, sign-out, me). */
  allowPasswordChange?: boolean;
}

/** onRequest hook (before body parsing and validation): signed in, and (when given) holding `permission`. */
export function guard(ctx: ConsoleContext, permission: Permission | null, opts: GuardOptions = {}): onRequestAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const auth = await authenticate(ctx, tokenOf(request));
    request.consoleAuth = auth;
    if (auth.scope === 'password-change' && opts.allowPasswordChange !== true) {
      throw forbidden('password_change_required', 'the password is one-time or expired: change it first (POST /api/auth/password)');
    }
    if (permission !== null && !hasPermission(auth.user.role, permission)) {
      throw forbidden('forbidden', `the ${auth.user.role} role may not do this (${permission})`);
    }
  };
}

/** The authenticated caller (after guard). */
export function caller(request: FastifyRequest): Authenticated {
  const a = request.consoleAuth;
  if (!a) throw new Error('route is missing its guard');
  return a;
}

/** Merchant-scoped roles may touch only their merchants. */
export function assertMerchantScope(auth: Authenticated, merchantNo: string): void {
  if (isMerchantScoped(auth.user.role) && !auth.user.merchants.includes(merchantNo)) {
    throw forbidden('merchant_out_of_scope', `merchant ${merchantNo} is not assigned to this user`);
  }
}

/** The merchants a caller may see: null = all. */
export function merchantFilter(auth: Authenticated): string[] | null {
  return isMerchantScoped(auth.user.role) ? auth.user.merchants : null;
}
