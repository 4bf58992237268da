/**
 * Settlement 0500 → 0510 (60.3 = 201) and batch upload 0320 → 0330 (201 records; 207 / 202 end).
 *
 * - 0500: the terminal's field 48 totals are compared per card class with the journal's totals
 *   for the batch; 0510 field 48 carries the host's totals with 1 (agree) / 2 (disagree) per class.
 * - 0320 / 201: magnetic-stripe records are stored (PAN as fingerprint + mask) and matched to the
 *   journal.
 * - 0320 / 207 or 202: the batch is closed, the terminal's batch number advances and the operator
 *   sessions at the terminal end. A repeated end answers 00 without advancing again.
 */
import { maskPan } from '../../../iso8583/mask.js';
import { setBatchNo } from '../../../store/index.js';
import { closeBatch, isBatchClosed, journalTotals, recordBatchUpload, getSettlement, recordSettlement } from '../../../store/settlement.js';
import { isStoreError } from '../../../store/errors.js';
import {
  classTotalsEqual,
  decodeBatchEndCount,
  decodeBatchRecords,
  decodeSettlementTotals,
  encodeSettlementTotals,
  SETTLEMENT_CODES,
  TotalsFormatError,
  type BatchRecord,
  type DecodedTotals,
} from '../../../transactions/messages.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { endOperatorSessions } from '../../operator-gate.js';
import { admit, baseResponse, finish, refuseTx, textField, txEvent } from './common.js';
import { fingerprintPan } from '../../../transactions/pan-fingerprint.js';

/** The batch after `batchNo` (000001 … 999999, then 000001 again). */
export function nextBatchNo(batchNo: string): string {
  const n = Number(batchNo);
  return String((n % 999_999) + 1).padStart(6, '0');
}

export async function handleSettlement(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const msg = req.message;
  const adm = await admit(ctx, req, 'settlement');
  if (!adm.ok) return adm.result;
  const a = adm.a;
  const refuse = (code: string, reason: string): Promise<HandlerResult> => refuseTx(ctx, req, { kind: 'settlement', code, reason, mak: a.mak, terminal: a.terminal });
  const batchNo = msg.get(60)?.[2] ?? '';
  const ref = { merchantNo: a.terminal.merchantNo, terminalNo: a.terminal.terminalNo, batchNo };
  let theirs: DecodedTotals;
  try {
    theirs = decodeSettlementTotals(textField(msg, 48) ?? '');
  } catch (e) {
    return refuse('30', e instanceof Error ? e.message : 'bad field 48');
  }
  if (await isBatchClosed(ctx.db, ref)) return refuse('12', `batch ${batchNo} is already closed`);
  const ours = await journalTotals(ctx.db, ref);
  const domesticAgreed = classTotalsEqual(theirs.domestic, ours.domestic);
  const foreignAgreed = classTotalsEqual(theirs.foreign, ours.foreign);
  let f48: string;
  try {
    f48 = encodeSettlementTotals(ours, {
      domestic: domesticAgreed ? SETTLEMENT_CODES.agree : SETTLEMENT_CODES.disagree,
      foreign: foreignAgreed ? SETTLEMENT_CODES.agree : SETTLEMENT_CODES.disagree,
    });
  } catch (e) {
    if (!(e instanceof TotalsFormatError)) throw e;
    // The host's totals do not fit n12 / n3: say so (reconciliation error) with the terminal's figures.
    f48 = encodeSettlementTotals(theirs, { domestic: SETTLEMENT_CODES.error, foreign: SETTLEMENT_CODES.error });
  }
  try {
    await recordSettlement(ctx.db, {
      ...ref,
      stan: msg.get(11) ?? '000000',
      operatorNo: a.operatorNo,
      terminalTotals: { domestic: theirs.domestic, foreign: theirs.foreign },
      hostTotals: ours,
      domesticAgreed,
      foreignAgreed,
    });
  } catch (e) {
    if (isStoreError(e, 'CONFLICT')) return refuse('12', `batch ${batchNo} is already closed`);
    throw e;
  }
  await txEvent(ctx, req, {
    type: 'settlement',
    ok: domesticAgreed && foreignAgreed,
    merchantNo: ref.merchantNo,
    terminalNo: ref.terminalNo,
    operatorNo: a.operatorNo,
    detail: { batchNo, domesticAgreed, foreignAgreed, host: ours, terminal: { domestic: theirs.domestic, foreign: theirs.foreign } },
  });
  const rsp = baseResponse(req, '00', [49], a);
  rsp.set(15, a.date);
  if (ctx.acquirerId !== undefined) rsp.set(32, ctx.acquirerId);
  rsp.set(37, ctx.rrn.next());
  rsp.set(48, f48);
  return finish(ctx, rsp, a.mak, a.terminal);
}

