/**
 * The HSM's Buffer-based PIN block code (src/crypto/hsm/pin-digits.ts) must agree with the
 * string-based primitives in src/crypto/pinblock.ts, which carry the published vectors.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/crypto/cipher.js';
import { CryptoError, type CryptoErrorReason } from '../../src/crypto/errors.js';
import { buildPinBlock, buildPinBlockFormat4, parsePinBlock, parsePinBlockFormat4 } from '../../src/crypto/pinblock.js';
import { clearBlockFromDigits, digitsFromClearBlock, digitsFromFormat4, format4FromDigits } from '../../src/crypto/hsm/pin-digits.js';

const digitsOf = (pin: string): Buffer => Buffer.from(Array.from(pin, (c) => Number(c)));
const pinOf = (d: Uint8Array): string => Array.from(d).join('');

function reasonOf(f: () => unknown): CryptoErrorReason | 'no-throw' | 'untyped' {
  try {
    f();
  } catch (e) {
    return e instanceof CryptoError ? e.reason : 'untyped';
  }
  return 'no-throw';
}

const AES_KEY = fromHex('C1D0F8FB4958670DBA40AB1F3752EF0D');
const pinArb = fc.stringMatching(/^[0-9]{4,12}$/);
const panArb = fc.stringMatching(/^[0-9]{12,19}$/);

describe('HSM PIN digits vs pinblock.ts', () => {
  it('format 0: ANSI X9.24-1 annex example (PIN 1234, PAN 4012345678909 -> 041274EDCBA9876F)', () => {
    expect(toHex(clearBlockFromDigits(digitsOf('1234'), 0, '4012345678909'))).toBe('041274EDCBA9876F');
    expect(pinOf(digitsFromClearBlock(fromHex('041274EDCBA9876F'), 0, '4012345678909'))).toBe('1234');
  });

  it('formats 0, 1, 3 round-trip both ways', () => {
    fc.assert(
      fc.property(pinArb, panArb, fc.constantFrom(0 as const, 1 as const, 3 as const), (pin, pan, format) => {
        const ours = clearBlockFromDigits(digitsOf(pin), format, pan);
        expect(parsePinBlock(ours, { pan, format })).toEqual({ format, pin });
        const theirs = buildPinBlock({ format, pin, pan });
        expect(pinOf(digitsFromClearBlock(theirs, format, pan))).toBe(pin);
        if (format === 0) expect(ours).toEqual(theirs);
      }),
      { numRuns: 200 },
    );
  });

  it('format 4 round-trips both ways', () => {
    fc.assert(
      fc.property(pinArb, panArb, (pin, pan) => {
        expect(parsePinBlockFormat4(AES_KEY, format4FromDigits(AES_KEY, digitsOf(pin), pan), pan)).toBe(pin);
        expect(pinOf(digitsFromFormat4(AES_KEY, buildPinBlockFormat4(AES_KEY, { pin, pan }), pan))).toBe(pin);
      }),
      { numRuns: 100 },
    );
  });

  it('fails with the same reasons as pinblock.ts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), panArb, fc.constantFrom(0 as const, 1 as const, 3 as const), (block, pan, format) => {
        const ours = reasonOf(() => digitsFromClearBlock(block, format, pan));
        const theirs = reasonOf(() => parsePinBlock(block, { pan, format }));
        expect(ours).toBe(theirs);
      }),
      { numRuns: 300 },
    );
    const good = buildPinBlock({ format: 0, pin: '1234', pan: '4012345678909' });
    expect(reasonOf(() => digitsFromClearBlock(good, 0, '4012345678919'))).toBe('PAN_MISMATCH');
    expect(reasonOf(() => digitsFromClearBlock(good, 3, '4012345678909'))).toBe('BAD_FORMAT');
    expect(reasonOf(() => digitsFromClearBlock(good.subarray(0, 7), 0, '4012345678909'))).toBe('BAD_PIN_BLOCK');
    expect(reasonOf(() => clearBlockFromDigits(Buffer.from([1, 2, 3]), 0, '4012345678909'))).toBe('BAD_PIN');
    expect(reasonOf(() => clearBlockFromDigits(Buffer.from([1, 2, 3, 10]), 0, '4012345678909'))).toBe('BAD_PIN');
    const f4 = format4FromDigits(AES_KEY, digitsOf('1234'), '4012345678909');
    expect(reasonOf(() => digitsFromFormat4(AES_KEY, f4, '4012345678919'))).toBe('BAD_PIN_BLOCK');
  });
});
