import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Iso8583Error, createMessage, pack, unpack, type FieldMap, type IsoMessage, type Spec } from '../../src/iso8583/index.js';
import { getSpec, specNames } from '../../src/specs/index.js';
import { messageArb } from './arbitraries.js';

/** Unpack and touch every field value (lazy decoding must be exercised too). */
function unpackAll(spec: Spec<FieldMap>, bytes: Uint8Array): IsoMessage<FieldMap> {
  const m = unpack(spec, bytes);
  for (const n of m.fields()) m.get(n);
  return m;
}

function onlyIsoErrors(spec: Spec<FieldMap>, bytes: Uint8Array): void {
  try {
    unpackAll(spec, bytes);
  } catch (e) {
    if (!(e instanceof Iso8583Error)) throw e;
    expect(typeof e.reason).toBe('string');
    if (e.offset !== undefined) {
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(bytes.length);
    }
  }
}

const RUNS = { numRuns: 300 };

describe.each(specNames.map((n) => [n]))('property tests: %s', (name) => {
  const spec: Spec<FieldMap> = getSpec(name as string);
  const build = (g: { mti: string; fields: Record<number, unknown> }) =>
    createMessage(spec, g.mti, g.fields as never);

  it('round-trips random valid messages (pack → unpack → equal, re-pack identical)', () => {
    fc.assert(
      fc.property(messageArb(spec), (g) => {
        const bytes = pack(spec, build(g));
        const back = unpack(spec, bytes);
        expect(back.mti).toBe(g.mti);
        expect(back.fields()).toEqual(Object.keys(g.fields).map(Number).sort((a, b) => a - b));
        expect(back.toObject()).toEqual(g.fields);
        expect(pack(spec, back).equals(bytes)).toBe(true);
      }),
      RUNS,
    );
  });

  it('arbitrary bytes either unpack or raise Iso8583Error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyIsoErrors(spec, b)), { numRuns: 500 });
  });

  it('arbitrary bytes behind a valid MTI + bitmap prefix only raise Iso8583Error', () => {
    fc.assert(
      fc.property(messageArb(spec), fc.uint8Array({ maxLength: 200 }), (g, tail) => {
        const bytes = pack(spec, build(g));
        const head = bytes.subarray(0, spec.mti.encoding === 'bcd' ? 10 : 20);
        onlyIsoErrors(spec, Buffer.concat([head, tail]));
      }),
      RUNS,
    );
  });

  it('mutated, truncated or extended valid messages only raise Iso8583Error', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
    );
    fc.assert(
      fc.property(messageArb(spec), mutation, (g, mu) => {
        const bytes = Buffer.from(pack(spec, build(g)));
        let input: Buffer;
        if (mu.kind === 'flip') {
          input = bytes;
          for (let i = 0; i < mu.count; i++) input[(mu.at + i * 7) % input.length] = (mu.byte + i * 31) & 0xff;
        } else if (mu.kind === 'truncate') {
          input = bytes.subarray(0, mu.at % bytes.length);
        } else {
          input = Buffer.concat([bytes, mu.extra]);
        }
        onlyIsoErrors(spec, input);
        if (mu.kind === 'extend') {
          expect(() => unpack(spec, input)).toThrow(Iso8583Error);
        }
      }),
      RUNS,
    );
  });
});
