/**
 * Routing by (MTI, 60.1, 60.3, processing code 3). A request no route matches is answered with the
 * response MTI and 39 = 40 (function not supported), echoing 11, 41, 42 and 60.
 */
import type { Handler, HandlerResult, HostContext, HostRequest } from './context.js';
import { handleEcho, handleSignOff } from './handlers/network.js';
import { handleParameterDownload, handleStatusUpload } from './handlers/parameters.js';
import { OPERATOR_ROUTES } from './handlers/operators/index.js';
import { handleSignOn } from './handlers/sign-on.js';
import { TRANSACTION_ROUTES } from './handlers/transactions/index.js';
import { refuse } from './refusal.js';
import { ResponseCode } from './response-codes.js';

export interface RouteKey {
  mti: string;
  /** 60.1 message type code; undefined matches any. */
  messageType?: string;
  /** 60.3 network management information code; undefined matches any. */
  networkCode?: string;
  /** Field 3 processing code; undefined matches any. */
  processingCode?: string;
}

export interface Route extends RouteKey {
  name: string;
  handler: Handler;
}

export const DEFAULT_ROUTES: readonly Route[] = [
  { name: 'sign-on', mti: '0800', messageType: '00', networkCode: '001', handler: handleSignOn },
  { name: 'sign-on', mti: '0800', messageType: '00', networkCode: '003', handler: handleSignOn },
  { name: 'sign-on', mti: '0800', messageType: '00', networkCode: '004', handler: handleSignOn },
  { name: 'sign-off', mti: '0820', messageType: '00', networkCode: '002', handler: handleSignOff },
  { name: 'echo', mti: '0820', messageType: '00', networkCode: '301', handler: handleEcho },
  { name: 'parameter-download', mti: '0800', messageType: '00', networkCode: '360', handler: handleParameterDownload },
  { name: 'status-upload', mti: '0820', messageType: '00', networkCode: '362', handler: handleStatusUpload },
  ...OPERATOR_ROUTES,
  ...TRANSACTION_ROUTES,
];

/** What a request is routed on, read from the message (malformed fields count as absent). */
export function routeKeyOf(req: HostRequest): RouteKey {
  const m = req.message;
  const key: RouteKey = { mti: m.mti };
  let f60: { 1: string; 2: string; 3: string } | undefined;
  try {
    f60 = m.get(60);
  } catch {
    f60 = undefined;
  }
  let f3: string | undefined;
  try {
    f3 = m.get(3);
  } catch {
    f3 = undefined;
  }
  return {
    ...key,
    ...(f60?.[1] !== undefined ? { messageType: f60[1] } : {}),
    ...(f60?.[3] !== undefined ? { networkCode: f60[3] } : {}),
    ...(f3 !== undefined ? { processingCode: f3 } : {}),
  };
}

export function findRoute(routes: readonly Route[], key: RouteKey): Route | null {
  for (const r of routes) {
    if (r.mti !== key.mti) continue;
    if (r.messageType !== undefined && r.messageType !== key.messageType) continue;
    if (r.networkCode !== undefined && r.networkCode !== key.networkCode) continue;
    if (r.processingCode !== undefined && r.processingCode !== key.processingCode) continue;
    return r;
  }
  return null;
}

/** Run the handler for `req`, or answer 40 when none matches. */
export function route(ctx: HostContext, req: HostRequest, routes: readonly Route[] = DEFAULT_ROUTES): Promise<HandlerResult> {
  const key = routeKeyOf(req);
  const r = findRoute(routes, key);
  if (r === null) {
    return refuse(ctx, req, {
      event: 'request.unsupported',
      code: ResponseCode.FunctionNotSupported,
      reason: 'function not supported',
      detail: { ...key },
    });
  }
  return r.handler(ctx, req);
}
