/**
 * Parameter download (0800, 60.3 = 360 -> 0810) and POS status upload (0820, 60.3 = 362 -> 0830).
 *
 * Parameter download answers with the terminal's effective parameters (merchant values overlaid by
 * terminal overrides) in field 62 as BER-TLV, one constructed template per parameter:
 *
 *   DF03 <version, ASCII decimal>
 *   E1 { DF01 <name, UTF-8>  DF02 <value, UTF-8> }   — repeated, names in ascending order
 *
 * and records the version as downloaded (the response is the confirmation; there is no separate
 * end-of-download message). A document that does not fit field 62 (512 bytes) is refused with 96.
 *
 * Status upload records what the terminal sent (field 62 as hex, field 63, header terminal-status
 * nibble) with recordStatus.
 */
import { buildTlv, type TlvItem } from '../../iso8583/index.js';
import { markParamsDownloaded, recordStatus, effectiveParameters, type Parameters } from '../../store/index.js';
import { authorize } from '../authorize.js';
import type { HandlerResult, HostContext, HostRequest } from '../context.js';
import { localTimeFields } from '../local-time.js';
import { refuse } from '../refusal.js';
import { ResponseCode } from '../response-codes.js';
import { safeText, startResponse } from '../response.js';

/** Largest field 62 the cup-pos spec allows. */
const FIELD_62_MAX = 512;

/** Field 62 of a parameter-download response. */
export function encodeParameters(values: Parameters, version: number): Buffer {
  const names = Object.keys(values).sort();
  const items: TlvItem[] = [{ tag: 'DF03', value: Buffer.from(String(version), 'ascii') }];
  for (const name of names) {
    const inner = buildTlv([
      { tag: 'DF01', value: Buffer.from(name, 'utf8') },
      { tag: 'DF02', value: Buffer.from(values[name] ?? '', 'utf8') },
    ]);
    items.push({ tag: 'E1', value: inner });
  }
  return buildTlv(items);
}

export async function handleParameterDownload(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const auth = await authorize(ctx, req.message);
  if (!auth.ok) return refuse(ctx, req, { event: 'params.refused', code: auth.code, reason: auth.reason });
  const ref = { merchantNo: auth.terminal.merchantNo, terminalNo: auth.terminal.terminalNo };
  const params = await effectiveParameters(ctx.db, ref);
  const f62 = encodeParameters(params.values, params.version);
  if (f62.length > FIELD_62_MAX) {
    return refuse(ctx, req, {
      event: 'params.refused',
      code: ResponseCode.SystemMalfunction,
      reason: `parameters need ${f62.length} bytes, field 62 holds ${FIELD_62_MAX}`,
    });
  }
  const terminal = await markParamsDownloaded(ctx.db, ref, params.version);
  const rsp = startResponse(req.message, ResponseCode.Approved);
  const now = localTimeFields(new Date(), auth.merchant.timeZone);
  rsp.set(12, now.time);
  rsp.set(13, now.date);
  rsp.set(62, f62);
  req.logger.info({ ...ref, version: params.version, count: Object.keys(params.values).length }, 'parameters downloaded');
  return { response: rsp, terminal };
}

export async function handleStatusUpload(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const auth = await authorize(ctx, req.message);
  if (!auth.ok) return refuse(ctx, req, { event: 'status.refused', code: auth.code, reason: auth.reason });
  const ref = { merchantNo: auth.terminal.merchantNo, terminalNo: auth.terminal.terminalNo };
  const f62 = req.message.get(62);
  const f63 = safeText(req.message, 63);
  const terminal = await recordStatus(ctx.db, ref, {
    terminalStatus: req.header.terminalStatus,
    ...(f62 !== undefined ? { field62: f62.toString('hex').toUpperCase() } : {}),
    ...(f63 !== undefined ? { field63: f63 } : {}),
  });
  const rsp = startResponse(req.message, ResponseCode.Approved);
  const now = localTimeFields(new Date(), auth.merchant.timeZone);
  rsp.set(12, now.time);
  rsp.set(13, now.date);
  return { response: rsp, terminal };
}
