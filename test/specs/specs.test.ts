import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Iso8583Error, createMessage, pack, specFromJSON, specToJSON, unpack, type FieldMap, type Spec,
} from '../../src/iso8583/index.js';
import { cupPos, getSpec, iso87Ascii, iso87Binary, specNames } from '../../src/specs/index.js';
import { messageArb } from '../iso8583/arbitraries.js';

function reasonOf(fn: () => unknown): [string, unknown] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Iso8583Error);
    return [(e as Iso8583Error).reason, (e as Iso8583Error).field];
  }
  throw new Error('expected Iso8583Error');
}

describe('registry', () => {
  it('lists and returns the shipped specs', () => {
    expect([...specNames]).toEqual(['cup-pos', 'iso87-ascii', 'iso87-binary']);
    expect(getSpec('cup-pos')).toBe(cupPos);
    expect(getSpec('iso87-ascii')).toBe(iso87Ascii);
    expect(getSpec('iso87-binary')).toBe(iso87Binary);
  });
  it('unknown names raise UNKNOWN_SPEC listing the valid ones', () => {
    try {
      getSpec('visa');
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(Iso8583Error);
      expect((e as Iso8583Error).reason).toBe('UNKNOWN_SPEC');
      expect((e as Error).message).toContain('cup-pos, iso87-ascii, iso87-binary');
    }
  });
});

describe('shipped spec contents', () => {
  it('cup-pos defines every field 2-64 with a name, primary bitmap only', () => {
    const nums = Object.keys(cupPos.fields).map(Number);
    expect(nums).toEqual(Array.from({ length: 63 }, (_, i) => i + 2));
    for (const d of Object.values(cupPos.fields)) expect(d.name).toBeTruthy();
    expect(cupPos.bitmap.secondary).toBe(false);
  });
  it('iso87 specs define 2-64 and 66-128', () => {
    for (const s of [iso87Ascii, iso87Binary]) {
      const nums = Object.keys(s.fields).map(Number);
      expect(nums.length).toBe(126);
      expect(nums).not.toContain(1);
      expect(nums).not.toContain(65);
    }
  });
  it('cup-pos field encodings match the dialect notes', () => {
    const m = createMessage(cupPos, '0200', {
      2: '6222021234567891234', 4: '000000000100', 14: '2512', 23: '001', 25: '00', 32: '01020000',
      35: '6222021234567891234=2512', 37: '000012345678', 49: '156', 53: '2600000000000000',
      61: { 1: '000001', 2: '000123', 3: '0521' }, 63: 'CUP',
    });
    const hex = pack(cupPos, m).toString('hex');
    expect(hex).toContain('19' + '62220212345678912340'); // 2: LL digits, left-aligned
    expect(hex).toContain('000000000100'); // 4
    expect(hex).toContain('0001' + '00'); // 23 right-aligned then 25
    expect(hex).toContain('08' + '01020000'); // 32
    expect(hex).toContain('24' + '6222021234567891234d2512'); // 35 track, D separator
    expect(hex).toContain(Buffer.from('000012345678').toString('hex')); // 37 ASCII
    expect(hex).toContain('0016' + '0000010001230521'); // 61
    expect(hex).toContain('0003' + Buffer.from('CUP').toString('hex')); // 63
  });
  it('iso87-ascii: ASCII MTI, hex bitmap, ASCII prefixes, hex binary', () => {
    const m = createMessage(iso87Ascii, '0200', { 2: '4000123412341234', 52: Buffer.from('0123456789abcdef', 'hex') });
    expect(pack(iso87Ascii, m).toString('latin1')).toBe('0200' + '4000000000001000' + '16' + '4000123412341234' + '0123456789ABCDEF');
  });
  it('iso87-binary: BCD MTI and numerics, binary bitmap, BCD prefixes', () => {
    const m = createMessage(iso87Binary, '0200', { 2: '400012341234123', 3: '000000', 35: '4000=12' });
    expect(pack(iso87Binary, m).toString('hex')).toBe('0200' + '6000000020000000' + '15' + '0400012341234123' + '000000' + '07' + '4000d12f');
  });
});

