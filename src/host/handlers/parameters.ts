/**
 * Parameter download (0800, 60.3 = 360 -> 0810) and POS status upload (0820, 60.3 = 362 -> 0830).
 *
 * Parameter download answers with the terminal's effective parameters (merchant values overlaid by
 * terminal overrides) in field 62 as BER-TLV (a qiandao layout; UnionPay's own parameter tags are
 * not public):
 *
 *   DF03 <version, ASCII decimal>
 *   DF05 <this page, ASCII decimal, from 1>
 *   DF06 <page count, ASCII decimal>
 *   E1 { DF01 <name, UTF-8>  DF02 <value, UTF-8> }   — repeated, names in ascending order
 *
 * Field 62 holds at most 512 bytes, so a large document is sent in pages: the terminal asks for
 * page n by sending DF05 <n> in field 62 of its request (no field 62: page 1) and repeats until
 * DF05 = DF06. Every page carries the version; when it changes between pages (an administrator
 * edited the parameters meanwhile) the terminal starts again from page 1. The version is recorded
 * as downloaded when the last page is sent (the response is the confirmation; there is no separate
 * end-of-download message). A page number beyond the last, or a malformed request 62, is answered
 * 30; a single parameter too large for a page, 96.
 *
 * Status upload records what the terminal sent (field 62 as hex, field 63, header terminal-status
 * nibble) with recordStatus.
 */
import { buildTlv, parseTlv, type TlvItem } from '../../iso8583/index.js';
import { markParamsDownloaded, recordStatus, effectiveParameters, type Parameters } from '../../store/index.js';
import { authorize } from '../authorize.js';
import type { HandlerResult, HostContext, HostRequest } from '../context.js';
import { localTimeFields } from '../local-time.js';
import { refuse } from '../refusal.js';
import { ResponseCode } from '../response-codes.js';
import { safeText, startResponse } from '../response.js';

/** Largest field 62 the cup-pos spec allows. */
export const FIELD_62_MAX = 512;
/** Room kept for DF03/DF05/DF06 (each at most 3 + 10 bytes). */
const PAGE_HEADER_ROOM = 3 * 13;

export class ParameterPagingError extends Error {
  constructor(
    readonly code: '30' | '96',
    message: string,
  ) {
    super(message);
    this.name = 'ParameterPagingError';
  }
}

function item(name: string, value: string): Buffer {
  return buildTlv([
    {
      tag: 'E1',
      value: buildTlv([
        { tag: 'DF01', value: Buffer.from(name, 'utf8') },
        { tag: 'DF02', value: Buffer.from(value, 'utf8') },
      ]),
    },
  ]);
}

/** Split the document into pages of encoded E1 items, each page fitting field 62 with its header. */
export function paginateParameters(values: Parameters, max = FIELD_62_MAX): Buffer[][] {
  const room = max - PAGE_HEADER_ROOM;
  const pages: Buffer[][] = [[]];
  let used = 0;
  for (const name of Object.keys(values).sort()) {
    const enc = item(name, values[name] ?? '');
    if (enc.length > room) throw new ParameterPagingError('96', `parameter ${JSON.stringify(name.slice(0, 40))} needs ${enc.length} bytes, a page holds ${room}`);
    if (used + enc.length > room) {
      pages.push([]);
      used = 0;
    }
    pages.at(-1)!.push(enc);
    used += enc.length;
  }
  return pages;
}

/** Field 62 of page `page` (1-based) of a parameter-download response. */
export function encodeParameterPage(pages: readonly Buffer[][], page: number, version: number): Buffer {
  const ascii = (n: number): Buffer => Buffer.from(String(n), 'ascii');
  const head: TlvItem[] = [
    { tag: 'DF03', value: ascii(version) },
    { tag: 'DF05', value: ascii(page) },
    { tag: 'DF06', value: ascii(pages.length) },
  ];
  return Buffer.concat([buildTlv(head), ...(pages[page - 1] ?? [])]);
}

/** Field 62 of a one-page parameter-download response (all parameters; may exceed 512 bytes). */
export function encodeParameters(values: Parameters, version: number): Buffer {
  const items = Object.keys(values)
    .sort()
    .map((name) => item(name, values[name] ?? ''));
  return encodeParameterPage([items], 1, version);
}

/** The page a request asks for: DF05 in its field 62, else 1. */
function requestedPage(req: HostRequest): number {
  const f62 = req.message.get(62);
  if (f62 === undefined || f62.length === 0) return 1;
  let items: TlvItem[];
  try {
    items = parseTlv(f62, 62);
  } catch {
    throw new ParameterPagingError('30', 'field 62 of a parameter request is not TLV');
  }
  const page = items.find((i) => i.tag === 'DF05')?.value.toString('ascii');
  if (page === undefined) return 1;
  if (!/^[1-9][0-9]{0,3}$/.test(page)) throw new ParameterPagingError('30', 'requested page (DF05) must be a number from 1');
  return Number(page);
}

export async function handleParameterDownload(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const auth = await authorize(ctx, req.message);
  if (!auth.ok) return refuse(ctx, req, { event: 'params.refused', code: auth.code, reason: auth.reason });
  const ref = { merchantNo: auth.terminal.merchantNo, terminalNo: auth.terminal.terminalNo };
  const params = await effectiveParameters(ctx.db, ref);
  let pages: Buffer[][];
  let page: number;
  try {
    page = requestedPage(req);
    pages = paginateParameters(params.values);
    if (page > pages.length) throw new ParameterPagingError('30', `page ${page} asked for, there are ${pages.length}`);
  } catch (e) {
    if (!(e instanceof ParameterPagingError)) throw e;
    const code = e.code === '30' ? ResponseCode.FormatError : ResponseCode.SystemMalfunction;
    return refuse(ctx, req, { event: 'params.refused', code, reason: e.message });
  }
  const last = page === pages.length;
  const terminal = last ? await markParamsDownloaded(ctx.db, ref, params.version) : auth.terminal;
  const rsp = startResponse(req.message, ResponseCode.Approved);
  const now = localTimeFields(new Date(), auth.merchant.timeZone);
  rsp.set(12, now.time);
  rsp.set(13, now.date);
  rsp.set(62, encodeParameterPage(pages, page, params.version));
  req.logger.info({ ...ref, version: params.version, page, pages: pages.length }, last ? 'parameters downloaded' : 'parameter page sent');
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
