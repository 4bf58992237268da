import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/crypto/cipher.js';
import { hasOddParity, withOddParity, requireOddParity } from '../../src/crypto/parity.js';
import { CryptoError } from '../../src/crypto/errors.js';

describe('DES parity', () => {
  // ICAO Doc 9303 Part 11, Appendix D.1 (BAC key derivation): the SHA-1-derived key halves
  // before and after "adjust parity bits".
  it('adjusts parity as in ICAO 9303-11 Appendix D.1 (K_enc)', () => {
    const before = fromHex('AB94FCEDF2664EDFB9B291F85D7F77F2');
    expect(hasOddParity(before)).toBe(false);
    const after = withOddParity(before);
    expect(toHex(after)).toBe('AB94FDECF2674FDFB9B391F85D7F76F2');
    expect(hasOddParity(after)).toBe(true);
  });
  it('adjusts parity as in ICAO 9303-11 Appendix D.1 (K_mac)', () => {
    expect(toHex(withOddParity(fromHex('7862D9ECE03C1BCD4D77089DCF131442')))).toBe('7962D9ECE03D1ACD4C76089DCE131543');
  });
  // NIST SP 800-17 Table B.2 writes the "single bit" keys with odd parity: 8000.. becomes 8001010101010101.
  it('matches the parity-adjusted keys of NIST SP 800-17 Table B.2', () => {
    expect(toHex(withOddParity(fromHex('8000000000000000')))).toBe('8001010101010101');
    expect(toHex(withOddParity(fromHex('0000000000000000')))).toBe('0101010101010101');
    // The ANSI X9.9/X9.19 sample key 0123456789ABCDEF already has odd parity.
    expect(hasOddParity(fromHex('0123456789ABCDEFFEDCBA9876543210'))).toBe(true);
  });
  it('requireOddParity throws BAD_PARITY; empty key is not odd', () => {
    expect(hasOddParity(new Uint8Array(0))).toBe(false);
    try {
      requireOddParity(fromHex('0000000000000000'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CryptoError);
      expect((e as CryptoError).reason).toBe('BAD_PARITY');
    }
    expect(() => requireOddParity(fromHex('0123456789ABCDEF'))).not.toThrow();
  });
  it('property: result has odd parity, keeps the 7 key bits, is idempotent', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), (k) => {
        const a = withOddParity(k);
        expect(hasOddParity(a)).toBe(true);
        for (let i = 0; i < k.length; i++) expect(a[i]! & 0xfe).toBe(k[i]! & 0xfe);
        expect(withOddParity(a).equals(a)).toBe(true);
      }),
    );
  });
});
