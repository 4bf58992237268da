/**
 * Terminal-side financial transactions over a TerminalClient: purchase, balance inquiry, purchase
 * void, refund, pre-authorisation, its void and completion, completion void, QR purchase and
 * settlement.
 *
 * - Every request is MAC'ed (field 64, UnionPay POS MAC under the working MAK) and every response
 *   MAC is verified. An approval (39 = 00) without a valid MAC is not trusted; a decline without
 *   field 64 is accepted (hosts do not MAC some refusals) but a wrong MAC is never accepted.
 * - Transactions of one terminal run one at a time, as on a real terminal.
 * - Automatic reversal: before a reversible request (purchase, void, pre-auth, completion, QR
 *   purchase) goes out, its reversal is prepared. No reply (timeout, dropped link) → 0400 with
 *   39 = 98; a bad response MAC → 0400 with 39 = A0. A reversal is the original request re-sent as
 *   0400 with the original STAN, without track data, PIN data and RRN, plus 39 (reason) and 38
 *   (auth code, when one was received). It is retried until a 0410 acknowledges it; reversals not
 *   yet acknowledged are kept and go first, before the next transaction is sent.
 * - Approved transactions are counted in the terminal's batch (./batch.ts). Settlement sends the
 *   batch totals in field 48; when the host's reconciliation digits say they do not agree, the
 *   batch's transactions are uploaded (0320 / 201); the batch-upload end (0320, 207 / 202) closes
 *   the batch on both sides and the terminal moves to the next batch number.
 * - Declines are results (`approved: false` with the response code), not exceptions; transport
 *   failures, a bad MAC and unusable responses throw TerminalError.
 *
 * Nothing here logs a PAN, track or PIN; results, events and saved batch state carry the masked
 * PAN only. The clear PAN stays in memory while it is needed: in a pending reversal (field 2) and
 * in the batch for a batch upload. The PIN becomes an encrypted PIN block at once.
 */
import { maskPan } from '../iso8583/mask.js';
import {
  MESSAGES,
  NO_PIN,
  PIN_CAPTURE_CODE,
  PIN_ENTERED,
  QR_ENTRY_MODE,
  ENTRY_MODE,
  REVERSAL_REASONS,
  SECURITY_CONTROL_3DES,
  SECURITY_CONTROL_DES,
  CURRENCY_CNY,
  cardClassOf,
  controlField60,
  decodeBalance,
  decodeSettlementTotals,
  encodeBatchEndCount,
  encodeBatchRecords,
  encodeSettlementTotals,
  MAX_BATCH_RECORDS,
  financialField60,
  originalField61,
  type CardClass,
  type FinancialKind,
  type MessageDefinition,
  type ReversalReason,
  type SettlementTotals,
} from '../transactions/messages.js';
import { TerminalBatch } from './batch.js';
import { terminalPinBlock } from './card.js';
import type { CupFieldValues, CupMessage, TerminalResponse } from './client-types.js';
import type { TerminalClient } from './client.js';
import { TerminalError, declined, isTerminalError } from './errors.js';
import { describeOperatorCode } from './operators.js';

// ---------------------------------------------------------------------------------------------
// Wire: MTI, processing code, 25, 60.1 and fields per transaction come from the shared contract
// src/transactions/messages.ts (docs/protocol-transactions.md).

/** What this module sends: the financial kinds and the settlement. */
export type TradeKind = FinancialKind | 'settlement';

export type { ReversalReason };

/** 0410 codes that end the retries: done, or the host will never be able to do it. */
const REVERSAL_DONE = new Set(['00', '12', '25']);

/** Fields a reversal does not repeat (track, PIN, PIN capture, security control, RRN, MAC). */
const NOT_IN_REVERSAL = [26, 35, 36, 37, 52, 53, 64] as const;

// ---------------------------------------------------------------------------------------------
// Inputs and results

/** The card as the terminal read it. Give track 2 for a swiped card, else PAN (+ expiry) for keyed entry. */
export interface Card {
  /** 13-19 digits. */
  pan: string;
  /** YYMM. */
  expiry?: string;
  /** Track 2 equivalent data ("PAN=YYMM…"); when present the card counts as swiped (22 = 02x). */
  track2?: string;
}

export interface PurchaseInput {
  card: Card;
  /** Minor units (fen), positive integer. */
  amount: number;
  /** Clear PIN, 4-12 digits; turned into an ISO 9564 format 0 block under the PIK at once. */
  pin?: string;
}

export interface BalanceInput {
  card: Card;
  pin?: string;
}

/** The transaction a void, refund or completion refers to. */
export interface OriginalRef {
  /** Field 37 of the original response. */
  rrn: string;
  /** STAN of the original request. */
  stan: string;
  /** Batch of the original. Default: the current batch (void), 000000 "unknown" (refund, completion). */
  batchNo?: string;
  /** MMDD of the original (refund, completion). */
  date?: string;
  /** Auth code (field 38) of the original. */
  authCode?: string;
  /** Minor units; for a void the original amount. */
  amount?: number;
}

export interface VoidInput {
  card: Card;
  /** STAN of the purchase in this terminal's current batch, or the original's full reference. */
  original: string | OriginalRef;
  pin?: string;
}

