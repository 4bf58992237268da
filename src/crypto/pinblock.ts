/**
 * ISO 9564-1 PIN blocks.
 *
 * Formats 0, 1 and 3 are 8-byte clear blocks (build/parse here; encrypt with encryptPinBlock under
 * a TDES PIN key). Format 4 (ISO 9564-1:2017) is 16 bytes and only defined enciphered under AES:
 * PIN field P and PAN field A are combined as  C = E_K( E_K(P) XOR A ),  so build = encipher and
 * parse = decipher.
 *
 * Plain-text PIN field, formats 0/1/3:  C | N | PIN digits | fill, 16 nibbles, where C is the
 * format, N the PIN length (4..12), fill = F (format 0), any 0..F transaction-unique or random
 * digits (format 1), random A..F (format 3).
 * Account number field, formats 0/3:  0000 | the 12 rightmost PAN digits excluding the check digit
 * (left-padded with zeros when shorter).
 * Format 4 PIN field: 4 | N | PIN | A fill to 14 digits | 16 random nibbles.
 * Format 4 PAN field: M | PAN (left-padded with zeros to 12 digits) | 0 fill to 32 nibbles, where
 * M = PAN length − 12 (0 when the PAN has 12 or fewer digits).
 *
 * Errors never carry PIN, PAN, key or block material (see errors.ts).
 */
import { decrypt, encrypt, tdesEcbDecrypt, tdesEcbEncrypt, wipe, xor } from './cipher.js';
import { CryptoError, requireKeyLength, viaCipher } from './errors.js';
import { randomBytesSecure, randomNibbles } from './random.js';

export type ClearPinBlockFormat = 0 | 1 | 3;
export type PinBlockFormat = ClearPinBlockFormat | 4;

const PIN_RE = /^[0-9]{4,12}$/;
const PAN_RE = /^[0-9]{8,19}$/;

function checkPin(pin: string): void {
  if (typeof pin !== 'string' || !PIN_RE.test(pin)) throw new CryptoError('BAD_PIN', 'PIN must be 4 to 12 decimal digits');
}

function checkPan(pan: string | undefined): asserts pan is string {
  if (typeof pan !== 'string' || !PAN_RE.test(pan)) throw new CryptoError('BAD_PAN', 'PAN must be 8 to 19 decimal digits');
}

/** Account number field for formats 0 and 3 (8 bytes). */
export function panField(pan: string): Buffer {
  checkPan(pan);
  const body = pan.slice(0, -1).slice(-12).padStart(12, '0');
  return Buffer.from('0000' + body, 'hex');
}

function checkFill(format: 1 | 3, fill: string, count: number): void {
  const re = format === 3 ? /^[A-Fa-f]*$/ : /^[0-9A-Fa-f]*$/;
  if (fill.length !== count || !re.test(fill)) {
    const kind = format === 3 ? 'A-F' : 'hex';
    throw new CryptoError('BAD_INPUT', `format ${format} fill must be ${count} ${kind} digits`);
  }
}

export interface BuildPinBlockInput {
  format: ClearPinBlockFormat;
  pin: string;
  /** Required for formats 0 and 3; ignored for format 1. */
  pan?: string;
  /**
   * Fill digits (14 − PIN length of them). Format 1: transaction-unique digits 0-F (e.g. derived
   * from a sequence number); format 3: digits A-F. Omitted → random (CSPRNG). Not allowed for format 0.
   */
  fill?: string;
}

