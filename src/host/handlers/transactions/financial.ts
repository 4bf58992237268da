/**
 * Financial requests: purchase, QR purchase, balance, void, refund, pre-authorisation, pre-auth
 * void, completion, completion void (docs/protocol-transactions.md).
 *
 * decode → required fields (30) → terminal / merchant → MAC (A0) → operator gate → card → batch
 * open (12) → journal row 'pending' (duplicate: replay / 94 / 96) → original (25 / 13) → risk →
 * PIN translation (A7 / 99) → issuer (91 / 98 + stand-in reversal) → journal final → response.
 */
import { createHash } from 'node:crypto';
import { CryptoError } from '../../../crypto/errors.js';
import { maskPan } from '../../../iso8583/mask.js';
import { IssuerUnavailableError, type IssuerRequest, type IssuerResult } from '../../../issuer/issuer.js';
import type { RiskTransaction } from '../../../risk/types.js';
import {
  childrenOf,
  finalizeEntry,
  findAcrossMidnight,
  findByKey,
  getEntry,
  insertPending,
  insertPendingChecked,
  lockOriginalByBatchStan,
  lockOriginalByRrn,
  lockPreauthByAuthCode,
  markReversed,
  setOriginal,
  transition,
  type JournalEntry,
  type NewJournalEntry,
  type StoredResponse,
} from '../../../store/journal.js';
import { isBatchClosed } from '../../../store/settlement.js';
import { readCard, type CardData } from '../../../transactions/card.js';
import { localDate } from '../../../transactions/local-date.js';
import { cardClassOf, classify, encodeBalance, FINANCIAL_KINDS, MESSAGES, type FinancialKind } from '../../../transactions/messages.js';
import { sealPan } from '../../../transactions/pan-vault.js';
import type { CupPosMessage, HandlerResult, HostContext, HostRequest } from '../../context.js';
import { pinKeyOf } from '../../mac.js';
import { safeText } from '../../response.js';
import { prefetchGateRead, requireOperator } from '../../operator-gate.js';
import { admit, baseResponse, finish, refuseTx, textField, txEvent, type Admitted } from './common.js';
import { DEFAULT_ACQUIRER_ID, issuerKind, referenceOf, reverseWithIssuer } from './issuer-link.js';
import { fingerprintPan } from '../../../transactions/pan-fingerprint.js';

/**
 * The duplicate key includes the local date; a retransmission within this long of an entry of
 * the previous day with the same terminal, batch and STAN is still treated as a duplicate.
 */
const MIDNIGHT_WINDOW_MS = 15 * 60_000;

interface Field60 {
  1: string;
  2: string;
  3: string;
}
interface Field61 {
  1: string;
  2: string;
  3?: string;
}

function get60(msg: CupPosMessage): Field60 | undefined {
  try {
    return msg.get(60);
  } catch {
    return undefined;
  }
}

function get61(msg: CupPosMessage): Field61 | undefined {
  try {
    return msg.get(61);
  } catch {
    return undefined;
  }
}

function isFinancial(k: string | null): k is FinancialKind {
  return k !== null && (FINANCIAL_KINDS as readonly string[]).includes(k);
}

