import { describe, expect, it } from 'vitest';
import {
  Iso8583Error, createMessage, defineSpec, fixed, llvar, lllvar, llllvar, pack, unpack,
  type FieldDef, type Iso8583Reason,
} from '../../src/iso8583/index.js';
import { cupPos, iso87Ascii, iso87Binary } from '../../src/specs/index.js';

/** A one-field spec (field 2) around `def`, binary MTI/bitmap so offsets are easy: field starts at 10. */
function one(def: FieldDef) {
  return defineSpec({ name: 't', mti: { encoding: 'bcd' }, bitmap: { encoding: 'binary', secondary: false }, fields: { 2: def } });
}
const HEAD = '0200' + '4000000000000000';

function packHex(def: FieldDef, value: unknown): string {
  const spec = one(def);
  return pack(spec, createMessage(spec, '0200', { 2: value } as never)).toString('hex').slice(HEAD.length);
}
function unpackField(def: FieldDef, hex: string): unknown {
  return unpack(one(def), Buffer.from(HEAD + hex, 'hex')).get(2);
}
function expectIso(fn: () => unknown, reason: Iso8583Reason, field?: number | string, offset?: number): Iso8583Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Iso8583Error);
    const err = e as Iso8583Error;
    expect({ reason: err.reason, field: err.field, offset: err.offset }).toEqual({ reason, field, offset });
    expect(err.message.length).toBeGreaterThan(10);
    return err;
  }
  throw new Error(`expected Iso8583Error ${reason}`);
}

describe('BCD alignment and padding', () => {
  const cases: Array<[string, FieldDef, string, string]> = [
    ['fixed odd right-aligned', fixed.n(3, { encoding: 'bcd' }), '123', '0123'],
    ['fixed odd left-aligned', fixed.n(3, { encoding: 'bcd', align: 'left' }), '032', '0320'],
    ['fixed even', fixed.n(4, { encoding: 'bcd' }), '1234', '1234'],
    ['fixed odd right pad F', fixed.n(3, { encoding: 'bcd', pad: 15 }), '123', 'f123'],
    ['fixed odd left pad F', fixed.n(3, { encoding: 'bcd', align: 'left', pad: 15 }), '123', '123f'],
    ['LL bcd digits, odd, left', llvar.n(19, { encoding: 'bcd', prefix: 'bcd', align: 'left' }), '12345', '05123450'],
    ['LL bcd digits, odd, right', llvar.n(19, { encoding: 'bcd', prefix: 'bcd' }), '12345', '05012345'],
    ['LL bcd digits, even', llvar.n(19, { encoding: 'bcd', prefix: 'bcd' }), '1234', '041234'],
    ['LL bcd digits, empty', llvar.n(19, { encoding: 'bcd', prefix: 'bcd' }), '', '00'],
    ['LLL bcd prefix counting bytes, pad F', lllvar.n(20, { encoding: 'bcd', prefix: 'bcd', unit: 'bytes', align: 'left', pad: 15 }), '12345', '000312345f'],
    ['LLL bcd prefix counting bytes, even', lllvar.n(20, { encoding: 'bcd', prefix: 'bcd', unit: 'bytes', align: 'left', pad: 15 }), '1234', '00021234'],
    ['track = as D, left, 0 pad', llvar.z(37, { encoding: 'bcd', prefix: 'bcd', align: 'left' }), '1234=567', '081234d567'],
    ['track odd, left', llvar.z(37, { encoding: 'bcd', prefix: 'bcd', align: 'left' }), '12=45', '0512d450'],
  ];
  it.each(cases)('%s', (_name, def, value, hex) => {
    expect(packHex(def, value)).toBe(hex);
    expect(unpackField(def, hex)).toBe(value);
  });
  it('track separator D packs like =, decodes as =', () => {
    const def = llvar.z(37, { encoding: 'bcd', prefix: 'bcd', align: 'left' });
    expect(packHex(def, '1234D567')).toBe('081234d567');
    const ascii = llvar.z(37, { prefix: 'ascii' });
    expect(packHex(ascii, '12D4')).toBe('3034' + Buffer.from('12D4').toString('hex'));
    expect(unpackField(ascii, '3034' + Buffer.from('12D4').toString('hex'))).toBe('12D4');
  });
  it('pad nibble is not checked on unpack', () => {
    expect(unpackField(fixed.n(3, { encoding: 'bcd' }), 'f123')).toBe('123');
  });
});

