/**
 * The wire contract for financial transactions, settlement and batch upload on the `cup-pos`
 * profile: which MTI, processing code (3), condition code (25), message type code (60.1) and
 * network management code (60.3) each transaction uses, which fields it carries, and the layouts of
 * field 48 (settlement totals, batch-upload records, batch-end count), 54 (balance) and 61
 * (original data). The host (src/host/handlers/transactions/) and the terminal
 * (src/terminal/trade.ts) both import these constants; docs/protocol-transactions.md describes
 * them field by field.
 *
 * Sources: docs/cup-pos-fields.md §3-§6 (field presence, sub-field layouts, transaction matrix)
 * and /work/shared/reference/cup-pos-facts.md. Values marked "qiandao" are decisions of this
 * project where UnionPay practice is unknown or varies; "unverified" follows the field reference.
 */

/** Every transaction the host handles. */
export type TransactionKind =
  | 'purchase'
  | 'qr-purchase'
  | 'balance'
  | 'void'
  | 'refund'
  | 'preauth'
  | 'preauth-void'
  | 'preauth-completion'
  | 'completion-void'
  | 'reversal'
  | 'settlement'
  | 'batch-upload'
  | 'batch-upload-end';

/** Transactions that are journaled as financial requests (everything but the control messages). */
export type FinancialKind = Exclude<TransactionKind, 'reversal' | 'settlement' | 'batch-upload' | 'batch-upload-end'>;

export const FINANCIAL_KINDS: readonly FinancialKind[] = [
  'purchase',
  'qr-purchase',
  'balance',
  'void',
  'refund',
  'preauth',
  'preauth-void',
  'preauth-completion',
  'completion-void',
];

/** Field numbers used on these messages. */
export type TxField =
  | 2 | 3 | 4 | 11 | 12 | 13 | 14 | 15 | 22 | 23 | 25 | 26 | 32 | 35 | 36 | 37 | 38 | 39 | 41 | 42 | 44
  | 48 | 49 | 52 | 53 | 54 | 55 | 59 | 60 | 61 | 63 | 64;

/** How a transaction finds the transaction it refers to. */
export type OriginalLookup =
  /** 61.1 batch + 61.2 STAN of the original, on the same terminal (and 37 = original RRN when sent). */
  | 'batch-stan'
  /** 37 = original RRN (any terminal of the merchant); 61.3 original date. */
  | 'rrn'
  /** 61.1/61.2 when not zero, else 38 = original auth code with the same card. */
  | 'batch-stan-or-auth';

export interface MessageDefinition {
  readonly kind: TransactionKind;
  /** Request MTI. */
  readonly mti: string;
  /** Response MTI (request + 10). */
  readonly responseMti: string;
  /** Field 3; undefined: absent (settlement, batch upload) or "as the original" (reversal). */
  readonly processingCode?: string;
  /** Field 25; undefined: absent or as the original. */
  readonly conditionCode?: string;
  /** 60.1; undefined for the reversal (as the original). */
  readonly messageType?: string;
  /** 60.3: '000' on financial messages; the management code on settlement / batch upload. */
  readonly networkCode?: string;
  /** Fields the request must carry (the host answers 30 when one is missing). */
  readonly required: readonly TxField[];
  /** Fields the request may carry. */
  readonly optional: readonly TxField[];
  /** Fields the host answers with (when present for this outcome). */
  readonly response: readonly TxField[];
  /** Field 64 required on the request (and sent on the response). */
  readonly mac: 'required' | 'optional';
  /** The terminal must send a 0400 when it gets no answer. */
  readonly reversible: boolean;
  /** How the original is found, for transactions that refer to one. */
  readonly original?: OriginalLookup;
  /** Kinds the original may be. */
  readonly originalKinds?: readonly FinancialKind[];
  /** Settlement totals side this transaction counts in (approved, not reversed); null: not counted. */
  readonly totals: 'debit' | 'credit' | null;
  /** Operator permission asked of the operator gate (src/host/operator-gate.ts). */
  readonly permission?: 'sale' | 'balance' | 'void' | 'refund' | 'preauth' | 'settle';
}