/** The content compared when the same (terminal, batch, STAN, date) arrives again. */
function contentHash(msg: CupPosMessage, kind: FinancialKind, fingerprint: string): string {
  const f60 = get60(msg);
  const f61 = get61(msg);
  const parts = [
    msg.mti,
    kind,
    textField(msg, 3) ?? '',
    textField(msg, 4) ?? '',
    textField(msg, 22) ?? '',
    textField(msg, 25) ?? '',
    textField(msg, 49) ?? '',
    f60?.[1] ?? '',
    f61 === undefined ? '' : `${f61[1]}|${f61[2]}|${f61[3] ?? ''}`,
    textField(msg, 37) ?? '',
    textField(msg, 38) ?? '',
    fingerprint,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The financial response for a journal entry (fresh or replayed). */
function financialResponse(ctx: HostContext, req: HostRequest, rrn: string, stored: StoredResponse, fallback: { time: string; date: string }): CupPosMessage {
  const local = { time: stored.time ?? fallback.time, date: stored.date ?? fallback.date };
  const rsp = baseResponse(req, stored.responseCode, [3, 4, 25, 49], local);
  rsp.set(15, stored.settlementDate ?? local.date);
  if (ctx.acquirerId !== undefined) rsp.set(32, ctx.acquirerId);
  rsp.set(37, rrn);
  if (stored.authCode !== undefined) rsp.set(38, stored.authCode);
  if (stored.balance !== undefined) rsp.set(54, stored.balance);
  return rsp;
}

/** A retransmission or a STAN reused with other content. */
async function answerExisting(ctx: HostContext, req: HostRequest, a: Admitted, kind: FinancialKind, existing: JournalEntry, hash: string): Promise<HandlerResult> {
  const ref = { merchantNo: a.terminal.merchantNo, terminalNo: a.terminal.terminalNo };
  if (existing.contentHash !== hash) {
    await txEvent(ctx, req, {
      type: 'transaction.duplicate',
      ok: false,
      ...ref,
      operatorNo: a.operatorNo,
      detail: { kind, responseCode: '94', journalId: existing.id, reason: 'same terminal, batch, STAN and date with different content' },
    });
    return finish(ctx, baseResponse(req, '94', [3, 4, 25, 49], a), a.mak, a.terminal);
  }
  if (existing.status === 'pending' || existing.response === null) {
    req.logger.info({ kind, journalId: existing.id }, 'retransmission of a request still in progress: answering 96');
    return finish(ctx, baseResponse(req, '96', [3, 4, 25, 49], a), a.mak, a.terminal);
  }
  req.logger.info({ kind, journalId: existing.id, responseCode: existing.responseCode }, 'retransmission: replaying the stored answer');
  return finish(ctx, financialResponse(ctx, req, existing.rrn, existing.response, a), a.mak, a.terminal);
}

type OriginalCheck = { ok: true; original: JournalEntry | null } | { ok: false; code: string; reason: string };

/** Find and check the original of a void / refund / pre-auth void / completion / completion void. */
async function checkOriginal(ctx: HostContext, msg: CupPosMessage, kind: FinancialKind, entry: JournalEntry): Promise<OriginalCheck> {
  const def = MESSAGES[kind];
  if (def.original === undefined || def.originalKinds === undefined) return { ok: true, original: null };
  const kinds = def.originalKinds;
  const f61 = get61(msg);
  const rrn = textField(msg, 37);
  const auth = textField(msg, 38);
  return ctx.db.transaction(async (tx): Promise<OriginalCheck> => {
    let o: JournalEntry | null = null;
    if (def.original === 'batch-stan') {
      if (f61 === undefined) return { ok: false, code: '30', reason: 'field 61 missing' };
      if (f61[1] !== entry.batchNo) return { ok: false, code: '25', reason: 'original not in the current batch' };
      o = await lockOriginalByBatchStan(tx, { merchantNo: entry.merchantNo, terminalNo: entry.terminalNo, batchNo: f61[1], stan: f61[2], kinds });
      if (o !== null && rrn !== undefined && rrn !== o.rrn) return { ok: false, code: '25', reason: 'original RRN differs' };
    } else if (def.original === 'rrn') {
      if (rrn === undefined) return { ok: false, code: '30', reason: 'field 37 missing' };
      o = await lockOriginalByRrn(tx, { merchantNo: entry.merchantNo, rrn, kinds });
    } else {
      const byStan = f61 !== undefined && f61[1] !== '000000' && f61[2] !== '000000';
      if (byStan) {
        o = await lockOriginalByBatchStan(tx, { merchantNo: entry.merchantNo, terminalNo: entry.terminalNo, batchNo: f61[1], stan: f61[2], kinds });
        if (o !== null && auth !== undefined && o.authCode !== auth) return { ok: false, code: '25', reason: 'original auth code differs' };
      } else if (auth !== undefined && entry.panFingerprint !== null) {
        o = await lockPreauthByAuthCode(tx, { merchantNo: entry.merchantNo, authCode: auth, panFingerprint: entry.panFingerprint });
      }
    }
    if (o === null) return { ok: false, code: '25', reason: 'original not found' };
    if (o.status !== 'approved') return { ok: false, code: '25', reason: `original is ${o.status}` };
    if (o.panFingerprint !== entry.panFingerprint) return { ok: false, code: '25', reason: 'original was paid with another card' };
    if (o.currency !== entry.currency) return { ok: false, code: '13', reason: 'currency differs from the original' };
    switch (kind) {
      case 'void':
      case 'completion-void': {
        if (entry.amount !== o.amount) return { ok: false, code: '13', reason: 'void amount differs from the original' };
        const voids = await childrenOf(tx, o.id, [kind], entry.id);
        if (voids.count > 0) return { ok: false, code: '25', reason: 'original already voided (or being voided)' };
        const refunds = await childrenOf(tx, o.id, ['refund'], entry.id);
        if (refunds.count > 0) return { ok: false, code: '25', reason: 'original partly refunded: refund the rest instead of voiding' };
        break;
      }
      case 'refund': {
        const voiding = await childrenOf(tx, o.id, ['void', 'completion-void'], entry.id);
        if (voiding.count > 0) return { ok: false, code: '25', reason: 'original voided (or being voided)' };
        const refunds = await childrenOf(tx, o.id, ['refund'], entry.id);
        if (refunds.amount + entry.amount > o.amount) return { ok: false, code: '13', reason: 'refund above what remains of the original' };
        break;
      }
      case 'preauth-void':
      case 'preauth-completion': {
        const used = await childrenOf(tx, o.id, ['preauth-void', 'preauth-completion'], entry.id);
        if (used.count > 0) return { ok: false, code: '25', reason: 'pre-authorisation already completed or voided' };
        if (kind === 'preauth-void' && entry.amount !== o.amount) return { ok: false, code: '13', reason: 'pre-auth void amount differs' };
        if (kind === 'preauth-completion' && entry.amount > o.amount) return { ok: false, code: '13', reason: 'completion above the pre-authorised amount' };
        break;
      }
      default:
        break;
    }
    await setOriginal(tx, entry.id, o.id);
    return { ok: true, original: o };
  });
}

/** Map an HSM failure while translating the PIN: 99 for a bad PIN block, A7 otherwise. */
function pinFailureCode(e: unknown): string {
  if (e instanceof CryptoError && (e.reason === 'BAD_PIN_BLOCK' || e.reason === 'BAD_PIN' || e.reason === 'BAD_FORMAT' || e.reason === 'PAN_MISMATCH')) return '99';
  return 'A7';
}

export async function handleFinancial(ctx: HostContext, req: HostRequest): Promise<HandlerResult> {
  const msg = req.message;
  const f60 = get60(msg);
  const kind = classify(msg.mti, textField(msg, 3), f60?.[1], f60?.[3], textField(msg, 22));
  if (!isFinancial(kind) || f60 === undefined) {
    return refuseTx(ctx, req, { kind: String(kind), code: '40', reason: 'not a financial request this host handles', mak: null });
  }
  const permission = MESSAGES[kind].permission;
  // The operator gate's read runs beside admit's terminal read and MAC check (PostgreSQL).
  const early = permission === undefined ? undefined : prefetchGateRead(ctx.db, safeText(msg, 42), safeText(msg, 41));
  const adm = await admit(ctx, req, kind, { gate: false });
  if (!adm.ok) return adm.result;
  let a = adm.a;
  const { terminal, merchant } = a;
  const refuse = (code: string, reason: string): Promise<HandlerResult> => refuseTx(ctx, req, { kind, code, reason, mak: a.mak, terminal });

  const amount = kind === 'balance' ? 0 : Number(textField(msg, 4) ?? '0');
  if (kind !== 'balance' && !(amount > 0)) return refuse('13', 'amount must be above zero');
  const currency = textField(msg, 49) ?? '';
  if (!/^[0-9]{3}$/.test(currency)) return refuse('30', 'field 49 is not a 3-digit currency code');
  const read = readCard({
    entryMode: textField(msg, 22),
    pan: textField(msg, 2),
    expiry: textField(msg, 14),
    track2: textField(msg, 35),
    qrCode: textField(msg, 59),
  });
  if (!read.ok) return refuse(read.code, read.reason);
  const card: CardData = read.card;
  if (card.channel === 'qr' && kind !== 'qr-purchase' && kind !== 'void' && kind !== 'refund') return refuse('12', 'QR payment code on a card-only transaction');
  if (card.channel === 'qr' && msg.has(52)) return refuse('30', 'a QR purchase carries no PIN');
  const batchNo = f60[2];
  const ref = { merchantNo: terminal.merchantNo, terminalNo: terminal.terminalNo };

  const fingerprint = await fingerprintPan(ctx.db, ctx.hsm, card.pan);
  const hash = contentHash(msg, kind, fingerprint);
  const stan = msg.get(11) ?? '';
  const today = localDate(a.now, merchant.timeZone);
  const since = new Date(a.now.getTime() - MIDNIGHT_WINDOW_MS);
  const key = { ...ref, batchNo, stan, localDate: today };
  // The operator gate. When it refuses, a retransmission of a request already journalled (whose
  // supervisor approval was spent by the first copy, or whose operator has since signed off) still
  // gets its stored answer: the duplicate check comes first for it.
  if (permission !== undefined) {
    const gate = await requireOperator(ctx, req, terminal, permission, early);
    if (!gate.ok) {
      const earlier = (await findByKey(ctx.db, key)) ?? (await findAcrossMidnight(ctx.db, { ...key, since }));
      if (earlier !== null) return answerExisting(ctx, req, a, kind, earlier, hash);
      return refuseTx(ctx, req, { kind, code: gate.responseCode, reason: gate.reason, mak: a.mak, terminal, detail: { permission } });
    }
    a = { ...a, operatorNo: gate.operatorNo };
  }
  const pending: NewJournalEntry = {
    ...ref,
    batchNo,
    stan,
    localDate: today,
    kind,
    mti: msg.mti,
    processingCode: textField(msg, 3) ?? '',
    amount,
    currency,
    channel: card.channel,
    cardClass: card.channel === 'qr' ? 'domestic' : cardClassOf(card.pan),
    panFingerprint: fingerprint,
    maskedPan: maskPan(card.pan),
    panCipher: await sealPan(ctx.db, ctx.hsm, card.pan),
    rrn: ctx.rrn.next(),
    acquirerId: ctx.acquirerId ?? DEFAULT_ACQUIRER_ID,
    operatorNo: a.operatorNo,
    contentHash: hash,
    receivedAt: a.now,
    instanceId: ctx.instanceId ?? null,
  };
  // One statement in the usual case: closed batch (12) and a retransmission across midnight are
  // checked by the insert itself; when it stands back, the checks run one by one, in this order.
  let ins = await insertPendingChecked(ctx.db, pending, since);
  if ('blocked' in ins) {
    // A retransmission into a batch settled meanwhile still gets its stored answer, not 12.
    const same = await findByKey(ctx.db, key);
    if (same !== null) return answerExisting(ctx, req, a, kind, same, hash);
    if (await isBatchClosed(ctx.db, { ...ref, batchNo })) return refuse('12', `batch ${batchNo} is settled and closed`);
    const crossed = await findAcrossMidnight(ctx.db, { ...ref, batchNo, stan, localDate: today, since });
    if (crossed !== null) return answerExisting(ctx, req, a, kind, crossed, hash);
    ins = await insertPending(ctx.db, pending);
  }
  if (!ins.inserted) return answerExisting(ctx, req, a, kind, ins.existing, hash);
  const entry = ins.entry;
  ctx.journalInFlight?.add(entry.id);
  try {
    return await processEntry(ctx, req, a, kind, entry, card);
  } finally {
    ctx.journalInFlight?.delete(entry.id);
  }
}

async function processEntry(ctx: HostContext, req: HostRequest, a: Admitted, kind: FinancialKind, entry: JournalEntry, card: CardData): Promise<HandlerResult> {
  const msg = req.message;
  const base: StoredResponse = { responseCode: '00', time: a.time, date: a.date, settlementDate: a.date };
  const answer = (stored: StoredResponse): Promise<HandlerResult> => finish(ctx, financialResponse(ctx, req, entry.rrn, stored, a), a.mak, a.terminal);
  let issuerAsked = false;
  // Set once the final journal state is committed: from then on the entry must not be undone here
  // (the terminal's 0400 does it, through the journal), whatever fails afterwards.
  let finalized = false;
  let riskTx: RiskTransaction | null = null;
  /** Write the outcome's risk observation on its own (paths that do not finalize with `observe`). */
  const recordRisk = async (result: 'approved' | 'declined'): Promise<void> => {
    if (ctx.risk === undefined || riskTx === null) return;
    try {
      await ctx.risk.record(ctx.db, riskTx, result);
    } catch (e) {
      req.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'risk record failed');
    }
  };
  // The final journal write also writes the observation when the engine can be told of it
  // afterwards (RiskEngine.observed); an engine without it records the outcome itself.
  const observeWithFinal = ctx.risk?.observed !== undefined;
  /** Tell the engine of the outcome: of the observation the final write made, or to record it. */
  const observed = async (result: 'approved' | 'declined'): Promise<void> => {
    if (ctx.risk === undefined || riskTx === null) return;
    if (!observeWithFinal) return recordRisk(result);
    try {
      ctx.risk.observed?.(riskTx, result);
    } catch (e) {
      req.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'risk engine update failed');
    }
  };
  /** Decline before the issuer; `byRisk`: the risk engine's decline, observed with the final row. */
  const decline = async (code: string, reason: string, byRisk = false): Promise<HandlerResult> => {
    const stored: StoredResponse = { ...base, responseCode: code };
    const done = await finalizeEntry(ctx.db, entry.id, { status: 'declined', responseCode: code, response: stored, reason, observe: observeWithFinal && byRisk && riskTx !== null });
    if (done !== null) {
      finalized = true;
      if (byRisk) await observed('declined');
    }
    req.logger.info({ kind, journalId: entry.id, responseCode: code, reason }, 'transaction declined');
    return answer(stored);
  };

  try {
    const orig = await checkOriginal(ctx, msg, kind, entry);
    if (!orig.ok) return await decline(orig.code, orig.reason);
    const original = orig.original;

    if (ctx.risk !== undefined) {
      riskTx = {
        merchantNo: entry.merchantNo,
        terminalNo: entry.terminalNo,
        operatorNo: a.operatorNo,
        channel: card.channel,
        kind,
        amount: entry.amount,
        cardFingerprint: card.channel === 'qr' ? null : entry.panFingerprint,
        at: a.now,
        reference: entry.id,
      };
      const decision = await ctx.risk.evaluate(ctx.db, riskTx);
      if (decision.outcome === 'decline') {
        const code = decision.responseCode ?? '05';
        return await decline(code, `risk: ${decision.firings.map((f) => f.ruleId).join(', ') || 'declined'}`, true);
      }
    }

    const issuer = ctx.issuer;
    if (issuer === undefined) return await decline('91', 'no issuer configured');

    let pinBlock: Buffer | undefined;
    const f52 = msg.has(52) ? msg.get(52) : undefined;
    if (f52 !== undefined) {
      if (a.keys === null) return await decline('A7', 'PIN block without a verified key generation');
      try {
        pinBlock = await ctx.hsm.translatePin({ pinBlock: f52, from: pinKeyOf(a.keys), fromFormat: 0, to: await issuer.pinKey(), toFormat: 0, pan: card.pan });
      } catch (e) {
        const code = pinFailureCode(e);
        return await decline(code, `PIN translation failed: ${e instanceof Error ? e.message : 'HSM error'}`);
      }
    }

    const request: IssuerRequest = {
      kind: issuerKind(kind),
      reference: referenceOf(entry),
      pan: card.pan,
      amount: entry.amount,
      currency: entry.currency,
      ...(card.expiry !== undefined ? { expiry: card.expiry } : {}),
      ...(pinBlock !== undefined ? { pinBlock } : {}),
      ...(original !== null
        ? { original: { rrn: original.rrn, amount: original.amount, ...(original.authCode !== null ? { authCode: original.authCode } : {}) } }
        : {}),
    };
    let result: IssuerResult;
    issuerAsked = true;
    try {
      result = await issuer.authorize(request);
    } catch (e) {
      if (!(e instanceof IssuerUnavailableError)) throw e;
      return await standIn(ctx, req, a, kind, entry, card, base, e.message);
    }

    const approved = result.responseCode === '00';
    const stored: StoredResponse = {
      ...base,
      responseCode: result.responseCode,
      ...(approved && kind !== 'balance' && result.authCode !== undefined ? { authCode: result.authCode } : {}),
      ...(approved && kind === 'balance' && result.balance !== undefined ? { balance: encodeBalance(result.balance, entry.currency) } : {}),
    };
    const final = {
      status: approved ? ('approved' as const) : ('declined' as const),
      responseCode: result.responseCode,
      authCode: approved && kind !== 'balance' ? (result.authCode ?? null) : null,
      response: stored,
      reason: result.reason ?? null,
      // Another host's recovery may have claimed the entry meanwhile (this process stalled past its
      // heartbeat): then it is not this process's to approve.
      writer: entry.instanceId,
      // The risk observation goes in the same statement (one commit); the engine is told below.
      observe: observeWithFinal && riskTx !== null,
    };
    const voidsOriginal = approved && original !== null && (kind === 'void' || kind === 'completion-void' || kind === 'preauth-void');
    if (!voidsOriginal) {
      // A single statement is atomic by itself: no BEGIN / COMMIT round trips.
      const done = await finalizeEntry(ctx.db, entry.id, final);
      if (done === null) throw new Error(`journal entry ${entry.id} was no longer pending`);
    } else {
      await ctx.db.transaction(async (tx) => {
        const done = await finalizeEntry(tx, entry.id, final);
        if (done === null) throw new Error(`journal entry ${entry.id} was no longer pending`);
        // The original may have been reversed meanwhile (a 0400 racing this void): then this void
        // must not stand; the rollback leaves it pending and the catch below reverses it.
        const voided = await transition(tx, original.id, 'approved', 'voided');
        if (voided === null) throw new Error(`original ${original.id} is no longer approved`);
      });
    }
    finalized = true;
    await observed(approved ? 'approved' : 'declined');
    req.logger.info({ kind, journalId: entry.id, responseCode: result.responseCode, amount: entry.amount }, approved ? 'transaction approved' : 'transaction declined');
    return await answer(stored);
  } catch (e) {
    // Something failed after the journal row was written. Before the issuer was asked: decline 96.
    // After: undo at the issuer (stand-in reversal) if possible; otherwise the row stays pending
    // and crash recovery reverses it at the next start.
    req.logger.error({ err: e instanceof Error ? e.message : String(e), kind, journalId: entry.id, finalized }, 'transaction failed: answering 96');
    const stored: StoredResponse = { ...base, responseCode: '96' };
    if (finalized) {
      // The journal already holds the final answer; only building the response failed (e.g. the
      // HSM could not MAC it). Answer 96 without a MAC: the terminal reverses, through the journal.
      return finish(ctx, financialResponse(ctx, req, entry.rrn, stored, a), null, a.terminal);
    }
    try {
      if (!issuerAsked) {
        await finalizeEntry(ctx.db, entry.id, { status: 'declined', responseCode: '96', response: stored, reason: 'system malfunction' });
      } else if (ctx.issuer !== undefined) {
        // The final write may have committed although its answer was lost (the connection dropped
        // after COMMIT), or another host's recovery took the entry over: then the journal holds
        // the outcome, and a reversal here would contradict it. Answer 96 without a MAC; the
        // terminal reverses through the journal, as when only the response failed.
        const current = await getEntry(ctx.db, entry.id);
        if (current !== null && current.status !== 'pending') {
          req.logger.warn({ journalId: entry.id, status: current.status }, 'the entry is no longer pending: not reversed here');
          return finish(ctx, financialResponse(ctx, req, entry.rrn, stored, a), null, a.terminal);
        }
        await reverseWithIssuer(ctx.issuer, entry, card.pan, '06');
        await markReversed(ctx.db, entry.id, 'stand-in: host failure', { from: ['pending'], responseCode: '96', response: stored });
      }
    } catch (e2) {
      req.logger.error({ err: e2 instanceof Error ? e2.message : String(e2), journalId: entry.id }, 'could not settle the failed entry: left pending for recovery');
    }
    await recordRisk('declined');
    return finish(ctx, financialResponse(ctx, req, entry.rrn, stored, a), a.mak, a.terminal);
  }
}

