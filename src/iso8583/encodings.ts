/**
 * Byte-level primitives: character-set tables, packed BCD, EBCDIC (cp037) and hex.
 * HOT PATH: everything here runs per field on pack/unpack. Validation is done with char-code
 * loops over lookup tables — no regexes, no per-character string building beyond small joins.
 */
import { fail } from './errors.js';

/** Character classes. Bit flags so one table lookup answers any class. */
export const CS_N = 1; // digits
export const CS_Z = 2; // track data: digits, '=', 'D'
export const CS_A = 4; // letters and space
export const CS_AN = 8; // letters, digits, space
export const CS_ANS = 16; // printable ASCII 0x20-0x7E
export const CS_ANY = 32; // any code 0x00-0xFF (carried byte-for-byte, latin1)
export const CS_HEX = 64; // 0-9 A-F a-f

export const CHARSET = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  let f = CS_ANY;
  const digit = c >= 0x30 && c <= 0x39;
  const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (digit) f |= CS_N | CS_Z | CS_AN;
  if (c === 0x3d || c === 0x44) f |= CS_Z;
  if (letter) f |= CS_A | CS_AN;
  if (c === 0x20) f |= CS_A | CS_AN;
  if (c >= 0x20 && c <= 0x7e) f |= CS_ANS;
  if (digit || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) f |= CS_HEX;
  CHARSET[c] = f;
}

/** Index of the first character of `s` outside class `mask`, or -1. */
export function findBadChar(s: string, mask: number): number {
  if (mask === CS_N) {
    for (let i = 0; i < s.length; i++) if (((s.charCodeAt(i) - 0x30) >>> 0) > 9) return i;
    return -1;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || (CHARSET[c]! & mask) === 0) return i;
  }
  return -1;
}

/** Index of the first byte in buf[start,end) outside class `mask`, or -1. */
export function findBadByte(buf: Uint8Array, start: number, end: number, mask: number): number {
  for (let i = start; i < end; i++) {
    if ((CHARSET[buf[i]!]! & mask) === 0) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Packed BCD

/** char code -> nibble; '=' and 'D' map to 0xD (track separator). Only valid after validation. */
const NIBBLE = new Uint8Array(128);
for (let d = 0; d < 10; d++) NIBBLE[0x30 + d] = d;
NIBBLE[0x3d] = 0xd;
NIBBLE[0x44] = 0xd;

/** byte -> two-character string for a byte of two decimal digits, '' otherwise. */
const BCD_PAIR: string[] = new Array<string>(256).fill('');
const NIB_CHAR = '0123456789';
for (let hi = 0; hi < 16; hi++) {
  for (let lo = 0; lo < 16; lo++) {
    const b = (hi << 4) | lo;
    if (hi < 10 && lo < 10) BCD_PAIR[b] = NIB_CHAR[hi]! + NIB_CHAR[lo]!;
  }
}

/** Two digits of a packed BCD byte, or '' when a nibble is not decimal. */
export function bcdPair(b: number): string {
  return BCD_PAIR[b]!;
}

/** Bytes needed for `digits` packed BCD digits. */
export function bcdBytes(digits: number): number {
  return (digits + 1) >> 1;
}

/**
 * Write `s` (already validated: digits, or digits/'='/'D' for track data) as packed BCD.
 * Odd counts get one `pad` nibble: first when right-aligned, last when left-aligned.
 * Returns the offset after the last byte written.
 */
export function writeBcd(buf: Buffer, off: number, s: string, leftAlign: boolean, pad: number): number {
  const len = s.length;
  let i = 0;
  if ((len & 1) === 1 && !leftAlign) {
    buf[off++] = (pad << 4) | NIBBLE[s.charCodeAt(0)]!;
    i = 1;
  }
  for (; i + 1 < len; i += 2) {
    buf[off++] = (NIBBLE[s.charCodeAt(i)]! << 4) | NIBBLE[s.charCodeAt(i + 1)]!;
  }
  if (i < len) buf[off++] = (NIBBLE[s.charCodeAt(i)]! << 4) | pad;
  return off;
}

/**
 * Read `digits` packed BCD digits starting at `start`. The pad nibble of an odd count is not
 * checked (terminals in the field send 0 or F). `track` lets a 0xD nibble decode as '='.
 * Throws BAD_BCD naming `field` and the offending byte offset. HOT PATH: digits go to a scratch
 * buffer as ASCII codes, then become one string.
 */
export function readBcd(
  buf: Uint8Array,
  start: number,
  digits: number,
  leftAlign: boolean,
  track: boolean,
  field: number | string,
): string {
  const sc = scratch(digits);
  let p = start;
  let j = 0;
  let remaining = digits;
  if ((digits & 1) === 1 && !leftAlign) {
    sc[j++] = nibbleCode(buf[p]! & 0x0f, track, field, p);
    p++;
    remaining--;
  }
  while (remaining >= 2) {
    const b = buf[p]!;
    const hi = b >> 4;
    const lo = b & 15;
    if (hi < 10 && lo < 10) {
      sc[j++] = 0x30 + hi;
      sc[j++] = 0x30 + lo;
    } else {
      sc[j++] = nibbleCode(hi, track, field, p);
      sc[j++] = nibbleCode(lo, track, field, p);
    }
    p++;
    remaining -= 2;
  }
  if (remaining === 1) sc[j++] = nibbleCode(buf[p]! >> 4, track, field, p);
  return bytesToString(sc, 0, j);
}

function nibbleCode(n: number, track: boolean, field: number | string, at: number): number {
  if (n < 10) return 0x30 + n;
  if (track && n === 0xd) return 0x3d;
  return fail('BAD_BCD', `nibble ${n.toString(16).toUpperCase()} is not a digit`, field, at);
}

let scratchBuf = Buffer.alloc(1024);
/** Shared scratch space for decoding (decoders are synchronous, so never re-entered). */
function scratch(n: number): Buffer {
  if (n > scratchBuf.length) scratchBuf = Buffer.alloc(n);
  return scratchBuf;
}

const fcc = String.fromCharCode;
function chunk(a: Uint8Array, i: number, n: number): string {
  switch (n) {
    case 1: return fcc(a[i]!);
    case 2: return fcc(a[i]!, a[i + 1]!);
    case 3: return fcc(a[i]!, a[i + 1]!, a[i + 2]!);
    case 4: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!);
    case 5: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!);
    case 6: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!);
    case 7: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!);
    default: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!);
  }
}