export interface RefundInput {
  card: Card;
  amount: number;
  original: OriginalRef;
}

export interface CompletionInput {
  card: Card;
  amount: number;
  /** The pre-authorisation: its auth code is required. */
  original: OriginalRef;
  pin?: string;
}

export interface QrPurchaseInput {
  /** The customer's payment code (field 59), 12-19 digits (with the issuer simulator: the paying account's PAN). */
  qr: string;
  amount: number;
}

export interface SettlementOutcome {
  /** Reconciliation digits of the 0510 (1 agree, 2 disagree, 3 error; 0 none sent). */
  domestic: string;
  foreign: string;
  /** Both classes agreed (a class with no digit counts as agreed only when it had no traffic). */
  agreed: boolean;
  /** The totals the terminal sent. */
  totals: SettlementTotals;
  /** The batch that was settled; the terminal now works in the next one. */
  closedBatchNo: string;
  nextBatchNo: string;
  /** Transactions uploaded (0320 / 201) after a disagreement. */
  uploaded: number;
  /** Counted transactions that could not be uploaded (PAN no longer in memory, e.g. restored state). */
  notUploaded: number;
}

export interface TradeResult {
  kind: TradeKind;
  approved: boolean;
  responseCode: string;
  meaning: string;
  stan: string;
  /** Batch the request was sent in (60.2). */
  batchNo: string;
  rrn?: string;
  authCode?: string;
  amount?: number;
  maskedPan?: string;
  /** Available balance (field 54), minor units; negative when the sign is D. */
  balance?: number;
  /** Host date MMDD (field 13) and time hhmmss (field 12), when sent. */
  hostDate?: string;
  hostTime?: string;
  settlement?: SettlementOutcome;
  /** Round trip of the request (ms), excluding reversals sent first. */
  elapsedMs: number;
}

export interface PendingReversal {
  /** STAN of the original (and of the reversal). */
  readonly stan: string;
  readonly kind: FinancialKind;
  reason: ReversalReason;
  readonly amount: number | undefined;
  /** Tries so far. */
  attempts: number;
  /** Last failure, for reports. */
  lastError?: string;
}

interface QueuedReversal extends PendingReversal {
  /** The 0400 field set (no track, no PIN). */
  readonly fields: CupFieldValues;
}

/**
 * A pending reversal as plain JSON data, to survive a restart (the CLI's --state). The card
 * fields the host needs to undo an approval — 2 (PAN) or 59 (QR payment code) — are never in it
 * in clear: they are in `sealedCard` only when the caller gives a sealing function (the CLI
 * encrypts them under a key derived from the terminal's TMK), and left out otherwise.
 */
export interface SavedReversal {
  stan: string;
  kind: FinancialKind;
  reason: ReversalReason;
  amount: number | null;
  attempts: number;
  fields: Record<string, unknown>;
  /** sealCard(JSON of { 2?, 59? }), when exported with a sealing function. */
  sealedCard?: string;
}

/** Protects the card fields of a saved reversal: seal on export, open on restore. */
export interface CardSealer {
  seal(clear: string): string;
  open(sealed: string): string;
}

/** Fields a saved reversal keeps (everything else of a 0400 is dropped). */
const SAVED_REVERSAL_FIELDS = [3, 4, 22, 23, 25, 38, 39, 41, 42, 49, 60, 61] as const;

export type TradeEvent =
  | { type: 'reversal-queued'; stan: string; kind: FinancialKind; reason: ReversalReason }
  | { type: 'reversal-sent'; stan: string; responseCode: string; acknowledged: boolean }
  | { type: 'reversal-failed'; stan: string; error: Error }
  | { type: 'settled'; batchNo: string; nextBatchNo: string; agreed: boolean };

