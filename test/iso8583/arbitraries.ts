/** fast-check generators of valid field values and messages, derived from a spec's field defs. */
import fc from 'fast-check';
import type { FieldDef, FieldMap, Spec, SubfieldDef, TlvItem } from '../../src/iso8583/index.js';

const DIGITS = '0123456789'.split('');
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.split('');
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i));
const ANY = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));

function chars(kind: string, anyByte: boolean): string[] {
  switch (kind) {
    case 'n': return DIGITS;
    case 'z': return [...DIGITS, '='];
    case 'a': return [...LETTERS, ' '];
    case 'an': return [...LETTERS, ...DIGITS, ' '];
    default: return anyByte ? ANY : PRINTABLE;
  }
}

function str(alphabet: string[], min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));
}

const CAP = 48;

const TAGS = ['9F26', '82', '5F2A', '9F36', 'DF8101', '95', '9F10', '71', '5A'];
const tlvItem: fc.Arbitrary<TlvItem> = fc.record({
  tag: fc.constantFrom(...TAGS),
  value: fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
});

function subValue(sd: SubfieldDef): fc.Arbitrary<string> {
  return str(chars(sd.kind, false), sd.length, sd.length);
}

export function valueArb(def: FieldDef): fc.Arbitrary<unknown> {
  const fixedLen = def.lengthType === 'fixed';
  const max = Math.min(def.length, CAP);
  switch (def.kind) {
    case 'b': {
      const hexChars = def.encoding === 'hex' && def.unit === 'chars';
      const len = hexChars ? def.length / 2 : def.length;
      return fc
        .uint8Array(fixedLen ? { minLength: len, maxLength: len } : { maxLength: hexChars ? Math.floor(max / 2) : max })
        .map((u) => Buffer.from(u));
    }
    case 'tlv':
      return fc.array(tlvItem, { maxLength: def.length >= 255 ? 5 : 1 });
    case 'composite': {
      const keys = Object.keys(def.subfields).map(Number).sort((a, b) => a - b);
      const subs = keys.map((k) => def.subfields[k]!);
      const required = subs.filter((s) => s.optional !== true).length;
      return fc.integer({ min: required, max: subs.length }).chain((count) =>
        fc.tuple(...subs.slice(0, count).map(subValue)).map((vals) => {
          const o: Record<number, string> = {};
          vals.forEach((v, i) => (o[keys[i]!] = v));
          return o;
        }),
      );
    }
    default: {
      const anyByte = 'anyByte' in def && def.anyByte === true;
      const alphabet = chars(def.kind, anyByte);
      return fixedLen ? str(alphabet, def.length, def.length) : str(alphabet, 0, max);
    }
  }
}

export interface GeneratedMessage {
  mti: string;
  fields: Record<number, unknown>;
}

export function messageArb(spec: Spec<FieldMap>): fc.Arbitrary<GeneratedMessage> {
  const numbers = Object.keys(spec.fields).map(Number);
  return fc.record({
    mti: str(DIGITS, 4, 4),
    nums: fc.subarray(numbers, { maxLength: 20 }),
  }).chain(({ mti, nums }) =>
    fc.tuple(...nums.map((n) => valueArb(spec.fields[n]!))).map((vals) => {
      const fields: Record<number, unknown> = {};
      nums.forEach((n, i) => (fields[n] = vals[i]));
      return { mti, fields };
    }),
  );
}
