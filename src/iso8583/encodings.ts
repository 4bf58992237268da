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

/** char code -> nibble for BCD text of class n (digits) or z (digits, '=' and 'D' as 0xD); -1 otherwise. */
const NIB_N = new Int8Array(128).fill(-1);
const NIB_Z = new Int8Array(128).fill(-1);
for (let d = 0; d < 10; d++) {
  NIB_N[0x30 + d] = d;
  NIB_Z[0x30 + d] = d;
}
NIB_Z[0x3d] = 0xd;
NIB_Z[0x44] = 0xd;

/**
 * writeBcd that also checks each character against class `cs` (CS_N or CS_Z): returns the
 * offset after the last byte, or -1 at the first character outside the class. HOT PATH (pack).
 */
export function writeBcdChecked(buf: Buffer, off: number, s: string, leftAlign: boolean, pad: number, cs: number): number {
  const t = cs === CS_N ? NIB_N : cs === CS_Z ? NIB_Z : null;
  if (t === null) return -1;
  const len = s.length;
  let i = 0;
  if ((len & 1) === 1 && !leftAlign) {
    const c = s.charCodeAt(0);
    const d = c < 128 ? t[c]! : -1;
    if (d < 0) return -1;
    buf[off++] = (pad << 4) | d;
    i = 1;
  }
  for (; i + 1 < len; i += 2) {
    const c1 = s.charCodeAt(i);
    const c2 = s.charCodeAt(i + 1);
    const hi = c1 < 128 ? t[c1]! : -1;
    const lo = c2 < 128 ? t[c2]! : -1;
    if ((hi | lo) < 0) return -1;
    buf[off++] = (hi << 4) | lo;
  }
  if (i < len) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? t[c]! : -1;
    if (d < 0) return -1;
    buf[off++] = (d << 4) | pad;
  }
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

/** Node's undocumented-but-stable native behind buf.toString('latin1', s, e), minus the argument checks. */
interface Latin1Slice {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
}
const latin1Slice = (Buffer.prototype as unknown as Latin1Slice).latin1Slice;

/** Longest string built with one fixed-arity String.fromCharCode call (see bytesToString). */
const MAX_FCC = 24;

/**
 * a[i, i+n) as one flat string, 1 <= n <= MAX_FCC. One fixed-arity call per length: V8 builds
 * the string in one allocation, where concatenating chunks made cons strings that every later
 * read had to flatten (a 19-digit PAN went from ~90 ns to ~30 ns).
 */
function fromCodes(a: Uint8Array, i: number, n: number): string {
  switch (n) {
    case 1: return fcc(a[i]!);
    case 2: return fcc(a[i]!, a[i + 1]!);
    case 3: return fcc(a[i]!, a[i + 1]!, a[i + 2]!);
    case 4: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!);
    case 5: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!);
    case 6: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!);
    case 7: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!);
    case 8: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!);
    case 9: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!);
    case 10: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!);
    case 11: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!);
    case 12: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!);
    case 13: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!);
    case 14: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!);
    case 15: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!);
    case 16: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!);
    case 17: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!);
    case 18: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!, a[i + 17]!);
    case 19: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!, a[i + 17]!, a[i + 18]!);
    case 20: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!, a[i + 17]!, a[i + 18]!, a[i + 19]!);
    case 21: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!, a[i + 17]!, a[i + 18]!, a[i + 19]!, a[i + 20]!);
    case 22: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!, a[i + 17]!, a[i + 18]!, a[i + 19]!, a[i + 20]!, a[i + 21]!);
    case 23: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!, a[i + 17]!, a[i + 18]!, a[i + 19]!, a[i + 20]!, a[i + 21]!, a[i + 22]!);
    case 24: return fcc(a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!, a[i + 4]!, a[i + 5]!, a[i + 6]!, a[i + 7]!, a[i + 8]!, a[i + 9]!, a[i + 10]!, a[i + 11]!, a[i + 12]!, a[i + 13]!, a[i + 14]!, a[i + 15]!, a[i + 16]!, a[i + 17]!, a[i + 18]!, a[i + 19]!, a[i + 20]!, a[i + 21]!, a[i + 22]!, a[i + 23]!);
    default: return '';
  }
}

/**
 * Bytes (latin1) to string. HOT PATH: up to MAX_FCC bytes via one fixed-arity
 * String.fromCharCode (~15-40 ns) instead of a native Buffer call (~60 ns); longer ones via
 * latin1Slice.
 */
export function bytesToString(a: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_FCC) return latin1Slice.call(a, start, end);
  return n === 0 ? '' : fromCodes(a, start, n);
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

/**
 * writeAscii that also checks each character against class mask `cs`: returns the offset after
 * the last byte, or -1 at the first character outside the class. HOT PATH (pack).
 */
export function writeAsciiChecked(buf: Buffer, off: number, s: string, cs: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || (CHARSET[c]! & cs) === 0) return -1;
    buf[off + i] = c;
  }
  return off + n;
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

/**
 * Parse `n` bytes of ASCII hex at buf[start..start+2n) into out[at..at+n). Returns the offset of
 * the first non-hex character, or -1 (no allocation: used for hex bitmaps on every unpack).
 */
export function readHexInto(buf: Uint8Array, start: number, n: number, out: Uint8Array, at: number): number {
  for (let i = 0; i < n; i++) {
    const p = start + 2 * i;
    const hi = HEX_VAL[buf[p]!]!;
    const lo = HEX_VAL[buf[p + 1]!]!;
    if (hi < 0) return p;
    if (lo < 0) return p + 1;
    out[at + i] = (hi << 4) | lo;
  }
  return -1;
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