export async function handleBatchUpload(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const msg = req.message;
  const adm = await admit(ctx, req, 'batch-upload');
  if (!adm.ok) return adm.result;
  const a = adm.a;
  const refuse = (code: string, reason: string): Promise<HandlerResult> => refuseTx(ctx, req, { kind: 'batch-upload', code, reason, mak: a.mak, terminal: a.terminal });
  const batchNo = msg.get(60)?.[2] ?? '';
  const ref = { merchantNo: a.terminal.merchantNo, terminalNo: a.terminal.terminalNo, batchNo };
  let records: BatchRecord[];
  try {
    records = decodeBatchRecords(textField(msg, 48) ?? '');
  } catch (e) {
    return refuse('30', e instanceof Error ? e.message : 'bad field 48');
  }
  const settlement = await getSettlement(ctx.db, ref);
  if (settlement === null) return refuse('12', `batch ${batchNo} not settled: send 0500 first`);
  if (settlement.closedAt !== null) return refuse('12', `batch ${batchNo} is already closed`);
  let matched = 0;
  for (const r of records) {
    // A record whose PAN is not a PAN is kept without a fingerprint (it matches nothing); a failure
    // to make the fingerprint (store, HSM) is not swallowed.
    const fingerprint = /^[0-9]{12,19}$/.test(r.pan) ? await fingerprintPan(ctx.db, ctx.hsm, r.pan) : null;
    const ok = await recordBatchUpload(ctx.db, {
      ...ref,
      uploadStan: msg.get(11) ?? '000000',
      recordStan: r.stan,
      cardClass: r.cardClass,
      panFingerprint: fingerprint,
      maskedPan: maskPan(r.pan),
      amount: r.amount,
    });
    if (ok) matched += 1;
  }
  req.logger.info({ batchNo, records: records.length, matched }, 'batch upload');
  const rsp = baseResponse(req, '00', [], a);
  rsp.set(48, String(records.length).padStart(2, '0'));
  return finish(ctx, rsp, a.mak, a.terminal);
}

export async function handleBatchUploadEnd(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const msg = req.message;
  const adm = await admit(ctx, req, 'batch-upload-end');
  if (!adm.ok) return adm.result;
  const a = adm.a;
  const refuse = (code: string, reason: string): Promise<HandlerResult> => refuseTx(ctx, req, { kind: 'batch-upload-end', code, reason, mak: a.mak, terminal: a.terminal });
  const f60 = msg.get(60);
  const batchNo = f60?.[2] ?? '';
  const code = f60?.[3] === '202' ? '202' : '207';
  const ref = { merchantNo: a.terminal.merchantNo, terminalNo: a.terminal.terminalNo, batchNo };
  let count: number;
  try {
    count = decodeBatchEndCount(textField(msg, 48) ?? '');
  } catch (e) {
    return refuse('30', e instanceof Error ? e.message : 'bad field 48');
  }
  const next = nextBatchNo(batchNo);
  const closed = await ctx.db.transaction(async (tx) => {
    const c = await closeBatch(tx, ref, { code, count });
    if (c === null || c.alreadyClosed) return c;
    await setBatchNo(tx, { merchantNo: ref.merchantNo, terminalNo: ref.terminalNo }, next);
    return c;
  });
  if (closed === null) return refuse('12', `batch ${batchNo} not settled: send 0500 first`);
  let terminal = a.terminal;
  if (!closed.alreadyClosed) {
    terminal = { ...terminal, batchNo: next };
    let ended = 0;
    try {
      ended = await endOperatorSessions(ctx.db, ref.merchantNo, ref.terminalNo, 'settlement', req.remoteAddress);
    } catch (e) {
      req.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'could not end operator sessions after settlement');
    }
    await txEvent(ctx, req, {
      type: 'settlement.closed',
      ok: true,
      merchantNo: ref.merchantNo,
      terminalNo: ref.terminalNo,
      operatorNo: a.operatorNo,
      detail: { batchNo, nextBatchNo: next, endCode: code, uploadedCount: count, operatorSessionsEnded: ended },
    });
    req.logger.info({ batchNo, next, code, count }, 'batch closed');
  }
  const rsp = baseResponse(req, '00', [], a);
  rsp.set(48, textField(msg, 48) ?? '0000');
  return finish(ctx, rsp, a.mak, terminal);
}
