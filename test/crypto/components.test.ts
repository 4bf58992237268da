import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex, xor } from '../../src/crypto/cipher.js';
import { generateComponents, combineComponents } from '../../src/crypto/components.js';
import { randomKey } from '../../src/crypto/random.js';
import { kcv } from '../../src/crypto/kcv.js';
import { hasOddParity, withOddParity } from '../../src/crypto/parity.js';
import { CryptoError, type CryptoErrorReason } from '../../src/crypto/errors.js';

const h = fromHex;

function reasonOf(f: () => unknown): CryptoErrorReason | 'no-throw' | 'untyped' {
  try {
    f();
  } catch (e) {
    return e instanceof CryptoError ? e.reason : 'untyped';
  }
  return 'no-throw';
}

describe('key components', () => {
  // ID TECH knowledge base, "combining components into keys" (3 components): the ANSI sample key
  // 0123456789ABCDEFFEDCBA9876543210 = XOR of 988A59D7273186B8C9C9922B6D40BA75,
  // 8936E5269ADFABE7D4829B2EFB3BF5D9 and 109FF9963445E0B0E397B39DE02F7DBC.
  it('combines the published three-component example', () => {
    const key = combineComponents([
      h('988A59D7273186B8C9C9922B6D40BA75'),
      h('8936E5269ADFABE7D4829B2EFB3BF5D9'),
      h('109FF9963445E0B0E397B39DE02F7DBC'),
    ]);
    expect(toHex(key)).toBe('0123456789ABCDEFFEDCBA9876543210');
    expect(hasOddParity(key)).toBe(true);
  });
  it('parity-adjusts a DES/TDES result but not an AES one', () => {
    // Two odd-parity components XOR to an even-parity key; the result is adjusted.
    const a = h('0123456789ABCDEF');
    const b = h('0101010101010101');
    expect(toHex(combineComponents([a, b], { alg: 'des' }))).toBe('0123456789ABCDEF');
    const aes = combineComponents([h('00000000000000000000000000000001'), h('00000000000000000000000000000002')], { alg: 'aes' });
    expect(toHex(aes)).toBe('00000000000000000000000000000003');
  });
  it('generates components with KCVs that combine to the stated key KCV', () => {
    for (const [alg, len] of [['tdes', 16], ['tdes', 24], ['des', 8], ['aes', 16], ['aes', 32]] as const) {
      const g = generateComponents(3, alg, len);
      expect(g.components).toHaveLength(3);
      for (const c of g.components) {
        expect(c.component.length).toBe(len);
        expect(c.kcv.equals(kcv(c.component, { alg: alg === 'aes' ? 'aes' : 'tdes' }))).toBe(true);
        if (alg !== 'aes') expect(hasOddParity(c.component)).toBe(true);
      }
      const key = combineComponents(g.components, { alg, expectedKcv: g.kcv });
      expect(kcv(key, { alg: alg === 'aes' ? 'aes' : 'tdes' }).equals(g.kcv)).toBe(true);
    }
  });
  it('validates counts, lengths and KCVs with typed errors', () => {
    const c16 = h('0123456789ABCDEFFEDCBA9876543210');
    expect(reasonOf(() => combineComponents([c16]))).toBe('BAD_COMPONENTS');
    expect(reasonOf(() => combineComponents([c16, h('0123456789ABCDEF')]))).toBe('BAD_COMPONENTS');
    expect(reasonOf(() => combineComponents([h('0123456789'), h('0123456789')]))).toBe('BAD_KEY_LENGTH');
    expect(reasonOf(() => combineComponents([c16, c16], { alg: 'des' }))).toBe('BAD_KEY_LENGTH');
    expect(reasonOf(() => combineComponents([{ component: c16, kcv: h('000000') }, c16]))).toBe('KCV_MISMATCH');
    expect(reasonOf(() => combineComponents([c16, c16], { expectedKcv: h('000000') }))).toBe('KCV_MISMATCH');
    expect(reasonOf(() => generateComponents(1, 'tdes', 16))).toBe('BAD_COMPONENTS');
    expect(reasonOf(() => generateComponents(3, 'tdes', 12))).toBe('BAD_KEY_LENGTH');
  });
  function split(key: Buffer, others: Uint8Array[]): Buffer[] {
    const parts = others.map((o) => Buffer.from(o.subarray(0, key.length)));
    const last = parts.reduce<Buffer>((acc, c) => xor(acc, c), Buffer.from(key));
    return [...parts, last];
  }
  it('property: split any TDES key into N components; combining gives the parity-adjusted key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8, 16, 24).chain((len) => fc.uint8Array({ minLength: len, maxLength: len })),
        fc.array(fc.uint8Array({ minLength: 24, maxLength: 24 }), { minLength: 1, maxLength: 8 }),
        (key, others) => {
          const k = Buffer.from(key);
          expect(combineComponents(split(k, others), { alg: 'tdes' }).equals(withOddParity(k))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
  it('property: split any AES key into N components; combining gives the key unchanged', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 24, 32).chain((len) => fc.uint8Array({ minLength: len, maxLength: len })),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 8 }),
        (key, others) => {
          const k = Buffer.from(key);
          expect(combineComponents(split(k, others), { alg: 'aes' }).equals(k)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('randomKey', () => {
  it('DES/TDES keys have odd parity and distinct halves; AES keys have the right length', () => {
    for (const len of [8, 16, 24]) {
      const k = randomKey('tdes', len);
      expect(k.length).toBe(len);
      expect(hasOddParity(k)).toBe(true);
      if (len >= 16) expect(k.subarray(0, 8).equals(k.subarray(8, 16))).toBe(false);
    }
    expect(randomKey('des').length).toBe(8);
    expect(randomKey('aes', 32).length).toBe(32);
    expect(randomKey('tdes').equals(randomKey('tdes'))).toBe(false);
    expect(reasonOf(() => randomKey('aes', 8))).toBe('BAD_KEY_LENGTH');
    expect(reasonOf(() => randomKey('des', 16))).toBe('BAD_KEY_LENGTH');
    expect(reasonOf(() => randomKey('rc4' as never))).toBe('BAD_INPUT');
  });
});