/** The issuer did not answer: answer 98 and reverse at the issuer at once (stand-in reversal). */
async function standIn(
  ctx: HostContext,
  req: HostRequest,
  a: Admitted,
  kind: FinancialKind,
  entry: JournalEntry,
  card: CardData,
  base: StoredResponse,
  why: string,
): Promise<HandlerResult> {
  const stored: StoredResponse = { ...base, responseCode: '98' };
  req.logger.warn({ kind, journalId: entry.id, why }, 'issuer unavailable: answering 98 and reversing');
  try {
    if (ctx.issuer !== undefined) await reverseWithIssuer(ctx.issuer, entry, card.pan, '98');
    await markReversed(ctx.db, entry.id, 'stand-in: issuer unavailable', { from: ['pending'], responseCode: '98', response: stored });
  } catch (e) {
    req.logger.error({ err: e instanceof Error ? e.message : String(e), journalId: entry.id }, 'stand-in reversal failed: entry left pending for recovery');
  }
  await txEvent(ctx, req, {
    type: 'transaction.stand-in-reversal',
    ok: false,
    merchantNo: entry.merchantNo,
    terminalNo: entry.terminalNo,
    operatorNo: a.operatorNo,
    detail: { kind, journalId: entry.id, responseCode: '98', reason: why },
  });
  return finish(ctx, financialResponse(ctx, req, entry.rrn, stored, a), a.mak, a.terminal);
}