/** Card-present card fields: one of 2 (keyed/chip PAN) or 35 (track 2) is required. */
const CARD_OPTIONAL: readonly TxField[] = [2, 14, 23, 26, 35, 36, 52, 53, 55, 63];
/** What every approved or declined financial response carries. */
const FINANCIAL_RESPONSE: readonly TxField[] = [3, 4, 11, 12, 13, 15, 25, 32, 37, 38, 39, 41, 42, 49, 60, 64];

export const MESSAGES: Readonly<Record<TransactionKind, MessageDefinition>> = {
  purchase: {
    kind: 'purchase', mti: '0200', responseMti: '0210', processingCode: '000000', conditionCode: '00', messageType: '22', networkCode: '000',
    required: [3, 4, 11, 22, 25, 41, 42, 49, 60, 64], optional: CARD_OPTIONAL, response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: true, totals: 'debit', permission: 'sale',
  },
  /**
   * QR purchase (qiandao): a purchase with field 22 = 03x (QR / bar code) and the customer's
   * payment code in field 59 instead of card data. No 2/35/36/52/53/55.
   */
  'qr-purchase': {
    kind: 'qr-purchase', mti: '0200', responseMti: '0210', processingCode: '000000', conditionCode: '00', messageType: '22', networkCode: '000',
    required: [3, 4, 11, 22, 25, 41, 42, 49, 59, 60, 64], optional: [63], response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: true, totals: 'debit', permission: 'sale',
  },
  balance: {
    kind: 'balance', mti: '0200', responseMti: '0210', processingCode: '310000', conditionCode: '00', messageType: '01', networkCode: '000',
    required: [3, 11, 22, 25, 41, 42, 49, 60, 64], optional: CARD_OPTIONAL, response: [...FINANCIAL_RESPONSE, 54],
    mac: 'required', reversible: false, totals: null, permission: 'balance',
  },
  /** Purchase void: same terminal, same batch; field 4 = the original amount. */
  void: {
    kind: 'void', mti: '0200', responseMti: '0210', processingCode: '200000', conditionCode: '00', messageType: '23', networkCode: '000',
    required: [3, 4, 11, 22, 25, 41, 42, 49, 60, 61, 64], optional: [...CARD_OPTIONAL, 37, 38, 59], response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: true, original: 'batch-stan', originalKinds: ['purchase', 'qr-purchase'], totals: 'credit', permission: 'void',
  },
  /** Refund: 0220, any later batch; field 4 ≤ the original amount less earlier refunds. */
  refund: {
    kind: 'refund', mti: '0220', responseMti: '0230', processingCode: '200000', conditionCode: '00', messageType: '25', networkCode: '000',
    required: [3, 4, 11, 22, 25, 37, 41, 42, 49, 60, 61, 64], optional: [...CARD_OPTIONAL, 59], response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: false, original: 'rrn', originalKinds: ['purchase', 'qr-purchase', 'preauth-completion'], totals: 'credit', permission: 'refund',
  },
  preauth: {
    kind: 'preauth', mti: '0100', responseMti: '0110', processingCode: '030000', conditionCode: '06', messageType: '10', networkCode: '000',
    required: [3, 4, 11, 22, 25, 41, 42, 49, 60, 64], optional: CARD_OPTIONAL, response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: true, totals: null, permission: 'preauth',
  },
  /** Pre-authorisation void: 38 = the pre-auth's auth code, 61 = its batch/STAN/date. */
  'preauth-void': {
    kind: 'preauth-void', mti: '0100', responseMti: '0110', processingCode: '200000', conditionCode: '06', messageType: '11', networkCode: '000',
    required: [3, 4, 11, 22, 25, 38, 41, 42, 49, 60, 61, 64], optional: CARD_OPTIONAL, response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: true, original: 'batch-stan-or-auth', originalKinds: ['preauth'], totals: null, permission: 'preauth',
  },
  /** Pre-authorisation completion (online request): 38 = the pre-auth's auth code; field 4 ≤ the pre-authorised amount. */
  'preauth-completion': {
    kind: 'preauth-completion', mti: '0200', responseMti: '0210', processingCode: '000000', conditionCode: '06', messageType: '20', networkCode: '000',
    required: [3, 4, 11, 22, 25, 38, 41, 42, 49, 60, 61, 64], optional: CARD_OPTIONAL, response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: true, original: 'batch-stan-or-auth', originalKinds: ['preauth'], totals: 'debit', permission: 'preauth',
  },
  /** Completion void: same terminal, same batch; field 4 = the completion's amount. */
  'completion-void': {
    kind: 'completion-void', mti: '0200', responseMti: '0210', processingCode: '200000', conditionCode: '06', messageType: '21', networkCode: '000',
    required: [3, 4, 11, 22, 25, 41, 42, 49, 60, 61, 64], optional: [...CARD_OPTIONAL, 37, 38], response: FINANCIAL_RESPONSE,
    mac: 'required', reversible: true, original: 'batch-stan', originalKinds: ['preauth-completion'], totals: 'credit', permission: 'preauth',
  },
  /**
   * Reversal: the original request re-sent as 0400 with the ORIGINAL STAN (11), 3, 4, 22, 25, 49,
   * 60 (original 60.1 and batch), 61 if the original had it, 2/14/59 as the original, 38 when an
   * auth code was received, and 39 = reason (REVERSAL_REASONS). 35/36/52/53/26 are removed.
   */
  reversal: {
    kind: 'reversal', mti: '0400', responseMti: '0410',
    required: [3, 4, 11, 25, 39, 41, 42, 49, 60, 64], optional: [2, 14, 22, 23, 35, 38, 55, 59, 61, 63], response: [3, 4, 11, 12, 13, 15, 25, 32, 37, 39, 41, 42, 49, 60, 64],
    mac: 'required', reversible: false, totals: null,
  },
  /** Settlement: 60 = 00|batch|201, 48 = the terminal's totals (SETTLEMENT_TOTALS), 63 = operator. */
  settlement: {
    kind: 'settlement', mti: '0500', responseMti: '0510', messageType: '00', networkCode: '201',
    required: [11, 41, 42, 48, 49, 60], optional: [63, 64], response: [11, 12, 13, 15, 32, 37, 39, 41, 42, 48, 49, 60, 64],
    mac: 'optional', reversible: false, totals: null, permission: 'settle',
  },
  /** Batch upload of magnetic-stripe online transactions: 60 = 00|batch|201, 48 = BATCH_RECORDS. */
  'batch-upload': {
    kind: 'batch-upload', mti: '0320', responseMti: '0330', messageType: '00', networkCode: '201',
    required: [11, 41, 42, 48, 60], optional: [64], response: [11, 12, 13, 39, 41, 42, 48, 60, 64],
    mac: 'optional', reversible: false, totals: null,
  },
  /**
   * Batch-upload end: 60 = 00|batch|207 (totals agreed) or 202 (not); 48 = N4 count uploaded.
   * Closes the batch. Batch upload and its end need no operator permission of their own: they
   * belong to a settlement (0500, permission 'settle') and a repeated end must be acknowledged
   * after the operator sessions have ended.
   */
  'batch-upload-end': {
    kind: 'batch-upload-end', mti: '0320', responseMti: '0330', messageType: '00', networkCode: '207',
    required: [11, 41, 42, 48, 60], optional: [64], response: [11, 12, 13, 39, 41, 42, 48, 60, 64],
    mac: 'optional', reversible: false, totals: null,
  },
};

