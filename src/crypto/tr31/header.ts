/**
 * ANSI X9.143 / ASC X9 TR-31 key block header: the 16-character fixed part and the optional
 * blocks that follow it. Pure text handling; no cryptography here.
 *
 *   pos  len  field
 *   0    1    key block version id (A, B, C, D)
 *   1    4    key block length (decimal, whole block incl. header, payload and MAC)
 *   5    2    key usage
 *   7    1    algorithm
 *   8    1    mode of use
 *   9    2    key version number
 *   11   1    exportability
 *   12   2    number of optional blocks (decimal)
 *   14   2    reserved ("00")
 *   16   ...  optional blocks: id (2) | length (2 hex, or "00" + 2-hex count + that many hex) | data
 */
import { KeyBlockError } from './errors.js';

export type KeyBlockVersion = 'A' | 'B' | 'C' | 'D';

/** Key usage codes defined by X9.143 (two-digit numeric codes are proprietary and also accepted). */
export const KEY_USAGES = {
  B0: 'Base Derivation Key (BDK)',
  B1: 'Initial DUKPT Key (IPEK / IK)',
  B2: 'Base Key Variant Key',
  B3: 'Key Derivation Key (non-X9.24)',
  C0: 'CVK Card Verification Key',
  D0: 'Symmetric Key for Data Encryption',
  D1: 'Asymmetric Key for Data Encryption',
  D2: 'Data Encryption Key for Decimalization Table',
  D3: 'Data Encryption Key for Sensitive Data',
  E0: 'EMV/chip Issuer Master Key: Application cryptograms',
  E1: 'EMV/chip Issuer Master Key: Secure Messaging for Confidentiality',
  E2: 'EMV/chip Issuer Master Key: Secure Messaging for Integrity',
  E3: 'EMV/chip Issuer Master Key: Data Authentication Code',
  E4: 'EMV/chip Issuer Master Key: Dynamic Numbers',
  E5: 'EMV/chip Issuer Master Key: Card Personalization',
  E6: 'EMV/chip Issuer Master Key: Other',
  I0: 'Initialization Vector (IV)',
  K0: 'Key Encryption or Wrapping',
  K1: 'TR-31 Key Block Protection Key',
  K2: 'TR-34 Asymmetric Key',
  K3: 'Asymmetric Key for Key Agreement / Key Wrapping',
  M0: 'ISO 16609 MAC algorithm 1 (TDEA)',
  M1: 'ISO 9797-1 MAC Algorithm 1',
  M2: 'ISO 9797-1 MAC Algorithm 2',
  M3: 'ISO 9797-1 MAC Algorithm 3',
  M4: 'ISO 9797-1 MAC Algorithm 4',
  M5: 'ISO 9797-1:1999 MAC Algorithm 5',
  M6: 'ISO 9797-1:2011 MAC Algorithm 5 / CMAC',
  M7: 'HMAC',
  M8: 'ISO 9797-1:2011 MAC Algorithm 6',
  P0: 'PIN Encryption',
  P1: 'PIN Generation Key',
  S0: 'Asymmetric key pair for digital signature',
  S1: 'Asymmetric key pair, CA key',
  S2: 'Asymmetric key pair, nonX9.24 key',
  V0: 'PIN Verification, KPV, other algorithm',
  V1: 'PIN Verification, IBM 3624',
  V2: 'PIN Verification, VISA PVV',
  V3: 'PIN Verification, X9.132 algorithm 1',
  V4: 'PIN Verification, X9.132 algorithm 2',
} as const;

export type StandardKeyUsage = keyof typeof KEY_USAGES;
/** A standard usage code, or a proprietary two-digit numeric one. */
export type KeyUsage = StandardKeyUsage | `${number}`;

export const KEY_ALGORITHMS = {
  A: 'AES',
  D: 'DEA',
  E: 'Elliptic Curve',
  H: 'HMAC',
  R: 'RSA',
  S: 'DSA',
  T: 'Triple DEA (TDEA)',
} as const;
export type KeyAlgorithm = keyof typeof KEY_ALGORITHMS;

export const MODES_OF_USE = {
  B: 'Both encrypt & decrypt / wrap & unwrap',
  C: 'Both generate & verify',
  D: 'Decrypt / unwrap only',
  E: 'Encrypt / wrap only',
  G: 'Generate only',
  N: 'No special restrictions (other than those of the key usage)',
  S: 'Signature only',
  T: 'Both sign & decrypt',
  V: 'Verify only',
  X: 'Key used to derive other key(s)',
  Y: 'Key used to create key variants',
} as const;
export type ModeOfUse = keyof typeof MODES_OF_USE;

