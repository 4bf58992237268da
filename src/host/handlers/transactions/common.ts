/**
 * What every transaction handler does before its own work: required fields (30), terminal and
 * merchant (src/host/authorize.ts), MAC (A0, forcing a new sign-on), operator gate; and how it
 * answers: response MTI, echoed fields, host time, MAC under the key that verified the request.
 */
import type { WrappedKey } from '../../../crypto/hsm/hsm.js';
import type { KeyGeneration, Merchant, Terminal } from '../../../store/index.js';
import { appendEvent, requestRekey } from '../../../store/index.js';
import { MESSAGES, type MessageDefinition, type TxField } from '../../../transactions/messages.js';
import { authorize } from '../../authorize.js';
import type { CupPosMessage, HandlerResult, HostContext, HostRequest } from '../../context.js';
import { localTimeFields } from '../../local-time.js';
import { macResponse, verifyRequestMac } from '../../mac.js';
import { requireOperator } from '../../operator-gate.js';
import type { ResponseCode } from '../../response-codes.js';
import { safeText, startResponse } from '../../response.js';

/** A request that passed the common checks. */
export interface Admitted {
  def: MessageDefinition;
  terminal: Terminal;
  merchant: Merchant;
  /** MAC key that verified the request (responses are MAC'ed with it); null when the request had no MAC (optional-MAC messages). */
  mak: WrappedKey | null;
  /** The key generation that verified the MAC (its PIK translates field 52). */
  keys: KeyGeneration | null;
  operatorNo: string | null;
  now: Date;
  /** Host local time (12) and date (13) in the merchant's time zone. */
  time: string;
  date: string;
}

export type Admission = { ok: true; a: Admitted } | { ok: false; result: HandlerResult };

/** Field `n` of `msg`: its value, undefined when absent, null when malformed. */
export function field(msg: CupPosMessage, n: TxField): unknown {
  try {
    return msg.get(n);
  } catch {
    return null;
  }
}

