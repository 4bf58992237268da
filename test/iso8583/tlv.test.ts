import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Iso8583Error, buildTlv, parseTlv, tlvGet, tlvSet, tlvToMap } from '../../src/iso8583/index.js';

const h = (s: string) => Buffer.from(s, 'hex');

describe('BER-TLV', () => {
  it('parses single and multi-byte tags and short lengths', () => {
    const items = parseTlv(h('9F2608010203040506070882027C00DF81010101'));
    expect(items).toEqual([
      { tag: '9F26', value: h('0102030405060708') },
      { tag: '82', value: h('7C00') },
      { tag: 'DF8101', value: h('01') },
    ]);
  });
  it('long-form lengths 0x81 / 0x82 round-trip', () => {
    const v200 = Buffer.alloc(200, 7);
    const v300 = Buffer.alloc(300, 9);
    const b = buildTlv([{ tag: '71', value: v200 }, { tag: '72', value: v300 }]);
    expect(b.subarray(0, 3).toString('hex')).toBe('7181c8');
    expect(b.subarray(203, 207).toString('hex')).toBe('7282012c');
    expect(parseTlv(b)).toEqual([{ tag: '71', value: v200 }, { tag: '72', value: v300 }]);
    // non-minimal long form is accepted on parse
    expect(parseTlv(h('9F02810100'))).toEqual([{ tag: '9F02', value: h('00') }]);
  });
  it('empty list and empty values', () => {
    expect(parseTlv(Buffer.alloc(0))).toEqual([]);
    expect(buildTlv([{ tag: '9F03', value: Buffer.alloc(0) }]).toString('hex')).toBe('9f0300');
  });
  it('rejects malformed data with offsets', () => {
    const cases: Array<[string, number]> = [
      ['9F', 0], // tag runs past end
      ['9F26', 2], // length missing
      ['9F2605010203', 0], // value too short
      ['9F2680', 2], // indefinite length
      ['9F2685000000000001', 2], // 5-byte length
      ['00', 0], // padding byte
      ['9F9F9F9F01', 0], // tag too long
    ];
    for (const [hex, off] of cases) {
      try {
        parseTlv(h(hex), 55, 100);
        throw new Error(`accepted ${hex}`);
      } catch (e) {
        expect(e).toBeInstanceOf(Iso8583Error);
        expect((e as Iso8583Error).reason).toBe('BAD_TLV');
        expect((e as Iso8583Error).field).toBe(55);
        expect((e as Iso8583Error).offset).toBe(100 + off);
      }
    }
  });
  it('rejects malformed tags on build', () => {
    for (const tag of ['9F', '26', '1F', 'XYZ1', '9F2601', '']) {
      expect(() => buildTlv([{ tag: tag === '26' ? '2601' : tag, value: Buffer.alloc(1) }])).toThrow(Iso8583Error);
    }
    expect(() => buildTlv([{ tag: '9F26', value: 'x' as never }])).toThrow(Iso8583Error);
  });
  it('helpers', () => {
    const items = parseTlv(h('9F2602AAAA8201BB'));
    expect(tlvGet(items, '9f26')).toEqual(h('AAAA'));
    expect(tlvGet(items, '95')).toBeUndefined();
    const set = tlvSet(items, '82', h('CC'));
    expect(set[1]).toEqual({ tag: '82', value: h('CC') });
    expect(tlvSet(items, '95', h('00')).map((i) => i.tag)).toEqual(['9F26', '82', '95']);
    expect(tlvToMap(items).get('82')).toEqual(h('BB'));
  });
  it('random bytes parse or raise Iso8583Error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          const items = parseTlv(b);
          expect(buildTlv(items).length).toBeLessThanOrEqual(b.length);
        } catch (e) {
          expect(e).toBeInstanceOf(Iso8583Error);
        }
      }),
      { numRuns: 500 },
    );
  });
});
