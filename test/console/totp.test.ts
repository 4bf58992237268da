import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, otpauthUri, totp, totpStep, verifyTotp } from '../../src/console/auth/totp.js';

// RFC 6238 Appendix B, SHA-1 column: seed = ASCII "12345678901234567890", X = 30 s, T0 = 0, 8 digits.
const SEED = Buffer.from('12345678901234567890', 'ascii');
const RFC6238_SHA1: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

// RFC 4226 Appendix D: HOTP values for counts 0..9 with the same secret, 6 digits.
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

describe('TOTP (RFC 6238) and HOTP (RFC 4226)', () => {
  it.each(RFC6238_SHA1)('RFC 6238 Appendix B: T = %d s gives %s', (seconds, code) => {
    expect(totp(SEED, new Date(seconds * 1000), 8)).toBe(code);
  });

  it('RFC 4226 Appendix D HOTP values', () => {
    expect(RFC4226.map((_, i) => hotp(SEED, i))).toEqual(RFC4226);
  });

  it('accepts the previous, current and next step, not two away', () => {
    const at = new Date(1_700_000_000_000);
    const step = totpStep(at);
    for (const d of [-1, 0, 1]) expect(verifyTotp(SEED, hotp(SEED, step + d), at, 0)).toBe(step + d);
    for (const d of [-2, 2]) expect(verifyTotp(SEED, hotp(SEED, step + d), at, 0)).toBeNull();
  });

  it('refuses a code whose step was already used (replay)', () => {
    const at = new Date(1_700_000_000_000);
    const step = totpStep(at);
    const code = hotp(SEED, step);
    expect(verifyTotp(SEED, code, at, step - 1)).toBe(step);
    expect(verifyTotp(SEED, code, at, step)).toBeNull();
    // An older code is refused once a newer step was used.
    expect(verifyTotp(SEED, hotp(SEED, step - 1), at, step)).toBeNull();
  });

  it('refuses malformed codes', () => {
    const at = new Date(1_700_000_000_000);
    for (const bad of ['', '12345', '1234567', 'abcdef', ' 12345']) expect(verifyTotp(SEED, bad, at, 0)).toBeNull();
  });

  it('base32 matches RFC 4648 §10 test vectors (without padding)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [clear, enc] of vectors) {
      expect(base32Encode(Buffer.from(clear))).toBe(enc);
      expect(base32Decode(enc).toString()).toBe(clear);
    }
    expect(() => base32Decode('MZ1')).toThrow(RangeError);
  });

  it('builds an otpauth:// enrolment URI with the secret, issuer and parameters', () => {
    const uri = new URL(otpauthUri(SEED, 'alice'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/qiandao:alice');
    expect(uri.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(uri.searchParams.get('issuer')).toBe('qiandao');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });
});
