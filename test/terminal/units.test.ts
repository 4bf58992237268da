import { describe, it, expect } from 'vitest';
import {
  StanCounter, backoffDelay, decryptWorkingKeys, describeResponseCode, formatHostTime, isKnownResponseCode,
  parseHostTime, responseMtiOf, TerminalClient, TerminalError,
} from '../../src/terminal/index.js';
import { tdesEcbEncrypt } from '../../src/crypto/cipher.js';
import { kcv } from '../../src/crypto/kcv.js';
import { CLEAR_KEYS, MERCHANT_NO, TERMINAL_NO, TEST_TMK, keyBlock } from './scripted-host.js';

describe('StanCounter', () => {
  it('counts 000001.. and wraps after 999999', () => {
    const c = new StanCounter();
    expect(c.next()).toBe('000001');
    expect(c.next()).toBe('000002');
    const w = new StanCounter(999_998);
    expect([w.next(), w.next(), w.next()]).toEqual(['999998', '999999', '000001']);
  });
  it('skips STANs still in use', () => {
    const c = new StanCounter();
    expect(c.next((s) => s === '000001' || s === '000002')).toBe('000003');
  });
  it('rejects a bad start', () => {
    expect(() => new StanCounter(0)).toThrow(RangeError);
    expect(() => new StanCounter(1_000_000)).toThrow(RangeError);
  });
});

describe('backoffDelay', () => {
  const o = { initialMs: 100, maxMs: 1000 };
  it('doubles up to the maximum, with jitter in [half, whole]', () => {
    expect([1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a, o, () => 0.999999))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, o, () => 0))).toEqual([50, 100, 200, 400, 500]);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, o);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});

describe('response codes', () => {
  it('gives meanings', () => {
    expect(describeResponseCode('00')).toBe('approved');
    expect(describeResponseCode('03')).toBe('invalid merchant');
    expect(describeResponseCode('58')).toBe('transaction not permitted on this terminal');
    expect(describeResponseCode('97')).toBe('terminal not registered');
    expect(describeResponseCode('a0')).toBe('MAC error, sign on again');
    expect(describeResponseCode('ZZ')).toBe('unknown response code ZZ');
    expect(isKnownResponseCode('94')).toBe(true);
    expect(isKnownResponseCode('ZZ')).toBe(false);
  });
  it('TerminalError carries the meaning', () => {
    const e = new TerminalError('DECLINED', 'x', { responseCode: '30' });
    expect(e.meaning).toBe('format error');
  });
});

describe('host time', () => {
  it('round-trips through fields 12/13 at UTC+8', () => {
    const t = new Date(Date.UTC(2026, 4, 21, 2, 45, 12)); // 10:45:12 in Beijing
    expect(formatHostTime(t, 480)).toEqual({ time: '104512', date: '0521' });
    expect(parseHostTime('104512', '0521', t, 480)).toEqual(t);
  });
  it('picks the year closest to now across New Year', () => {
    const now = new Date(Date.UTC(2027, 0, 1, 0, 0, 5)); // host is already in 2027-01-01 08:00
    const got = parseHostTime('235959', '1231', now, 480)!;
    expect(got.toISOString()).toBe('2026-12-31T15:59:59.000Z');
  });
  it('returns null for missing or invalid values', () => {
    const now = new Date();
    expect(parseHostTime(undefined, '0101', now, 480)).toBeNull();
    expect(parseHostTime('256000', '0101', now, 480)).toBeNull();
    expect(parseHostTime('120000', '0230', now, 480)).toBeNull();
  });
});

describe('decryptWorkingKeys', () => {
  it('accepts a double-length MAK in the 16-byte slot of scheme 003', () => {
    const mak16 = Buffer.from('0102030405060708A1A2A3A4A5A6A7A8', 'hex');
    const block = Buffer.concat([
      tdesEcbEncrypt(TEST_TMK, CLEAR_KEYS.pik16),
      kcv(CLEAR_KEYS.pik16, { alg: 'tdes', length: 4 }),
      tdesEcbEncrypt(TEST_TMK, mak16),
      kcv(mak16, { alg: 'tdes', length: 4 }),
    ]);
    const keys = decryptWorkingKeys(TEST_TMK, '003', block);
    expect(keys.mak).toEqual(mak16);
  });
  it('checks length and presence', () => {
    expect(() => decryptWorkingKeys(TEST_TMK, '001', keyBlock('003'))).toThrow(/24/);
    expect(() => decryptWorkingKeys(TEST_TMK, '001', undefined)).toThrow(TerminalError);
    expect(decryptWorkingKeys(TEST_TMK, '001', keyBlock('001')).pik).toEqual(CLEAR_KEYS.pik8);
  });
});

describe('TerminalClient options', () => {
  const base = { host: '127.0.0.1', port: 1, terminalNo: TERMINAL_NO, merchantNo: MERCHANT_NO, tmk: TEST_TMK };
  it('validates', () => {
    expect(() => new TerminalClient({ ...base, terminalNo: '123' })).toThrow(TerminalError);
    expect(() => new TerminalClient({ ...base, merchantNo: '1' })).toThrow(/merchantNo/);
    expect(() => new TerminalClient({ ...base, tmk: Buffer.alloc(5) })).toThrow(/tmk/);
    expect(() => new TerminalClient({ ...base, batchNo: '12' })).toThrow(/batchNo/);
    expect(() => new TerminalClient({ ...base, tpdu: { destination: 'XYZ' } })).toThrow(/TPDU/);
    expect(() => new TerminalClient({ ...base, reconnect: { initialMs: 0, maxMs: 10 } })).toThrow(/reconnect/);
    const c = new TerminalClient(base);
    expect(c.keyScheme).toBe('004');
    expect(c.batchNo).toBe('000001');
    expect(c.signedOn).toBe(false);
    expect(c.connected).toBe(false);
  });
  it('derives response MTIs', () => {
    expect(responseMtiOf('0800')).toBe('0810');
    expect(responseMtiOf('0820')).toBe('0830');
    expect(responseMtiOf('0200')).toBe('0210');
  });
});