describe('length prefixes: every encoding × LL/LLL/LLLL', () => {
  const val = 'ABCDE';
  const body = Buffer.from(val).toString('hex');
  const rows: Array<[string, FieldDef, string]> = [
    ['LL ascii', llvar.ans(99, { prefix: 'ascii' }), '3035'],
    ['LL ebcdic', llvar.ans(99, { prefix: 'ebcdic' }), 'f0f5'],
    ['LL bcd', llvar.ans(99, { prefix: 'bcd' }), '05'],
    ['LL binary', llvar.ans(255, { prefix: 'binary' }), '05'],
    ['LLL ascii', lllvar.ans(999, { prefix: 'ascii' }), '303035'],
    ['LLL ebcdic', lllvar.ans(999, { prefix: 'ebcdic' }), 'f0f0f5'],
    ['LLL bcd', lllvar.ans(999, { prefix: 'bcd' }), '0005'],
    ['LLL binary', lllvar.ans(999, { prefix: 'binary' }), '0005'],
    ['LLLL ascii', llllvar.ans(9999, { prefix: 'ascii' }), '30303035'],
    ['LLLL ebcdic', llllvar.ans(9999, { prefix: 'ebcdic' }), 'f0f0f0f5'],
    ['LLLL bcd', llllvar.ans(9999, { prefix: 'bcd' }), '0005'],
    ['LLLL binary', llllvar.ans(9999, { prefix: 'binary' }), '0005'],
  ];
  it.each(rows)('%s', (_n, def, prefix) => {
    expect(packHex(def, val)).toBe(prefix + body);
    expect(unpackField(def, prefix + body)).toBe(val);
  });
  it('large lengths: LLL bcd 104, LLLL bcd 1234, binary 300', () => {
    expect(packHex(lllvar.ans(999, { prefix: 'bcd' }), 'x'.repeat(104)).slice(0, 4)).toBe('0104');
    expect(packHex(llllvar.ans(9999, { prefix: 'bcd' }), 'x'.repeat(1234)).slice(0, 4)).toBe('1234');
    expect(packHex(lllvar.b(999, { prefix: 'binary' }), Buffer.alloc(300)).slice(0, 4)).toBe('012c');
  });
});

describe('value encodings', () => {
  it('EBCDIC text (cp037 letters, digits, space, punctuation)', () => {
    const def = fixed.ans(8, { encoding: 'ebcdic' });
    expect(packHex(def, 'Ab 1.-=z')).toBe('c18240f14b607ea9');
    expect(unpackField(def, 'c18240f14b607ea9')).toBe('Ab 1.-=z');
    expectIso(() => unpackField(def, 'c18240f14b607eff'), 'BAD_CHARSET', 2, 17);
    expectIso(() => packHex(def, 'Ab 1.-=\u00e9'), 'BAD_CHARSET', 2);
  });
  it('EBCDIC numeric and EBCDIC MTI', () => {
    const spec = defineSpec({
      name: 'e', mti: { encoding: 'ebcdic' }, bitmap: { encoding: 'binary', secondary: false },
      fields: { 3: fixed.n(6, { encoding: 'ebcdic' }) },
    });
    const b = pack(spec, createMessage(spec, '0200', { 3: '001234' }));
    expect(b.toString('hex')).toBe('f0f2f0f0' + '2000000000000000' + 'f0f0f1f2f3f4');
    expect(unpack(spec, b).get(3)).toBe('001234');
  });
  it('binary as hex ASCII, prefix counting bytes (default) or characters', () => {
    const bytesDef = llvar.b(99, { encoding: 'hex' });
    expect(packHex(bytesDef, Buffer.from([0xab, 0x01]))).toBe('3032' + Buffer.from('AB01').toString('hex'));
    expect(unpackField(bytesDef, '3032' + Buffer.from('ab01').toString('hex'))).toEqual(Buffer.from([0xab, 0x01]));
    const charsDef = llvar.b(99, { encoding: 'hex', unit: 'chars' });
    expect(packHex(charsDef, Buffer.from([0xab, 0x01]))).toBe('3034' + Buffer.from('AB01').toString('hex'));
    expectIso(() => unpackField(charsDef, '3033' + Buffer.from('AB0').toString('hex')), 'BAD_LENGTH_PREFIX', 2, 10);
    expectIso(() => unpackField(bytesDef, '3031' + Buffer.from('AG').toString('hex')), 'BAD_CHARSET', 2, 13);
  });
  it('fixed binary', () => {
    const def = fixed.b(4);
    expect(packHex(def, Buffer.from('01020304', 'hex'))).toBe('01020304');
    expectIso(() => packHex(def, Buffer.alloc(3)), 'BAD_LENGTH', 2);
    expectIso(() => packHex(def, 'abcd'), 'BAD_VALUE', 2);
  });
  it('ASCII numeric fixed and variable', () => {
    expect(packHex(fixed.n(6), '000123')).toBe(Buffer.from('000123').toString('hex'));
    expect(packHex(llvar.n(19), '4000')).toBe('3034' + Buffer.from('4000').toString('hex'));
  });
  it('character classes', () => {
    expect(packHex(fixed.a(3), 'Ab ')).toBe('416220');
    expectIso(() => packHex(fixed.a(3), 'Ab1'), 'BAD_CHARSET', 2);
    expectIso(() => packHex(fixed.an(3), 'A-1'), 'BAD_CHARSET', 2);
    expectIso(() => packHex(fixed.ans(3), 'A\n1'), 'BAD_CHARSET', 2);
    expect(packHex(fixed.ans(2, { anyByte: true }), '\u00c4\u0001')).toBe('c401');
    expectIso(() => packHex(fixed.ans(1, { anyByte: true }), '\u4e2d'), 'BAD_CHARSET', 2);
  });
});

