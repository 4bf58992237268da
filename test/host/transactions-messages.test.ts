/**
 * The wire contract (src/transactions/messages.ts): classification, field 48 / 54 / 60 / 61
 * layouts and their encoding on the cup-pos profile. Layouts and byte examples are those of
 * docs/cup-pos-fields.md §4.1, §4.5, §4.7 and §5.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nextBatchNo } from '../../src/host/handlers/transactions/settlement.js';
import { createMessage, pack, unpack } from '../../src/iso8583/index.js';
import { cupPos } from '../../src/specs/cup-pos.js';
import { parseTrack2, readCard } from '../../src/transactions/card.js';
import { localDate } from '../../src/transactions/local-date.js';
import {
  cardClassOf,
  classify,
  decodeBalance,
  decodeBatchEndCount,
  decodeBatchRecords,
  decodeSettlementTotals,
  emptyTotals,
  encodeBalance,
  encodeBatchEndCount,
  encodeBatchRecords,
  encodeSettlementTotals,
  financialField60,
  FINANCIAL_KINDS,
  MESSAGES,
  reversedKind,
  TotalsFormatError,
} from '../../src/transactions/messages.js';

describe('transaction matrix (docs/cup-pos-fields.md §5)', () => {
  it.each([
    ['0200', '000000', '22', 'purchase'],
    ['0200', '310000', '01', 'balance'],
    ['0200', '200000', '23', 'void'],
    ['0220', '200000', '25', 'refund'],
    ['0100', '030000', '10', 'preauth'],
    ['0100', '200000', '11', 'preauth-void'],
    ['0200', '000000', '20', 'preauth-completion'],
    ['0200', '200000', '21', 'completion-void'],
  ])('%s / %s / 60.1 %s is %s', (mti, proc, type, kind) => {
    expect(classify(mti, proc, type, '000', '021')).toBe(kind);
    const d = MESSAGES[kind as keyof typeof MESSAGES];
    expect([d.mti, d.processingCode, d.messageType]).toEqual([mti, proc, type]);
    expect(d.responseMti).toBe(mti.slice(0, 2) + String(Number(mti[2]) + 1) + mti[3]);
  });

  it('tells a QR purchase by field 22 and control messages by 60.3', () => {
    expect(classify('0200', '000000', '22', '000', '032')).toBe('qr-purchase');
    expect(classify('0500', undefined, '00', '201')).toBe('settlement');
    expect(classify('0320', undefined, '00', '201')).toBe('batch-upload');
    expect(classify('0320', undefined, '00', '207')).toBe('batch-upload-end');
    expect(classify('0320', undefined, '00', '202')).toBe('batch-upload-end');
    expect(classify('0320', undefined, '00', '203')).toBeNull();
    expect(classify('0200', '000000', '99', '000')).toBeNull();
    expect(classify('0400', '000000', '22', '000')).toBe('reversal');
  });

  it('finds what a 0400 reverses; balance and refund are not reversible', () => {
    expect(reversedKind('000000', '22', '021')).toBe('purchase');
    expect(reversedKind('000000', '22', '032')).toBe('qr-purchase');
    expect(reversedKind('200000', '23')).toBe('void');
    expect(reversedKind('310000', '01')).toBeNull();
    expect(reversedKind('200000', '25')).toBeNull();
  });

  it('every financial kind is MAC-required and names an operator permission', () => {
    for (const k of FINANCIAL_KINDS) {
      expect(MESSAGES[k].mac).toBe('required');
      expect(MESSAGES[k].permission).toBeDefined();
      expect(MESSAGES[k].required).toContain(64);
    }
  });
});

describe('field 60 / 61 on the wire', () => {
  it('packs 60 of a purchase as 13 digits, left-aligned (§4.1: 22|000123|000|5|0 → 00 13 22 00 01 23 00 05 00)', () => {
    const m = createMessage(cupPos, '0200', { 60: { ...financialField60('purchase', '000123'), 4: '5' } });
    const body = pack(cupPos, m);
    expect(body.subarray(body.length - 9).toString('hex')).toBe('0013' + '22000123000500');
  });

  it('round-trips 61 with and without the original date', () => {
    for (const v of [{ 1: '000001', 2: '000042' }, { 1: '000001', 2: '000042', 3: '1124' }]) {
      const m = unpack(cupPos, pack(cupPos, createMessage(cupPos, '0200', { 61: v })));
      expect(m.get(61)).toEqual(v);
    }
  });
});

describe('field 48: settlement totals (§4.5)', () => {
  it('lays out amount n12, count n3, amount n12, count n3, code n1 per class, domestic first', () => {
    const t = emptyTotals();
    t.domestic = { debitAmount: 123_456, debitCount: 7, creditAmount: 100, creditCount: 1 };
    t.foreign = { debitAmount: 5, debitCount: 1, creditAmount: 0, creditCount: 0 };
    const s = encodeSettlementTotals(t, { domestic: '1', foreign: '2' });
    expect(s).toBe('000000123456' + '007' + '000000000100' + '001' + '1' + '000000000005' + '001' + '000000000000' + '000' + '2');
    expect(decodeSettlementTotals(s)).toEqual({ ...t, codes: { domestic: '1', foreign: '2' } });
  });

  it('packs 62 digits with LLL prefix 00 62 and 31 bytes', () => {
    const s = encodeSettlementTotals(emptyTotals());
    const body = pack(cupPos, createMessage(cupPos, '0500', { 48: s }));
    const at = body.length - 33;
    expect(body.subarray(at, at + 2).toString('hex')).toBe('0062');
    expect(body.length - at - 2).toBe(31);
  });

  it('accepts 31 digits (domestic only) and refuses other lengths, non-digits, counts above 999', () => {
    expect(decodeSettlementTotals('0'.repeat(31)).foreign).toEqual(emptyTotals().foreign);
    expect(() => decodeSettlementTotals('0'.repeat(30))).toThrow(TotalsFormatError);
    expect(() => decodeSettlementTotals('A'.repeat(62))).toThrow(TotalsFormatError);
    const t = emptyTotals();
    t.domestic.debitCount = 1_000;
    expect(() => encodeSettlementTotals(t)).toThrow(TotalsFormatError);
    t.domestic.debitCount = 999;
    expect(encodeSettlementTotals(t)).toHaveLength(62);
  });

  it('round-trips any totals that fit', () => {
    const cls = fc.record({
      debitAmount: fc.integer({ min: 0, max: 999_999_999_999 }),
      debitCount: fc.integer({ min: 0, max: 999 }),
      creditAmount: fc.integer({ min: 0, max: 999_999_999_999 }),
      creditCount: fc.integer({ min: 0, max: 999 }),
    });
    fc.assert(
      fc.property(cls, cls, (domestic, foreign) => {
        const d = decodeSettlementTotals(encodeSettlementTotals({ domestic, foreign }));
        expect({ domestic: d.domestic, foreign: d.foreign }).toEqual({ domestic, foreign });
      }),
    );
  });
});

describe('field 48: batch upload records and end count (§4.5)', () => {
  it('encodes count n2 then 40-digit records (class n2, STAN n6, PAN n20 right-aligned, amount n12)', () => {
    const s = encodeBatchRecords([{ cardClass: 'foreign', stan: '000004', pan: '4111111111111111', amount: 700 }]);
    expect(s).toBe('01' + '01' + '000004' + '00004111111111111111' + '000000000700');
    expect(decodeBatchRecords(s)).toEqual([{ cardClass: 'foreign', stan: '000004', pan: '4111111111111111', amount: 700 }]);
    expect(() => decodeBatchRecords('01' + '0'.repeat(39))).toThrow(TotalsFormatError);
    expect(() => encodeBatchRecords([])).toThrow(TotalsFormatError);
    const eight = Array.from({ length: 8 }, (_, i) => ({ cardClass: 'domestic' as const, stan: `00000${i}`, pan: '6299901234567890', amount: i }));
    expect(encodeBatchRecords(eight)).toHaveLength(322);
    expect(() => encodeBatchRecords([...eight, eight[0]!])).toThrow(TotalsFormatError);
  });

  it('encodes the end count as n4', () => {
    expect(encodeBatchEndCount(12)).toBe('0012');
    expect(decodeBatchEndCount('0012')).toBe(12);
    expect(() => decodeBatchEndCount('12')).toThrow(TotalsFormatError);
  });
});

describe('field 54: balance (§4.7)', () => {
  it('puts the sign at index 7 and the amount at 8-19', () => {
    const s = encodeBalance(123_456, '156');
    expect(s).toBe('1002156C000000123456');
    expect(s[7]).toBe('C');
    expect(decodeBalance(s)).toEqual({ currency: '156', balance: 123_456 });
    expect(decodeBalance(encodeBalance(-5, '156'))).toEqual({ currency: '156', balance: -5 });
  });
});

describe('helpers', () => {
  it('classifies cards: 62 domestic, others foreign, QR domestic', () => {
    expect(cardClassOf('6299901234567890')).toBe('domestic');
    expect(cardClassOf('4111111111111111')).toBe('foreign');
    expect(cardClassOf(null)).toBe('domestic');
  });

  it('reads the card from 2, track 2 (= or D), or the QR code', () => {
    expect(parseTrack2('6299901234567890=30121200')).toEqual({ pan: '6299901234567890', expiry: '3012' });
    expect(parseTrack2('6299901234567890D3012')).toEqual({ pan: '6299901234567890', expiry: '3012' });
    expect(parseTrack2('12=34')).toBeNull();
    expect(readCard({ entryMode: '032', pan: undefined, expiry: undefined, track2: undefined, qrCode: '6299901234567890123' })).toMatchObject({ ok: true, card: { channel: 'qr' } });
    expect(readCard({ entryMode: '032', pan: undefined, expiry: undefined, track2: undefined, qrCode: 'abc' })).toMatchObject({ ok: false, code: '14' });
    expect(readCard({ entryMode: '021', pan: undefined, expiry: undefined, track2: undefined, qrCode: undefined })).toMatchObject({ ok: false, code: '30' });
    expect(readCard({ entryMode: '012', pan: '12AB', expiry: undefined, track2: undefined, qrCode: undefined })).toMatchObject({ ok: false, code: '14' });
  });

  it('advances the batch number and wraps 999999 to 000001', () => {
    expect(nextBatchNo('000001')).toBe('000002');
    expect(nextBatchNo('999999')).toBe('000001');
  });

  it('takes the merchant-local date for the duplicate key', () => {
    // 2026-11-24T17:00Z is already the 25th in Shanghai (UTC+8), still the 24th in UTC.
    const at = new Date('2026-11-24T17:00:00Z');
    expect(localDate(at, 'Asia/Shanghai')).toBe('20261125');
    expect(localDate(at, 'UTC')).toBe('20261124');
    expect(localDate(at, 'Not/AZone')).toBe('20261125');
  });
});
