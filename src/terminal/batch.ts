/**
 * The terminal's batch: its number (60.2) and the running totals the terminal reports at
 * settlement (0500, field 48).
 *
 * Totals are kept per card class (domestic / foreign) and side:
 * - debit: purchases and pre-auth completions (money taken from the cardholder);
 * - credit: purchase voids, completion voids and refunds (money given back).
 * This is how UnionPay terminals count them (docs/cup-pos-fields.md §4.5). Balance inquiries,
 * pre-authorisations and their voids move no settled money and are not counted.
 *
 * A voided purchase stays on the debit side and its void is counted on the credit side (as
 * UnionPay terminals count). The batch also remembers the approved transactions of the batch (no
 * PAN, no track: masked PAN only) so that a void can find its original by STAN, as terminals do,
 * and a purchase is voided at most once.
 *
 * Kinds, sides and card classes come from the shared wire contract (src/transactions/messages.ts),
 * which also encodes field 48 (encodeSettlementTotals) from `totals`.
 *
 * After a settlement the batch number advances (999999 wraps to 000001) and the totals and
 * records start empty.
 */
import { FINANCIAL_KINDS, MESSAGES, emptyTotals, type CardClass, type FinancialKind, type SettlementTotals } from '../transactions/messages.js';

export type { CardClass, SettlementTotals };

/** A transaction kind as the batch counts it. */
export type BatchKind = FinancialKind;

/** Which side of the totals a kind lands on (the shared contract); null for kinds that settle no money. */
export function sideOf(kind: BatchKind): 'debit' | 'credit' | null {
  return MESSAGES[kind].totals;
}

/** One approved transaction of the batch (what a terminal keeps for its slip and for voids). */
export interface BatchRecord {
  kind: BatchKind;
  stan: string;
  /** Field 37 of the response. */
  rrn: string;
  /** Field 38 of the response, when the host sent one. */
  authCode?: string;
  /** Minor units. */
  amount: number;
  /** MMDD of the host's response (field 13), or the local date when absent. */
  date: string;
  maskedPan?: string;
  cardClass: CardClass;
  /** True once a void of it was approved (the void is counted on the credit side; this stays counted). */
  voided: boolean;
}

const SIX_DIGITS = /^\d{6}$/;

/** The batch number after `batchNo` (6 digits; 999999 → 000001, 000000 is never used). */
export function nextBatchNo(batchNo: string): string {
  if (!SIX_DIGITS.test(batchNo)) throw new RangeError(`batch number must be 6 digits, got '${batchNo}'`);
  const n = Number(batchNo);
  return String(n >= 999_999 ? 1 : n + 1).padStart(6, '0');
}

export class TerminalBatch {
  private number: string;
  private totalsNow: SettlementTotals = emptyTotals();
  private readonly records = new Map<string, BatchRecord>();
  /** Clear PANs by STAN, for the batch upload after a disagreeing settlement; memory only, never saved. */
  private readonly pans = new Map<string, string>();

  constructor(batchNo = '000001') {
    if (!SIX_DIGITS.test(batchNo)) throw new RangeError(`batch number must be 6 digits, got '${batchNo}'`);
    this.number = batchNo;
  }

  get batchNo(): string {
    return this.number;
  }

  /** A copy of the running totals. */
  get totals(): SettlementTotals {
    return structuredClone(this.totalsNow);
  }

  /** True when nothing has been counted in this batch. */
  get empty(): boolean {
    return this.records.size === 0;
  }

  /** Approved transactions of this batch, oldest first. */
  list(): BatchRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  /** The approved transaction with this STAN, if any. */
  find(stan: string): BatchRecord | undefined {
    const r = this.records.get(stan);
    return r === undefined ? undefined : { ...r };
  }

  /** The approved transaction with this RRN, if any. */
  findByRrn(rrn: string): BatchRecord | undefined {
    for (const r of this.records.values()) if (r.rrn === rrn) return { ...r };
    return undefined;
  }

  /** Count an approved transaction. Amounts are integer minor units. */
  record(entry: Omit<BatchRecord, 'voided' | 'cardClass'> & { cardClass?: CardClass }, pan?: string): void {
    if (!Number.isSafeInteger(entry.amount) || entry.amount < 0) throw new RangeError(`amount must be a non-negative integer, got ${entry.amount}`);
    if (this.records.has(entry.stan)) throw new RangeError(`STAN ${entry.stan} is already recorded in batch ${this.number}`);
    const rec: BatchRecord = { ...entry, cardClass: entry.cardClass ?? 'domestic', voided: false };
    this.records.set(rec.stan, rec);
    if (pan !== undefined) this.pans.set(rec.stan, pan);
    this.apply(rec);
  }

