/**
 * Supervisor approval: 0800, 60.1 = 00, 60.3 = 903, 63 = the approving operator (normally 00),
 * 52/53 = that operator's password block, 62 = the permission approved (ASCII, e.g. `refund`),
 * 64 = MAC -> 0810 / 00. The approval is good for one request of that permission at this terminal
 * within DEFAULT_APPROVAL_SECONDS, made by the operator signed on there (who must not be the
 * approver). The approver must hold the permission.
 */
import { DEFAULT_APPROVAL_SECONDS, OperatorResponseCode, isPermission } from '../../../operators/index.js';
import { appendEvent } from '../../../store/index.js';
import { createApproval, getOpenSession } from '../../../store/operators.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { ResponseCode } from '../../response-codes.js';
import { approve, begin, checkOperatorPassword, operatorActor, operatorNoOf, passwordBlockOf, refuseOperator, textOf62 } from './common.js';

const EVENT = 'operator.approval';

export async function handleSupervisorApproval(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const b = await begin(ctx, req, EVENT);
  if (!b.ok) return b.result;
  const x = b.x;
  const approver = operatorNoOf(req);
  const block = passwordBlockOf(req);
  const permission = textOf62(req);
  if (approver === null || block === null || !isPermission(permission)) {
    return refuseOperator(ctx, req, x, { event: EVENT, code: ResponseCode.FormatError, reason: 'field 63, 52/53 or 62 (permission) missing or malformed' });
  }
  const ref = { merchantNo: x.terminal.merchantNo, terminalNo: x.terminal.terminalNo };
  const session = await getOpenSession(ctx.db, ref);
  if (session === null) return refuseOperator(ctx, req, x, { event: EVENT, code: OperatorResponseCode.NoOperator, reason: 'no operator signed on to approve for', operatorNo: approver });
  if (session.operatorNo === approver) {
    return refuseOperator(ctx, req, x, { event: EVENT, code: OperatorResponseCode.NotPermitted, reason: 'an operator cannot approve their own request', operatorNo: approver });
  }
  const check = await checkOperatorPassword(ctx, req, x, approver, block);
  if (!check.ok) return refuseOperator(ctx, req, x, { event: EVENT, code: check.code, reason: check.reason, operatorNo: approver, detail: { permission, ...check.detail } });
  if (check.operator.mustChangePassword) {
    return refuseOperator(ctx, req, x, { event: EVENT, code: OperatorResponseCode.PasswordChangeRequired, reason: 'approver must change password first', operatorNo: approver });
  }
  if (!check.operator.permissions.includes(permission)) {
    return refuseOperator(ctx, req, x, { event: EVENT, code: OperatorResponseCode.NotPermitted, reason: `approver lacks permission ${permission}`, operatorNo: approver });
  }
  const approval = await createApproval(ctx.db, { ...ref, permission, approvedBy: approver, ttlSeconds: DEFAULT_APPROVAL_SECONDS });
  await appendEvent(ctx.db, {
    type: EVENT,
    ok: true,
    merchantNo: ref.merchantNo,
    terminalNo: ref.terminalNo,
    operatorNo: approver,
    detail: { permission, for: session.operatorNo, approvalId: approval.id, expiresAt: approval.expiresAt.toISOString() },
    actor: operatorActor(ref, approver),
    origin: req.remoteAddress,
    resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
  });
  return approve(ctx, req, x, (rsp) => {
    rsp.set(63, approver);
    rsp.set(62, Buffer.from(permission, 'ascii'));
  });
}
