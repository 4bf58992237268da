import { describe, expect, it } from 'vitest';
import { buildKeyField, encodeParameters, findRoute, DEFAULT_ROUTES, responseMti } from '../../src/host/index.js';
import { localTimeFields } from '../../src/host/local-time.js';
import { createRrnGenerator } from '../../src/host/rrn.js';
import { parseTlv } from '../../src/iso8583/index.js';

describe('host units', () => {
  it('derives response MTIs and refuses to answer responses', () => {
    expect(responseMti('0800')).toBe('0810');
    expect(responseMti('0820')).toBe('0830');
    expect(responseMti('0200')).toBe('0210');
    expect(responseMti('0400')).toBe('0410');
    expect(responseMti('0810')).toBeNull();
    expect(responseMti('08x0')).toBeNull();
  });

  it('formats fields 12/13 in the merchant time zone', () => {
    const at = new Date('2026-03-31T16:30:05Z');
    expect(localTimeFields(at, 'Asia/Shanghai')).toEqual({ time: '003005', date: '0401' });
    expect(localTimeFields(at, 'UTC')).toEqual({ time: '163005', date: '0331' });
    expect(localTimeFields(new Date('2026-01-01T00:00:00Z'), 'Asia/Shanghai').time).toBe('080000');
  });

  it('issues distinct 12-digit retrieval reference numbers', () => {
    const g = createRrnGenerator(() => 999_999_999_999 + 1_000_000_000_000);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const r = g.next();
      expect(r).toMatch(/^\d{12}$/);
      seen.add(r);
    }
    expect(seen.size).toBe(1000);
  });

  it('lays out field 62 for each key scheme', () => {
    const k = (n: number, len: number) => ({ cryptogram: Buffer.alloc(len, n), kcv: Buffer.alloc(4, n + 0x10) });
    expect(buildKeyField('001', k(1, 8), k(2, 8), null).toString('hex')).toBe(
      '01'.repeat(8) + '11'.repeat(4) + '02'.repeat(8) + '12'.repeat(4),
    );
    const f003 = buildKeyField('003', k(1, 16), k(2, 8), null);
    expect(f003.toString('hex')).toBe('01'.repeat(16) + '11'.repeat(4) + '02'.repeat(8) + '00'.repeat(8) + '12'.repeat(4));
    const f004 = buildKeyField('004', k(1, 16), k(2, 8), k(3, 16));
    expect(f004.length).toBe(60);
    expect(f004.subarray(40).toString('hex')).toBe('03'.repeat(16) + '13'.repeat(4));
  });

  it('routes by MTI, 60.1 and 60.3', () => {
    expect(findRoute(DEFAULT_ROUTES, { mti: '0800', messageType: '00', networkCode: '004' })?.name).toBe('sign-on');
    expect(findRoute(DEFAULT_ROUTES, { mti: '0820', messageType: '00', networkCode: '002' })?.name).toBe('sign-off');
    expect(findRoute(DEFAULT_ROUTES, { mti: '0820', messageType: '00', networkCode: '301' })?.name).toBe('echo');
    expect(findRoute(DEFAULT_ROUTES, { mti: '0820', messageType: '00', networkCode: '001' })).toBeNull();
    expect(findRoute(DEFAULT_ROUTES, { mti: '0800' })).toBeNull();
  });

  it('encodes parameters as nested BER-TLV in name order', () => {
    const items = parseTlv(encodeParameters({ b: '2', a: '中文' }, 7));
    expect(items.map((i) => i.tag)).toEqual(['DF03', 'DF05', 'DF06', 'E1', 'E1']);
    expect(items.slice(0, 3).map((i) => i.value.toString())).toEqual(['7', '1', '1']);
    const first = parseTlv(items[3]!.value);
    expect(first.map((i) => i.value.toString('utf8'))).toEqual(['a', '中文']);
  });
});
