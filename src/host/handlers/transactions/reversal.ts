/**
 * Reversal 0400 → 0410: the terminal got no (valid) answer to a request and undoes it. The
 * original is the terminal's latest journal entry with the 0400's batch (60.2) and STAN (11).
 *
 * | original | effect | 39 |
 * |---|---|---|
 * | approved, same amount and card | issuer reversal (exactly once), entry → reversed; a reversed void puts its original back to approved | 00 |
 * | none / declined / reversed / voided / different content | nothing undone, recorded | 00 |
 * | still pending, being processed | nothing yet | 96 (the terminal resends) |
 * | pending, not being processed (failed stand-in reversal, previous run) | issuer reversal, entry → reversed (39 96) | 00 |
 * | approved, but no PAN (2) or QR code (59) in the 0400 | — | 30 |
 */
import { IssuerUnavailableError } from '../../../issuer/issuer.js';
import { instanceGone } from '../../../store/host-instances.js';
import { childrenOf, findForReversal, markReversed, recordReversal, transition, type ReversalOutcome } from '../../../store/journal.js';
import { readCard } from '../../../transactions/card.js';
import { reversedKind } from '../../../transactions/messages.js';
import type { HandlerResult, HostContext, HostRequest } from '../../context.js';
import { admit, baseResponse, finish, textField, txEvent } from './common.js';
import { reverseWithIssuer } from './issuer-link.js';
import { fingerprintPan } from '../../../transactions/pan-fingerprint.js';

export async function handleReversal(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const msg = req.message;
  const adm = await admit(ctx, req, 'reversal');
  if (!adm.ok) return adm.result;
  const a = adm.a;
  const f60 = msg.get(60);
  const batchNo = f60?.[2] ?? '000000';
  const stan = msg.get(11) ?? '000000';
  const amount = Number(textField(msg, 4) ?? '0');
  const reasonCode = textField(msg, 39) ?? '06';
  const ref = { merchantNo: a.terminal.merchantNo, terminalNo: a.terminal.terminalNo };
  const rrn = ctx.rrn.next();

  const respond = async (code: string): Promise<HandlerResult> => {
    const rsp = baseResponse(req, code, [3, 4, 25, 49], a);
    rsp.set(15, a.date);
    if (ctx.acquirerId !== undefined) rsp.set(32, ctx.acquirerId);
    rsp.set(37, rrn);
    return finish(ctx, rsp, a.mak, a.terminal);
  };
  let operatorNo: string | null = null;
  const record = async (outcome: ReversalOutcome, originalId: string | null, code: string): Promise<HandlerResult> => {
    await recordReversal(ctx.db, { ...ref, batchNo, stan, amount, reasonCode, originalId, outcome, rrn, operatorNo });
    req.logger.info({ stan, batchNo, reasonCode, outcome, originalId }, 'reversal');
    return respond(code);
  };

  const original = await findForReversal(ctx.db, { ...ref, batchNo, stan });
  if (original === null) return record('not-found', null, '00');
  operatorNo = original.operatorNo;
  const kind = reversedKind(textField(msg, 3), f60?.[1], textField(msg, 22));
  if (kind !== original.kind || amount !== original.amount) return record('mismatch', original.id, '00');
  // Pending and not in this process's hands: abandoned only if its writer is this process or gone
  // (another live host process sharing the store may be waiting for the issuer on it right now).
  const foreignWriter = original.instanceId !== null && original.instanceId !== ctx.instanceId ? original.instanceId : null;
  const orphan =
    original.status === 'pending' &&
    ctx.journalInFlight !== undefined &&
    !ctx.journalInFlight.has(original.id) &&
    (foreignWriter === null || (await instanceGone(ctx.db, foreignWriter)));
  switch (original.status) {
    case 'pending':
      // Being processed now: the terminal resends later. Left pending by a failed stand-in
      // reversal or a previous run (orphan): reversed below, as crash recovery would.
      if (!orphan) return record('pending', original.id, '96');
      break;
    case 'declined':
      return record('not-approved', original.id, '00');
    case 'reversed':
      return record('already-reversed', original.id, '00');
    case 'voided':
      return record('voided', original.id, '00');
    case 'approved':
      break;
  }
  // A terminal reverses only what it got no answer to; an original already refunded, voided or
  // completed was answered. Undoing it at the issuer would credit the card a second time.
  if (original.status === 'approved') {
    const children = await childrenOf(ctx.db, original.id, ['void', 'refund', 'preauth-void', 'preauth-completion', 'completion-void']);
    if (children.count > 0) return record('mismatch', original.id, '00');
  }
  const card = readCard({ entryMode: textField(msg, 22), pan: textField(msg, 2), expiry: undefined, track2: textField(msg, 35), qrCode: textField(msg, 59) });
  if (!card.ok) {
    await recordReversal(ctx.db, { ...ref, batchNo, stan, amount, reasonCode, originalId: original.id, outcome: 'mismatch', rrn, operatorNo });
    return respond('30');
  }
  const fingerprint = await fingerprintPan(ctx.db, ctx.hsm, card.card.pan);
  if (fingerprint !== original.panFingerprint) return record('mismatch', original.id, '00');
  if (ctx.issuer === undefined) return record('pending', original.id, '96');
  try {
    const result = await reverseWithIssuer(ctx.issuer, original, card.card.pan, reasonCode);
    if (result.responseCode !== '00') {
      req.logger.error({ journalId: original.id, responseCode: result.responseCode, reason: result.reason }, 'issuer refused the reversal');
      return record('mismatch', original.id, '00');
    }
  } catch (e) {
    if (!(e instanceof IssuerUnavailableError)) throw e;
    req.logger.warn({ journalId: original.id }, 'issuer unavailable for the reversal: answering 96');
    return record('pending', original.id, '96');
  }
  const undone = await ctx.db.transaction(async (tx) => {
    const r = orphan
      ? await markReversed(tx, original.id, `reversal ${reasonCode} of an entry left pending`, { from: ['pending'], responseCode: '96', response: { responseCode: '96' } })
      : await markReversed(tx, original.id, `reversal ${reasonCode}`);
    if (r !== null && original.originalId !== null && (original.kind === 'void' || original.kind === 'completion-void' || original.kind === 'preauth-void')) {
      await transition(tx, original.originalId, 'voided', 'approved');
    }
    return r !== null;
  });
  await txEvent(ctx, req, {
    type: 'transaction.reversed',
    ok: true,
    ...ref,
    operatorNo: original.operatorNo,
    detail: { journalId: original.id, kind: original.kind, amount: original.amount, reasonCode, undone },
  });
  return record(undone ? 'reversed' : 'already-reversed', original.id, '00');
}
