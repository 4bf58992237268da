import { describe, expect, it } from 'vitest';
import { createMessage, pack, peek, toJson, unpack, dump } from '../../src/iso8583/index.js';
import { cupPos } from '../../src/specs/index.js';

// Real UnionPay 0800 sign-on frame from a public log (see the facts file):
// LEN 003C | TPDU 6006010000 | header 603100311812 | body (MTI onward).
const FRAME =
  '003C' + '6006010000' + '603100311812' +
  '0800' + '0020000000C00012' + '000000' + '3232303033363030' + '313034353132353431313130303031' +
  '0011' + '000000000030' + '0003' + '303030';

describe('UnionPay 0800 sign-on sample', () => {
  const frame = Buffer.from(FRAME, 'hex');
  const body = frame.subarray(2 + 5 + 6);

  it('frame length header matches', () => {
    expect(frame.readUInt16BE(0)).toBe(frame.length - 2);
    expect(frame.length - 2).toBe(60);
  });

  it('decodes every field of the body', () => {
    const m = unpack(cupPos, body, { eager: true });
    expect(m.mti).toBe('0800');
    expect(m.fields()).toEqual([11, 41, 42, 60, 63]);
    expect(m.get(11)).toBe('000000');
    expect(m.get(41)).toBe('22003600');
    expect(m.get(42)).toBe('104512541110001');
    // 60: prefix 00 11 = 11 digits, 6 bytes 00 00 00 00 00 30: "00000000003" + trailing pad nibble 0
    expect(m.raw(60)!.toString('hex')).toBe('0011000000000030');
    expect(m.get(60)).toEqual({ 1: '00', 2: '000000', 3: '003' });
    expect(m.get(63)).toBe('000');
    expect(m.get(62)).toBeUndefined();
  });

  it('re-packs to the identical bytes', () => {
    expect(pack(cupPos, unpack(cupPos, body)).toString('hex')).toBe(body.toString('hex'));
  });

  it('peeks the MTI and routing fields only', () => {
    const p = peek(cupPos, body, [41, 11]);
    expect(p).toEqual({ mti: '0800', fields: { 11: '000000', 41: '22003600' } });
    // peek stops after the last requested field: corrupt data after it is not looked at
    const damaged = Buffer.from(body);
    damaged[damaged.length - 1] = 0x01;
    damaged[damaged.length - 5] = 0xff; // the 60 content
    expect(peek(cupPos, damaged, [41]).fields[41]).toBe('22003600');
  });

  it('builds an 0810 response with 40-byte field 62 and round-trips it', () => {
    // layout for 60.3 = 003: PIK(16) KCV(4) MAK(8) + 00x8 KCV(4)
    const keys = Buffer.concat([
      Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'),
      Buffer.from('82E13665', 'hex'),
      Buffer.from('1122334455667788', 'hex'),
      Buffer.alloc(8),
      Buffer.from('8CA64DE9', 'hex'),
    ]);
    expect(keys.length).toBe(40);
    const rsp = createMessage(cupPos, '0810', {
      11: '000000',
      12: '104512',
      13: '0521',
      32: '01020000',
      37: '000012345678',
      39: '00',
      41: '22003600',
      42: '104512541110001',
      60: { 1: '00', 2: '000519', 3: '003' },
      62: keys,
    });
    const bytes = pack(cupPos, rsp);
    const hex = bytes.toString('hex');
    expect(hex.startsWith('0810')).toBe(true);
    // bitmap: 11 12 13 | 32 | 37 39 | 41 42 | 60 62
    expect(hex.slice(4, 20)).toBe('003800010ac00014');
    expect(hex).toContain('0801020000'); // 32: LL 08, BCD digits
    expect(hex).toContain('0011000005190030'); // 60: 11 digits, left-aligned, trailing 0 nibble
    expect(hex).toContain('0040' + keys.toString('hex')); // 62: LLL 040 bytes
    const back = unpack(cupPos, bytes);
    expect(back.toObject()).toEqual(rsp.toObject());
    expect(back.get(62)).toEqual(keys);
    expect(toJson(cupPos, back, { reveal: true }).fields[62]).toBe(keys.toString('hex').toUpperCase());
    expect(dump(cupPos, back)).toContain('60.2');
  });

  it('financial 60 (13 digits) and 22 left-aligned', () => {
    const m = createMessage(cupPos, '0200', { 22: '021', 60: { 1: '22', 2: '000123', 3: '000', 4: '5', 5: '0' } });
    const hex = pack(cupPos, m).toString('hex');
    expect(hex).toContain('0210' + '0013' + '22000123000500');
  });
});