export const EXPORTABILITY = {
  E: 'Exportable under a KEK in a form meeting X9.24',
  N: 'Non-exportable',
  S: 'Sensitive: exportable under a KEK in a form not necessarily meeting X9.24',
} as const;
export type Exportability = keyof typeof EXPORTABILITY;

export interface OptionalBlock {
  /** Two-character id, e.g. "KS" (KSN), "KV" (key check value), "TS" (time stamp), "PB" (padding). */
  id: string;
  /** Printable ASCII data. */
  data: string;
}

export interface KeyBlockHeader {
  version: KeyBlockVersion;
  /** Declared total key block length in characters. */
  length: number;
  usage: KeyUsage;
  algorithm: KeyAlgorithm;
  modeOfUse: ModeOfUse;
  /** Two characters; "00" when key versioning is not used, "c1".."c9" for components. */
  keyVersion: string;
  exportability: Exportability;
  /** Optional blocks in order, including any trailing "PB" padding block. */
  optionalBlocks: OptionalBlock[];
}

export const FIXED_HEADER_LENGTH = 16;
const PRINTABLE = /^[\x20-\x7e]*$/;
const ALNUM2 = /^[0-9A-Za-z]{2}$/;

export function isKeyUsage(u: string): u is KeyUsage {
  return Object.prototype.hasOwnProperty.call(KEY_USAGES, u) || /^[0-9]{2}$/.test(u);
}

function has<T extends object>(table: T, k: string): k is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(table, k);
}

/** Validate the attribute fields shared by parse and build. */
export function checkAttributes(h: Pick<KeyBlockHeader, 'usage' | 'algorithm' | 'modeOfUse' | 'keyVersion' | 'exportability'>): void {
  if (typeof h.usage !== 'string' || !isKeyUsage(h.usage)) throw new KeyBlockError('BAD_HEADER', `unknown key usage "${String(h.usage)}"`);
  if (typeof h.algorithm !== 'string' || !has(KEY_ALGORITHMS, h.algorithm)) throw new KeyBlockError('BAD_HEADER', `unknown algorithm "${String(h.algorithm)}"`);
  if (typeof h.modeOfUse !== 'string' || !has(MODES_OF_USE, h.modeOfUse)) throw new KeyBlockError('BAD_HEADER', `unknown mode of use "${String(h.modeOfUse)}"`);
  if (typeof h.keyVersion !== 'string' || !ALNUM2.test(h.keyVersion)) throw new KeyBlockError('BAD_HEADER', 'key version number must be two alphanumeric characters');
  if (typeof h.exportability !== 'string' || !has(EXPORTABILITY, h.exportability)) throw new KeyBlockError('BAD_HEADER', `unknown exportability "${String(h.exportability)}"`);
}

function encodeOptionalBlock(b: OptionalBlock): string {
  if (typeof b.id !== 'string' || !ALNUM2.test(b.id)) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', 'optional block id must be two alphanumeric characters');
  if (typeof b.data !== 'string' || !PRINTABLE.test(b.data)) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `optional block ${b.id} data must be printable ASCII`);
  const short = 4 + b.data.length;
  if (short <= 0xff) return b.id + short.toString(16).toUpperCase().padStart(2, '0') + b.data;
  // Extended length: "00", then the number of hex digits of the length (here always 4), then the length.
  const long = 10 + b.data.length;
  if (long > 0xffff) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `optional block ${b.id} is too long`);
  return `${b.id}0004${long.toString(16).toUpperCase().padStart(4, '0')}${b.data}`;
}

/**
 * Encode the optional blocks, dropping any caller-supplied "PB" and appending a fresh padding
 * block when needed so the whole header is a multiple of `align` characters.
 */
export function encodeOptionalBlocks(blocks: readonly OptionalBlock[], align: number): { text: string; count: number } {
  const real = blocks.filter((b) => b.id !== 'PB');
  let text = real.map(encodeOptionalBlock).join('');
  let count = real.length;
  if (count > 0) {
    let need = (align - ((FIXED_HEADER_LENGTH + text.length) % align)) % align;
    if (need > 0 && need < 4) need += align;
    if (need > 0) {
      text += encodeOptionalBlock({ id: 'PB', data: '0'.repeat(need - 4) });
      count++;
    }
  }
  if (count > 99) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', 'at most 99 optional blocks');
  return { text, count };
}