/** Build a clear 8-byte ISO 9564-1 format 0, 1 or 3 PIN block. */
export function buildPinBlock(input: BuildPinBlockInput): Buffer {
  const { format, pin } = input;
  if (format !== 0 && format !== 1 && format !== 3) throw new CryptoError('BAD_FORMAT', 'clear PIN block format must be 0, 1 or 3');
  checkPin(pin);
  const fillCount = 14 - pin.length;
  let fill: string;
  if (format === 0) {
    if (input.fill !== undefined) throw new CryptoError('BAD_INPUT', 'format 0 fill is fixed (F)');
    fill = 'F'.repeat(fillCount);
  } else if (input.fill !== undefined) {
    checkFill(format, input.fill, fillCount);
    fill = input.fill.toUpperCase();
  } else {
    fill = format === 3 ? randomNibbles(fillCount, 0xa, 0xf) : randomNibbles(fillCount);
  }
  const field = Buffer.from(format.toString() + pin.length.toString(16) + pin + fill, 'hex');
  if (format === 1) return field;
  const pf = panField(input.pan as string);
  const block = xor(field, pf);
  wipe(field, pf);
  return block;
}

export interface ParsedPinBlock {
  format: PinBlockFormat;
  pin: string;
}

export interface ParsePinBlockOptions {
  /** Required for formats 0 and 3. */
  pan?: string;
  /** When given, the block's control nibble must be this format. */
  format?: ClearPinBlockFormat;
}