/** 60.3 codes ending a batch upload: 207 totals agreed, 202 not (the host accepts both). */
export const BATCH_END_CODES = { agreed: '207', notAgreed: '202' } as const;

/** 60.3 on every financial request. */
export const FINANCIAL_NETWORK_CODE = '000';

/** Field 39 of a 0400: why the terminal reverses. */
export const REVERSAL_REASONS = {
  /** No reply within the terminal's timeout. */
  noReply: '98',
  /** The response's MAC did not verify. */
  macError: 'A0',
  /** Anything else (e.g. the terminal could not complete the transaction). */
  other: '06',
} as const;
export type ReversalReason = (typeof REVERSAL_REASONS)[keyof typeof REVERSAL_REASONS];

/** Field 39 values on transaction responses (UnionPay POS meanings; docs/protocol-transactions.md). */
export const TxResponseCode = {
  Approved: '00',
  InvalidMerchant: '03',
  DoNotHonour: '05',
  InvalidTransaction: '12',
  InvalidAmount: '13',
  InvalidCard: '14',
  OriginalNotFound: '25',
  FormatError: '30',
  FunctionNotSupported: '40',
  InsufficientFunds: '51',
  ExpiredCard: '54',
  WrongPin: '55',
  NotPermittedOnTerminal: '58',
  AmountLimitExceeded: '61',
  PinTriesExceeded: '75',
  IssuerUnavailable: '91',
  Duplicate: '94',
  SystemMalfunction: '96',
  TerminalNotRegistered: '97',
  IssuerTimeout: '98',
  MacError: 'A0',
  SecurityProcessingFailed: 'A7',
} as const;
export type TxResponseCode = (typeof TxResponseCode)[keyof typeof TxResponseCode];

