/**
 * ISO 9564-1 PIN block handling for the HSM, holding the PIN as a Buffer of digit values (0..9)
 * instead of a JS string: a Buffer can be overwritten when the operation ends, a string cannot.
 *
 * Same block layouts and the same validation (and error reasons) as ../pinblock.ts, which works
 * with string PINs for the calculator and tests; test/crypto/hsm-pin.test.ts checks the two agree.
 *
 *   formats 0/1/3 (8 bytes, TDES key):  C | N | PIN | fill  (XOR the PAN field for 0 and 3)
 *   format 4 (16 bytes, AES key):       E_K( E_K(4 | N | PIN | A-fill | 8 random bytes) XOR PAN field )
 *
 * Internal to the HSM; errors never carry PIN, PAN or block material.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { decrypt, encrypt, wipe, xor } from '../cipher.js';
import { CryptoError, requireKeyLength } from '../errors.js';
import { encodePanFieldFormat4, panField } from '../pinblock.js';

/** PIN digits as values 0..9, one per byte. Wipe it when done. */
export type PinDigits = Buffer;

function checkDigits(d: Uint8Array): void {
  if (!(d instanceof Uint8Array) || d.length < 4 || d.length > 12 || d.some((x) => x > 9)) {
    throw new CryptoError('BAD_PIN', 'PIN must be 4 to 12 decimal digits');
  }
}

function toNibbles(b: Uint8Array): Buffer {
  const out = Buffer.alloc(b.length * 2);
  for (let i = 0; i < b.length; i++) {
    out[2 * i] = b[i]! >> 4;
    out[2 * i + 1] = b[i]! & 0x0f;
  }
  return out;
}

function fromNibbles(n: Uint8Array): Buffer {
  const out = Buffer.alloc(n.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (n[2 * i]! << 4) | n[2 * i + 1]!;
  return out;
}

/** Parse a clear 8-byte format 0, 1 or 3 block into PIN digits. */
export function digitsFromClearBlock(block: Uint8Array, format: 0 | 1 | 3, pan: string): PinDigits {
  if (!(block instanceof Uint8Array) || block.length !== 8) throw new CryptoError('BAD_PIN_BLOCK', 'PIN block must be 8 bytes');
  const control = block[0]! >> 4;
  if (control !== 0 && control !== 1 && control !== 3) throw new CryptoError('BAD_FORMAT', 'unsupported PIN block format');
  if (control !== format) throw new CryptoError('BAD_FORMAT', `PIN block is not format ${format}`);
  const len = block[0]! & 0x0f;
  if (len < 4 || len > 12) throw new CryptoError('BAD_PIN_BLOCK', 'PIN length nibble out of range');
  let field: Buffer;
  if (format === 1) {
    field = Buffer.from(block);
  } else {
    const pf = panField(pan);
    field = xor(block, pf);
    wipe(pf);
  }
  const nib = toNibbles(field);
  wipe(field);
  try {
    // Nibbles 0..3 do not depend on the PAN (its field starts with four zeros); 4..15 do.
    const fail = (index: number): never => {
      if (format !== 1 && index >= 4) {
        throw new CryptoError('PAN_MISMATCH', 'PIN block does not decode under the supplied PAN (wrong PAN or corrupted block)');
      }
      throw new CryptoError('BAD_PIN_BLOCK', `format ${format} PIN block is malformed`);
    };
    for (let i = 2; i < 2 + len; i++) if (nib[i]! > 9) fail(i);
    for (let i = 2 + len; i < 16; i++) {
      if (format === 0 && nib[i] !== 0xf) fail(i);
      if (format === 3 && nib[i]! < 0xa) fail(i);
    }
    return Buffer.from(nib.subarray(2, 2 + len));
  } finally {
    wipe(nib);
  }
}

/** Build a clear 8-byte format 0, 1 or 3 block from PIN digits (random fill for 1 and 3). */
export function clearBlockFromDigits(digits: Uint8Array, format: 0 | 1 | 3, pan: string): Buffer {
  checkDigits(digits);
  const nib = Buffer.alloc(16);
  nib[0] = format;
  nib[1] = digits.length;
  nib.set(digits, 2);
  for (let i = 2 + digits.length; i < 16; i++) {
    nib[i] = format === 0 ? 0xf : format === 3 ? randomInt(0xa, 0x10) : randomInt(0, 0x10);
  }
  const field = fromNibbles(nib);
  wipe(nib);
  if (format === 1) return field;
  const pf = panField(pan);
  const block = xor(field, pf);
  wipe(field, pf);
  return block;
}

/** Encipher a format 4 PIN block under an AES PIN key. */
export function format4FromDigits(key: Uint8Array, digits: Uint8Array, pan: string): Buffer {
  requireKeyLength('AES PIN', key, [16, 24, 32]);
  checkDigits(digits);
  const nib = Buffer.alloc(16, 0xa);
  nib[0] = 4;
  nib[1] = digits.length;
  nib.set(digits, 2);
  const head = fromNibbles(nib);
  const rnd = randomBytes(8);
  const p = Buffer.concat([head, rnd]);
  const a = encodePanFieldFormat4(pan);
  const i1 = encrypt('aes', 'ecb', key, p);
  const i2 = xor(i1, a);
  const out = encrypt('aes', 'ecb', key, i2);
  wipe(nib, head, rnd, p, a, i1, i2);
  return out;
}

/** Decipher a format 4 PIN block under an AES PIN key into PIN digits. */
export function digitsFromFormat4(key: Uint8Array, block: Uint8Array, pan: string): PinDigits {
  requireKeyLength('AES PIN', key, [16, 24, 32]);
  if (!(block instanceof Uint8Array) || block.length !== 16) throw new CryptoError('BAD_PIN_BLOCK', 'format 4 PIN block must be 16 bytes');
  const a = encodePanFieldFormat4(pan);
  const i2 = decrypt('aes', 'ecb', key, block);
  const i1 = xor(i2, a);
  const p = decrypt('aes', 'ecb', key, i1);
  const nib = toNibbles(p.subarray(0, 8));
  try {
    const bad = (): never => {
      throw new CryptoError('BAD_PIN_BLOCK', 'format 4 PIN block did not decode (wrong key, wrong PAN or corrupted block)');
    };
    if (nib[0] !== 4) bad();
    const len = nib[1]!;
    if (len < 4 || len > 12) bad();
    for (let i = 2; i < 2 + len; i++) if (nib[i]! > 9) bad();
    for (let i = 2 + len; i < 16; i++) if (nib[i] !== 0xa) bad();
    return Buffer.from(nib.subarray(2, 2 + len));
  } finally {
    wipe(a, i2, i1, p, nib);
  }
}
