import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fromHex, tdesEcbEncrypt, toHex } from '../../src/crypto/cipher.js';
import { CryptoError, type CryptoErrorReason } from '../../src/crypto/errors.js';
import { decimalisePvv, verifyVisaPvv, visaPvv, visaTsp } from '../../src/crypto/pvv.js';

function reasonOf(f: () => unknown): CryptoErrorReason | 'no-throw' | 'untyped' {
  try {
    f();
  } catch (e) {
    return e instanceof CryptoError ? e.reason : 'untyped';
  }
  return 'no-throw';
}

/**
 * Published vectors: the psec library's test suite (github.com/knovichikhin/psec,
 * tests/test_pin.py::test_generate_visa_pvv, and the psec.pin.generate_visa_pvv docstring for
 * PVKI 3), PVK pair 0123456789ABCDEF FEDCBA9876543210. The third and fourth vectors have fewer
 * than four decimal digits in the cipher block, so they exercise the second (A-F) pass.
 */
const PVK = fromHex('0123456789ABCDEFFEDCBA9876543210');
const VECTORS = [
  { pvki: 1, pin: '4524', pan: '1122334455667788', pvv: '8523' },
  { pvki: 2, pin: '1912', pan: '1122334455667788', pvv: '3244' },
  { pvki: 1, pin: '0570', pan: '1122334455667718', pvv: '3144' },
  { pvki: 1, pin: '8299', pan: '1122334455667708', pvv: '4422' },
  { pvki: 3, pin: '4524', pan: '1122334455667788', pvv: '4021' },
];

describe('Visa PVV', () => {
  it('reproduces the published psec vectors', () => {
    for (const v of VECTORS) {
      expect(visaPvv(PVK, v)).toBe(v.pvv);
      expect(verifyVisaPvv(PVK, v)).toBe(true);
    }
  });

  it('builds the TSP from 11 PAN digits (no check digit), the PVKI and 4 PIN digits', () => {
    expect(toHex(visaTsp({ pan: '1122334455667788', pvki: 1, pin: '4524' }))).toBe('3344556677814524');
    // A 19-digit PAN: still the 11 digits left of the check digit.
    expect(toHex(visaTsp({ pan: '6212345678901234567', pvki: 6, pin: '987654' }))).toBe('6789012345669876');
  });

  it('decimalises digits first, then letters minus 10', () => {
    // Cipher block of the third psec vector: digits 3, 1 then E, E -> 4, 4.
    const c = tdesEcbEncrypt(PVK, visaTsp(VECTORS[2]!));
    expect(toHex(c)).toBe('EEDCD3AACADEFC1A');
    expect(decimalisePvv(c)).toBe('3144');
    expect(decimalisePvv(fromHex('ABCDEFABCDEFABCD'))).toBe('0123');
    expect(decimalisePvv(fromHex('1234567890ABCDEF'))).toBe('1234');
    expect(decimalisePvv(fromHex('A1B2CDEFFEDCBAAA'))).toBe('1201');
  });

  it('uses only the first four PIN digits; accepts digit values as a Uint8Array', () => {
    expect(visaPvv(PVK, { pan: '1122334455667788', pvki: 1, pin: '452499' })).toBe('8523');
    expect(visaPvv(PVK, { pan: '1122334455667788', pvki: 1, pin: Uint8Array.of(4, 5, 2, 4) })).toBe('8523');
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{4,12}$/), fc.stringMatching(/^[0-9]{12,19}$/), fc.integer({ min: 0, max: 9 }), (pin, pan, pvki) => {
        const a = visaPvv(PVK, { pan, pvki, pin });
        expect(a).toMatch(/^[0-9]{4}$/);
        expect(visaPvv(PVK, { pan, pvki, pin: Uint8Array.from(pin, (c) => Number(c)) })).toBe(a);
        expect(visaPvv(PVK, { pan, pvki, pin: pin.slice(0, 4) })).toBe(a);
      }),
      { numRuns: 100 },
    );
  });

  it('verify says false for another PIN or PVV', () => {
    expect(verifyVisaPvv(PVK, { ...VECTORS[0]!, pvv: '8524' })).toBe(false);
    expect(verifyVisaPvv(PVK, { ...VECTORS[0]!, pin: '4525' })).toBe(false);
  });

  it('rejects bad input with typed errors', () => {
    const ok = VECTORS[0]!;
    expect(reasonOf(() => visaPvv(PVK, { ...ok, pan: '11223344556' }))).toBe('BAD_PAN');
    expect(reasonOf(() => visaPvv(PVK, { ...ok, pan: '11223344556677X8' }))).toBe('BAD_PAN');
    expect(reasonOf(() => visaPvv(PVK, { ...ok, pvki: 10 }))).toBe('BAD_INPUT');
    expect(reasonOf(() => visaPvv(PVK, { ...ok, pvki: -1 }))).toBe('BAD_INPUT');
    expect(reasonOf(() => visaPvv(PVK, { ...ok, pin: '123' }))).toBe('BAD_PIN');
    expect(reasonOf(() => visaPvv(PVK, { ...ok, pin: Uint8Array.of(1, 2, 3, 10) }))).toBe('BAD_PIN');
    expect(reasonOf(() => visaPvv(PVK.subarray(0, 5), ok))).toBe('BAD_KEY_LENGTH');
    expect(reasonOf(() => verifyVisaPvv(PVK, { ...ok, pvv: '85' }))).toBe('BAD_INPUT');
  });
});