// ---------------------------------------------------------------------------------------------
// Classification

/** Field 22 (POS entry mode, n3): digits 1-2 how the PAN was read, digit 3 PIN. */
export const ENTRY_MODE = {
  manual: '01',
  magstripe: '02',
  /** QR / bar code (qiandao: ISO 8583 "bar code" entry; a QR purchase carries no card). */
  qr: '03',
  chip: '05',
  contactless: '07',
} as const;
/** Third digit of field 22: 1 PIN entered (52 present), 2 no PIN. */
export const PIN_ENTERED = '1';
export const NO_PIN = '2';
/** QR purchase field 22 (qiandao). */
export const QR_ENTRY_MODE = '032';
/**
 * Field 59 of a QR purchase (qiandao): the customer's payment code as shown in the QR / bar code,
 * 12-19 digits (UnionPay C2B payment codes are 19 digits starting 62). The host passes it to the
 * issuer as the account token (IssuerRequest.pan): in the simulator, the PAN of the paying account.
 */
export const QR_CODE_PATTERN = /^[0-9]{12,19}$/;

/** Field 26 when a PIN is present: the PIN pad accepts up to 12 digits. */
export const PIN_CAPTURE_CODE = '12';
/** Field 53 for a 3DES-encrypted ISO format 0 PIN block, clear tracks. */
export const SECURITY_CONTROL_3DES = '2600000000000000';
/** Field 53 for a single-DES PIN key (sign-on scheme 001). */
export const SECURITY_CONTROL_DES = '2000000000000000';

/** True when field 22 says the PAN came from a QR / bar code. */
export function isQrEntryMode(entryMode: string | undefined): boolean {
  return entryMode !== undefined && entryMode.startsWith(ENTRY_MODE.qr);
}

/**
 * The transaction a request is, from its MTI, field 3, 60.1, 60.3 and field 22; null when none.
 * (A reversal is recognised by MTI alone; its original kind comes from the same rule applied to
 * 0200/0100/0220 with its 3 and 60.1.)
 */