describe('spec JSON', () => {
  it.each(specNames.map((n) => [n]))('%s round-trips through JSON', (name) => {
    const spec = getSpec(name as string);
    const json = JSON.parse(JSON.stringify(specToJSON(spec))) as unknown;
    const loaded = specFromJSON(json);
    expect(specToJSON(loaded)).toEqual(specToJSON(spec));
    expect(specToJSON(specFromJSON(JSON.stringify(json)))).toEqual(specToJSON(spec));
    // the loaded spec encodes identically
    fc.assert(
      fc.property(messageArb(spec), (g) => {
        const a = pack(spec, createMessage(spec, g.mti, g.fields as never));
        const b = pack(loaded, createMessage(loaded, g.mti, g.fields as never));
        expect(b.equals(a)).toBe(true);
        expect(unpack(loaded, a).toObject()).toEqual(g.fields);
      }),
      { numRuns: 100 },
    );
  });
  it('describes fields explicitly', () => {
    const j = specToJSON(cupPos);
    expect(j.fields['60']).toEqual({
      name: 'Reserved private (transaction info)', kind: 'composite', lengthType: 'LLL', length: 17, unit: 'chars',
      encoding: 'bcd', prefix: 'bcd', align: 'left', pad: 0,
      subfields: {
        1: { name: 'Message type code', kind: 'n', length: 2 },
        2: { name: 'Batch number', kind: 'n', length: 6 },
        3: { name: 'Network management information code', kind: 'n', length: 3 },
        4: { name: 'Terminal read capability', kind: 'n', length: 1, optional: true },
        5: { name: 'IC card condition code', kind: 'n', length: 1, optional: true },
        6: { name: 'Partial approval / balance return flag', kind: 'n', length: 1, optional: true },
        7: { name: 'Account type', kind: 'n', length: 3, optional: true },
      },
    });
    expect(j.fields['52']).toEqual({ name: 'PIN data', kind: 'b', lengthType: 'fixed', length: 8, unit: 'bytes', encoding: 'binary', sensitive: 'pin' });
  });
  it('a user dialect can be written as JSON', () => {
    const spec: Spec<FieldMap> = specFromJSON({
      name: 'my-dialect',
      mti: { encoding: 'ascii' },
      bitmap: { encoding: 'binary', secondary: false },
      fields: {
        3: { kind: 'n', lengthType: 'fixed', length: 6 },
        48: { kind: 'ans', lengthType: 'LLL', length: 99, prefix: 'binary' },
      },
    });
    const b = pack(spec, createMessage(spec, '0100', { 3: '000000', 48: 'hi' }));
    expect(b.toString('hex')).toBe(Buffer.from('0100').toString('hex') + '2000000000010000' + Buffer.from('000000').toString('hex') + '0002' + '6869');
  });
  it('bad spec documents raise BAD_SPEC naming the field', () => {
    const base = { name: 'x', mti: { encoding: 'bcd' }, bitmap: { encoding: 'binary', secondary: false } };
    const f = (fields: unknown) => () => specFromJSON({ ...base, fields });
    expect(reasonOf(() => specFromJSON('{not json'))).toEqual(['BAD_SPEC', undefined]);
    expect(reasonOf(() => specFromJSON([]))).toEqual(['BAD_SPEC', undefined]);
    expect(reasonOf(() => specFromJSON({ ...base, mti: { encoding: 'utf8' }, fields: {} }))).toEqual(['BAD_SPEC', undefined]);
    expect(reasonOf(() => specFromJSON({ ...base, bitmap: { encoding: 'binary' }, fields: {} }))).toEqual(['BAD_SPEC', undefined]);
    expect(reasonOf(() => specFromJSON({ ...base, extra: 1, fields: {} }))).toEqual(['BAD_SPEC', undefined]);
    expect(reasonOf(f({ 3: { kind: 'q', lengthType: 'fixed', length: 6 } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 3: { kind: 'n', lengthType: 'fixed', length: 0 } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 3: { kind: 'n', lengthType: 'LLLLL', length: 6 } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 3: { kind: 'n', lengthType: 'fixed', length: 6, lenght: 3 } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 3: { kind: 'n', lengthType: 'fixed', length: 6, prefix: 'bcd' } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 3: { kind: 'b', lengthType: 'fixed', length: 6, encoding: 'bcd' } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 3: { kind: 'n', lengthType: 'LL', length: 6, prefix: 'hex' } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 3: { kind: 'n', lengthType: 'fixed', length: 3, encoding: 'bcd', pad: 16 } }))).toEqual(['BAD_SPEC', 3]);
    expect(reasonOf(f({ 1: { kind: 'b', lengthType: 'fixed', length: 8 } }))).toEqual(['BAD_SPEC', 1]);
    expect(reasonOf(f({ 129: { kind: 'n', lengthType: 'fixed', length: 1 } }))).toEqual(['BAD_SPEC', undefined]);
    expect(reasonOf(f({ 60: { kind: 'composite', lengthType: 'LLL', length: 17 } }))).toEqual(['BAD_SPEC', 60]);
    expect(reasonOf(f({ 60: { kind: 'composite', lengthType: 'LLL', length: 17, subfields: { 1: { name: 'a', kind: 'n', length: 2 }, 3: { name: 'c', kind: 'n', length: 2 } } } }))).toEqual(['BAD_SPEC', '60.3']);
    expect(reasonOf(f({ 60: { kind: 'composite', lengthType: 'LLL', length: 17, subfields: { 1: { name: 'a', kind: 'n', length: 2, optional: true }, 2: { name: 'b', kind: 'n', length: 2 } } } }))).toEqual(['BAD_SPEC', '60.2']);
    expect(reasonOf(f({ 60: { kind: 'composite', lengthType: 'LLL', length: 3, subfields: { 1: { name: 'a', kind: 'n', length: 4 } } } }))).toEqual(['BAD_SPEC', 60]);
    expect(reasonOf(f({ 60: { kind: 'composite', lengthType: 'LLL', length: 9, encoding: 'bcd', subfields: { 1: { name: 'a', kind: 'an', length: 4 } } } }))).toEqual(['BAD_SPEC', '60.1']);
  });
});
