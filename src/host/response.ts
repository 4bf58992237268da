/** Building responses: MTI, echoed fields, response code. */
import { createMessage } from '../iso8583/index.js';
import { cupPos } from '../specs/cup-pos.js';
import type { CupPosMessage } from './context.js';
import type { ResponseCode } from './response-codes.js';

/**
 * The response MTI for a request MTI (`0800` -> `0810`, `0820` -> `0830`), or null when `mti` is
 * not a request (its function digit is odd: a response, or something the host never answers).
 */
export function responseMti(mti: string): string | null {
  if (!/^[0-9]{4}$/.test(mti)) return null;
  const fn = Number(mti[2]);
  if (fn % 2 !== 0) return null;
  return mti.slice(0, 2) + String(fn + 1) + mti[3];
}

/** Fields echoed from request to response when present and decodable. */
export const ECHOED_FIELDS = [11, 41, 42, 60] as const;

/**
 * A response to `request` with response code `code`, echoing 11, 41, 42 and 60 when the request
 * carried them. Throws when `request.mti` is not a request MTI.
 */
export function startResponse(request: CupPosMessage, code: ResponseCode): CupPosMessage {
  const mti = responseMti(request.mti);
  if (mti === null) throw new Error(`MTI ${request.mti} is not a request`);
  const rsp = createMessage(cupPos, mti);
  const stan = safeText(request, 11);
  if (stan !== undefined) rsp.set(11, stan);
  const tid = safeText(request, 41);
  if (tid !== undefined) rsp.set(41, tid);
  const mid = safeText(request, 42);
  if (mid !== undefined) rsp.set(42, mid);
  try {
    const f60 = request.get(60);
    if (f60 !== undefined) rsp.set(60, f60);
  } catch {
    // malformed 60: not echoed
  }
  rsp.set(39, code);
  return rsp;
}

/** A text field's value, or undefined when absent or malformed. */
export function safeText(msg: CupPosMessage, n: 11 | 41 | 42 | 63): string | undefined {
  try {
    return msg.get(n);
  } catch {
    return undefined;
  }
}