/**
 * Bytes (latin1) to string. HOT PATH: short strings via String.fromCharCode with fixed arity
 * (~10 ns) instead of a native Buffer call (~60 ns); long ones via latin1Slice.
 */
export function bytesToString(a: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > 24) return Buffer.prototype.toString.call(a, 'latin1', start, end);
  let s = '';
  let i = start;
  while (end - i > 8) {
    s += chunk(a, i, 8);
    i += 8;
  }
  return s + chunk(a, i, end - i);
}

export function hexByte(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// EBCDIC, code page 037, printable-ASCII subset (letters, digits, space, punctuation).

/** ASCII code -> EBCDIC byte, 0 when unmapped (0x00 is never a mapped target here). */
export const ASCII_TO_EBCDIC = new Uint8Array(256);
/** EBCDIC byte -> ASCII code, 0 when unmapped. */
export const EBCDIC_TO_ASCII = new Uint8Array(256);
{
  const pairs: Array<[string, number]> = [
    [' ', 0x40], ['.', 0x4b], ['<', 0x4c], ['(', 0x4d], ['+', 0x4e], ['|', 0x4f], ['&', 0x50],
    ['!', 0x5a], ['$', 0x5b], ['*', 0x5c], [')', 0x5d], [';', 0x5e], ['-', 0x60], ['/', 0x61],
    [',', 0x6b], ['%', 0x6c], ['_', 0x6d], ['>', 0x6e], ['?', 0x6f], ['`', 0x79], [':', 0x7a],
    ['#', 0x7b], ['@', 0x7c], ["'", 0x7d], ['=', 0x7e], ['"', 0x7f], ['~', 0xa1], ['^', 0xb0],
    ['[', 0xba], [']', 0xbb], ['{', 0xc0], ['}', 0xd0], ['\\', 0xe0],
  ];
  for (let i = 0; i < 10; i++) pairs.push([String.fromCharCode(0x30 + i), 0xf0 + i]);
  const rows: Array<[number, number, number]> = [
    [0x41, 0xc1, 9], [0x4a, 0xd1, 9], [0x53, 0xe2, 8], // A-I, J-R, S-Z
    [0x61, 0x81, 9], [0x6a, 0x91, 9], [0x73, 0xa2, 8], // a-i, j-r, s-z
  ];
  for (const [a, e, n] of rows) for (let i = 0; i < n; i++) pairs.push([String.fromCharCode(a + i), e + i]);
  for (const [ch, e] of pairs) {
    ASCII_TO_EBCDIC[ch.charCodeAt(0)] = e;
    EBCDIC_TO_ASCII[e] = ch.charCodeAt(0);
  }
}

export function writeEbcdic(buf: Buffer, off: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[off++] = ASCII_TO_EBCDIC[s.charCodeAt(i)]!;
  return off;
}

/** Decode EBCDIC to a string; unmapped bytes raise BAD_CHARSET at their offset. */
export function readEbcdic(buf: Uint8Array, start: number, end: number, field: number | string): string {
  const sc = scratch(end - start);
  for (let i = start; i < end; i++) {
    const a = EBCDIC_TO_ASCII[buf[i]!]!;
    if (a === 0) fail('BAD_CHARSET', `byte ${hexByte(buf[i]!)} is not a supported EBCDIC character`, field, i);
    sc[i - start] = a;
  }
  return bytesToString(sc, 0, end - start);
}

// ---------------------------------------------------------------------------------------------
// ASCII (latin1 byte-per-char)

/** Node's undocumented-but-stable fast path behind buf.write(…, 'latin1'). */
interface Latin1Buffer {
  latin1Write(s: string, off: number, len: number): number;
}

export function writeAscii(buf: Buffer, off: number, s: string): number {
  const n = s.length;
  if (n > 24) return off + (buf as unknown as Latin1Buffer).latin1Write(s, off, n);
  for (let i = 0; i < n; i++) buf[off++] = s.charCodeAt(i);
  return off;
}

export function readAscii(buf: Buffer, start: number, end: number): string {
  return bytesToString(buf, start, end);
}

// ---------------------------------------------------------------------------------------------
// Hex (binary carried as ASCII hex)

const HEX_VAL = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VAL[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VAL[0x41 + i] = 10 + i;
  HEX_VAL[0x61 + i] = 10 + i;
}
const HEX_UP = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_UP[i] = '0123456789ABCDEF'.charCodeAt(i);

/** Write the first `n` bytes of `src` as upper-case ASCII hex (no subarray allocation). */
export function writeHexBytes(buf: Buffer, off: number, src: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const b = src[i]!;
    buf[off++] = HEX_UP[b >> 4]!;
    buf[off++] = HEX_UP[b & 15]!;
  }
  return off;
}

/** Write `src` as upper-case ASCII hex. */
export function writeHex(buf: Buffer, off: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    buf[off++] = HEX_UP[b >> 4]!;
    buf[off++] = HEX_UP[b & 15]!;
  }
  return off;
}

/** Parse ASCII hex bytes buf[start,end) (even length) into a new Buffer. */
export function readHex(buf: Uint8Array, start: number, end: number, field: number | string | undefined): Buffer {
  const out = Buffer.allocUnsafe((end - start) >> 1);
  for (let i = start, o = 0; i < end; i += 2, o++) {
    const hi = HEX_VAL[buf[i]!]!;
    const lo = HEX_VAL[buf[i + 1]!]!;
    if (hi < 0 || lo < 0) fail('BAD_CHARSET', 'not a hexadecimal digit', field, hi < 0 ? i : i + 1);
    out[o] = (hi << 4) | lo;
  }
  return out;
}

/** Parse a hex string (from JSON / TLV tags). Returns undefined if it is not even-length hex. */
export function parseHexString(s: string): Buffer | undefined {
  if ((s.length & 1) === 1) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || HEX_VAL[c]! < 0) return undefined;
  }
  return Buffer.from(s, 'hex');
}

export function toHexUpper(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').toUpperCase();
}
