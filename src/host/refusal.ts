/**
 * Refusing a request: response with the code, plus an event (ok = false) in the store, written
 * before the response. Actor and resource are the terminal named in fields 42/41 (as claimed),
 * origin the peer address.
 */
import type { CupPosMessage, HandlerResult, HostContext, HostRequest } from './context.js';
import type { ResponseCode } from './response-codes.js';
import { safeText, startResponse } from './response.js';
import { appendEvent } from '../store/index.js';
import { errInfo } from './connection.js';

export interface Refusal {
  /** Event type, e.g. `sign-on.refused`. */
  event: string;
  code: ResponseCode;
  reason: string;
  detail?: Record<string, unknown>;
}

/** Record the refusal (event failures are logged, not fatal) and build the response. */
export async function refuse(ctx: HostContext, req: HostRequest, r: Refusal): Promise<HandlerResult> {
  const msg: CupPosMessage = req.message;
  const operator = safeText(msg, 63)?.trim();
  const merchantNo = safeText(msg, 42) ?? null;
  const terminalNo = safeText(msg, 41) ?? null;
  // Audit columns: the terminal the request claims to come from (it may be unknown), and its peer.
  const claimed = merchantNo !== null && terminalNo !== null ? `terminal:${merchantNo}/${terminalNo}` : null;
  try {
    await appendEvent(ctx.db, {
      type: r.event,
      ok: false,
      merchantNo,
      terminalNo,
      operatorNo: operator !== undefined && operator !== '' ? operator : null,
      detail: { responseCode: r.code, reason: r.reason, mti: msg.mti, address: req.remoteAddress, ...r.detail },
      actor: claimed,
      origin: req.remoteAddress,
      resource: claimed,
    });
  } catch (e) {
    req.logger.error({ err: errInfo(e), event: r.event }, 'could not record refusal event');
  }
  req.logger.info({ mti: msg.mti, responseCode: r.code, reason: r.reason }, 'request refused');
  return { response: startResponse(msg, r.code) };
}
