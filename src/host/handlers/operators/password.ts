/**
 * Password change by the operator (first use, or at will): 0800, 60.1 = 00, 60.3 = 904,
 * 63 = operator number, 52/53 = the current password block, 62 = the new password block (8 bytes,
 * same format, key and account field), 64 = MAC -> 0810 / 00 and the operator is signed on, as
 * after 901. Needs an HSM that can hash a PIN-block secret (./secret-hashing.ts), else 40.
 */
import { CryptoError } from '../../../crypto/errors.js';
import { operatorPan, passwordLengths } from '../../../operators/index.js';
import { getOperator, setOperatorPasswordHash } from '../../../store/operators.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { pinKeyOf } from '../../mac.js';
import { ResponseCode } from '../../response-codes.js';
import { PASSWORD_FORMAT, WRONG_BLOCK, begin, checkOperatorPassword, operatorActor, operatorNoOf, passwordBlockOf, refuseOperator, type OperatorExchange } from './common.js';
import { signOperatorOn } from './sign-on.js';

const EVENT = 'operator.password-change';

export type NewSecret = { ok: true; stored: string } | { ok: false; code: ResponseCode; reason: string };

/** Hash a new password block in the HSM and apply the length rule for `operatorNo`. */
export async function hashNewPassword(ctx: HostContext, x: OperatorExchange, operatorNo: string, block: Buffer | null): Promise<NewSecret> {
  if (block === null || block.length !== 8) return { ok: false, code: ResponseCode.FormatError, reason: 'new password block missing or not 8 bytes' };
  let r: { stored: string; digits: number };
  try {
    r = await ctx.hsm.hashPinBlockSecret({ pinBlock: block, pik: pinKeyOf(x.keys), format: PASSWORD_FORMAT, pan: operatorPan(x.terminal.terminalNo, operatorNo) });
  } catch (e) {
    if (e instanceof CryptoError && WRONG_BLOCK.has(e.reason)) return { ok: false, code: ResponseCode.FormatError, reason: 'new password block malformed' };
    if (e instanceof CryptoError) return { ok: false, code: ResponseCode.SecurityProcessingFailed, reason: `HSM: ${e.message}` };
    throw e;
  }
  const { min, max } = passwordLengths(operatorNo);
  if (r.digits < min || r.digits > max) return { ok: false, code: ResponseCode.FormatError, reason: `password must be ${min === max ? min : `${min} to ${max}`} digits` };
  return { ok: true, stored: r.stored };
}

export async function handlePasswordChange(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const b = await begin(ctx, req, EVENT);
  if (!b.ok) return b.result;
  const x = b.x;
  const operatorNo = operatorNoOf(req);
  const block = passwordBlockOf(req);
  let next: Buffer | undefined;
  try {
    next = req.message.get(62);
  } catch {
    next = undefined;
  }
  if (operatorNo === null || block === null || next === undefined) {
    return refuseOperator(ctx, req, x, { event: EVENT, code: ResponseCode.FormatError, reason: 'field 63, 52/53 or 62 (new password block) missing or malformed' });
  }
  const check = await checkOperatorPassword(ctx, req, x, operatorNo, block);
  if (!check.ok) return refuseOperator(ctx, req, x, { event: EVENT, code: check.code, reason: check.reason, operatorNo, detail: check.detail });
  const fresh = await hashNewPassword(ctx, x, operatorNo, next);
  if (!fresh.ok) return refuseOperator(ctx, req, x, { event: EVENT, code: fresh.code, reason: fresh.reason, operatorNo });
  const ref = { merchantNo: x.terminal.merchantNo, operatorNo };
  await setOperatorPasswordHash(ctx.db, ref, fresh.stored, { actor: operatorActor(x.terminal, operatorNo), origin: req.remoteAddress, mustChange: false });
  const op = await getOperator(ctx.db, ref);
  return signOperatorOn(ctx, req, x, operatorNo, op?.permissions ?? check.operator.permissions);
}
