/**
 * Test cards "in the customer's hand": what a terminal reads from a card and what it sends.
 *
 * - PANs: Luhn-valid, 19 digits by default (the usual UnionPay debit length), under the test BIN
 *   `TEST_BIN` = 629990. The prefix 62 makes the card look like UnionPay to routing and masking;
 *   629990 is not a BIN we know to be assigned to any issuer, but it is not reserved for testing
 *   either: these cards are only meaningful to qiandao's issuer simulator. Pass another BIN when a
 *   test needs one.
 * - Track 2 equivalent data (field 35): PAN '=' expiry YYMM, service code, discretionary data.
 * - PIN blocks: ISO 9564-1 format 0 under the terminal's clear PIK (as a terminal's PIN pad does).
 * - Track encryption with the TDK (key scheme 004, field 53 digit 3 = 1): the UnionPay terminal
 *   convention described in docs/cup-pos-fields.md §4.8 — the track is packed (BCD, '=' → D,
 *   odd length padded with 0), the 8 bytes that end just before the last packed byte are
 *   encrypted with the TDK (TDES-ECB) and put back; tracks of 9 packed bytes or fewer stay clear.
 *
 * Everything here handles clear card data and keys on purpose (it plays the card and the PIN
 * pad); nothing here is used by the host.
 */
import { tdesEcbEncrypt, wipe } from '../crypto/cipher.js';
import { buildPinBlock, encryptPinBlock } from '../crypto/pinblock.js';
import { randomBytesSecure } from '../crypto/random.js';

/** The default test BIN (see the file comment). */
export const TEST_BIN = '629990';

/**
 * Service code of test cards (ISO/IEC 7813): 1 international interchange, 2 authorisation online
 * by the issuer, 0 no restrictions — PIN required.
 */
export const DEFAULT_SERVICE_CODE = '120';

/** Luhn (ISO/IEC 7812-1 annex B) check digit of the digits given (without a check digit). */
export function luhnCheckDigit(body: string): string {
  if (!/^[0-9]+$/.test(body)) throw new RangeError('Luhn input must be decimal digits');
  let sum = 0;
  // Double every second digit from the right, starting with the rightmost of the body.
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** True when the PAN's last digit is its Luhn check digit. */
export function isLuhnValid(pan: string): boolean {
  return /^[0-9]{2,19}$/.test(pan) && luhnCheckDigit(pan.slice(0, -1)) === pan.slice(-1);
}

/** A random Luhn-valid test PAN: `bin` followed by random digits and the check digit. */
export function generateTestPan(opts: { bin?: string; length?: number } = {}): string {
  const bin = opts.bin ?? TEST_BIN;
  const length = opts.length ?? 19;
  if (!/^[0-9]{1,11}$/.test(bin)) throw new RangeError('BIN must be 1 to 11 digits');
  if (!Number.isInteger(length) || length < 12 || length > 19 || length <= bin.length + 1) {
    throw new RangeError('PAN length must be 12 to 19 and longer than the BIN plus a check digit');
  }
  const random = randomBytesSecure(length - bin.length - 1);
  let body = bin;
  for (const b of random) body += String(b % 10);
  return body + luhnCheckDigit(body);
}

export interface Track2Input {
  pan: string;
  /** YYMM */
  expiry: string;
  /** Three digits; default DEFAULT_SERVICE_CODE. */
  serviceCode?: string;
  /** Discretionary data (digits), e.g. PVKI + PVV + CVV on real cards; default none. */
  discretionary?: string;
}

/** Track 2 equivalent data as characters: `PAN=YYMMSSSdiscretionary` (at most 37 characters). */
export function buildTrack2(input: Track2Input): string {
  const serviceCode = input.serviceCode ?? DEFAULT_SERVICE_CODE;
  const discretionary = input.discretionary ?? '';
  if (!/^[0-9]{12,19}$/.test(input.pan)) throw new RangeError('PAN must be 12 to 19 digits');
  if (!/^[0-9]{2}(0[1-9]|1[0-2])$/.test(input.expiry)) throw new RangeError('expiry must be YYMM');
  if (!/^[0-9]{3}$/.test(serviceCode)) throw new RangeError('service code must be 3 digits');
  if (!/^[0-9]*$/.test(discretionary)) throw new RangeError('discretionary data must be digits');
  const track = `${input.pan}=${input.expiry}${serviceCode}${discretionary}`;
  if (track.length > 37) throw new RangeError('track 2 data is at most 37 characters');
  return track;
}

/** Split track 2 data into its parts ('=' or 'D' separator). */
export function parseTrack2(track: string): { pan: string; expiry: string; serviceCode: string; discretionary: string } {
  const m = /^([0-9]{12,19})[=D]([0-9]{4})([0-9]{3})([0-9]*)$/.exec(track);
  if (!m) throw new RangeError('not track 2 data (PAN=YYMM service code discretionary)');
  return { pan: m[1] as string, expiry: m[2] as string, serviceCode: m[3] as string, discretionary: m[4] as string };
}

/** Pack track characters 2 per byte ('=' → nibble D, odd length padded with a 0 nibble). */
export function packTrack(track: string): Buffer {
  if (!/^[0-9=D]*$/.test(track)) throw new RangeError('track data must be digits and =');
  const nibbles = track.replace(/=/g, 'D');
  return Buffer.from(nibbles.length % 2 === 1 ? nibbles + '0' : nibbles, 'hex');
}

/**
 * Packed track data as the terminal sends it with TDK track encryption (field 53 digit 3 = 1):
 * the 8 bytes ending just before the last packed byte are TDES-ECB encrypted under the clear TDK.
 * Tracks of 9 packed bytes or fewer are returned clear. The field's length prefix (characters)
 * is unchanged by the encryption.
 */
export function encryptTrackWithTdk(tdk: Uint8Array, track: string): Buffer {
  const packed = packTrack(track);
  if (packed.length <= 9) return packed;
  const end = packed.length - 1;
  const enc = tdesEcbEncrypt(tdk, packed.subarray(end - 8, end));
  enc.copy(packed, end - 8);
  wipe(enc);
  return packed;
}

/** An ISO 9564-1 format 0 PIN block for `pin` and `pan`, encrypted under the terminal's clear PIK. */
export function terminalPinBlock(pik: Uint8Array, pin: string, pan: string): Buffer {
  const clear = buildPinBlock({ format: 0, pin, pan });
  try {
    return encryptPinBlock(pik, clear);
  } finally {
    wipe(clear);
  }
}

/** A test card as the customer holds it (clear data: test tooling only). */
export interface TestCard {
  pan: string;
  expiry: string;
  serviceCode: string;
  pin?: string;
}

/** Track 2 of a test card. */
export function cardTrack2(card: TestCard): string {
  return buildTrack2({ pan: card.pan, expiry: card.expiry, serviceCode: card.serviceCode });
}
