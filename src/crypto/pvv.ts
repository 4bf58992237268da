/**
 * Visa PIN Verification Value (PVV), the "Visa method" of PIN verification.
 *
 *   TSP  = 11 rightmost PAN digits excluding the check digit | PVKI (1 digit) | first 4 PIN digits
 *          (16 decimal digits read as 8 bytes of BCD)
 *   C    = TDES-ECB encryption of the TSP under the PVK pair (PVKA | PVKB, 2-key TDES)
 *   PVV  = decimalise C: scan its 16 hex digits left to right keeping the decimal digits 0-9;
 *          if fewer than 4, scan again left to right taking the letters A-F as (digit - 10);
 *          keep the first 4.
 *
 * Only the first four PIN digits take part, so a longer PIN shares its PVV with every PIN that
 * starts with the same four digits. PVKI selects one of the issuer's PVK pairs (Visa uses 1..6;
 * 0 on the stripe means "no PVV"); any single decimal digit is accepted here.
 *
 * The PIN may be given as a string of digits or, to avoid an unwipeable JS string, as a
 * Uint8Array of digit *values* 0..9 (not ASCII). Errors never carry PIN, PAN or key material.
 *
 * Vectors (test/crypto/pvv.test.ts): the published test suite of the psec library
 * (github.com/knovichikhin/psec, tests/test_pin.py and the psec.pin.generate_visa_pvv docstring),
 * PVK 0123456789ABCDEFFEDCBA9876543210.
 */
import { timingSafeEqual } from 'node:crypto';
import { tdesEcbEncrypt, wipe } from './cipher.js';
import { CryptoError, requireKeyLength } from './errors.js';

export interface PvvInput {
  /** 12 to 19 decimal digits (the last one is the check digit and is not used). */
  pan: string;
  /** PIN verification key index, one decimal digit 0..9. */
  pvki: number;
  /** The PIN (4..12 digits): a digit string or a Uint8Array of digit values 0..9. */
  pin: string | Uint8Array;
}

const PAN_RE = /^[0-9]{12,19}$/;

function pinDigits(pin: string | Uint8Array): Uint8Array {
  if (typeof pin === 'string') {
    if (!/^[0-9]{4,12}$/.test(pin)) throw new CryptoError('BAD_PIN', 'PIN must be 4 to 12 decimal digits');
    return Uint8Array.from(pin.slice(0, 4), (c) => c.charCodeAt(0) - 48);
  }
  if (!(pin instanceof Uint8Array) || pin.length < 4 || pin.length > 12 || pin.some((d) => d > 9)) {
    throw new CryptoError('BAD_PIN', 'PIN must be 4 to 12 decimal digit values');
  }
  return pin.subarray(0, 4);
}

/** The 8-byte Transformed Security Parameter. */
export function visaTsp(input: PvvInput): Buffer {
  const { pan, pvki } = input;
  if (typeof pan !== 'string' || !PAN_RE.test(pan)) throw new CryptoError('BAD_PAN', 'PAN must be 12 to 19 decimal digits');
  if (!Number.isInteger(pvki) || pvki < 0 || pvki > 9) throw new CryptoError('BAD_INPUT', 'PVKI must be one decimal digit');
  const nibbles = new Uint8Array(16);
  const panPart = pan.slice(-12, -1);
  for (let i = 0; i < 11; i++) nibbles[i] = panPart.charCodeAt(i) - 48;
  nibbles[11] = pvki;
  const pin = pinDigits(input.pin);
  nibbles.set(pin, 12);
  const tsp = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) tsp[i] = (nibbles[2 * i]! << 4) | nibbles[2 * i + 1]!;
  wipe(nibbles);
  if (typeof input.pin === 'string') wipe(pin);
  return tsp;
}

/** Two-pass decimalisation of an 8-byte cipher block into 4 digits (see the module comment). */
export function decimalisePvv(block: Uint8Array): string {
  if (block.length !== 8) throw new CryptoError('BAD_INPUT', 'PVV decimalisation takes one 8-byte block');
  const nib: number[] = [];
  for (const b of block) nib.push(b >> 4, b & 0x0f);
  let out = '';
  for (const n of nib) if (n <= 9 && out.length < 4) out += String(n);
  for (const n of nib) if (n > 9 && out.length < 4) out += String(n - 10);
  nib.fill(0);
  return out;
}

/** Visa PVV of a PIN: 4 decimal digits. `pvk` is the PVK pair (16 bytes; 8 or 24 also accepted). */
export function visaPvv(pvk: Uint8Array, input: PvvInput): string {
  requireKeyLength('PVK', pvk, [8, 16, 24]);
  const tsp = visaTsp(input);
  const c = tdesEcbEncrypt(pvk, tsp);
  try {
    return decimalisePvv(c);
  } finally {
    wipe(tsp, c);
  }
}

/** True when the PIN's PVV equals `pvv` (4 digits; compared in constant time). */
export function verifyVisaPvv(pvk: Uint8Array, input: PvvInput & { pvv: string }): boolean {
  if (typeof input.pvv !== 'string' || !/^[0-9]{4}$/.test(input.pvv)) throw new CryptoError('BAD_INPUT', 'PVV must be 4 decimal digits');
  const actual = Buffer.from(visaPvv(pvk, input), 'ascii');
  const expected = Buffer.from(input.pvv, 'ascii');
  const ok = timingSafeEqual(actual, expected);
  wipe(actual, expected);
  return ok;
}