function nibbles(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

/**
 * Parse and validate a clear 8-byte format 0, 1 or 3 PIN block. Formats 0 and 3 need the PAN;
 * a block that decodes cleanly up to the PAN-covered digits but not after → PAN_MISMATCH.
 */
export function parsePinBlock(block: Uint8Array, opts: ParsePinBlockOptions = {}): ParsedPinBlock {
  if (!(block instanceof Uint8Array) || block.length !== 8) throw new CryptoError('BAD_PIN_BLOCK', 'PIN block must be 8 bytes');
  const control = block[0]! >> 4;
  if (control !== 0 && control !== 1 && control !== 3) throw new CryptoError('BAD_FORMAT', 'unsupported PIN block format');
  if (opts.format !== undefined && opts.format !== control) {
    throw new CryptoError('BAD_FORMAT', `PIN block is not format ${opts.format}`);
  }
  const format = control as ClearPinBlockFormat;
  const len = block[0]! & 0x0f;
  if (len < 4 || len > 12) throw new CryptoError('BAD_PIN_BLOCK', 'PIN length nibble out of range');
  let field: Buffer;
  if (format === 1) {
    field = Buffer.from(block);
  } else {
    if (opts.pan === undefined) throw new CryptoError('BAD_PAN', `format ${format} PIN block needs the PAN`);
    const pf = panField(opts.pan);
    field = xor(block, pf);
    wipe(pf);
  }
  const s = nibbles(field);
  wipe(field);
  // Nibbles 0..3 do not depend on the PAN (its field starts with four zeros); 4..15 do.
  const fail = (index: number): never => {
    if (format !== 1 && index >= 4) {
      throw new CryptoError('PAN_MISMATCH', 'PIN block does not decode under the supplied PAN (wrong PAN or corrupted block)');
    }
    throw new CryptoError('BAD_PIN_BLOCK', `format ${format} PIN block is malformed`);
  };
  for (let i = 2; i < 2 + len; i++) if (s[i]! > '9') fail(i);
  for (let i = 2 + len; i < 16; i++) {
    const c = s[i]!;
    if (format === 0 && c !== 'F') fail(i);
    if (format === 3 && c < 'A') fail(i);
  }
  return { format, pin: s.slice(2, 2 + len) };
}

// ---------------------------------------------------------------------------------------------
// Format 4 (AES)

/** Format 4 plain-text PIN field (16 bytes). `randomField` (8 bytes) defaults to CSPRNG output. */
export function encodePinFieldFormat4(pin: string, randomField?: Uint8Array): Buffer {
  checkPin(pin);
  const rnd = randomField ?? randomBytesSecure(8);
  if (rnd.length !== 8) throw new CryptoError('BAD_INPUT', 'format 4 random field must be 8 bytes');
  const head = Buffer.from('4' + pin.length.toString(16) + pin + 'A'.repeat(14 - pin.length), 'hex');
  const out = Buffer.concat([head, rnd]);
  wipe(head);
  if (!randomField) wipe(rnd);
  return out;
}

/** Format 4 plain-text PAN field (16 bytes). */
export function encodePanFieldFormat4(pan: string): Buffer {
  checkPan(pan);
  const m = Math.max(0, pan.length - 12);
  return Buffer.from((m.toString(16) + pan.padStart(12, '0')).padEnd(32, '0'), 'hex');
}

/** Decode a format 4 plain-text PIN field (16 bytes) to the PIN. */
export function decodePinFieldFormat4(field: Uint8Array): string {
  if (field.length !== 16) throw new CryptoError('BAD_PIN_BLOCK', 'format 4 PIN field must be 16 bytes');
  const s = nibbles(field.subarray(0, 8));
  const bad = (): never => {
    throw new CryptoError('BAD_PIN_BLOCK', 'format 4 PIN block did not decode (wrong key, wrong PAN or corrupted block)');
  };
  if (s[0] !== '4') bad();
  const len = parseInt(s[1]!, 16);
  if (len < 4 || len > 12) bad();
  for (let i = 2; i < 2 + len; i++) if (s[i]! > '9') bad();
  for (let i = 2 + len; i < 16; i++) if (s[i] !== 'A') bad();
  return s.slice(2, 2 + len);
}

export interface BuildFormat4Input {
  pin: string;
  pan: string;
  /** 8 bytes for the random half of the PIN field; for tests only. Default: CSPRNG. */
  randomField?: Uint8Array;
}

/** Build (encipher) an ISO 9564-1 format 4 PIN block under an AES key: E_K(E_K(P) XOR A). */
export function buildPinBlockFormat4(key: Uint8Array, input: BuildFormat4Input): Buffer {
  requireKeyLength('AES PIN', key, [16, 24, 32]);
  const p = encodePinFieldFormat4(input.pin, input.randomField);
  const a = encodePanFieldFormat4(input.pan);
  const i1 = encrypt('aes', 'ecb', key, p);
  const i2 = xor(i1, a);
  const out = encrypt('aes', 'ecb', key, i2);
  wipe(p, a, i1, i2);
  return out;
}

/** Parse (decipher) an ISO 9564-1 format 4 PIN block under an AES key and return the PIN. */
export function parsePinBlockFormat4(key: Uint8Array, block: Uint8Array, pan: string): string {
  requireKeyLength('AES PIN', key, [16, 24, 32]);
  if (!(block instanceof Uint8Array) || block.length !== 16) throw new CryptoError('BAD_PIN_BLOCK', 'format 4 PIN block must be 16 bytes');
  const a = encodePanFieldFormat4(pan);
  const i2 = decrypt('aes', 'ecb', key, block);
  const i1 = xor(i2, a);
  const p = decrypt('aes', 'ecb', key, i1);
  try {
    return decodePinFieldFormat4(p);
  } finally {
    wipe(a, i2, i1, p);
  }
}

// ---------------------------------------------------------------------------------------------
// TDES encryption of 8-byte blocks under the PIN key

/** Encrypt a clear 8-byte PIN block under a DES/TDES PIN key (8, 16 or 24 bytes), ECB. */
export function encryptPinBlock(pik: Uint8Array, block: Uint8Array): Buffer {
  requireKeyLength('PIN', pik, [8, 16, 24]);
  if (block.length !== 8) throw new CryptoError('BAD_PIN_BLOCK', 'PIN block must be 8 bytes');
  return viaCipher('BAD_INPUT', () => tdesEcbEncrypt(pik, block));
}

/** Decrypt an 8-byte PIN block under a DES/TDES PIN key (8, 16 or 24 bytes), ECB. */
export function decryptPinBlock(pik: Uint8Array, block: Uint8Array): Buffer {
  requireKeyLength('PIN', pik, [8, 16, 24]);
  if (block.length !== 8) throw new CryptoError('BAD_PIN_BLOCK', 'PIN block must be 8 bytes');
  return viaCipher('BAD_INPUT', () => tdesEcbDecrypt(pik, block));
}