describe('length rules', () => {
  it('fixed numeric: shorter value is an error unless padOnPack', () => {
    expectIso(() => packHex(fixed.n(6, { encoding: 'bcd' }), '123'), 'BAD_LENGTH', 2);
    expectIso(() => packHex(fixed.n(6, { encoding: 'bcd' }), '1234567'), 'BAD_LENGTH', 2);
    expect(packHex(fixed.n(6, { encoding: 'bcd', padOnPack: true }), '123')).toBe('000123');
    expect(packHex(fixed.an(4, { padOnPack: true }), 'AB')).toBe('41422020');
  });
  it('maximum enforced on pack and unpack', () => {
    const pan = llvar.n(19, { encoding: 'bcd', prefix: 'bcd', align: 'left' });
    expect(packHex(pan, '1234567890123456789')).toBe('19' + '12345678901234567890');
    expectIso(() => packHex(pan, '12345678901234567890'), 'LENGTH_OVER_MAX', 2);
    expectIso(() => unpackField(pan, '20' + '12345678901234567890'), 'LENGTH_OVER_MAX', 2, 10);
    expectIso(() => packHex(lllvar.b(4, { prefix: 'bcd' }), Buffer.alloc(5)), 'LENGTH_OVER_MAX', 2);
  });
  it('spec definitions are validated', () => {
    expectIso(() => one(llvar.n(100, { prefix: 'bcd' })), 'BAD_SPEC', 2);
    expectIso(() => one(llvar.n(256, { prefix: 'binary' })), 'BAD_SPEC', 2);
    expectIso(() => one(fixed.ans(3, { encoding: 'bcd' })), 'BAD_SPEC', 2);
    expectIso(() => one(llvar.z(3, { padOnPack: true })), 'BAD_SPEC', 2);
    expectIso(
      () => defineSpec({ name: 'x', mti: { encoding: 'bcd' }, bitmap: { encoding: 'binary', secondary: false }, fields: { 70: fixed.n(3) } }),
      'BAD_SPEC', 70,
    );
  });
});