/** Build the complete header text for a block of `totalLength` characters. */
export function buildHeader(
  h: Omit<KeyBlockHeader, 'length' | 'optionalBlocks'>,
  optText: string,
  optCount: number,
  totalLength: number,
): string {
  checkAttributes(h);
  if (!Number.isInteger(totalLength) || totalLength < FIXED_HEADER_LENGTH || totalLength > 9999) {
    throw new KeyBlockError('BAD_LENGTH', 'key block length must fit in four decimal digits');
  }
  return (
    h.version +
    String(totalLength).padStart(4, '0') +
    h.usage +
    h.algorithm +
    h.modeOfUse +
    h.keyVersion +
    h.exportability +
    String(optCount).padStart(2, '0') +
    '00' +
    optText
  );
}

function hexInt(s: string, what: string): number {
  if (!/^[0-9A-Fa-f]+$/.test(s)) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `${what} is not hexadecimal`);
  return parseInt(s, 16);
}

/**
 * Parse the header at the start of `block` (fixed part plus optional blocks).
 * Checks the declared length against the string length. Returns the header and its length
 * in characters; the remainder of the string is payload and authenticator.
 */
export function parseHeader(block: string): { header: KeyBlockHeader; headerLength: number } {
  if (typeof block !== 'string' || !PRINTABLE.test(block)) throw new KeyBlockError('MALFORMED', 'key block must be printable ASCII text');
  if (block.length < FIXED_HEADER_LENGTH) throw new KeyBlockError('MALFORMED', 'key block is shorter than its fixed header');
  const version = block[0]!;
  if (version !== 'A' && version !== 'B' && version !== 'C' && version !== 'D') {
    throw new KeyBlockError('UNSUPPORTED_VERSION', `key block version "${version}" is not supported`);
  }
  const lenText = block.slice(1, 5);
  if (!/^[0-9]{4}$/.test(lenText)) throw new KeyBlockError('BAD_HEADER', 'key block length must be four decimal digits');
  const length = Number(lenText);
  if (length !== block.length) throw new KeyBlockError('BAD_LENGTH', `declared length ${length} but block has ${block.length} characters`);
  const fields = {
    usage: block.slice(5, 7),
    algorithm: block[7]!,
    modeOfUse: block[8]!,
    keyVersion: block.slice(9, 11),
    exportability: block[11]!,
  };
  checkAttributes(fields as Pick<KeyBlockHeader, 'usage' | 'algorithm' | 'modeOfUse' | 'keyVersion' | 'exportability'>);
  const countText = block.slice(12, 14);
  if (!/^[0-9]{2}$/.test(countText)) throw new KeyBlockError('BAD_HEADER', 'number of optional blocks must be two decimal digits');
  if (block.slice(14, 16) !== '00') throw new KeyBlockError('BAD_HEADER', 'reserved field must be "00"');
  const count = Number(countText);
  const optionalBlocks: OptionalBlock[] = [];
  let pos = FIXED_HEADER_LENGTH;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > block.length) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `optional block ${i + 1} is truncated`);
    const id = block.slice(pos, pos + 2);
    if (!ALNUM2.test(id)) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `optional block ${i + 1} has an invalid id`);
    let blen = hexInt(block.slice(pos + 2, pos + 4), `optional block ${id} length`);
    let dataStart = pos + 4;
    if (blen === 0) {
      if (pos + 6 > block.length) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `optional block ${id} is truncated`);
      const lenOfLen = hexInt(block.slice(pos + 4, pos + 6), `optional block ${id} length-of-length`);
      if (lenOfLen < 1 || lenOfLen > 4 || pos + 6 + lenOfLen > block.length) {
        throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `optional block ${id} has an invalid extended length`);
      }
      blen = hexInt(block.slice(pos + 6, pos + 6 + lenOfLen), `optional block ${id} extended length`);
      dataStart = pos + 6 + lenOfLen;
    }
    const end = pos + blen;
    if (end < dataStart || end > block.length) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', `optional block ${id} length is out of range`);
    if (id === 'PB' && i !== count - 1) throw new KeyBlockError('BAD_OPTIONAL_BLOCK', 'padding block PB must be the last optional block');
    optionalBlocks.push({ id, data: block.slice(dataStart, end) });
    pos = end;
  }
  const header: KeyBlockHeader = {
    version,
    length,
    usage: fields.usage as KeyUsage,
    algorithm: fields.algorithm as KeyAlgorithm,
    modeOfUse: fields.modeOfUse as ModeOfUse,
    keyVersion: fields.keyVersion,
    exportability: fields.exportability as Exportability,
    optionalBlocks,
  };
  return { header, headerLength: pos };
}
