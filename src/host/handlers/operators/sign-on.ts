/**
 * Operator sign-on: 0800, 60.1 = 00, 60.3 = 901, 63 = operator number, 52 = password block,
 * 53 = security control, 64 = MAC -> 0810 with 39 = 00, 63 = the operator number and 62 = the
 * operator's permissions (ASCII, comma-separated). The operator replaces whoever was signed on at
 * that terminal. See docs/protocol-operators.md for every refusal code.
 */
import { OperatorResponseCode } from '../../../operators/index.js';
import { appendEvent } from '../../../store/index.js';
import { startOperatorSession } from '../../../store/operators.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { ResponseCode } from '../../response-codes.js';
import { approve, begin, checkOperatorPassword, operatorActor, operatorNoOf, operatorResource, passwordBlockOf, refuseOperator, type OperatorExchange } from './common.js';

export const SIGN_ON_EVENT = 'operator.sign-on';

/** Open a session for `operatorNo` and answer 00 with 63 and 62 (permissions). */
export async function signOperatorOn(ctx: HostContext, req: HostRequest, x: OperatorExchange, operatorNo: string, permissions: readonly string[]): Promise<HandlerResult> {
  const { session, replaced } = await startOperatorSession(ctx.db, { merchantNo: x.terminal.merchantNo, terminalNo: x.terminal.terminalNo, operatorNo });
  await appendEvent(ctx.db, {
    type: SIGN_ON_EVENT,
    ok: true,
    merchantNo: x.terminal.merchantNo,
    terminalNo: x.terminal.terminalNo,
    operatorNo,
    detail: { sessionId: session.id, replaced: replaced?.operatorNo ?? null },
    actor: operatorActor(x.terminal, operatorNo),
    origin: req.remoteAddress,
    resource: operatorResource(x.terminal.merchantNo, operatorNo),
  });
  req.logger.info({ merchantNo: x.terminal.merchantNo, terminalNo: x.terminal.terminalNo, operatorNo }, 'operator signed on');
  return approve(ctx, req, x, (rsp) => {
    rsp.set(63, operatorNo);
    rsp.set(62, Buffer.from(permissions.join(','), 'ascii'));
  });
}

export async function handleOperatorSignOn(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const b = await begin(ctx, req, SIGN_ON_EVENT);
  if (!b.ok) return b.result;
  const x = b.x;
  const operatorNo = operatorNoOf(req);
  const block = passwordBlockOf(req);
  if (operatorNo === null || block === null) {
    return refuseOperator(ctx, req, x, { event: SIGN_ON_EVENT, code: ResponseCode.FormatError, reason: 'field 63 (operator) or 52/53 (password block) missing or malformed' });
  }
  const check = await checkOperatorPassword(ctx, req, x, operatorNo, block);
  if (!check.ok) return refuseOperator(ctx, req, x, { event: SIGN_ON_EVENT, code: check.code, reason: check.reason, operatorNo, detail: check.detail });
  if (check.operator.mustChangePassword) {
    return refuseOperator(ctx, req, x, { event: SIGN_ON_EVENT, code: OperatorResponseCode.PasswordChangeRequired, reason: 'password change required', operatorNo });
  }
  return signOperatorOn(ctx, req, x, operatorNo, check.operator.permissions);
}
