import { describe, it, expect } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/cipher.js';
import { kcv, verifyKcv, requireKcv } from '../../src/crypto/kcv.js';
import { CryptoError } from '../../src/crypto/errors.js';

const h = fromHex;

describe('key check values', () => {
  // TDES keys and KCVs from TR-31:2018 Annex A.7.2.1 / A.7.2.2 sample key blocks, with their KCVs as
  // recorded in openemv/tr31 test/tr31_decrypt_test.c; the third is a Thales payShield 10k example
  // from the same file. Legacy (zero-block) method, 3 bytes.
  it('TDES zero-block KCV, 3 bytes (TR-31:2018 A.7.2 keys; payShield 10k)', () => {
    expect(toHex(kcv(h('F039121BEC83D26B169BDCD5B22AAF8F'), { alg: 'tdes' }))).toBe('CB9DEA');
    expect(toHex(kcv(h('3F419E1CB7079442AA37474C2EFBF8B8'), { alg: 'tdes' }))).toBe('57C409');
    expect(toHex(kcv(h('5DB50B454F8389ADCE573BE50861F2BF'), { alg: 'tdes', method: 'zero', length: 3 }))).toBe('5C9405');
  });
  // Crypto StackExchange q. 37379 ("Calculating 3DES Key Check Value"): a PC Crypto key component and
  // its 4-byte check value.
  it('TDES zero-block KCV, 4 bytes (crypto.stackexchange.com/q/37379)', () => {
    expect(toHex(kcv(h('E6F1081FEA4C402CC192B65DE367EC3E'), { alg: 'tdes', length: 4 }))).toBe('212CF915');
  });
  // NIST SP 800-17 Table B.2 (variable-key KAT): DES key 8001010101010101, plaintext 0 -> 95A8D72813DAA94D.
  it('single-DES (8-byte key) KCV, 8 bytes (NIST SP 800-17 Table B.2)', () => {
    expect(toHex(kcv(h('8001010101010101'), { alg: 'tdes', length: 8 }))).toBe('95A8D72813DAA94D');
    expect(toHex(kcv(h('8001010101010101'), { alg: 'tdes' }))).toBe('95A8D7');
  });
  // AES keys with CMAC-method KCVs: TR-31:2018 A.7.4 sample (AES-128 key 3F41.., KCV 08793E) and a
  // payShield 10k AES-256 example (KCV 0A00E3), both from openemv/tr31 test/tr31_decrypt_test.c,
  // which computes the X9.24-1:2017 A.3 CMAC KCV (first 3 bytes recorded).
  it('AES CMAC KCV (X9.24-1:2017) matches published key-block examples', () => {
    expect(toHex(kcv(h('3F419E1CB7079442AA37474C2EFBF8B8'), { alg: 'aes', length: 3 }))).toBe('08793E');
    const k256 = h('BE19E6A07A760F10EF8E83A226B63AAD141F463FDDD4F47DB244B4023EC3CACC');
    expect(toHex(kcv(k256, { alg: 'aes', method: 'cmac', length: 3 }))).toBe('0A00E3');
    const five = kcv(k256, { alg: 'aes' });
    expect(five.length).toBe(5);
    expect(toHex(five).startsWith('0A00E3')).toBe(true);
  });
  // Legacy AES variant = AES-ECB of a zero block. RFC 4493 §4 (subkey generation) gives
  // AES-128(2B7E..., 0^128) = 7DF76B0C...; NIST AESAVS Appendix C.1 (KeySbox, count 0) gives
  // AES-128(10A58869..., 0^128) = 6D251E69...
  it('AES zero-block KCV (legacy), 3 bytes (RFC 4493 §4; AESAVS C.1)', () => {
    expect(toHex(kcv(h('2B7E151628AED2A6ABF7158809CF4F3C'), { alg: 'aes', method: 'zero' }))).toBe('7DF76B');
    expect(toHex(kcv(h('10A58869D74BE5A374CF867CFB473859'), { alg: 'aes', method: 'zero' }))).toBe('6D251E');
  });
  it('verifyKcv / requireKcv compare the stated number of bytes', () => {
    const k = h('E6F1081FEA4C402CC192B65DE367EC3E');
    expect(verifyKcv(k, h('212CF915'), { alg: 'tdes' })).toBe(true);
    expect(verifyKcv(k, h('212CF9'), { alg: 'tdes' })).toBe(true);
    expect(verifyKcv(k, h('212CF914'), { alg: 'tdes' })).toBe(false);
    expect(() => requireKcv(k, h('000000'), { alg: 'tdes' })).toThrow(CryptoError);
  });
  it('rejects bad key lengths, lengths and methods with typed errors', () => {
    const reasonOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof CryptoError ? e.reason : 'not-typed';
      }
      return undefined;
    };
    expect(reasonOf(() => kcv(Buffer.alloc(15), { alg: 'tdes' }))).toBe('BAD_KEY_LENGTH');
    expect(reasonOf(() => kcv(Buffer.alloc(8), { alg: 'aes' }))).toBe('BAD_KEY_LENGTH');
    expect(reasonOf(() => kcv(Buffer.alloc(16), { alg: 'tdes', length: 9 }))).toBe('BAD_INPUT');
    expect(reasonOf(() => kcv(Buffer.alloc(16), { alg: 'aes', length: 0 }))).toBe('BAD_INPUT');
    expect(reasonOf(() => kcv(Buffer.alloc(16), { alg: 'aes', method: 'x' as never }))).toBe('BAD_INPUT');
  });
});
