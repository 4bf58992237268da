/**
 * Operator list download, for the terminal's local table (src/terminal/operator-table.ts):
 * 0800, 60.1 = 00, 60.3 = 906, 62 = the first operator number wanted (ASCII, 2 digits; absent =
 * `00`), 64 = MAC -> 0810 / 00 with 62 = records, each
 *
 *   operator number (2) US status (`active`/`disabled`) US permissions (comma-separated) US name (UTF-8)
 *
 * separated by RS (US = 0x1F, RS = 0x1E; control characters are dropped from names), as many as fit
 * in 512 bytes, in number order, and 63 = the next operator number to ask for, or `--` when the list
 * is complete. Password hashes are never sent.
 */
import { listOperators, type Operator } from '../../../store/operators.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { ResponseCode } from '../../response-codes.js';
import { approve, begin, refuseOperator, textOf62 } from './common.js';

const EVENT = 'operator.list-download';
const MAX = 512;
export const US = 0x1f;
export const RS = 0x1e;

export function encodeOperatorRecord(op: Pick<Operator, 'operatorNo' | 'status' | 'permissions' | 'name'>): Buffer {
  const name = op.name.replace(/[\x00-\x1f\x7f]/g, '');
  return Buffer.concat([
    Buffer.from(op.operatorNo, 'ascii'),
    Buffer.of(US),
    Buffer.from(op.status, 'ascii'),
    Buffer.of(US),
    Buffer.from(op.permissions.join(','), 'ascii'),
    Buffer.of(US),
    Buffer.from(name, 'utf8'),
  ]);
}

export async function handleOperatorDownload(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const b = await begin(ctx, req, EVENT);
  if (!b.ok) return b.result;
  const x = b.x;
  const from = textOf62(req) ?? '00';
  if (!/^[0-9]{2}$/.test(from)) return refuseOperator(ctx, req, x, { event: EVENT, code: ResponseCode.FormatError, reason: 'field 62 must be an operator number', operatorNo: null });
  const ops = (await listOperators(ctx.db, x.terminal.merchantNo)).filter((o) => o.operatorNo >= from);
  const parts: Buffer[] = [];
  let size = 0;
  let next = '--';
  for (const op of ops) {
    const rec = encodeOperatorRecord(op);
    const add = rec.length + (parts.length > 0 ? 1 : 0);
    if (size + add > MAX) {
      next = op.operatorNo;
      break;
    }
    if (parts.length > 0) parts.push(Buffer.of(RS));
    parts.push(rec);
    size += add;
  }
  return approve(ctx, req, x, (rsp) => {
    rsp.set(62, Buffer.concat(parts));
    rsp.set(63, next);
  });
}
