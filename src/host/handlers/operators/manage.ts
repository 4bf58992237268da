/**
 * Operator management from the terminal: 0800, 60.1 = 00, 60.3 = 905, 63 = the operator managed,
 * 62 = the command (ASCII), 52/53 = a password block for `add` and `reset`, 64 = MAC -> 0810 / 00
 * with 63 echoed. The operator signed on at the terminal must hold `manage-operators` (or have a
 * supervisor approval for it) and may manage the target (src/operators/policy.ts mayManage).
 *
 * Commands: `add:<name>` (cashier, must change the password on first use), `disable`, `enable`,
 * `unlock`, `reset` (new password, must change on next use), `grant:<permission>`,
 * `revoke:<permission>`, `role:<role>`.
 */
import { OperatorPolicyError, OperatorResponseCode, mayManage } from '../../../operators/index.js';
import { isStoreError } from '../../../store/index.js';
import {
  addOperator,
  disableOperator,
  enableOperator,
  grantPermission,
  revokePermission,
  setOperatorPasswordHash,
  setOperatorRole,
  unlockOperator,
  type OperatorAudit,
} from '../../../store/operators.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { requireOperator } from '../../operator-gate.js';
import { ResponseCode } from '../../response-codes.js';
import { approve, begin, operatorActor, operatorNoOf, refuseOperator, textOf62, type OperatorExchange } from './common.js';
import { hashNewPassword } from './password.js';

const EVENT = 'operator.manage';

type Outcome = { ok: true } | { ok: false; code: ResponseCode | OperatorResponseCode; reason: string };

async function run(ctx: HostContext, req: HostRequest, x: OperatorExchange, target: string, action: string, arg: string, audit: OperatorAudit): Promise<Outcome> {
  const ref = { merchantNo: x.terminal.merchantNo, operatorNo: target };
  let block: Buffer | null = null;
  try {
    block = req.message.get(52) ?? null;
  } catch {
    block = null;
  }
  switch (action) {
    case 'add': {
      const fresh = await hashNewPassword(ctx, x, target, block);
      if (!fresh.ok) return fresh;
      await addOperator(ctx.db, { ...ref, name: arg, passwordHash: fresh.stored, mustChangePassword: true }, audit);
      return { ok: true };
    }
    case 'reset': {
      const fresh = await hashNewPassword(ctx, x, target, block);
      if (!fresh.ok) return fresh;
      await setOperatorPasswordHash(ctx.db, ref, fresh.stored, { ...audit, mustChange: true });
      return { ok: true };
    }
    case 'disable':
      await disableOperator(ctx.db, ref, audit);
      return { ok: true };
    case 'enable':
      await enableOperator(ctx.db, ref, audit);
      return { ok: true };
    case 'unlock':
      await unlockOperator(ctx.db, ref, audit);
      return { ok: true };
    case 'grant':
      await grantPermission(ctx.db, ref, arg, audit);
      return { ok: true };
    case 'revoke':
      await revokePermission(ctx.db, ref, arg, audit);
      return { ok: true };
    case 'role':
      await setOperatorRole(ctx.db, ref, arg, audit);
      return { ok: true };
    default:
      return { ok: false, code: ResponseCode.FunctionNotSupported, reason: `unknown command ${action}` };
  }
}

export async function handleOperatorManagement(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const b = await begin(ctx, req, EVENT);
  if (!b.ok) return b.result;
  const x = b.x;
  const target = operatorNoOf(req);
  const command = textOf62(req);
  if (target === null || command === null || command === '') {
    return refuseOperator(ctx, req, x, { event: EVENT, code: ResponseCode.FormatError, reason: 'field 63 (operator) or 62 (command) missing or malformed' });
  }
  const colon = command.indexOf(':');
  const action = colon < 0 ? command : command.slice(0, colon);
  const arg = colon < 0 ? '' : command.slice(colon + 1);
  const gate = await requireOperator(ctx, req, x.terminal, 'manage-operators');
  if (!gate.ok) return refuseOperator(ctx, req, x, { event: EVENT, code: gate.responseCode, reason: gate.reason, operatorNo: target, detail: { action } });
  if (!mayManage(gate.operatorNo, target)) {
    return refuseOperator(ctx, req, x, { event: EVENT, code: OperatorResponseCode.NotPermitted, reason: `operator ${gate.operatorNo} may not manage operator ${target}`, operatorNo: target, detail: { action } });
  }
  const audit: OperatorAudit = { actor: operatorActor(x.terminal, gate.operatorNo), origin: req.remoteAddress };
  let outcome: Outcome;
  try {
    outcome = await run(ctx, req, x, target, action, arg, audit);
  } catch (e) {
    if (e instanceof OperatorPolicyError) outcome = { ok: false, code: ResponseCode.FormatError, reason: e.message };
    else if (isStoreError(e, 'NOT_FOUND')) outcome = { ok: false, code: OperatorResponseCode.UnknownOperator, reason: 'unknown operator' };
    else if (isStoreError(e, 'DUPLICATE')) outcome = { ok: false, code: ResponseCode.Duplicate, reason: 'operator number taken' };
    else if (isStoreError(e, 'CONSTRAINT')) outcome = { ok: false, code: ResponseCode.FormatError, reason: e.message };
    else throw e;
  }
  if (!outcome.ok) return refuseOperator(ctx, req, x, { event: EVENT, code: outcome.code, reason: outcome.reason, operatorNo: target, detail: { action } });
  return approve(ctx, req, x, (rsp) => {
    rsp.set(63, target);
    rsp.set(62, Buffer.from(action, 'ascii'));
  });
}
