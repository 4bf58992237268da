/**
 * What every operator message shares: the terminal is authorised (41/42), the request MAC (64)
 * verifies under the terminal's MAC key (39 = A0 otherwise), the answer is MAC'ed with the key
 * that verified the request, and every outcome is an event with actor, origin and resource.
 */
import type { PinBlockFormat, WrappedKey } from '../../../crypto/hsm/hsm.js';
import { CryptoError } from '../../../crypto/errors.js';
import {
  DEFAULT_LOCK_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  OperatorResponseCode,
  normaliseOperatorNo,
  operatorPan,
  type OperatorResponseCode as OperatorCode,
} from '../../../operators/index.js';
import { appendEvent, type KeyGeneration, type Merchant, type Terminal } from '../../../store/index.js';
import { getOperatorCredential, isLocked, recordFailedPassword, recordGoodPassword, type Operator } from '../../../store/operators.js';
import { authorize } from '../../authorize.js';
import { errInfo } from '../../connection.js';
import type { CupPosMessage, HandlerResult, HostContext, HostRequest } from '../../context.js';
import { localTimeFields } from '../../local-time.js';
import { macResponse, pinKeyOf, verifyRequestMac } from '../../mac.js';
import { operatorCode } from '../../operator-gate.js';
import { ResponseCode } from '../../response-codes.js';
import { safeText, startResponse } from '../../response.js';

/** The password block is ISO 9564-1 format 0 (see src/operators/pin-block.ts). */
export const PASSWORD_FORMAT: PinBlockFormat = 0;

/** A request that passed terminal and MAC checks. */
export interface OperatorExchange {
  terminal: Terminal;
  merchant: Merchant;
  keys: KeyGeneration;
  mak: WrappedKey;
}

export type Begun = { ok: true; x: OperatorExchange } | { ok: false; result: HandlerResult };

export function terminalActor(t: { merchantNo: string; terminalNo: string }): string {
  return `terminal:${t.merchantNo}/${t.terminalNo}`;
}

export function operatorActor(t: { merchantNo: string; terminalNo: string }, operatorNo: string): string {
  return `operator:${t.merchantNo}/${t.terminalNo}/${operatorNo}`;
}

export function operatorResource(merchantNo: string, operatorNo: string): string {
  return `operator:${merchantNo}/${operatorNo}`;
}

/** Authorise the terminal and verify the MAC; refusals are recorded as `<event>.refused`. */
export async function begin(ctx: HostContext, req: HostRequest, event: string): Promise<Begun> {
  const auth = await authorize(ctx, req.message, { withKeys: true });
  if (!auth.ok) return { ok: false, result: await refuseOperator(ctx, req, null, { event, code: auth.code, reason: auth.reason }) };
  const ref = { merchantNo: auth.terminal.merchantNo, terminalNo: auth.terminal.terminalNo };
  const mac = await verifyRequestMac(ctx, req, ref, undefined, auth.keys);
  if (!mac.ok) {
    const reason = mac.reason === 'no-keys' ? 'terminal not signed on' : mac.reason === 'no-mac' ? 'no MAC' : 'MAC mismatch';
    return { ok: false, result: await refuseOperator(ctx, req, null, { event, code: ResponseCode.MacError, reason }) };
  }
  return { ok: true, x: { terminal: auth.terminal, merchant: auth.merchant, keys: mac.keys, mak: mac.mak } };
}

export interface OperatorRefusal {
  /** Event type prefix: the event is `<event>.refused`. */
  event: string;
  code: ResponseCode | OperatorCode;
  reason: string;
  operatorNo?: string | null;
  detail?: Record<string, unknown>;
}

/** Record the refusal and answer it (MAC'ed when the request's MAC verified). */
export async function refuseOperator(ctx: HostContext, req: HostRequest, x: OperatorExchange | null, r: OperatorRefusal): Promise<HandlerResult> {
  const msg = req.message;
  const merchantNo = x?.terminal.merchantNo ?? safeText(msg, 42) ?? null;
  const terminalNo = x?.terminal.terminalNo ?? safeText(msg, 41) ?? null;
  const operatorNo = r.operatorNo !== undefined ? r.operatorNo : normaliseOperatorNo(safeText(msg, 63));
  try {
    await appendEvent(ctx.db, {
      type: `${r.event}.refused`,
      ok: false,
      merchantNo,
      terminalNo,
      operatorNo,
      detail: { responseCode: r.code, reason: r.reason, mti: msg.mti, ...r.detail },
      actor: merchantNo !== null && terminalNo !== null ? terminalActor({ merchantNo, terminalNo }) : null,
      origin: req.remoteAddress,
      resource: merchantNo !== null && operatorNo !== null ? operatorResource(merchantNo, operatorNo) : null,
    });
  } catch (e) {
    req.logger.error({ err: errInfo(e), event: r.event }, 'could not record refusal event');
  }
  req.logger.info({ mti: msg.mti, responseCode: r.code, reason: r.reason }, 'operator request refused');
  const rsp = startResponse(msg, operatorCode(r.code as OperatorCode));
  if (x !== null) return { response: await finish(ctx, x, rsp) };
  return { response: rsp };
}