  /**
   * Magnetic-stripe batch-upload records (src/transactions/messages.ts BatchRecord): every counted
   * transaction whose PAN is still in memory (PANs are not kept in saved state). `skipped` counts
   * the counted transactions whose PAN is not known.
   */
  uploadRecords(): { records: Array<{ cardClass: CardClass; stan: string; pan: string; amount: number }>; skipped: number } {
    const records: Array<{ cardClass: CardClass; stan: string; pan: string; amount: number }> = [];
    let skipped = 0;
    for (const r of this.records.values()) {
      if (sideOf(r.kind) === null) continue;
      const pan = this.pans.get(r.stan);
      if (pan === undefined) skipped++;
      else records.push({ cardClass: r.cardClass, stan: r.stan, pan, amount: r.amount });
    }
    return { records, skipped };
  }

  /** A void of the transaction with this STAN was approved. False when unknown or already voided. */
  markVoided(stan: string): boolean {
    const rec = this.records.get(stan);
    if (rec === undefined || rec.voided) return false;
    rec.voided = true;
    return true;
  }

  private apply(rec: BatchRecord): void {
    const side = sideOf(rec.kind);
    if (side === null) return;
    const t = this.totalsNow[rec.cardClass];
    if (side === 'debit') {
      t.debitCount += 1;
      t.debitAmount += rec.amount;
    } else {
      t.creditCount += 1;
      t.creditAmount += rec.amount;
    }
  }

  /** Adopt the host's batch number (from a sign-on response) when it differs. */
  adopt(batchNo: string): void {
    if (!SIX_DIGITS.test(batchNo)) throw new RangeError(`batch number must be 6 digits, got '${batchNo}'`);
    this.number = batchNo;
  }

  /** Close this batch after a settlement: next number, empty totals and records. Returns the new number. */
  advance(): string {
    this.number = nextBatchNo(this.number);
    this.totalsNow = emptyTotals();
    this.records.clear();
    this.pans.clear();
    return this.number;
  }
}

// ---------------------------------------------------------------------------------------------
// Saving a batch between runs (e.g. the CLI's --state file). No PAN, no track, no keys in it.

export interface BatchSnapshot {
  batchNo: string;
  records: BatchRecord[];
}

const KINDS: readonly string[] = FINANCIAL_KINDS;

/** The batch as plain JSON data. */
export function batchSnapshot(batch: TerminalBatch): BatchSnapshot {
  return { batchNo: batch.batchNo, records: batch.list() };
}

/** Rebuild a batch from batchSnapshot() output; throws RangeError on anything malformed. */
export function restoreBatch(data: unknown): TerminalBatch {
  const d = data as Partial<BatchSnapshot> | null;
  if (d === null || typeof d !== 'object' || typeof d.batchNo !== 'string' || !Array.isArray(d.records)) {
    throw new RangeError('batch state must be { batchNo, records[] }');
  }
  const batch = new TerminalBatch(d.batchNo);
  for (const [i, r] of d.records.entries()) {
    const x = r as Partial<BatchRecord> | null;
    if (
      x === null || typeof x !== 'object' ||
      typeof x.kind !== 'string' || !KINDS.includes(x.kind) ||
      typeof x.stan !== 'string' || !SIX_DIGITS.test(x.stan) ||
      typeof x.rrn !== 'string' || typeof x.date !== 'string' ||
      typeof x.amount !== 'number' || (x.cardClass !== 'domestic' && x.cardClass !== 'foreign') ||
      typeof x.voided !== 'boolean' ||
      (x.maskedPan !== undefined && (typeof x.maskedPan !== 'string' || /\d{11,}/.test(x.maskedPan)))
    ) {
      throw new RangeError(`batch state record ${i} is malformed`);
    }
    batch.record({
      kind: x.kind as BatchKind, stan: x.stan, rrn: x.rrn, amount: x.amount, date: x.date, cardClass: x.cardClass,
      ...(typeof x.authCode === 'string' ? { authCode: x.authCode } : {}),
      ...(x.maskedPan !== undefined ? { maskedPan: x.maskedPan } : {}),
    });
    if (x.voided) batch.markVoided(x.stan);
  }
  return batch;
}