export function classify(mti: string, processingCode: string | undefined, messageType: string | undefined, networkCode: string | undefined, entryMode?: string): TransactionKind | null {
  if (mti === '0400') return 'reversal';
  if (mti === '0500') return messageType === '00' && networkCode === '201' ? 'settlement' : null;
  if (mti === '0320') {
    if (networkCode === '201') return 'batch-upload';
    if (networkCode === BATCH_END_CODES.agreed || networkCode === BATCH_END_CODES.notAgreed) return 'batch-upload-end';
    return null;
  }
  for (const k of FINANCIAL_KINDS) {
    const d = MESSAGES[k];
    if (d.mti === mti && d.processingCode === processingCode && d.messageType === messageType) {
      if (k === 'purchase' || k === 'qr-purchase') return isQrEntryMode(entryMode) ? 'qr-purchase' : 'purchase';
      return k;
    }
  }
  return null;
}

/** The kind a 0400 reverses, from its own 3 / 60.1 / 22 (as the original). */
export function reversedKind(processingCode: string | undefined, messageType: string | undefined, entryMode?: string): FinancialKind | null {
  for (const mti of ['0200', '0100', '0220']) {
    const k = classify(mti, processingCode, messageType, FINANCIAL_NETWORK_CODE, entryMode);
    if (k !== null && k !== 'reversal' && k !== 'settlement' && k !== 'batch-upload' && k !== 'batch-upload-end') {
      return MESSAGES[k].reversible ? k : null;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Field 60 / 61

/** 60.4 terminal read capability: 6 = contact + contactless IC (the usual value), 2 magstripe only. */
export const TERMINAL_CAPABILITY = '6';
/** 60.5 IC condition: 0 normal, 2 fallback. */
export const IC_CONDITION_NORMAL = '0';

/** Field 60 for a financial request of `kind` in batch `batchNo` (60.1-60.5, 13 digits). */
export function financialField60(kind: FinancialKind, batchNo: string): { 1: string; 2: string; 3: string; 4: string; 5: string } {
  const messageType = MESSAGES[kind].messageType;
  if (messageType === undefined) throw new Error(`${kind} has no 60.1`);
  return { 1: messageType, 2: batchNo, 3: FINANCIAL_NETWORK_CODE, 4: TERMINAL_CAPABILITY, 5: IC_CONDITION_NORMAL };
}

/** Field 60 for settlement / batch upload (60.1-60.3, 11 digits). */
export function controlField60(kind: 'settlement' | 'batch-upload' | 'batch-upload-end', batchNo: string, agreed = true): { 1: string; 2: string; 3: string } {
  const code = kind === 'batch-upload-end' ? (agreed ? BATCH_END_CODES.agreed : BATCH_END_CODES.notAgreed) : '201';
  return { 1: '00', 2: batchNo, 3: code };
}

/** Field 61 for void / refund / pre-auth void / completion: original batch, STAN, date (MMDD). */
export function originalField61(o: { batchNo: string; stan: string; date?: string }): { 1: string; 2: string; 3?: string } {
  return o.date === undefined ? { 1: o.batchNo, 2: o.stan } : { 1: o.batchNo, 2: o.stan, 3: o.date };
}

// ---------------------------------------------------------------------------------------------
// Field 48: settlement totals (0500 / 0510)

/** Card classes of the settlement totals: domestic (UnionPay, 内卡) and foreign (外卡). */
export type CardClass = 'domestic' | 'foreign';

/**
 * The card class of a PAN (qiandao rule, both sides use it): PANs starting with 62 (UnionPay IIN
 * range) and QR payments are domestic; everything else is foreign.
 */
export function cardClassOf(pan: string | null): CardClass {
  if (pan === null) return 'domestic';
  return pan.startsWith('62') ? 'domestic' : 'foreign';
}

export interface ClassTotals {
  /** Sum of approved debit-side amounts (purchases, QR purchases, completions), minor units. */
  debitAmount: number;
  debitCount: number;
  /** Sum of approved credit-side amounts (voids, completion voids, refunds). */
  creditAmount: number;
  creditCount: number;
}

export interface SettlementTotals {
  domestic: ClassTotals;
  foreign: ClassTotals;
}

/** Reconciliation code (one digit per class in 0510 field 48). */
export const SETTLEMENT_CODES = {
  /** In requests: not reconciled yet. Terminals treat it as an error in a response. */
  request: '0',
  agree: '1',
  disagree: '2',
  error: '3',
} as const;
export type SettlementCode = (typeof SETTLEMENT_CODES)[keyof typeof SETTLEMENT_CODES];

/** One class block: amount n12, count n3, amount n12, count n3, code n1 = 31 digits. */
export const SETTLEMENT_BLOCK_DIGITS = 31;
/** Amount/count limits of one block. */
export const MAX_TOTAL_AMOUNT = 999_999_999_999;
export const MAX_TOTAL_COUNT = 999;

export function emptyClassTotals(): ClassTotals {
  return { debitAmount: 0, debitCount: 0, creditAmount: 0, creditCount: 0 };
}

export function emptyTotals(): SettlementTotals {
  return { domestic: emptyClassTotals(), foreign: emptyClassTotals() };
}

export class TotalsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TotalsFormatError';
  }
}

function digits(n: number, width: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 10 ** width) throw new TotalsFormatError(`${what} ${n} does not fit ${width} digits`);
  return String(n).padStart(width, '0');
}

