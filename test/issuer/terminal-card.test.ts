import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { fromHex, tdesEcbDecrypt, tdesEcbEncrypt, toHex, xor } from '../../src/crypto/cipher.js';
import { enrolPvv } from '../../src/issuer/keys.js';
import {
  buildTrack2,
  encryptTrackWithTdk,
  generateTestPan,
  isLuhnValid,
  luhnCheckDigit,
  packTrack,
  parseTrack2,
  terminalPinBlock,
  TEST_BIN,
} from '../../src/terminal/card.js';
import { openHsm } from './helpers.js';

describe('test card data (terminal side)', () => {
  it('Luhn check digit: the published example 7992739871 → 3 (ISO/IEC 7812-1 annex B, Wikipedia "Luhn algorithm")', () => {
    expect(luhnCheckDigit('7992739871')).toBe('3');
    expect(isLuhnValid('79927398713')).toBe(true);
    for (const d of '012456789') expect(isLuhnValid(`7992739871${d}`)).toBe(false);
    // A well-known Visa test card number.
    expect(isLuhnValid('4111111111111111')).toBe(true);
    expect(() => luhnCheckDigit('12a')).toThrow(RangeError);
  });

  it('generates Luhn-valid 19-digit PANs under the test BIN, or as asked', () => {
    const pans = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const pan = generateTestPan();
      expect(pan).toMatch(/^629990[0-9]{13}$/);
      expect(isLuhnValid(pan)).toBe(true);
      pans.add(pan);
    }
    expect(pans.size).toBeGreaterThan(195);
    expect(TEST_BIN).toBe('629990');
    const p16 = generateTestPan({ bin: '62123456', length: 16 });
    expect(p16).toMatch(/^62123456[0-9]{8}$/);
    expect(isLuhnValid(p16)).toBe(true);
    expect(() => generateTestPan({ length: 11 })).toThrow(RangeError);
    expect(() => generateTestPan({ bin: 'abc' })).toThrow(RangeError);
  });

  it('builds and parses track 2 equivalent data (PAN = YYMM service code discretionary)', () => {
    const t = buildTrack2({ pan: '6299901234567890123', expiry: '2912', serviceCode: '220', discretionary: '00001' });
    expect(t).toBe('6299901234567890123=291222000001');
    expect(parseTrack2(t)).toEqual({ pan: '6299901234567890123', expiry: '2912', serviceCode: '220', discretionary: '00001' });
    expect(parseTrack2(t.replace('=', 'D')).pan).toBe('6299901234567890123');
    expect(buildTrack2({ pan: '6299901234567890123', expiry: '2912' })).toBe('6299901234567890123=2912120');
    expect(() => buildTrack2({ pan: '6299901234567890123', expiry: '2913' })).toThrow(/YYMM/);
    expect(() => buildTrack2({ pan: '6299901234567890123', expiry: '2912', discretionary: '1'.repeat(15) })).toThrow(/37/);
    expect(() => parseTrack2('1234')).toThrow(RangeError);
  });

  it('packs track data 2 characters per byte, = as D, odd length padded with 0', () => {
    expect(toHex(packTrack('1234=56'))).toBe('1234D560');
    expect(toHex(packTrack('12=4'))).toBe('12D4');
    expect(() => packTrack('12^4')).toThrow(RangeError);
  });

  it('TDK track encryption: the 8 bytes before the last packed byte, TDES-ECB; short tracks stay clear', () => {
    const tdk = randomBytes(16);
    const track = '6299901234567890123=2912120';
    const clear = packTrack(track);
    const enc = encryptTrackWithTdk(tdk, track);
    expect(enc.length).toBe(clear.length);
    const end = clear.length - 1;
    expect(enc.subarray(0, end - 8)).toEqual(clear.subarray(0, end - 8));
    expect(enc[end]).toBe(clear[end]);
    expect(tdesEcbDecrypt(tdk, enc.subarray(end - 8, end))).toEqual(clear.subarray(end - 8, end));
    expect(enc.subarray(end - 8, end)).toEqual(tdesEcbEncrypt(tdk, clear.subarray(end - 8, end)));
    // 9 packed bytes (18 characters): clear.
    expect(encryptTrackWithTdk(tdk, '123456789012=12341')).toEqual(packTrack('123456789012=12341'));
  });

  it('format 0 PIN block under the clear PIK: the ISO 9564-1 example PIN 1234, PAN 43219876543210987 → 0412AC89ABCDEF67', () => {
    // Example from ISO 9564-1 format 0 as given in Wikipedia "ISO 9564": PIN field 041234FFFFFFFFFF,
    // PAN field 0000987654321098, clear block 0412AC89ABCDEF67.
    const pik = randomBytes(16);
    const block = terminalPinBlock(pik, '1234', '43219876543210987');
    expect(toHex(tdesEcbDecrypt(pik, block)).toUpperCase()).toBe('0412AC89ABCDEF67');
  });
});

describe('PIN enrolment (PVV via a one-time PIN key)', () => {
  it('reproduces the published psec Visa PVV vectors through the HSM', async () => {
    // psec (github.com/knovichikhin/psec) tests/test_pin.py::test_generate_visa_pvv, also cited in
    // test/crypto/pvv.test.ts: PVK pair 0123456789ABCDEF FEDCBA9876543210.
    const hsm = await openHsm();
    try {
      const clearPvk = fromHex('0123456789ABCDEFFEDCBA9876543210');
      const c1 = randomBytes(16);
      const pvk = await hsm.importFromComponents({ usage: 'PVK', algorithm: 'tdes', length: 16 }, [c1, xor(clearPvk, c1)]);
      const vectors = [
        { pvki: 1, pin: '4524', pan: '1122334455667788', pvv: '8523' },
        { pvki: 2, pin: '1912', pan: '1122334455667788', pvv: '3244' },
        { pvki: 1, pin: '0570', pan: '1122334455667718', pvv: '3144' },
        { pvki: 1, pin: '8299', pan: '1122334455667708', pvv: '4422' },
      ];
      for (const v of vectors) expect(await enrolPvv(hsm, { pan: v.pan, pin: v.pin, pvk, pvki: v.pvki })).toBe(v.pvv);
    } finally {
      await hsm.close();
    }
  });
});
