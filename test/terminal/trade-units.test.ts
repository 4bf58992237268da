/** Units of the terminal's batch, the trade simulator's parsing and the CLI state/STAN helpers. */
import { describe, expect, it } from 'vitest';
import { TerminalBatch, batchSnapshot, nextBatchNo, restoreBatch } from '../../src/terminal/batch.js';
import { parseTradeMix, tradeProgressLine } from '../../src/terminal/sim/trade.js';
import { clockStan } from '../../src/terminal/trade.js';
import { parseCardsText } from '../../src/cli/commands/trade/sim.js';
import { firstStanFor, stateSealer } from '../../src/cli/commands/trade/connect.js';
import { encodeSettlementTotals } from '../../src/transactions/messages.js';

const rec = (stan: string, kind: 'purchase' | 'void' | 'refund' | 'balance' | 'preauth' | 'preauth-completion', amount: number, cardClass: 'domestic' | 'foreign' = 'domestic') => ({
  kind, stan, rrn: `00000000${stan.slice(2)}`, amount, date: '1124', cardClass, maskedPan: '622999*********0018',
});

describe('TerminalBatch', () => {
  it('counts debit and credit sides per card class; a voided purchase stays a debit and its void is a credit', () => {
    const b = new TerminalBatch('000007');
    b.record(rec('000001', 'purchase', 1_000));
    b.record(rec('000002', 'purchase', 2_500, 'foreign'));
    b.record(rec('000003', 'void', 1_000));
    expect(b.markVoided('000001')).toBe(true);
    expect(b.markVoided('000001')).toBe(false);
    b.record(rec('000004', 'refund', 300));
    b.record(rec('000005', 'preauth', 9_999));
    b.record(rec('000006', 'preauth-completion', 9_000));
    expect(b.totals).toEqual({
      domestic: { debitAmount: 10_000, debitCount: 2, creditAmount: 1_300, creditCount: 2 },
      foreign: { debitAmount: 2_500, debitCount: 1, creditAmount: 0, creditCount: 0 },
    });
    // field 48 of the 0500 (amount n12 + count n3 per side, code 0), docs/cup-pos-fields.md §4.5
    expect(encodeSettlementTotals(b.totals)).toBe('000000010000002000000001300002' + '0' + '000000002500001000000000000000' + '0');
    expect(() => b.record(rec('000001', 'purchase', 1))).toThrow(/already recorded/);
    expect(() => b.record({ ...rec('000009', 'purchase', 1), amount: 1.5 })).toThrow(/integer/);
  });

  it('advances after settlement: next number, nothing counted; 999999 wraps to 000001', () => {
    const b = new TerminalBatch('999999');
    b.record(rec('000001', 'purchase', 1_000), '6229990000000000018');
    expect(b.uploadRecords().records).toHaveLength(1);
    expect(b.advance()).toBe('000001');
    expect(b.empty).toBe(true);
    expect(b.uploadRecords()).toEqual({ records: [], skipped: 0 });
    expect(nextBatchNo('000001')).toBe('000002');
    expect(() => nextBatchNo('12')).toThrow(RangeError);
    expect(() => new TerminalBatch('abc')).toThrow(RangeError);
  });

  it('batch upload records carry the clear PAN from memory only; the snapshot never does', () => {
    const b = new TerminalBatch('000001');
    b.record(rec('000001', 'purchase', 1_000), '6229990000000000018');
    b.record(rec('000002', 'balance', 0), '6229990000000000018');
    b.record(rec('000003', 'refund', 200));
    expect(b.uploadRecords()).toEqual({ records: [{ cardClass: 'domestic', stan: '000001', pan: '6229990000000000018', amount: 1_000 }], skipped: 1 });
    const snap = JSON.stringify(batchSnapshot(b));
    expect(snap).not.toContain('6229990000000000018');
    const back = restoreBatch(JSON.parse(snap));
    expect(back.totals).toEqual(b.totals);
    expect(back.list()).toEqual(b.list());
    // restored: the PANs are gone, so nothing could be uploaded
    expect(back.uploadRecords()).toEqual({ records: [], skipped: 2 });
  });

  it('restoreBatch refuses malformed state (and anything that looks like a clear PAN)', () => {
    const good = batchSnapshot(new TerminalBatch('000002'));
    expect(() => restoreBatch(null)).toThrow(/batchNo, records/);
    expect(() => restoreBatch({ ...good, batchNo: 'x' })).toThrow(RangeError);
    const r = { ...rec('000001', 'purchase', 5), voided: false };
    expect(restoreBatch({ batchNo: '000002', records: [r] }).totals.domestic.debitCount).toBe(1);
    expect(() => restoreBatch({ batchNo: '000002', records: [{ ...r, kind: 'reversal' }] })).toThrow(/record 0/);
    expect(() => restoreBatch({ batchNo: '000002', records: [{ ...r, stan: '1' }] })).toThrow(/record 0/);
    expect(() => restoreBatch({ batchNo: '000002', records: [{ ...r, maskedPan: '6229990000000000018' }] })).toThrow(/record 0/);
  });
});