describe('error reasons with field and offset (cup-pos)', () => {
  const body = Buffer.from(
    '0800' + '0020000000C00012' + '000000' + '3232303033363030' + '313034353132353431313130303031' +
      '0011' + '000000000030' + '0003' + '303030',
    'hex',
  );
  // offsets: MTI 0-1, bitmap 2-9, 11 @10-12, 41 @13-20, 42 @21-35, 60 prefix @36, content @38-43, 63 prefix @44, content @46-48
  const at = (i: number, byte: number) => {
    const b = Buffer.from(body);
    b[i] = byte;
    return b;
  };
  it('TRUNCATED in a fixed field, a prefix and the bitmap', () => {
    expectIso(() => unpack(cupPos, body.subarray(0, 12)), 'TRUNCATED', 11, 10);
    expectIso(() => unpack(cupPos, body.subarray(0, 37)), 'TRUNCATED', 60, 36);
    expectIso(() => unpack(cupPos, body.subarray(0, 40)), 'TRUNCATED', 60, 38);
    expectIso(() => unpack(cupPos, body.subarray(0, 5)), 'TRUNCATED', undefined, 2);
    expectIso(() => unpack(cupPos, body.subarray(0, 1)), 'TRUNCATED', undefined, 1);
  });
  it('TRAILING_BYTES', () => {
    expectIso(() => unpack(cupPos, Buffer.concat([body, Buffer.from([0])])), 'TRAILING_BYTES', undefined, body.length);
  });
  it('BAD_BCD (lazy: raised on get)', () => {
    const m = unpack(cupPos, at(11, 0x0a));
    expect(m.get(41)).toBe('22003600');
    expectIso(() => m.get(11), 'BAD_BCD', 11, 11);
    expectIso(() => unpack(cupPos, at(11, 0x0a), { eager: true }), 'BAD_BCD', 11, 11);
    expectIso(() => pack(cupPos, unpack(cupPos, at(11, 0x0a))), 'BAD_BCD', 11, 11);
  });
  it('BAD_LENGTH_PREFIX', () => {
    expectIso(() => unpack(cupPos, at(37, 0x1a)), 'BAD_LENGTH_PREFIX', 60, 37);
    expectIso(() => unpack(cupPos, at(36, 0x10)), 'BAD_LENGTH_PREFIX', 60, 36);
  });
  it('BAD_CHARSET in ASCII field', () => {
    expectIso(() => unpack(cupPos, at(15, 0x07)).get(41), 'BAD_CHARSET', 41, 15);
  });
  it('BAD_MTI', () => {
    expectIso(() => unpack(cupPos, at(0, 0x0a)), 'BAD_MTI', undefined, 0);
    expectIso(() => pack(cupPos, createMessage(cupPos, '080', {})), 'BAD_MTI');
    expectIso(() => pack(cupPos, createMessage(cupPos, '08A0', {})), 'BAD_MTI');
  });
  it('BAD_BITMAP: secondary bit on a primary-only spec', () => {
    expectIso(() => unpack(cupPos, at(2, 0x80)), 'BAD_BITMAP', 1, 2);
  });
  it('BAD_BITMAP: hex bitmap not hex (iso87-ascii)', () => {
    const b = Buffer.from('0800' + '002000000080000G' + '000001', 'latin1');
    expectIso(() => unpack(iso87Ascii, b), 'BAD_BITMAP', undefined, 19);
  });
  it('UNSUPPORTED: tertiary bitmap bit 65', () => {
    const b = Buffer.from('0800' + '8000000000000000' + '8000000000000000', 'hex');
    expectIso(() => unpack(iso87Binary, b), 'UNSUPPORTED', 65, 10);
  });
  it('UNDEFINED_FIELD from the bitmap and from callers', () => {
    const spec = one(fixed.n(2));
    expectIso(() => unpack(spec, Buffer.from('0200' + '6000000000000000' + '3030', 'hex')), 'UNDEFINED_FIELD', 3, 2);
    expectIso(() => createMessage(spec, '0200', { 3: '12' } as never), 'UNDEFINED_FIELD', 3);
    expectIso(() => createMessage(spec, '0200').set(5 as never, '1' as never), 'UNDEFINED_FIELD', 5);
  });
  it('BAD_VALUE for wrong JS types', () => {
    expectIso(() => pack(cupPos, createMessage(cupPos, '0200', { 11: 123 as never })), 'BAD_VALUE', 11);
    expectIso(() => pack(cupPos, createMessage(cupPos, '0200', { 62: 'abc' as never })), 'BAD_VALUE', 62);
    expectIso(() => pack(cupPos, createMessage(cupPos, '0200', { 60: '00' as never })), 'BAD_VALUE', 60);
  });
  it('composite sub-field errors', () => {
    const p = (v: unknown) => pack(cupPos, createMessage(cupPos, '0200', { 60: v as never }));
    expectIso(() => p({ 1: '00', 3: '003' }), 'MISSING_FIELD', '60.2');
    expectIso(() => p({ 1: '00', 2: '000001', 3: '003', 5: '0' }), 'BAD_VALUE', '60.5');
    expectIso(() => p({ 1: '00', 2: '00001', 3: '003' }), 'BAD_LENGTH', '60.2');
    expectIso(() => p({ 1: '0A', 2: '000001', 3: '003' }), 'BAD_CHARSET', '60.1');
    expectIso(() => p({ 1: '00', 2: '000001', 3: '003', 9: '1' }), 'UNDEFINED_FIELD', '60.9');
  });
  it('composite decoding: short, long and odd lengths', () => {
    const hdr = '0200' + '0000000000000010';
    // 10 digits: 60.3 incomplete
    expectIso(() => unpack(cupPos, Buffer.from(hdr + '0010' + '0000000000', 'hex')).get(60), 'BAD_LENGTH', '60.3', 16);
    // 5 digits: 60.2 incomplete
    expectIso(() => unpack(cupPos, Buffer.from(hdr + '0005' + '000000', 'hex')).get(60), 'BAD_LENGTH', '60.2', 13);
    // 1 digit: 60.1 incomplete
    expectIso(() => unpack(cupPos, Buffer.from(hdr + '0001' + '00', 'hex')).get(60), 'BAD_LENGTH', '60.1', 12);
    // 0 digits: 60.1 missing
    expectIso(() => unpack(cupPos, Buffer.from(hdr + '0000', 'hex')).get(60), 'MISSING_FIELD', '60.1', 12);
    // 12 digits written by a host that counted the pad digit: 60.4 = "0"
    expect(unpack(cupPos, Buffer.from(hdr + '0012' + '000001232010', 'hex')).get(60)).toEqual({ 1: '00', 2: '000123', 3: '201', 4: '0' });
  });
  it('BAD_TLV in field 55 (lazy)', () => {
    const hdr = '0200' + '0000000000000200';
    const m = unpack(cupPos, Buffer.from(hdr + '0004' + '9f260501', 'hex'));
    expectIso(() => m.get(55), 'BAD_TLV', 55, 12);
  });
  it('MISSING_FIELD / BAD_VALUE for input that is not bytes', () => {
    expectIso(() => unpack(cupPos, 'abc' as never), 'BAD_VALUE');
  });
});

