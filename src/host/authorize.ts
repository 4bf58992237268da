/**
 * Who is asking: the terminal (41) and merchant (42) of a request, checked against the store.
 *
 * | situation | 39 |
 * |---|---|
 * | 41 or 42 missing / malformed | 30 |
 * | terminal number unknown under every merchant | 97 |
 * | merchant unknown, not active, or the terminal belongs to another merchant | 03 |
 * | terminal disabled | 58 |
 */
import type { CurrentAndGraceKeys, Merchant, Terminal } from '../store/index.js';
import { getTerminalMerchantAndKeys } from '../store/keys.js';
import { getTerminalAndMerchant } from '../store/terminals.js';
import type { CupPosMessage, HostContext } from './context.js';
import { ResponseCode } from './response-codes.js';
import { safeText } from './response.js';

export type Authorization =
  | { ok: true; terminal: Terminal; merchant: Merchant; keys?: CurrentAndGraceKeys }
  | { ok: false; code: ResponseCode; reason: string; terminalNo: string | null; merchantNo: string | null };

async function terminalNumberKnown(ctx: HostContext, terminalNo: string): Promise<boolean> {
  const r = await ctx.db.query('SELECT 1 FROM terminals WHERE terminal_no = $1 LIMIT 1', [terminalNo]);
  return r.rowCount > 0;
}

/**
 * With `withKeys`, the terminal's working keys to try (current, and previous inside the grace
 * window) come back in the same round trip, for requests whose MAC is checked next.
 */
export async function authorize(ctx: HostContext, msg: CupPosMessage, opts: { withKeys?: boolean } = {}): Promise<Authorization> {
  const terminalNo = safeText(msg, 41) ?? null;
  const merchantNo = safeText(msg, 42) ?? null;
  const refuse = (code: ResponseCode, reason: string): Authorization => ({ ok: false, code, reason, terminalNo, merchantNo });
  if (terminalNo === null || merchantNo === null) return refuse(ResponseCode.FormatError, 'field 41 or 42 missing');
  // One round trip on the usual path: the merchant row joined with its terminal.
  const ref = { merchantNo, terminalNo };
  let keys: CurrentAndGraceKeys | undefined;
  let found: { merchant: Merchant | null; terminal: Terminal | null };
  if (opts.withKeys === true) {
    const r = await getTerminalMerchantAndKeys(ctx.db, ref, ctx.graceSeconds);
    found = r;
    keys = r.keys;
  } else {
    found = await getTerminalAndMerchant(ctx.db, ref);
  }
  const { merchant, terminal } = found;
  if (terminal === null) {
    if (!(await terminalNumberKnown(ctx, terminalNo))) return refuse(ResponseCode.TerminalNotRegistered, 'terminal not registered');
    return refuse(ResponseCode.InvalidMerchant, merchant === null ? 'merchant not registered' : 'terminal belongs to another merchant');
  }
  if (merchant === null) return refuse(ResponseCode.InvalidMerchant, 'merchant not registered');
  if (merchant.status !== 'active') return refuse(ResponseCode.InvalidMerchant, `merchant ${merchant.status}`);
  if (terminal.status !== 'active') return refuse(ResponseCode.NotPermittedOnTerminal, `terminal ${terminal.status}`);
  return keys === undefined ? { ok: true, terminal, merchant } : { ok: true, terminal, merchant, keys };
}