export interface TradeOptions {
  /** The terminal's batch; default a new one at the client's batch number, following the host's at sign-on. */
  batch?: TerminalBatch;
  /** ISO 4217 numeric currency (field 49). Default '156' (CNY). */
  currency?: string;
  /** Operator number (field 63 of the settlement). Default the client's operatorNo, else '01 '. */
  operatorNo?: string;
  /** Tries per reversal each time pending reversals are sent. Default 3. */
  reversalAttempts?: number;
  /** Pause between two tries of one reversal (e.g. after 96 "still being processed"). Default 500 ms. */
  reversalRetryDelayMs?: number;
  /** Sign on first when the client holds no working keys. Default true. */
  autoSignOn?: boolean;
  /** Reversals still pending from an earlier run (exportReversals()); they go before anything else. */
  pendingReversals?: readonly SavedReversal[];
  /** Opens `sealedCard` of saved reversals (the sealer they were exported with). */
  cardSealer?: CardSealer;
  onEvent?: (event: TradeEvent) => void;
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

const PAN_RE = /^\d{13,19}$/;
const YYMM = /^\d{2}(0[1-9]|1[0-2])$/;
const TRACK2 = /^(\d{13,19})[=D](\d{4})\d*$/;
const SIX = /^\d{6}$/;
const MMDD = /^(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/;

function bad(message: string): TerminalError {
  return new TerminalError('BAD_ARGUMENT', message);
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > 999_999_999_999) {
    throw bad(`amount must be a positive integer number of minor units below 10^12, got ${String(amount)}`);
  }
}

function checkCard(card: Card): void {
  if (card === null || typeof card !== 'object') throw bad('card is required');
  if (typeof card.pan !== 'string' || !PAN_RE.test(card.pan)) throw bad('card PAN must be 13 to 19 digits');
  if (card.expiry !== undefined && !YYMM.test(card.expiry)) throw bad('card expiry must be YYMM');
  if (card.track2 !== undefined) {
    const m = TRACK2.exec(card.track2);
    if (m === null || card.track2.length > 37) throw bad('track 2 must be PAN=YYMM… (at most 37 characters)');
    if (m[1] !== card.pan) throw bad('track 2 does not hold the card PAN');
  }
}

function checkPin(pin: string | undefined): void {
  if (pin !== undefined && !/^\d{4,12}$/.test(pin)) throw bad('PIN must be 4 to 12 digits');
}

function checkOriginal(o: OriginalRef): void {
  if (o === null || typeof o !== 'object') throw bad('the original transaction is required');
  if (typeof o.rrn !== 'string' || !/^[0-9A-Za-z]{12}$/.test(o.rrn)) throw bad('original RRN must be 12 characters');
  if (typeof o.stan !== 'string' || !SIX.test(o.stan)) throw bad('original STAN must be 6 digits');
  if (o.batchNo !== undefined && !SIX.test(o.batchNo)) throw bad('original batch number must be 6 digits');
  if (o.date !== undefined && !MMDD.test(o.date) && o.date !== '0000') throw bad('original date must be MMDD');
  if (o.authCode !== undefined && !/^[0-9A-Za-z ]{6}$/.test(o.authCode)) throw bad('original auth code must be 6 characters');
  if (o.amount !== undefined) checkAmount(o.amount);
}

function localMmdd(d = new Date()): string {
  return String(d.getMonth() + 1).padStart(2, '0') + String(d.getDate()).padStart(2, '0');
}

function amount12(amount: number): string {
  return String(amount).padStart(12, '0');
}

interface ExchangeInfo {
  amount?: number;
  maskedPan?: string;
  /** Clear PAN, kept in memory by the batch for a batch upload (never in results or saved state). */
  pan?: string;
  cardClass: CardClass;
  /** The transaction a void voids (STAN in this batch). */
  voids?: string;
}

// ---------------------------------------------------------------------------------------------

/** The transaction side of one terminal: its batch, its pending reversals, one transaction at a time. */
export class TradeTerminal {
  readonly client: TerminalClient;
  readonly batch: TerminalBatch;
  private readonly currency: string;
  private readonly operatorNo: string;
  private readonly reversalAttempts: number;
  private readonly reversalRetryDelayMs: number;
  private readonly autoSignOn: boolean;
  private readonly onEvent: ((event: TradeEvent) => void) | undefined;
  private readonly reversals: QueuedReversal[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onSignedOn: (r: { batchNo: string }) => void;

  constructor(client: TerminalClient, options: TradeOptions = {}) {
    this.client = client;
    this.batch = options.batch ?? new TerminalBatch(client.batchNo);
    this.currency = options.currency ?? CURRENCY_CNY;
    if (!/^\d{3}$/.test(this.currency)) throw bad('currency must be 3 digits (ISO 4217 numeric)');
    this.operatorNo = options.operatorNo ?? client.operatorNo ?? '01 ';
    this.reversalAttempts = options.reversalAttempts ?? 3;
    if (!Number.isInteger(this.reversalAttempts) || this.reversalAttempts < 1) throw bad('reversalAttempts must be a positive integer');
    this.reversalRetryDelayMs = options.reversalRetryDelayMs ?? 500;
    if (!Number.isInteger(this.reversalRetryDelayMs) || this.reversalRetryDelayMs < 0) throw bad('reversalRetryDelayMs must be a non-negative integer');
    this.autoSignOn = options.autoSignOn ?? true;
    this.onEvent = options.onEvent;
    // The host names its current batch at sign-on (60.2): an empty batch follows it.
    this.onSignedOn = (r) => {
      if (r.batchNo !== this.batch.batchNo && this.batch.empty) this.batch.adopt(r.batchNo);
    };
    client.on('signedOn', this.onSignedOn);
    if (client.signedOn && client.batchNo !== this.batch.batchNo && this.batch.empty) this.batch.adopt(client.batchNo);
    for (const r of options.pendingReversals ?? []) this.reversals.push(restoreReversal(r, client, options.cardSealer));
  }

  /**
   * The pending reversals as JSON data without clear card data (see SavedReversal). Without a
   * sealer the card fields are dropped, and a host that needs them to undo an approval refuses
   * the reversal (30) when it is restored and sent.
   */
  exportReversals(sealer?: CardSealer): SavedReversal[] {
    return this.reversals.map((r) => {
      const fields: Record<string, unknown> = {};
      for (const n of SAVED_REVERSAL_FIELDS) if (r.fields[n] !== undefined) fields[n] = r.fields[n];
      const saved: SavedReversal = { stan: r.stan, kind: r.kind, reason: r.reason, amount: r.amount ?? null, attempts: r.attempts, fields };
      const card: Record<string, string> = {};
      if (r.fields[2] !== undefined) card['2'] = r.fields[2];
      if (r.fields[59] !== undefined) card['59'] = r.fields[59];
      if (sealer !== undefined && Object.keys(card).length > 0) saved.sealedCard = sealer.seal(JSON.stringify(card));
      return saved;
    });
  }

  /** Stop following the client's sign-ons. */
  detach(): void {
    this.client.off('signedOn', this.onSignedOn);
  }

  /** Reversals not yet acknowledged by the host (oldest first). */
  get pendingReversals(): PendingReversal[] {
    return this.reversals.map((r) => ({
      stan: r.stan,
      kind: r.kind,
      reason: r.reason,
      amount: r.amount,
      attempts: r.attempts,
      ...(r.lastError !== undefined ? { lastError: r.lastError } : {}),
    }));
  }

  // ---- transactions ---------------------------------------------------------------------------

  async purchase(input: PurchaseInput): Promise<TradeResult> {
    checkCard(input?.card);
    checkAmount(input.amount);
    checkPin(input.pin);
    return this.serial(() => this.cardTransaction('purchase', input.card, input.amount, input.pin, {}, {}));
  }

  async balance(input: BalanceInput): Promise<TradeResult> {
    checkCard(input?.card);
    checkPin(input.pin);
    return this.serial(() => this.cardTransaction('balance', input.card, undefined, input.pin, {}, {}));
  }

  async preauth(input: PurchaseInput): Promise<TradeResult> {
    checkCard(input?.card);
    checkAmount(input.amount);
    checkPin(input.pin);
    return this.serial(() => this.cardTransaction('preauth', input.card, input.amount, input.pin, {}, {}));
  }

  /** Pre-authorisation completion (online request, 0200 60.1 = 20). */
  async completion(input: CompletionInput): Promise<TradeResult> {
    checkCard(input?.card);
    checkAmount(input.amount);
    checkPin(input.pin);
    checkOriginal(input.original);
    const o = input.original;
    if (o.authCode === undefined) throw bad('a completion needs the auth code of the pre-authorisation');
    return this.serial(() =>
      this.cardTransaction('preauth-completion', input.card, input.amount, input.pin, {
        38: o.authCode!,
        61: originalField61({ batchNo: o.batchNo ?? '000000', stan: o.stan, date: o.date ?? '0000' }),
      }, {}),
    );
  }

  /** Purchase void (same batch): by STAN of a purchase in this terminal's batch, or by full reference. */
  async voidPurchase(input: VoidInput): Promise<TradeResult> {
    return this.voidOf('void', 'purchase', input);
  }

  /** Pre-auth completion void (same batch): by STAN of a completion in this batch, or by full reference. */
  async completionVoid(input: VoidInput): Promise<TradeResult> {
    return this.voidOf('completion-void', 'preauth-completion', input);
  }

  /** Pre-authorisation void (0100, 200000, 60.1 = 11): releases the hold; by the pre-auth's auth code and 61. */
  async preauthVoid(input: CompletionInput): Promise<TradeResult> {
    checkCard(input?.card);
    checkAmount(input.amount);
    checkPin(input.pin);
    checkOriginal(input.original);
    const o = input.original;
    if (o.authCode === undefined) throw bad('a pre-authorisation void needs the auth code of the pre-authorisation');
    return this.serial(() =>
      this.cardTransaction('preauth-void', input.card, input.amount, input.pin, {
        38: o.authCode!,
        61: originalField61({ batchNo: o.batchNo ?? '000000', stan: o.stan, date: o.date ?? '0000' }),
      }, { voids: o.stan }),
    );
  }

  private async voidOf(kind: 'void' | 'completion-void', originalKind: 'purchase' | 'preauth-completion', input: VoidInput): Promise<TradeResult> {
    checkCard(input?.card);
    checkPin(input.pin);
    if (typeof input.original !== 'string') {
      checkOriginal(input.original);
      if (input.original.amount === undefined) throw bad('a void needs the original amount');
    } else if (!SIX.test(input.original)) {
      throw bad('original STAN must be 6 digits');
    }
    return this.serial(() => {
      let o: OriginalRef;
      if (typeof input.original === 'string') {
        const rec = this.batch.find(input.original);
        if (rec === undefined) throw bad(`no approved transaction with STAN ${input.original} in batch ${this.batch.batchNo}`);
        if (rec.kind !== originalKind) throw bad(`STAN ${input.original} is a ${rec.kind}, not a ${originalKind}`);
        if (rec.voided) throw bad(`STAN ${input.original} is already voided`);
        o = { rrn: rec.rrn, stan: rec.stan, batchNo: this.batch.batchNo, amount: rec.amount, ...(rec.authCode !== undefined ? { authCode: rec.authCode } : {}) };
      } else {
        o = input.original;
      }
      const extra: CupFieldValues = { 37: o.rrn, 61: originalField61({ batchNo: o.batchNo ?? this.batch.batchNo, stan: o.stan }) };
      if (o.authCode !== undefined) extra[38] = o.authCode;
      return this.cardTransaction(kind, input.card, o.amount, input.pin, extra, { voids: o.stan });
    });
  }

  /** Refund (0220, any later batch), by the original's RRN and date. Not reversed on a timeout. */
  async refund(input: RefundInput): Promise<TradeResult> {
    checkCard(input?.card);
    checkAmount(input.amount);
    checkOriginal(input.original);
    const o = input.original;
    return this.serial(() =>
      this.cardTransaction('refund', input.card, input.amount, undefined, {
        37: o.rrn,
        61: originalField61({ batchNo: o.batchNo ?? '000000', stan: o.stan, date: o.date ?? '0000' }),
      }, {}),
    );
  }

  /** QR purchase: field 22 = 032 and the customer's payment code in field 59; no card, no PIN. */
  async qrPurchase(input: QrPurchaseInput): Promise<TradeResult> {
    if (typeof input?.qr !== 'string' || !/^\d{12,19}$/.test(input.qr)) throw bad('QR payment code must be 12 to 19 digits');
    checkAmount(input.amount);
    return this.serial(async () => {
      await this.prepare();
      const d = MESSAGES['qr-purchase'];
      const fields: CupFieldValues = {
        3: d.processingCode!,
        4: amount12(input.amount),
        22: QR_ENTRY_MODE,
        25: d.conditionCode!,
        41: this.client.terminalNo,
        42: this.client.merchantNo,
        49: this.currency,
        59: input.qr,
        60: financialField60('qr-purchase', this.batch.batchNo),
      };
      return this.exchange('qr-purchase', d, fields, { amount: input.amount, cardClass: cardClassOf(null), pan: input.qr });
    });
  }

  /**
   * Settlement (0500, 60.3 = 201): send the batch totals (field 48); the host answers with its
   * reconciliation digits. When they do not agree the batch's transactions are uploaded (0320,
   * 60.3 = 201); then the batch-upload end (0320, 207 agreed / 202 not) closes the batch on both
   * sides and the terminal moves to the next batch number.
   */
  settle(): Promise<TradeResult> {
    return this.serial(async () => {
      await this.prepare();
      const totals = this.batch.totals;
      const closedBatchNo = this.batch.batchNo;
      const fields: CupFieldValues = {
        41: this.client.terminalNo,
        42: this.client.merchantNo,
        48: encodeSettlementTotals(totals),
        49: this.currency,
        60: controlField60('settlement', closedBatchNo),
        63: this.operatorNo,
      };
      const t0 = performance.now();
      const rsp = await this.client.request(MESSAGES.settlement.mti, fields, { mac: true });
      const elapsedMs = performance.now() - t0;
      const m = rsp.message;
      const code = this.codeOf(m);
      // Hosts differ on MACs of 0510 (docs/cup-pos-fields.md §8.7): a missing one is accepted, a wrong one is not.
      this.checkMac(rsp, code, false);
      const result = this.baseResult('settlement', m, code, elapsedMs, closedBatchNo);
      if (code === '00') {
        let domestic = '0';
        let foreign = '0';
        const f48 = m.get(48);
        if (f48 !== undefined) {
          try {
            ({ domestic, foreign } = decodeSettlementTotals(f48).codes);
          } catch (e) {
            throw new TerminalError('BAD_RESPONSE', `settlement response field 48: ${(e as Error).message}`, { stan: m.get(11) });
          }
        }
        const quiet = (t: SettlementTotals['domestic']): boolean => t.debitCount === 0 && t.creditCount === 0;
        const agreed = domestic === '1' && (foreign === '1' || (foreign === '0' && quiet(totals.foreign)));
        // Disagreement: upload the batch's transactions (magnetic-stripe records, 8 per message).
        let uploaded = 0;
        let notUploaded = 0;
        if (!agreed) {
          const { records, skipped } = this.batch.uploadRecords();
          notUploaded = skipped;
          for (let i = 0; i < records.length; i += MAX_BATCH_RECORDS) {
            const chunk = records.slice(i, i + MAX_BATCH_RECORDS);
            await this.control('batch-upload', closedBatchNo, agreed, encodeBatchRecords(chunk));
            uploaded += chunk.length;
          }
        }
        // Batch-upload end (207 agreed / 202 not), always: the host closes the batch on it.
        await this.control('batch-upload-end', closedBatchNo, agreed, encodeBatchEndCount(uploaded));
        const nextBatchNo = this.batch.advance();
        result.settlement = { domestic, foreign, agreed, totals, closedBatchNo, nextBatchNo, uploaded, notUploaded };
        this.emit({ type: 'settled', batchNo: closedBatchNo, nextBatchNo, agreed });
        result.elapsedMs = Math.round((performance.now() - t0) * 10) / 10;
      }
      return result;
    });
  }

  /** Send the pending reversals now (normally they go before the next transaction). */
  flushReversals(): Promise<void> {
    return this.serial(async () => {
      if (!this.client.connected) await this.client.connect();
      await this.sendReversals();
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Run `task` after every earlier transaction of this terminal has finished. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private emit(e: TradeEvent): void {
    try {
      this.onEvent?.(e);
    } catch {
      // a listener's failure is not the transaction's
    }
  }

  /** One batch-upload message (0320); anything but 00 ends the settlement with DECLINED. */
  private async control(kind: 'batch-upload' | 'batch-upload-end', batchNo: string, agreed: boolean, f48: string): Promise<void> {
    const d = MESSAGES[kind];
    const rsp = await this.client.request(
      d.mti,
      { 41: this.client.terminalNo, 42: this.client.merchantNo, 48: f48, 60: controlField60(kind, batchNo, agreed) },
      { mac: true },
    );
    const code = this.codeOf(rsp.message);
    this.checkMac(rsp, code, false);
    if (code !== '00') throw declined(kind === 'batch-upload' ? 'batch upload' : 'batch-upload end', code, rsp.message.get(11));
  }

  /** Connected, signed on, and every pending reversal acknowledged. */
  private async prepare(): Promise<void> {
    if (!this.client.connected) await this.client.connect();
    if (!this.client.signedOn) {
      if (!this.autoSignOn) throw new TerminalError('NOT_SIGNED_ON', 'the terminal is not signed on');
      await this.client.signOn();
    }
    await this.sendReversals();
    const left = this.reversals[0];
    if (left !== undefined) {
      throw new TerminalError(
        'TIMEOUT',
        `the reversal of STAN ${left.stan} is not acknowledged yet (${left.lastError ?? 'no answer'}); no new transaction until it is`,
        { stan: left.stan },
      );
    }
  }

  private async cardTransaction(
    kind: Exclude<FinancialKind, 'qr-purchase'>,
    card: Card,
    amount: number | undefined,
    pin: string | undefined,
    extra: CupFieldValues,
    info: { voids?: string },
  ): Promise<TradeResult> {
    await this.prepare();
    const d = MESSAGES[kind];
    const keys = this.client.workingKeys;
    if (keys === null) throw new TerminalError('NOT_SIGNED_ON', 'the terminal is not signed on');
    const swiped = card.track2 !== undefined;
    const fields: CupFieldValues = {
      3: d.processingCode!,
      22: (swiped ? ENTRY_MODE.magstripe : ENTRY_MODE.manual) + (pin !== undefined ? PIN_ENTERED : NO_PIN),
      25: d.conditionCode!,
      41: this.client.terminalNo,
      42: this.client.merchantNo,
      49: this.currency,
      60: financialField60(kind, this.batch.batchNo),
      ...extra,
    };
    if (swiped) fields[35] = card.track2!;
    else {
      fields[2] = card.pan;
      if (card.expiry !== undefined) fields[14] = card.expiry;
    }
    if (amount !== undefined) fields[4] = amount12(amount);
    if (pin !== undefined) {
      fields[52] = terminalPinBlock(keys.pik, pin, card.pan);
      fields[26] = PIN_CAPTURE_CODE;
      fields[53] = keys.pik.length === 8 ? SECURITY_CONTROL_DES : SECURITY_CONTROL_3DES;
    }
    return this.exchange(kind, d, fields, {
      ...(amount !== undefined ? { amount } : {}),
      maskedPan: maskPan(card.pan),
      pan: card.pan,
      cardClass: cardClassOf(card.pan),
      ...(info.voids !== undefined ? { voids: info.voids } : {}),
    });
  }

  /** Send one financial request with its reversal prepared; verify, count and return the result. */
  private async exchange(kind: FinancialKind, d: MessageDefinition, fields: CupFieldValues, info: ExchangeInfo): Promise<TradeResult> {
    const t0 = performance.now();
    const sent = this.client.request(d.mti, fields, { mac: true });
    const stan = this.client.lastStan ?? '';
    let rsp: TerminalResponse;
    try {
      rsp = await sent;
    } catch (e) {
      // No reply (or the link dropped after sending): undo whatever the host may have done.
      if (d.reversible && (isTerminalError(e, 'TIMEOUT') || isTerminalError(e, 'DISCONNECTED'))) {
        await this.queueReversal(this.reversalOf(kind, fields, stan, info.amount), REVERSAL_REASONS.noReply);
      }
      throw e;
    }
    const elapsedMs = performance.now() - t0;
    const m = rsp.message;
    const code = this.codeOf(m);
    try {
      this.checkMac(rsp, code, true);
    } catch (e) {
      if (d.reversible) {
        const r = this.reversalOf(kind, fields, stan, info.amount);
        const auth = m.get(38);
        if (auth !== undefined) r.fields[38] = auth;
        await this.queueReversal(r, REVERSAL_REASONS.macError);
      }
      throw e;
    }
    const result = this.baseResult(kind, m, code, elapsedMs, this.batch.batchNo);
    if (info.amount !== undefined) result.amount = info.amount;
    if (info.maskedPan !== undefined) result.maskedPan = info.maskedPan;
    if (kind === 'balance' && result.approved) {
      const f54 = m.get(54);
      if (f54 !== undefined) {
        try {
          result.balance = decodeBalance(f54).balance;
        } catch {
          // an unreadable balance is left out; the inquiry itself was answered
        }
      }
    }
    // Approved transactions are kept in the batch (a balance inquiry is not a transaction to keep).
    if (result.approved && kind !== 'balance') this.count(kind, stan, result, info);
    return result;
  }

  private count(kind: FinancialKind, stan: string, r: TradeResult, info: ExchangeInfo): void {
    if (this.batch.find(stan) !== undefined) return; // the STAN counter wrapped inside one batch: keep the first
    this.batch.record({
      kind,
      stan,
      rrn: r.rrn ?? '',
      amount: info.amount ?? 0,
      date: r.hostDate ?? localMmdd(),
      cardClass: info.cardClass,
      ...(r.authCode !== undefined ? { authCode: r.authCode } : {}),
      ...(info.maskedPan !== undefined ? { maskedPan: info.maskedPan } : {}),
    }, info.pan);
    if (info.voids !== undefined) this.batch.markVoided(info.voids);
  }

  private codeOf(m: CupMessage): string {
    let code: string | undefined;
    try {
      code = m.get(39);
    } catch (e) {
      throw new TerminalError('BAD_RESPONSE', `field 39 of the response cannot be decoded: ${(e as Error).message}`, { cause: e });
    }
    if (code === undefined) throw new TerminalError('BAD_RESPONSE', `the ${m.mti} response has no field 39`);
    const t = m.get(41);
    const mer = m.get(42);
    if (t !== undefined && t !== this.client.terminalNo) throw new TerminalError('BAD_RESPONSE', `response is for terminal ${t}, not ${this.client.terminalNo}`);
    if (mer !== undefined && mer !== this.client.merchantNo) throw new TerminalError('BAD_RESPONSE', `response is for merchant ${mer}, not ${this.client.merchantNo}`);
    return code;
  }

  /**
   * An approval must carry a valid MAC; a refusal without field 64 is accepted (hosts do not MAC
   * refusals they could not verify); a present but wrong MAC never is. With `strict` false a
   * missing MAC is accepted on approvals too.
   */
  private checkMac(rsp: TerminalResponse, code: string, strict: boolean): void {
    const present = rsp.message.has(64);
    if (!present) {
      if (code !== '00' || !strict) return;
      throw new TerminalError('MAC_MISMATCH', `the approved ${rsp.message.mti} response has no MAC (field 64); not trusted`, { responseCode: code });
    }
    if (!this.client.verifyResponseMac(rsp)) {
      throw new TerminalError('MAC_MISMATCH', `the ${rsp.message.mti} response MAC (field 64) is wrong; not trusted`, { responseCode: code });
    }
  }

  private baseResult(kind: TradeKind, m: CupMessage, code: string, elapsedMs: number, batchNo: string): TradeResult {
    const r: TradeResult = {
      kind,
      approved: code === '00',
      responseCode: code,
      meaning: describeOperatorCode(code),
      stan: m.get(11) ?? '',
      batchNo,
      elapsedMs: Math.round(elapsedMs * 10) / 10,
    };
    const rrn = m.get(37);
    const auth = m.get(38);
    const date = m.get(13);
    const time = m.get(12);
    if (rrn !== undefined) r.rrn = rrn;
    if (auth !== undefined && auth.trim() !== '') r.authCode = auth;
    if (date !== undefined) r.hostDate = date;
    if (time !== undefined) r.hostTime = time;
    return r;
  }

  /** The 0400 for a request: the same fields and STAN, without track, PIN and RRN data. */
  private reversalOf(kind: FinancialKind, fields: CupFieldValues, stan: string, amount: number | undefined): QueuedReversal {
    const f: CupFieldValues = { ...fields };
    for (const n of NOT_IN_REVERSAL) delete f[n];
    // A swiped card's PAN goes in field 2 (track 2 is not repeated).
    const track = fields[35];
    if (track !== undefined && f[2] === undefined) {
      const m = TRACK2.exec(track);
      if (m !== null) f[2] = m[1]!;
    }
    return { stan, kind, reason: REVERSAL_REASONS.noReply, amount, attempts: 0, fields: f };
  }

  private async queueReversal(r: QueuedReversal, reason: ReversalReason): Promise<void> {
    r.reason = reason;
    r.fields[39] = reason;
    this.reversals.push(r);
    this.emit({ type: 'reversal-queued', stan: r.stan, kind: r.kind, reason });
    // Try at once; what is not acknowledged stays queued for the next transaction.
    await this.sendReversals();
  }

  /** Send the pending reversals in order (up to reversalAttempts tries each); stop at the first that stays. */
  private async sendReversals(): Promise<void> {
    while (this.reversals.length > 0) {
      const r = this.reversals[0]!;
      let done = false;
      for (let i = 0; i < this.reversalAttempts && !done; i++) {
        if (i > 0 && this.reversalRetryDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.reversalRetryDelayMs));
        done = await this.sendReversal(r);
      }
      if (!done) return;
      this.reversals.shift();
    }
  }

  private async sendReversal(r: QueuedReversal): Promise<boolean> {
    r.attempts++;
    try {
      if (!this.client.connected) await this.client.connect();
      if (!this.client.signedOn) await this.client.signOn();
      const rsp = await this.client.request(MESSAGES.reversal.mti, r.fields, { mac: true, stan: r.stan });
      const code = this.codeOf(rsp.message);
      this.checkMac(rsp, code, false);
      const acknowledged = REVERSAL_DONE.has(code.toUpperCase());
      if (acknowledged) delete r.lastError;
      else r.lastError = `0410 answered ${code} ${describeOperatorCode(code)}`;
      this.emit({ type: 'reversal-sent', stan: r.stan, responseCode: code, acknowledged });
      return acknowledged;
    } catch (e) {
      r.lastError = (e as Error).message;
      this.emit({ type: 'reversal-failed', stan: r.stan, error: e as Error });
      return false;
    }
  }
}

/**
 * A first STAN for a terminal that does not remember its last one (a fresh process): derived from
 * the clock, 100 per second, wrapping about every 2.8 hours. The host takes a repeated STAN within
 * a batch and day for a retransmission, so a terminal must not reuse one; two runs of one terminal
 * only collide when the earlier one used more than 100 STANs per second of the time between their
 * starts. A terminal that can keep its counter should (the CLI's --state does).
 */
export function clockStan(now = Date.now()): number {
  return (Math.floor(now / 10) % 999_000) + 1;
}

/** A saved reversal back as a queued one; BAD_ARGUMENT when it is malformed or of another terminal. */
function restoreReversal(r: SavedReversal, client: TerminalClient, sealer: CardSealer | undefined): QueuedReversal {
  const x = r as Partial<SavedReversal> | null;
  const reasons: readonly string[] = Object.values(REVERSAL_REASONS);
  if (
    x === null || typeof x !== 'object' || typeof x.stan !== 'string' || !SIX.test(x.stan) ||
    typeof x.kind !== 'string' || !(x.kind in MESSAGES) || !MESSAGES[x.kind].reversible ||
    typeof x.reason !== 'string' || !reasons.includes(x.reason) ||
    typeof x.attempts !== 'number' || !(x.amount === null || Number.isSafeInteger(x.amount)) ||
    x.fields === null || typeof x.fields !== 'object'
  ) {
    throw bad('a saved reversal is malformed');
  }
  const fields: CupFieldValues = {};
  const src = x.fields as Record<string, unknown>;
  for (const n of SAVED_REVERSAL_FIELDS) {
    const v = src[String(n)];
    if (v !== undefined) (fields as Record<number, unknown>)[n] = v;
  }
  if (fields[41] !== client.terminalNo || fields[42] !== client.merchantNo) throw bad(`the saved reversal of STAN ${x.stan} belongs to another terminal`);
  if (x.sealedCard !== undefined) {
    if (sealer === undefined) throw bad(`the saved reversal of STAN ${x.stan} holds sealed card data and no sealer was given`);
    let card: Record<string, unknown>;
    try {
      card = JSON.parse(sealer.open(String(x.sealedCard))) as Record<string, unknown>;
    } catch (e) {
      throw bad(`the card data of the saved reversal of STAN ${x.stan} cannot be opened: ${(e as Error).message}`);
    }
    if (typeof card['2'] === 'string' && PAN_RE.test(card['2'])) fields[2] = card['2'];
    if (typeof card['59'] === 'string' && /^\d{12,19}$/.test(card['59'])) fields[59] = card['59'];
  }
  fields[39] = x.reason;
  return { stan: x.stan, kind: x.kind, reason: x.reason, amount: x.amount ?? undefined, attempts: x.attempts, fields };
}

/** Throw DECLINED when the result is not an approval (for callers that want an exception). */
export function requireApproved(r: TradeResult): TradeResult {
  if (!r.approved) throw declined(r.kind, r.responseCode, r.stan);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Function forms: one TradeTerminal per client.

const terminals = new WeakMap<TerminalClient, TradeTerminal>();

/** The TradeTerminal of `client` (created with `options` on first use; later options are ignored). */
export function tradeTerminal(client: TerminalClient, options?: TradeOptions): TradeTerminal {
  let t = terminals.get(client);
  if (t === undefined) {
    t = new TradeTerminal(client, options);
    terminals.set(client, t);
  }
  return t;
}

export const purchase = (client: TerminalClient, input: PurchaseInput): Promise<TradeResult> => tradeTerminal(client).purchase(input);
export const balance = (client: TerminalClient, input: BalanceInput): Promise<TradeResult> => tradeTerminal(client).balance(input);
export const voidPurchase = (client: TerminalClient, input: VoidInput): Promise<TradeResult> => tradeTerminal(client).voidPurchase(input);
export const refund = (client: TerminalClient, input: RefundInput): Promise<TradeResult> => tradeTerminal(client).refund(input);
export const preauth = (client: TerminalClient, input: PurchaseInput): Promise<TradeResult> => tradeTerminal(client).preauth(input);
export const completion = (client: TerminalClient, input: CompletionInput): Promise<TradeResult> => tradeTerminal(client).completion(input);
export const preauthVoid = (client: TerminalClient, input: CompletionInput): Promise<TradeResult> => tradeTerminal(client).preauthVoid(input);
export const completionVoid = (client: TerminalClient, input: VoidInput): Promise<TradeResult> => tradeTerminal(client).completionVoid(input);
export const qrPurchase = (client: TerminalClient, input: QrPurchaseInput): Promise<TradeResult> => tradeTerminal(client).qrPurchase(input);
export const settle = (client: TerminalClient): Promise<TradeResult> => tradeTerminal(client).settle();