function encodeBlock(t: ClassTotals, code: SettlementCode): string {
  return (
    digits(t.debitAmount, 12, 'debit amount') +
    digits(t.debitCount, 3, 'debit count') +
    digits(t.creditAmount, 12, 'credit amount') +
    digits(t.creditCount, 3, 'credit count') +
    code
  );
}

/**
 * Field 48 of a 0500 (codes '0') or 0510 (a code per class): 62 digits, domestic block first.
 * Counts above 999 (n3) do not fit: throws TotalsFormatError.
 */
export function encodeSettlementTotals(t: SettlementTotals, codes: { domestic: SettlementCode; foreign: SettlementCode } = { domestic: '0', foreign: '0' }): string {
  return encodeBlock(t.domestic, codes.domestic) + encodeBlock(t.foreign, codes.foreign);
}

export interface DecodedTotals extends SettlementTotals {
  codes: { domestic: string; foreign: string };
}

/** Parse field 48 of a 0500/0510: 31 digits (domestic only; foreign taken as zero) or 62 digits. */
export function decodeSettlementTotals(value: string): DecodedTotals {
  if (!/^[0-9]+$/.test(value) || (value.length !== SETTLEMENT_BLOCK_DIGITS && value.length !== 2 * SETTLEMENT_BLOCK_DIGITS)) {
    throw new TotalsFormatError(`settlement totals must be 31 or 62 digits, got ${value.length}`);
  }
  const block = (s: string): ClassTotals => ({
    debitAmount: Number(s.slice(0, 12)),
    debitCount: Number(s.slice(12, 15)),
    creditAmount: Number(s.slice(15, 27)),
    creditCount: Number(s.slice(27, 30)),
  });
  const dom = value.slice(0, 31);
  const foreign = value.length === 62 ? value.slice(31, 62) : '0'.repeat(31);
  return { domestic: block(dom), foreign: block(foreign), codes: { domestic: dom[30] ?? '0', foreign: foreign[30] ?? '0' } };
}

export function classTotalsEqual(a: ClassTotals, b: ClassTotals): boolean {
  return a.debitAmount === b.debitAmount && a.debitCount === b.debitCount && a.creditAmount === b.creditAmount && a.creditCount === b.creditCount;
}

// ---------------------------------------------------------------------------------------------
// Field 48: batch upload (0320, 60.3 = 201) and batch-upload end (0320, 60.3 = 207 / 202)

/** One magnetic-stripe batch-upload record (40 digits). */
export interface BatchRecord {
  cardClass: CardClass;
  /** POS STAN of the uploaded transaction, 6 digits. */
  stan: string;
  /** Up to 20 digits (sent right-aligned, zero-filled). The host stores only its fingerprint / mask. */
  pan: string;
  amount: number;
}

