import { describe, expect, it } from 'vitest';
import {
  Iso8583Error, createMessage, dump, fromJson, maskPan, maskTrack, pack, toJson, unpack,
} from '../../src/iso8583/index.js';
import { cupPos, iso87Ascii } from '../../src/specs/index.js';

const purchase = () =>
  createMessage(cupPos, '0200', {
    2: '6222021234567891234',
    3: '000000',
    4: '000000000100',
    11: '000123',
    22: '021',
    35: '6222021234567891234=25122010000000000',
    41: '12345678',
    42: '123456789012345',
    49: '156',
    52: Buffer.from('1122334455667788', 'hex'),
    53: '2600000000000000',
    55: [
      { tag: '9F26', value: Buffer.from('0102030405060708', 'hex') },
      { tag: '5A', value: Buffer.from('6222021234567891234F', 'hex') },
    ],
    60: { 1: '22', 2: '000001', 3: '000', 4: '6', 5: '0', 6: '1' },
    64: Buffer.from('A1B2C3D4E5F60718', 'hex'),
  });

describe('masking', () => {
  it('PAN keeps first 6 and last 4', () => {
    expect(maskPan('6222021234561234')).toBe('622202******1234');
    expect(maskPan('1234567890')).toBe('**********');
    expect(maskTrack('6222021234567891234=25122010000000000')).toBe('622202*********1234=*****************');
  });
});

describe('dump', () => {
  const text = dump(cupPos, unpack(cupPos, pack(cupPos, purchase())));
  it('lists every field with number, name, format and value', () => {
    expect(text).toContain('cup-pos 0200');
    expect(text).toMatch(/ {2,}11 {2}System trace audit number +n6 bcd +"000123"/);
    expect(text).toMatch(/22 {2}Point of service entry mode +n3 bcd left +"021"/);
    expect(text).toContain('60.6');
    expect(text).toContain('9F26');
  });
  it('masks PAN, track, PIN block, MAC and EMV PAN tag unless reveal', () => {
    expect(text).toContain('622202*********1234');
    expect(text).not.toContain('6222021234567891234');
    expect(text).not.toContain('1122334455667788');
    expect(text).not.toContain('A1B2C3D4E5F60718');
    expect(text).toMatch(/52 .*\*\*\*\* {2}\(8 bytes\)/);
    const clear = dump(cupPos, purchase(), { reveal: true });
    expect(clear).toContain('6222021234567891234=25122010000000000');
    expect(clear).toContain('1122334455667788');
    expect(clear).toContain('6222021234567891234F');
  });
  it('shows an undecodable field instead of throwing', () => {
    const b = pack(cupPos, createMessage(cupPos, '0800', { 11: '000001' }));
    b[10] = 0xaa;
    expect(dump(cupPos, unpack(cupPos, b))).toContain('<invalid: field 11, offset 10');
  });
});

describe('toJson / fromJson', () => {
  it('produces the documented shape', () => {
    const m = createMessage(cupPos, '0810', { 11: '500211', 60: { 1: '00', 2: '000519', 3: '003' }, 62: Buffer.from([0x0a, 0x1b]) });
    expect(toJson(cupPos, m)).toEqual({ mti: '0810', fields: { 11: '500211', 60: { 1: '00', 2: '000519', 3: '003' }, 62: '0A1B' } });
  });
  it('masks by default and round-trips when revealed', () => {
    const m = purchase();
    const masked = toJson(cupPos, m);
    expect(masked.fields[2]).toBe('622202*********1234');
    expect(masked.fields[52]).toBe('****');
    expect(masked.fields[64]).toBe('****');
    expect(masked.fields[55]).toEqual([{ tag: '9F26', value: '0102030405060708' }, { tag: '5A', value: '622202*********1234' }]);
    const clear = toJson(cupPos, m, { reveal: true });
    const json = JSON.parse(JSON.stringify(clear)) as unknown;
    const back = fromJson(cupPos, json);
    expect(pack(cupPos, back).equals(pack(cupPos, m))).toBe(true);
    // masked JSON is not accepted back as data
    expect(() => fromJson(cupPos, masked)).toThrow(Iso8583Error);
  });
  it('validates input with typed errors', () => {
    const bad = (j: unknown, reason: string, field?: unknown) => {
      try {
        fromJson(cupPos, j);
      } catch (e) {
        expect(e).toBeInstanceOf(Iso8583Error);
        expect((e as Iso8583Error).reason).toBe(reason);
        expect((e as Iso8583Error).field).toBe(field);
        return;
      }
      throw new Error('expected failure');
    };
    bad(null, 'BAD_VALUE');
    bad({ fields: {} }, 'MISSING_FIELD');
    bad({ mti: '08x0', fields: {} }, 'BAD_MTI');
    bad({ mti: '0800', fields: { 99: '1' } }, 'UNDEFINED_FIELD', '99');
    bad({ mti: '0800', fields: { 62: 'XYZ' } }, 'BAD_CHARSET', 62);
    bad({ mti: '0800', fields: { 62: 12 } }, 'BAD_VALUE', 62);
    bad({ mti: '0800', fields: { 11: '12345' } }, 'BAD_LENGTH', 11);
    bad({ mti: '0800', fields: { 60: { 1: '00' } } }, 'MISSING_FIELD', '60.2');
    bad({ mti: '0800', fields: { 55: [{ tag: '9F', value: '00' }] } }, 'BAD_TLV', 55);
    bad({ mti: '0800', fields: {}, extra: 1 }, 'BAD_VALUE');
  });
  it('works for a hex-bitmap ASCII spec', () => {
    const m = fromJson(iso87Ascii, { mti: '0800', fields: { 11: '000001', 70: '301', 128: '0102030405060708' } });
    const b = pack(iso87Ascii, m);
    expect(b.toString('latin1')).toBe('0800' + '8020000000000000' + '0400000000000001' + '000001' + '301' + '0102030405060708');
    expect(toJson(iso87Ascii, unpack(iso87Ascii, b), { reveal: true })).toEqual({
      mti: '0800', fields: { 11: '000001', 70: '301', 128: '0102030405060708' },
    });
  });
});