export function textField(msg: CupPosMessage, n: 2 | 3 | 4 | 14 | 22 | 25 | 35 | 37 | 38 | 39 | 48 | 49 | 59): string | undefined {
  try {
    const v = msg.get(n);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function operatorOf(msg: CupPosMessage): string | null {
  const op = safeText(msg, 63)?.trim();
  return op !== undefined && op !== '' ? op : null;
}

/** Record a transaction event (failures are logged, never fatal). */
export async function txEvent(
  ctx: HostContext,
  req: HostRequest,
  e: { type: string; ok: boolean; merchantNo: string | null; terminalNo: string | null; operatorNo?: string | null; detail: Record<string, unknown> },
): Promise<void> {
  try {
    await appendEvent(ctx.db, {
      type: e.type,
      ok: e.ok,
      merchantNo: e.merchantNo,
      terminalNo: e.terminalNo,
      operatorNo: e.operatorNo ?? null,
      detail: { mti: req.message.mti, address: req.remoteAddress, ...e.detail },
      actor: e.merchantNo !== null && e.terminalNo !== null ? `terminal:${e.merchantNo}/${e.terminalNo}` : null,
      origin: req.remoteAddress,
      resource: e.merchantNo !== null && e.terminalNo !== null ? `terminal:${e.merchantNo}/${e.terminalNo}` : null,
    });
  } catch (err) {
    req.logger.error({ err: err instanceof Error ? err.message : String(err), event: e.type }, 'could not record transaction event');
  }
}

/** A response with `code`, echoing 11/41/42/60 and the given request fields, with 12/13. */
export function baseResponse(req: HostRequest, code: string, echo: readonly (3 | 4 | 25 | 49)[], local?: { time: string; date: string }): CupPosMessage {
  const msg = req.message;
  const rsp = startResponse(msg, code as ResponseCode);
  for (const n of echo) {
    const v = textField(msg, n);
    if (v !== undefined) rsp.set(n, v);
  }
  if (local !== undefined) {
    rsp.set(12, local.time);
    rsp.set(13, local.date);
  }
  return rsp;
}

/** MAC the response when a key verified the request. */
export async function finish(ctx: HostContext, rsp: CupPosMessage, mak: WrappedKey | null, terminal?: Terminal): Promise<HandlerResult> {
  if (mak !== null) await macResponse(ctx, rsp, mak);
  return terminal === undefined ? { response: rsp } : { response: rsp, terminal };
}

/** Refuse before the journal is involved: event + response (MAC'ed when `mak`). */
export async function refuseTx(
  ctx: HostContext,
  req: HostRequest,
  r: { kind: string; code: string; reason: string; mak: WrappedKey | null; terminal?: Terminal; detail?: Record<string, unknown> },
): Promise<HandlerResult> {
  const msg = req.message;
  await txEvent(ctx, req, {
    type: `transaction.refused`,
    ok: false,
    merchantNo: safeText(msg, 42) ?? null,
    terminalNo: safeText(msg, 41) ?? null,
    operatorNo: msg.mti === '0500' ? operatorOf(msg) : null,
    detail: { kind: r.kind, responseCode: r.code, reason: r.reason, ...r.detail },
  });
  req.logger.info({ mti: msg.mti, kind: r.kind, responseCode: r.code, reason: r.reason }, 'transaction refused');
  return finish(ctx, baseResponse(req, r.code, [3, 4, 25, 49]), r.mak, r.terminal);
}

/** Missing or malformed required fields of `def`, if any. */
export function missingFields(msg: CupPosMessage, def: MessageDefinition): TxField[] {
  const out: TxField[] = [];
  for (const n of def.required) {
    const v = field(msg, n);
    if (v === undefined || v === null) out.push(n);
  }
  return out;
}

/**
 * Required fields, terminal and merchant, MAC, operator gate. A bad or missing MAC answers A0
 * (no MAC on the response), marks the terminal for rekey and tells it to sign on again.
 */
/**
 * Field checks, terminal/merchant authorisation, MAC and (unless `gate: false`) the operator gate.
 * Financial requests pass `gate: false` and run the gate themselves, so that a retransmission the
 * gate would now refuse (its single-use approval already spent) still gets its stored answer.
 */
export async function admit(ctx: HostContext, req: HostRequest, kind: keyof typeof MESSAGES, opts: { gate?: boolean } = {}): Promise<Admission> {
  const def = MESSAGES[kind];
  const msg = req.message;
  const missing = missingFields(msg, def);
  if (missing.length > 0) {
    return { ok: false, result: await refuseTx(ctx, req, { kind, code: '30', reason: `required fields missing or malformed: ${missing.join(', ')}`, mak: null }) };
  }
  const needsMac = def.mac === 'required' || msg.has(64);
  const auth = await authorize(ctx, msg, { withKeys: needsMac });
  if (!auth.ok) return { ok: false, result: await refuseTx(ctx, req, { kind, code: auth.code, reason: auth.reason, mak: null }) };
  const { terminal, merchant } = auth;
  const ref = { merchantNo: terminal.merchantNo, terminalNo: terminal.terminalNo };

  let mak: WrappedKey | null = null;
  let keys: KeyGeneration | null = null;
  if (needsMac) {
    const check = await verifyRequestMac(ctx, req, ref, undefined, auth.keys);
    if (!check.ok) {
      const rekeyed = await requestRekey(ctx.db, ref);
      await txEvent(ctx, req, {
        type: 'transaction.mac-failed',
        ok: false,
        merchantNo: ref.merchantNo,
        terminalNo: ref.terminalNo,
        detail: { kind, reason: check.reason, responseCode: 'A0' },
      });
      req.logger.warn({ kind, reason: check.reason }, 'MAC verification failed: answering A0');
      return { ok: false, result: { response: baseResponse(req, 'A0', [3, 4, 25, 49]), terminal: rekeyed } };
    }
    mak = check.mak;
    keys = check.keys;
  }

  // Field 63 carries the operator only on settlement (elsewhere: the card organisation code), so
  // the operator is the gate's; ungated messages (reversal, batch upload) have none of their own.
  let operatorNo: string | null = null;
  if (def.permission !== undefined && opts.gate !== false) {
    const gate = await requireOperator(ctx, req, terminal, def.permission);
    if (!gate.ok) {
      return { ok: false, result: await refuseTx(ctx, req, { kind, code: gate.responseCode, reason: gate.reason, mak, detail: { permission: def.permission } }) };
    }
    operatorNo = gate.operatorNo;
  }
  const now = new Date();
  const local = localTimeFields(now, merchant.timeZone);
  return { ok: true, a: { def, terminal, merchant, mak, keys, operatorNo, now, time: local.time, date: local.date } };
}