describe('trade simulator inputs', () => {
  it('parses a mix and refuses bad ones', () => {
    expect(parseTradeMix('purchase=80,balance=10,void=5,refund=5')).toEqual({ purchase: 80, balance: 10, void: 5, refund: 5 });
    expect(parseTradeMix(' qr = 3 ')).toEqual({ qr: 3 });
    expect(() => parseTradeMix('purchase')).toThrow(/kind=weight/);
    expect(() => parseTradeMix('sale=1')).toThrow(/unknown kind/);
    expect(() => parseTradeMix('purchase=1,purchase=2')).toThrow(/twice/);
    expect(() => parseTradeMix('purchase=0')).toThrow(/positive/);
  });

  it('parses a cards file as lines or JSON', () => {
    expect(parseCardsText('# c\n6229990000000000018,3012,1234\n6229990000000000026 3101\n')).toEqual([
      { pan: '6229990000000000018', expiry: '3012', pin: '1234' },
      { pan: '6229990000000000026', expiry: '3101' },
    ]);
    expect(parseCardsText('[{"pan":"6229990000000000018","expiry":"3012"}]')).toEqual([{ pan: '6229990000000000018', expiry: '3012' }]);
    expect(parseCardsText('{"cardId":"c1","pan":"6229990000000000018","expiry":"3012","pin":"1234","balance":5}')).toEqual([{ pan: '6229990000000000018', expiry: '3012', pin: '1234' }]);
    expect(() => parseCardsText('62299900,3012')).toThrow(/card 1: PAN/);
    expect(() => parseCardsText('6229990000000000018,3013')).toThrow(/expiry/);
    expect(() => parseCardsText('6229990000000000018,3012,12')).toThrow(/PIN/);
    expect(() => parseCardsText('# nothing\n')).toThrow(/no cards/);
    expect(() => parseCardsText('[{')).toThrow(/not valid JSON/);
  });

  it('draws a progress line per phase', () => {
    expect(tradeProgressLine({ phase: 'trade', done: 50, total: 100, failed: 2, elapsedMs: 1000 }, 10)).toBe('[#####.....]  50/100 tx  50.0 tx/s  failed 2');
    expect(tradeProgressLine({ phase: 'sign-on', done: 3, total: 3, failed: 0, elapsedMs: 10 }, 4)).toBe('[####] sign-on 3/3  failed 0');
  });
});

describe('STANs of a terminal without memory', () => {
  it('come from the clock, 100 per second, in 1..999000', () => {
    expect(clockStan(0)).toBe(1);
    expect(clockStan(1_000)).toBe(101);
    expect(clockStan(9_990_000 - 10)).toBe(999_000);
    expect(clockStan(9_990_000)).toBe(1);
  });

  it('continue after the saved STAN with --state (999999 wraps to 1)', () => {
    expect(firstStanFor({ lastStan: '000041' })).toBe(42);
    expect(firstStanFor({ lastStan: '999999' })).toBe(1);
    expect(firstStanFor(null, 2_000)).toBe(201);
    expect(firstStanFor({ lastStan: null }, 2_000)).toBe(201);
  });
});

describe('CLI state sealer', () => {
  const tmk = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
  it('seals card data under a key from the TMK and terminal; tampering or another key fails', () => {
    const a = stateSealer(tmk, '12345678', '898110070110001');
    const sealed = a.seal('{"2":"6229990000000000018"}');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('6229990000000000018');
    expect(a.seal('x')).not.toBe(a.seal('x'));
    expect(a.open(sealed)).toBe('{"2":"6229990000000000018"}');
    expect(() => stateSealer(tmk, '12345679', '898110070110001').open(sealed)).toThrow();
    expect(() => stateSealer(Buffer.alloc(16, 1), '12345678', '898110070110001').open(sealed)).toThrow();
    const parts = sealed.split('.');
    parts[2] = Buffer.from('tampered!').toString('base64url');
    expect(() => a.open(parts.join('.'))).toThrow();
    expect(() => a.open('v2.x.y.z')).toThrow(/not a sealed value/);
  });
});
