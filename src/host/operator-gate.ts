/**
 * The operator gate, asked by every financial handler: is an operator signed on at this terminal,
 * and may they do this? See docs/protocol-operators.md.
 *
 * | situation | 39 |
 * |---|---|
 * | no operator signed on at the terminal, or the sign-on lapsed (idle past ctx.operatorIdleSeconds, operator since disabled or locked) | Q1 |
 * | the operator lacks the permission (role, grant, revoke) and no supervisor approval for it is pending at this terminal | Q2 |
 *
 * A pending supervisor approval (0800 / 60.3 = 903) for the terminal and permission is used up by
 * the request it lets through. An accepted request counts as activity for the idle limit.
 * Refusals are not recorded here: the caller's refusal records them (with the reason given).
 */
import { OperatorResponseCode, type OperatorPermission } from '../operators/index.js';
import { appendEvent, type Db, type Terminal } from '../store/index.js';
import {
  consumeApproval,
  endTerminalSessions,
  getOpenSessionWithOperator,
  isLocked,
  touchOperatorSession,
  type SessionEndReason,
  type SessionWithOperator,
} from '../store/operators.js';
import type { HostContext, HostRequest } from './context.js';
import type { ResponseCode } from './response-codes.js';

export type { OperatorPermission };

export type OperatorGate =
  | {
      ok: true;
      operatorNo: string;
      /** The supervisor whose single-use approval let this request through, else null. */
      approvedBy: string | null;
      /** The operator session the request ran in. */
      sessionId: string;
    }
  | { ok: false; responseCode: ResponseCode; reason: string };

/** qiandao's operator codes (Q1, Q2...) as field-39 values. */
export function operatorCode(code: OperatorResponseCode): ResponseCode {
  return code as string as ResponseCode;
}

/**
 * Activity is written to the session row at most this often (see requireOperator): a thirtieth of
 * the idle limit, and at most a minute (the default limit of 30 minutes: once a minute). A busy
 * terminal thus costs the store one UPDATE a minute instead of one per request, and the idle lapse
 * comes at most that much early (about 3 %) — never late.
 */
export function touchEveryMs(idleSeconds: number): number {
  return Math.min(60_000, (idleSeconds * 1000) / 30);
}

function refused(code: OperatorResponseCode, reason: string): OperatorGate {
  return { ok: false, responseCode: operatorCode(code), reason };
}

/** A gate read started early (prefetchGateRead), with the terminal it was started for. */
export interface GateRead {
  merchantNo: string;
  terminalNo: string;
  found: Promise<SessionWithOperator | null>;
}

/**
 * Start the gate's read for the terminal a request names (fields 42 and 41) before the request is
 * authenticated, so that it runs beside the terminal read and the MAC check instead of after them:
 * one round trip less on the way of every financial request. Only on PostgreSQL (PGlite has one
 * connection: the reads would queue anyway). Nothing is decided from it before requireOperator,
 * and requireOperator reads again when the authenticated terminal is another one. A read that is
 * never used (the request refused earlier) is dropped, its failure ignored.
 */
export function prefetchGateRead(db: Db, merchantNo: string | undefined, terminalNo: string | undefined): GateRead | undefined {
  if (db.kind !== 'postgres' || merchantNo === undefined || terminalNo === undefined) return undefined;
  const found = getOpenSessionWithOperator(db, { merchantNo, terminalNo });
  found.catch(() => undefined);
  return { merchantNo, terminalNo, found };
}

export async function requireOperator(
  ctx: HostContext,
  req: HostRequest,
  terminal: Terminal,
  permission: OperatorPermission,
  early?: GateRead,
): Promise<OperatorGate> {
  const now = new Date();
  const ref = { merchantNo: terminal.merchantNo, terminalNo: terminal.terminalNo };
  const found =
    early !== undefined && early.merchantNo === ref.merchantNo && early.terminalNo === ref.terminalNo
      ? await early.found
      : await getOpenSessionWithOperator(ctx.db, ref);
  if (found === null) return refused(OperatorResponseCode.NoOperator, 'no operator signed on');
  const session = found.session;
  if (now.getTime() - session.lastActivity.getTime() > ctx.operatorIdleSeconds * 1000) {
    await endOperatorSessions(ctx.db, ref.merchantNo, ref.terminalNo, 'idle', req.remoteAddress);
    return refused(OperatorResponseCode.NoOperator, `operator ${session.operatorNo} sign-on lapsed (idle)`);
  }
  const op = found.operator;
  if (op === null || op.status !== 'active' || isLocked(op, now)) {
    await endOperatorSessions(ctx.db, ref.merchantNo, ref.terminalNo, op?.status === 'active' ? 'locked' : 'disabled', req.remoteAddress);
    return refused(OperatorResponseCode.NoOperator, `operator ${session.operatorNo} no longer active`);
  }
  if (op.permissions.includes(permission)) {
    // A session touched less than touchEveryMs ago is not touched again (one UPDATE saved per
    // request on a busy terminal). The idle lapse may thus come up to that much early — never late.
    if (now.getTime() - session.lastActivity.getTime() >= touchEveryMs(ctx.operatorIdleSeconds)) await touchOperatorSession(ctx.db, session.id, now);
    return { ok: true, operatorNo: op.operatorNo, approvedBy: null, sessionId: session.id };
  }
  const approval = await consumeApproval(ctx.db, { ...ref, permission, usedBy: op.operatorNo, now });
  if (approval === null) return refused(OperatorResponseCode.NotPermitted, `operator ${op.operatorNo} lacks permission ${permission}`);
  await touchOperatorSession(ctx.db, session.id, now);
  await appendEvent(ctx.db, {
    type: 'operator.approval-used',
    ok: true,
    merchantNo: ref.merchantNo,
    terminalNo: ref.terminalNo,
    operatorNo: op.operatorNo,
    detail: { permission, approvedBy: approval.approvedBy, approvalId: approval.id, mti: req.message.mti },
    actor: `operator:${ref.merchantNo}/${ref.terminalNo}/${op.operatorNo}`,
    origin: req.remoteAddress,
    resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`,
  });
  return { ok: true, operatorNo: op.operatorNo, approvedBy: approval.approvedBy, sessionId: session.id };
}

/**
 * End whoever is signed on at a terminal (terminal sign-off, settlement, idle...), recording an
 * `operator.sign-off` event per session ended (actor `system`). Returns how many ended.
 */
export async function endOperatorSessions(db: Db, merchantNo: string, terminalNo: string, reason: SessionEndReason, origin: string | null = null): Promise<number> {
  const ended = await endTerminalSessions(db, { merchantNo, terminalNo }, reason);
  for (const s of ended) {
    await appendEvent(db, {
      type: 'operator.sign-off',
      ok: true,
      merchantNo,
      terminalNo,
      operatorNo: s.operatorNo,
      detail: { reason, sessionId: s.id },
      actor: 'system',
      origin,
      resource: `operator:${merchantNo}/${s.operatorNo}`,
    });
  }
  return ended.length;
}
