/** Shared setup for the operator tests over TCP: a client and a gate-test route. */
import { DEFAULT_ROUTES, ResponseCode, startResponse, type Handler, type Route } from '../../src/host/index.js';
import { macResponse, verifyRequestMac } from '../../src/host/mac.js';
import { requireOperator } from '../../src/host/operator-gate.js';
import { isPermission } from '../../src/operators/index.js';
import { getTerminal } from '../../src/store/index.js';
import { TerminalClient } from '../../src/terminal/index.js';
import { CLEAR_TMK, type Fixture } from './fixture.js';

/**
 * 0200 / 60.1 = 98 stands in for the financial handlers (written separately): MAC check, then the
 * operator gate for the permission field 3 selects (000000 sale, 200000 refund, 310000 balance,
 * 900000 settle); 44 carries the operator (and approver) or the refusal reason.
 */
const PERMISSION_BY_CODE: Record<string, string> = { '000000': 'sale', '200000': 'refund', '310000': 'balance', '900000': 'settle' };

const gateEcho: Handler = async (ctx, req) => {
  const ref = { merchantNo: req.message.get(42) ?? '', terminalNo: req.message.get(41) ?? '' };
  const check = await verifyRequestMac(ctx, req, ref);
  if (!check.ok) return { response: startResponse(req.message, ResponseCode.MacError) };
  const terminal = await getTerminal(ctx.db, ref);
  const permission = PERMISSION_BY_CODE[req.message.get(3) ?? ''];
  if (terminal === null || !isPermission(permission)) return { response: startResponse(req.message, ResponseCode.FormatError) };
  const gate = await requireOperator(ctx, req, terminal, permission);
  const rsp = startResponse(req.message, gate.ok ? ResponseCode.Approved : gate.responseCode);
  const info = gate.ok ? `${gate.operatorNo}${gate.approvedBy !== null ? ` by ${gate.approvedBy}` : ''}` : gate.reason;
  rsp.set(44, info.replace(/[^A-Za-z0-9 ]/g, ' ').slice(0, 25));
  await macResponse(ctx, rsp, check.mak);
  return { response: rsp };
};

/** The test route first, so no financial route of the real table can take its requests. */
export const GATE_ROUTES: Route[] = [{ name: 'gate-test', mti: '0200', messageType: '98', handler: gateEcho }, ...DEFAULT_ROUTES];

export function gateRequest(c: TerminalClient, processingCode: string): Promise<import('../../src/terminal/index.js').TerminalResponse> {
  return c.request('0200', { 3: processingCode, 41: c.terminalNo, 42: c.merchantNo, 60: { 1: '98', 2: '000001', 3: '000' } }, { mac: true });
}

export function client(f: Fixture, terminalNo = f.terminalNo): TerminalClient {
  return new TerminalClient({
    host: '127.0.0.1',
    port: f.host.port,
    terminalNo,
    merchantNo: f.merchantNo,
    tmk: CLEAR_TMK,
    keyScheme: '003',
    reconnect: false,
    autoSignOn: false,
    requestTimeoutMs: 20_000,
  });
}
