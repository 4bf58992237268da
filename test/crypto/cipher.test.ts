import { describe, it, expect } from 'vitest';
import { tdesEcbEncrypt, tdesEcbDecrypt, aesEcbEncrypt, aesCbcEncrypt, fromHex, toHex, CipherError } from '../../src/crypto/cipher.js';

describe('cipher core', () => {
  // FIPS 46 / NBS validation example widely reproduced (e.g. "The DES Algorithm Illustrated",
  // J. Orlin Grabbe): key 133457799BBCDFF1, plaintext 0123456789ABCDEF -> 85E813540F0AB405.
  it('single DES (as K|K|K) matches the classic worked example', () => {
    const k = fromHex('133457799BBCDFF1');
    expect(toHex(tdesEcbEncrypt(k, fromHex('0123456789ABCDEF')))).toBe('85E813540F0AB405');
    expect(toHex(tdesEcbDecrypt(k, fromHex('85E813540F0AB405')))).toBe('0123456789ABCDEF');
  });
  // FIPS 197 appendix C.1: AES-128 key 000102..0F, plaintext 00112233..FF -> 69C4E0D86A7B0430D8CDB78070B4C55A
  it('AES-128 matches FIPS 197 C.1', () => {
    expect(toHex(aesEcbEncrypt(fromHex('000102030405060708090A0B0C0D0E0F'), fromHex('00112233445566778899AABBCCDDEEFF'))))
      .toBe('69C4E0D86A7B0430D8CDB78070B4C55A');
  });
  // NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block.
  it('AES-128-CBC matches SP 800-38A F.2.1', () => {
    const out = aesCbcEncrypt(fromHex('2B7E151628AED2A6ABF7158809CF4F3C'), fromHex('6BC1BEE22E409F96E93D7E117393172A'), fromHex('000102030405060708090A0B0C0D0E0F'));
    expect(toHex(out)).toBe('7649ABAC8119B246CEE98E9B12E9197D');
  });
  it('rejects bad key and data lengths with a typed error', () => {
    expect(() => tdesEcbEncrypt(Buffer.alloc(7), Buffer.alloc(8))).toThrow(CipherError);
    expect(() => tdesEcbEncrypt(Buffer.alloc(16), Buffer.alloc(9))).toThrow(CipherError);
    expect(() => fromHex('ABC')).toThrow(CipherError);
  });
});