export const BATCH_RECORD_DIGITS = 40;
export const MAX_BATCH_RECORDS = 8;
const CARD_CLASS_CODE: Record<CardClass, string> = { domestic: '00', foreign: '01' };

/** Field 48 of a 0320/201: count n2, then up to 8 records (class n2, STAN n6, PAN n20, amount n12). */
export function encodeBatchRecords(records: readonly BatchRecord[]): string {
  if (records.length < 1 || records.length > MAX_BATCH_RECORDS) throw new TotalsFormatError(`a batch upload carries 1-${MAX_BATCH_RECORDS} records`);
  let out = digits(records.length, 2, 'record count');
  for (const r of records) {
    if (!/^[0-9]{6}$/.test(r.stan)) throw new TotalsFormatError('record STAN must be 6 digits');
    if (!/^[0-9]{1,20}$/.test(r.pan)) throw new TotalsFormatError('record PAN must be 1-20 digits');
    out += CARD_CLASS_CODE[r.cardClass] + r.stan + r.pan.padStart(20, '0') + digits(r.amount, 12, 'record amount');
  }
  return out;
}

export function decodeBatchRecords(value: string): BatchRecord[] {
  if (!/^[0-9]+$/.test(value) || value.length < 2) throw new TotalsFormatError('batch records must be digits');
  const count = Number(value.slice(0, 2));
  if (count < 1 || count > MAX_BATCH_RECORDS || value.length !== 2 + count * BATCH_RECORD_DIGITS) {
    throw new TotalsFormatError(`batch upload of ${count} records must be ${2 + count * BATCH_RECORD_DIGITS} digits, got ${value.length}`);
  }
  const out: BatchRecord[] = [];
  for (let i = 0; i < count; i++) {
    const r = value.slice(2 + i * BATCH_RECORD_DIGITS, 2 + (i + 1) * BATCH_RECORD_DIGITS);
    const cls = r.slice(0, 2);
    if (cls !== '00' && cls !== '01') throw new TotalsFormatError(`record card class ${cls} is not 00 or 01`);
    out.push({ cardClass: cls === '00' ? 'domestic' : 'foreign', stan: r.slice(2, 8), pan: r.slice(8, 28).replace(/^0+(?=[0-9])/, ''), amount: Number(r.slice(28, 40)) });
  }
  return out;
}

/** Field 48 of the batch-upload end: N4 total number of records uploaded in the batch. */
export function encodeBatchEndCount(count: number): string {
  return digits(count, 4, 'batch count');
}

export function decodeBatchEndCount(value: string): number {
  if (!/^[0-9]{4}$/.test(value)) throw new TotalsFormatError('batch-upload end count must be 4 digits');
  return Number(value);
}

// ---------------------------------------------------------------------------------------------
// Field 54: balance (0210 to a balance inquiry)

/**
 * Field 54 (an20): account type n2 '10', amount type n2 '02' (available), currency n3, sign a1
 * ('C' positive, 'D' negative), amount n12. Terminals read the sign at index 7 and the amount at 8-19.
 */
export function encodeBalance(balance: number, currency: string): string {
  const sign = balance < 0 ? 'D' : 'C';
  return '10' + '02' + currency + sign + digits(Math.abs(balance), 12, 'balance');
}

export function decodeBalance(value: string): { currency: string; balance: number } {
  if (!/^[0-9]{7}[A-Z][0-9]{12}$/.test(value)) throw new TotalsFormatError('field 54 must be 20 characters: n2 n2 n3 a1 n12');
  const amount = Number(value.slice(8, 20));
  return { currency: value.slice(4, 7), balance: value[7] === 'C' ? amount : -amount };
}

/** Currency of every transaction on this host (field 49, ASCII): CNY. */
export const CURRENCY_CNY = '156';
