/**
 * Turning one frame payload into a request, or deciding how to answer a frame that cannot be
 * decoded. Nothing here logs field contents: callers log only the reasons returned.
 *
 * - Empty payload (keep-alive): `heartbeat`, ignored.
 * - TPDU unreadable (too short, id not 0x60): `drop`, no answer is possible.
 * - Header with an undefined processing-requirement nibble: the nibble is read as 0 and the
 *   message is answered with 39 = 30 (format error) when its MTI can be read.
 * - ISO 8583 body malformed: answered with 39 = 30 when the MTI is a request MTI, echoing 11, 41,
 *   42 and 60 when they can still be read; otherwise `drop`.
 * - A response MTI (0810, 0830 ...) from a terminal: `drop`.
 */
import { FramingError, parseCupHeader, parseFramePayload, type CupHeader, type FrameProfile, type Tpdu } from '../framing/index.js';
import { Iso8583Error, createMessage, peek, unpack } from '../iso8583/index.js';
import { cupPos } from '../specs/cup-pos.js';
import type { CupPosMessage } from './context.js';
import { ResponseCode } from './response-codes.js';
import { responseMti } from './response.js';

export type DecodedFrame =
  | { kind: 'request'; tpdu: Tpdu; header: CupHeader; message: CupPosMessage; body: Buffer }
  | { kind: 'heartbeat' }
  | { kind: 'drop'; reason: string }
  | { kind: 'format-error'; reason: string; tpdu: Tpdu; header: CupHeader; response: CupPosMessage };

function describe(e: unknown): string {
  if (e instanceof FramingError) return `${e.reason}: ${e.message}`;
  if (e instanceof Iso8583Error) return `${e.reason}${e.field !== undefined ? ` (field ${e.field})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/** Header whose processing-requirement nibble is not defined, read with the nibble as 0. */
function lenientHeader(profile: FrameProfile, payload: Buffer): { tpdu: Tpdu; header: CupHeader; body: Buffer } | null {
  if (payload.length < 11) return null;
  const copy = Buffer.from(payload.subarray(0, 11));
  copy[7] = copy[7]! & 0xf0;
  try {
    const parsed = parseFramePayload(profile, copy);
    if (parsed.tpdu === undefined || parsed.header === undefined) return null;
    return { tpdu: parsed.tpdu, header: parseCupHeader(copy, 5), body: payload.subarray(11) };
  } catch {
    return null;
  }
}

/** A 39 = 30 response for an undecodable body, or null when its MTI is unreadable or not a request. */
function formatErrorResponse(body: Buffer): CupPosMessage | null {
  let mti: string;
  try {
    mti = peek(cupPos, body, []).mti;
  } catch {
    return null;
  }
  const rspMti = responseMti(mti);
  if (rspMti === null) return null;
  const rsp = createMessage(cupPos, rspMti);
  for (const n of [11, 41, 42, 60] as const) {
    try {
      const v = peek(cupPos, body, [n]).fields[n];
      if (v !== undefined) rsp.set(n, v as never);
    } catch {
      // unreadable: not echoed
    }
  }
  rsp.set(39, ResponseCode.FormatError);
  return rsp;
}

export function decodeRequest(profile: FrameProfile, payload: Buffer): DecodedFrame {
  if (payload.length === 0) return { kind: 'heartbeat' };
  let tpdu: Tpdu;
  let header: CupHeader;
  let body: Buffer;
  let headerProblem: string | null = null;
  try {
    const parsed = parseFramePayload(profile, payload);
    if (parsed.tpdu === undefined || parsed.header === undefined) return { kind: 'drop', reason: 'frame profile has no TPDU or header' };
    tpdu = parsed.tpdu;
    header = parsed.header;
    body = parsed.body;
  } catch (e) {
    if (!(e instanceof FramingError) || e.reason !== 'BAD_HEADER') return { kind: 'drop', reason: describe(e) };
    const lenient = lenientHeader(profile, payload);
    if (lenient === null) return { kind: 'drop', reason: describe(e) };
    ({ tpdu, header, body } = lenient);
    headerProblem = describe(e);
  }
  let message: CupPosMessage;
  try {
    message = unpack(cupPos, body, { eager: true });
  } catch (e) {
    if (!(e instanceof Iso8583Error)) throw e;
    const response = formatErrorResponse(body);
    if (response === null) return { kind: 'drop', reason: describe(e) };
    return { kind: 'format-error', reason: describe(e), tpdu, header, response };
  }
  if (responseMti(message.mti) === null) return { kind: 'drop', reason: `MTI ${message.mti} is not a request` };
  if (headerProblem !== null) {
    const response = formatErrorResponse(body);
    if (response === null) return { kind: 'drop', reason: headerProblem };
    return { kind: 'format-error', reason: headerProblem, tpdu, header, response };
  }
  return { kind: 'request', tpdu, header, message, body };
}
