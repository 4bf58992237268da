/**
 * Operator sign-off: 0820, 60.1 = 00, 60.3 = 902, 63 = operator number, 64 = MAC -> 0830 / 00.
 * Answered Q1 when that operator is not the one signed on at the terminal.
 */
import { appendEvent } from '../../../store/index.js';
import { endTerminalSessions, getOpenSession } from '../../../store/operators.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { OperatorResponseCode } from '../../../operators/index.js';
import { ResponseCode } from '../../response-codes.js';
import { approve, begin, operatorActor, operatorNoOf, operatorResource, refuseOperator } from './common.js';

const EVENT = 'operator.sign-off';

export async function handleOperatorSignOff(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const b = await begin(ctx, req, EVENT);
  if (!b.ok) return b.result;
  const x = b.x;
  const operatorNo = operatorNoOf(req);
  if (operatorNo === null) return refuseOperator(ctx, req, x, { event: EVENT, code: ResponseCode.FormatError, reason: 'field 63 (operator) missing or malformed' });
  const ref = { merchantNo: x.terminal.merchantNo, terminalNo: x.terminal.terminalNo };
  const open = await getOpenSession(ctx.db, ref);
  if (open === null || open.operatorNo !== operatorNo) {
    return refuseOperator(ctx, req, x, { event: EVENT, code: OperatorResponseCode.NoOperator, reason: 'operator not signed on at this terminal', operatorNo });
  }
  const ended = await endTerminalSessions(ctx.db, ref, 'sign-off');
  await appendEvent(ctx.db, {
    type: EVENT,
    ok: true,
    merchantNo: ref.merchantNo,
    terminalNo: ref.terminalNo,
    operatorNo,
    detail: { reason: 'sign-off', sessionId: ended[0]?.id ?? open.id },
    actor: operatorActor(ref, operatorNo),
    origin: req.remoteAddress,
    resource: operatorResource(ref.merchantNo, operatorNo),
  });
  return approve(ctx, req, x, (rsp) => rsp.set(63, operatorNo));
}