/** Add 12/13 (merchant-local time) and the MAC. */
export async function finish(ctx: HostContext, x: OperatorExchange, rsp: CupPosMessage): Promise<CupPosMessage> {
  const now = localTimeFields(new Date(), x.merchant.timeZone);
  rsp.set(12, now.time);
  rsp.set(13, now.date);
  await macResponse(ctx, rsp, x.mak);
  return rsp;
}

/** An approved answer, MAC'ed, with `fill` setting extra fields first. */
export async function approve(ctx: HostContext, req: HostRequest, x: OperatorExchange, fill?: (rsp: CupPosMessage) => void): Promise<HandlerResult> {
  const rsp = startResponse(req.message, ResponseCode.Approved);
  fill?.(rsp);
  return { response: await finish(ctx, x, rsp), terminal: x.terminal };
}

/** Field 63 as an operator number, or null. */
export function operatorNoOf(req: HostRequest): string | null {
  return normaliseOperatorNo(safeText(req.message, 63));
}

/** Field 52 (8 bytes) and a field 53 that, when present, says format 0 with PAN. */
export function passwordBlockOf(req: HostRequest): Buffer | null {
  let block: Buffer | undefined;
  let control: string | undefined;
  try {
    block = req.message.get(52);
    control = req.message.get(53);
  } catch {
    return null;
  }
  if (block === undefined || block.length !== 8) return null;
  if (control !== undefined && control[0] !== '2') return null;
  return block;
}

/** Field 62 as ASCII text, or null. */
export function textOf62(req: HostRequest): string | null {
  try {
    const v = req.message.get(62);
    if (v === undefined) return null;
    const s = v.toString('latin1');
    return /^[\x20-\x7e]*$/.test(s) ? s : null;
  } catch {
    return null;
  }
}

/** HSM failures that mean "this block is not a password under this key". */
export const WRONG_BLOCK = new Set<string>(['BAD_PIN_BLOCK', 'BAD_FORMAT', 'PAN_MISMATCH', 'BAD_PIN']);

export type PasswordCheck =
  | { ok: true; operator: Operator }
  | { ok: false; code: ResponseCode | OperatorCode; reason: string; detail?: Record<string, unknown> };

/**
 * Check an operator's password block: the operator exists and is active, is not locked, and the
 * HSM finds the block matches the stored hash. A wrong password counts towards the lockout
 * (`operator.locked` event when it locks); a right one clears the count.
 */
export async function checkOperatorPassword(
  ctx: HostContext,
  req: HostRequest,
  x: OperatorExchange,
  operatorNo: string,
  pinBlock: Buffer,
): Promise<PasswordCheck> {
  const ref = { merchantNo: x.terminal.merchantNo, operatorNo };
  const cred = await getOperatorCredential(ctx.db, ref);
  if (cred === null) return { ok: false, code: OperatorResponseCode.UnknownOperator, reason: 'unknown operator' };
  if (cred.operator.status !== 'active') return { ok: false, code: OperatorResponseCode.UnknownOperator, reason: 'operator disabled' };
  const now = new Date();
  if (isLocked(cred.operator, now)) {
    return { ok: false, code: OperatorResponseCode.Locked, reason: 'operator locked', detail: { lockedUntil: cred.operator.lockedUntil?.toISOString() } };
  }
  let good: boolean;
  try {
    good = await ctx.hsm.verifyPinBlockSecret({
      pinBlock,
      pik: pinKeyOf(x.keys),
      format: PASSWORD_FORMAT,
      pan: operatorPan(x.terminal.terminalNo, operatorNo),
      stored: cred.passwordHash,
    });
  } catch (e) {
    // A block that does not decode under this key and account field is a wrong password; any
    // other HSM failure (key block, LMK, stored hash) is the host's problem and counts nothing.
    if (e instanceof CryptoError && WRONG_BLOCK.has(e.reason)) good = false;
    else if (e instanceof CryptoError) return { ok: false, code: ResponseCode.SecurityProcessingFailed, reason: `HSM: ${e.message}` };
    else throw e;
  }
  if (good) {
    await recordGoodPassword(ctx.db, ref, now);
    return { ok: true, operator: cred.operator };
  }
  const failed = await recordFailedPassword(ctx.db, ref, { maxAttempts: DEFAULT_MAX_ATTEMPTS, lockSeconds: DEFAULT_LOCK_SECONDS, now });
  if (failed.lockedNow) {
    await appendEvent(ctx.db, {
      type: 'operator.locked',
      ok: true,
      merchantNo: ref.merchantNo,
      terminalNo: x.terminal.terminalNo,
      operatorNo,
      detail: { failedAttempts: failed.failedAttempts, lockedUntil: failed.lockedUntil?.toISOString() },
      actor: 'system',
      origin: req.remoteAddress,
      resource: operatorResource(ref.merchantNo, operatorNo),
    });
    return { ok: false, code: OperatorResponseCode.Locked, reason: 'wrong password: operator now locked', detail: { failedAttempts: failed.failedAttempts } };
  }
  return { ok: false, code: OperatorResponseCode.WrongPassword, reason: 'wrong password', detail: { failedAttempts: failed.failedAttempts } };
}
