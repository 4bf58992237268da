import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fromHex } from '../../src/crypto/cipher.js';
import { CryptoError, isCryptoError } from '../../src/crypto/errors.js';
import { buildPinBlock, parsePinBlock, buildPinBlockFormat4, parsePinBlockFormat4, encryptPinBlock } from '../../src/crypto/pinblock.js';
import { kcv, requireKcv } from '../../src/crypto/kcv.js';
import { combineComponents } from '../../src/crypto/components.js';
import { macX919, unionPayMac, verifyMacX99 } from '../../src/crypto/mac.js';
import { requireOddParity } from '../../src/crypto/parity.js';

/**
 * Error messages must never carry key, PIN or PAN material: check the message (and the whole
 * serialised error) against every secret in several spellings.
 */
function thrown(f: () => unknown): CryptoError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return e as CryptoError;
  }
  throw new Error('expected a throw');
}

function expectNoLeak(err: CryptoError, secrets: string[]): void {
  const text = `${err.message}\n${String(err)}\n${JSON.stringify(err)}\n${err.stack ?? ''}`.toUpperCase();
  for (const s of secrets) {
    if (s.length < 4) continue;
    expect(text).not.toContain(s.toUpperCase());
  }
}

const PAN = '4012345678909';
const PIN = '1234';

describe('errors never leak secrets', () => {
  it('is a typed error with a reason', () => {
    const e = thrown(() => buildPinBlock({ format: 0, pin: '12', pan: PAN }));
    expect(e.name).toBe('CryptoError');
    expect(e.reason).toBe('BAD_PIN');
    expect(isCryptoError(e, 'BAD_PIN')).toBe(true);
    expect(isCryptoError(e, 'BAD_PAN')).toBe(false);
  });

  it('bad PIN / PAN / PIN block errors do not contain the PIN, the PAN or PAN fragments', () => {
    const cases: [() => unknown, string[]][] = [
      [() => buildPinBlock({ format: 0, pin: '98765432101234', pan: PAN }), ['98765432101234', PAN, '401234567890']],
      [() => buildPinBlock({ format: 0, pin: '9876x', pan: PAN }), ['9876X', PAN]],
      [() => buildPinBlock({ format: 0, pin: PIN, pan: '40123456789091234567' }), ['40123456789091234567', '4012345678909']],
      [() => buildPinBlock({ format: 3, pin: '5678', pan: '5555ABCD51234567' }), ['5555ABCD51234567', '5678']],
      [() => parsePinBlock(fromHex('041274EDCBA9876F'), { pan: '4012345678919' }), ['041274EDCBA9876F', '4012345678919', '401234567891', PIN]],
      [() => parsePinBlock(fromHex('041274EDCBA9876E'), { pan: PAN }), ['041274EDCBA9876E', PAN, PIN, '1274ED']],
      [() => parsePinBlockFormat4(fromHex('C1D0F8FB4958670DBA40AB1F3752EF0D'), fromHex('CC17F65586BFD0953010226C4FC5B3CA'), '432198765432109871'),
        ['C1D0F8FB4958670DBA40AB1F3752EF0D', 'CC17F65586BFD0953010226C4FC5B3CA', '432198765432109871', PIN]],
      [() => buildPinBlockFormat4(fromHex('C1D0F8FB4958670DBA40AB1F3752EF0D'), { pin: '246813579', pan: '43219' }), ['246813579', '43219', 'C1D0F8FB']],
    ];
    for (const [f, secrets] of cases) expectNoLeak(thrown(f), secrets);
  });

  it('bad key errors do not contain key hex', () => {
    const k15 = fromHex('0123456789ABCDEFFEDCBA98765432');
    const k16 = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const secrets = ['0123456789ABCDEF', 'FEDCBA9876543210', '89ABCDEF', 'FEDCBA98765432'];
    expectNoLeak(thrown(() => kcv(k15, { alg: 'tdes' })), secrets);
    expectNoLeak(thrown(() => kcv(k16.subarray(0, 8), { alg: 'aes' })), secrets);
    expectNoLeak(thrown(() => requireKcv(k16, fromHex('08D7B5'), { alg: 'tdes' })), [...secrets, '08D7B5', '08D7B4']);
    expectNoLeak(thrown(() => macX919(k15, Buffer.from('data'))), secrets);
    expectNoLeak(thrown(() => unionPayMac(k15, Buffer.from('data'))), secrets);
    expectNoLeak(thrown(() => encryptPinBlock(k15, fromHex('041274EDCBA9876F'))), [...secrets, '041274EDCBA9876F']);
    expectNoLeak(thrown(() => combineComponents([k16, k15])), secrets);
    expectNoLeak(thrown(() => requireOddParity(fromHex('0023456789ABCDEF'))), ['0023456789ABCDEF', '89ABCDEF']);
    expectNoLeak(thrown(() => verifyMacX99(k16.subarray(0, 8), Buffer.from('x'), fromHex('AABBCC'))), secrets);
  });

  it('property: a random invalid PIN or PAN never appears in the message', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{13,18}$/), fc.stringMatching(/^[0-9]{20,24}$/), (badPin, badPan) => {
        expectNoLeak(thrown(() => buildPinBlock({ format: 0, pin: badPin, pan: PAN })), [badPin, PAN]);
        expectNoLeak(thrown(() => buildPinBlock({ format: 3, pin: PIN, pan: badPan })), [badPan, badPan.slice(0, 12)]);
      }),
      { numRuns: 100 },
    );
  });
});
