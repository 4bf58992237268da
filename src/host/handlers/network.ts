/**
 * Network management on 0820: sign-off (60.3 = 002) and echo test (60.3 = 301), both answered with
 * 0830 and 39 = 00 for a registered, active terminal of an active merchant.
 */
import { appendEvent } from '../../store/index.js';
import { authorize } from '../authorize.js';
import type { HandlerResult, HostContext, HostRequest } from '../context.js';
import { refuse } from '../refusal.js';
import { ResponseCode } from '../response-codes.js';
import { safeText, startResponse } from '../response.js';
import { localTimeFields } from '../local-time.js';
import { endOperatorSessions } from '../operator-gate.js';

export async function handleSignOff(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const auth = await authorize(ctx, req.message);
  if (!auth.ok) return refuse(ctx, req, { event: 'sign-off.refused', code: auth.code, reason: auth.reason });
  const operator = safeText(req.message, 63)?.trim();
  await appendEvent(ctx.db, {
    type: 'sign-off',
    ok: true,
    merchantNo: auth.terminal.merchantNo,
    terminalNo: auth.terminal.terminalNo,
    operatorNo: operator !== undefined && operator !== '' ? operator : null,
    detail: { address: req.remoteAddress },
  });
  // Whoever was signed on at the terminal is signed off with it (docs/protocol-operators.md).
  await endOperatorSessions(ctx.db, auth.terminal.merchantNo, auth.terminal.terminalNo, 'terminal-sign-off', req.remoteAddress);
  const rsp = startResponse(req.message, ResponseCode.Approved);
  const now = localTimeFields(new Date(), auth.merchant.timeZone);
  rsp.set(12, now.time);
  rsp.set(13, now.date);
  req.logger.info({ terminalNo: auth.terminal.terminalNo, merchantNo: auth.terminal.merchantNo }, 'terminal signed off');
  return { response: rsp, terminal: auth.terminal, signedOff: true };
}

export async function handleEcho(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const auth = await authorize(ctx, req.message);
  if (!auth.ok) return refuse(ctx, req, { event: 'echo.refused', code: auth.code, reason: auth.reason });
  const rsp = startResponse(req.message, ResponseCode.Approved);
  const now = localTimeFields(new Date(), auth.merchant.timeZone);
  rsp.set(12, now.time);
  rsp.set(13, now.date);
  return { response: rsp, terminal: auth.terminal };
}