describe('bitmaps', () => {
  it('secondary bitmap set automatically for fields 65-128 (binary and hex)', () => {
    const m = createMessage(iso87Binary, '0800', { 11: '000001', 70: '301' });
    const b = pack(iso87Binary, m);
    expect(b.subarray(2, 18).toString('hex')).toBe('80200000000000000400000000000000');
    expect(unpack(iso87Binary, b).toObject()).toEqual({ 11: '000001', 70: '301' });
    const a = pack(iso87Ascii, createMessage(iso87Ascii, '0800', { 11: '000001', 70: '301' }));
    expect(a.toString('latin1')).toBe('080080200000000000000400000000000000000001301');
  });
  it('no secondary bitmap when only primary fields are present', () => {
    const a = pack(iso87Ascii, createMessage(iso87Ascii, '0800', { 11: '000001' }));
    expect(a.toString('latin1')).toBe('08000020000000000000000001');
  });
  it('converts between dialects (unpack with one spec, pack with another)', () => {
    const m = unpack(iso87Binary, pack(iso87Binary, createMessage(iso87Binary, '0200', { 2: '4000123412341234', 4: '000000000100', 52: Buffer.alloc(8, 1) })));
    const ascii = pack(iso87Ascii, m as never);
    expect(unpack(iso87Ascii, ascii).toObject()).toEqual(m.toObject());
  });
});

describe('message API', () => {
  it('set / get / has / delete / fields / raw', () => {
    const m = createMessage(cupPos, '0200');
    m.set(11, '000001').set(41, '12345678').set(4, '000000000100');
    expect(m.fields()).toEqual([4, 11, 41]);
    expect(m.has(11)).toBe(true);
    m.delete(11);
    expect(m.has(11)).toBe(false);
    expect(m.fields()).toEqual([4, 41]);
    const u = unpack(cupPos, pack(cupPos, m));
    expect(u.raw(4)!.toString('hex')).toBe('000000000100');
    u.set(4, '000000000200');
    expect(u.raw(4)).toBeUndefined();
    expect(unpack(cupPos, pack(cupPos, u)).get(4)).toBe('000000000200');
    expectIso(() => m.set(11, undefined as never), 'BAD_VALUE', 11);
  });
});
