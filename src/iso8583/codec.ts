/**
 * pack / unpack / peek: MTI + bitmap(s) + fields. Framing (length header, TPDU, header) is not
 * handled here. HOT PATH: the whole file. pack sizes every field first, then writes into one
 * Buffer; unpack only walks length prefixes and records offsets (values decode lazily).
 */
import {
  E_EBCDIC, VT_TEXT, contentBytes, fitText, packedSize, prepareValue, readPrefix, writeField, writeTextChecked,
  type Prepared,
} from './compile.js';
import { fail } from './errors.js';
import {
  ASCII_TO_EBCDIC, EBCDIC_TO_ASCII, bcdPair, hexByte, readHexInto, writeAscii, writeBcd, writeHexBytes,
} from './encodings.js';
import type { FieldMap, FieldNumber, FieldValues } from './fields.js';
import { IsoMessage, LAZY } from './message.js';
import { COMPILED, type CompiledSpec, type Spec } from './spec.js';

// Scratch space reused by every pack() call (pack is synchronous, so never re-entered).
const prepared: Array<Prepared | undefined> = new Array<Prepared | undefined>(129);
const bitmapScratch = new Uint8Array(16);
// Bitmap bytes of the message being scanned (scan is synchronous, so never re-entered).
const scanBitmap = new Uint8Array(16);

/** Validate an MTI string (4 digits); throws BAD_MTI. */
export function checkMti(mti: unknown): string {
  if (typeof mti !== 'string' || mti.length !== 4) fail('BAD_MTI', `MTI must be 4 digits, got ${JSON.stringify(mti)}`);
  for (let i = 0; i < 4; i++) {
    const c = mti.charCodeAt(i);
    if (c < 0x30 || c > 0x39) fail('BAD_MTI', `MTI must be 4 digits, got ${JSON.stringify(mti)}`);
  }
  return mti;
}

/**
 * Serialise a message: MTI, bitmap(s), fields in ascending order. Every value is validated;
 * the first problem raises Iso8583Error naming the field. A message unpacked with another spec
 * can be packed with this one (dialect conversion), field definitions permitting.
 *
 * HOT PATH. packFast checks ASCII/BCD text while encoding it (one pass over each string instead
 * of a validation pass plus an encoding pass). It never reports a problem itself: on anything
 * unexpected it gives up and packReference, the straightforward validate-then-write pass,
 * produces the result or the error, so errors (which one, in which order) are exactly those of
 * packReference.
 */
export function pack<F extends FieldMap>(spec: Spec<F>, msg: IsoMessage<F>): Buffer {
  const mti = checkMti(msg.mti);
  let out: Buffer | null = null;
  try {
    out = packFast(spec[COMPILED], mti, msg);
  } catch {
    out = null;
  }
  return out ?? packReference(spec, mti, msg);
}

/** pack() without its own error reporting: null (or a throw) sends the caller to packReference. */
function packFast<F extends FieldMap>(c: CompiledSpec, mti: string, msg: IsoMessage<F>): Buffer | null {
  const v = msg._v;
  const w = msg._w;
  const fields = c.fields;
  let size = c.mtiBytes + c.bitmapBytes;
  let ok = true;
  // Pass 1: types and lengths (text charsets are checked in pass 2), sizes.
  for (let i = 0; i < 4 && ok; i++) {
    let x = w[i]!;
    while (x !== 0) {
      const lz = Math.clz32(x);
      x &= ~(0x80000000 >>> lz);
      const n = i * 32 + lz + 1;
      let val = v[n];
      if (val === LAZY) val = msg._decode(n);
      const cf = fields[n];
      if (cf === null || cf === undefined) {
        ok = false;
        break;
      }
      let p: Prepared | null;
      if (cf.vt === VT_TEXT && cf.enc !== E_EBCDIC) {
        p = typeof val === 'string' ? fitText(cf, val) : null;
        if (p === null) {
          ok = false;
          break;
        }
      } else {
        p = prepareValue(cf, val);
      }
      prepared[n] = p;
      size += packedSize(cf, p);
    }
  }
  const secondary = (w[2]! | w[3]!) !== 0;
  if (secondary) size += c.bitmapBytes;

  // Pass 2: write into one buffer.
  const buf = ok ? Buffer.allocUnsafe(size) : null;
  let off = buf === null ? 0 : writeHeader(c, buf, mti, w, secondary);
  for (let i = 0; i < 4; i++) {
    let x = w[i]!;
    while (x !== 0) {
      const lz = Math.clz32(x);
      x &= ~(0x80000000 >>> lz);
      const n = i * 32 + lz + 1;
      const p = prepared[n];
      prepared[n] = undefined;
      if (buf === null || off < 0 || p === undefined) continue; // failed: just clear the scratch
      const cf = fields[n]!;
      off = typeof p === 'string' && cf.vt === VT_TEXT && cf.enc !== E_EBCDIC
        ? writeTextChecked(cf, buf, off, p)
        : writeField(cf, buf, off, p);
    }
  }
  return off < 0 ? null : buf;
}

/** MTI and bitmap(s); returns the offset after them. */
function writeHeader(c: CompiledSpec, buf: Buffer, mti: string, w: readonly number[], secondary: boolean): number {
  let off: number;
  if (c.mtiEnc === 'bcd') off = writeBcd(buf, 0, mti, false, 0);
  else if (c.mtiEnc === 'ascii') off = writeAscii(buf, 0, mti);
  else {
    for (let i = 0; i < 4; i++) buf[i] = ASCII_TO_EBCDIC[mti.charCodeAt(i)]!;
    off = 4;
  }
  const bmLen = secondary ? 16 : 8;
  const bm = bitmapScratch;
  for (let i = 0; i < bmLen; i++) bm[i] = w[i >> 2]! >>> (24 - 8 * (i & 3));
  if (secondary) bm[0]! |= 0x80;
  if (c.bitmapHex) off = writeHexBytes(buf, off, bm, bmLen);
  else for (let i = 0; i < bmLen; i++) buf[off++] = bm[i]!;
  return off;
}

/**
 * Reference pack: validate every field in order (throwing the first problem), then write.
 * Runs only when packFast gave up, i.e. normally to report an error.
 */
function packReference<F extends FieldMap>(spec: Spec<F>, mti: string, msg: IsoMessage<F>): Buffer {
  const c = spec[COMPILED];
  const v = msg._v;
  const w = msg._w;
  const fields = c.fields;
  let size = c.mtiBytes + c.bitmapBytes;
  // Pass 1: validate + size, walking the presence bits (ascending field order).
  for (let i = 0; i < 4; i++) {
    let x = w[i]!;
    while (x !== 0) {
      const lz = Math.clz32(x);
      x &= ~(0x80000000 >>> lz);
      const n = i * 32 + lz + 1;
      let val = v[n];
      if (val === LAZY) val = msg._decode(n);
      const cf = fields[n];
      if (cf === null || cf === undefined) fail('UNDEFINED_FIELD', `field ${n} is not defined in spec ${spec.name}`, n);
      const p = prepareValue(cf, val);
      prepared[n] = p;
      size += packedSize(cf, p);
    }
  }
  const secondary = (w[2]! | w[3]!) !== 0;
  if (secondary) size += c.bitmapBytes;

  // Pass 2: write into one buffer.
  const buf = Buffer.allocUnsafe(size);
  let off = writeHeader(c, buf, mti, w, secondary);
  for (let i = 0; i < 4; i++) {
    let x = w[i]!;
    while (x !== 0) {
      const lz = Math.clz32(x);
      x &= ~(0x80000000 >>> lz);
      const n = i * 32 + lz + 1;
      off = writeField(fields[n]!, buf, off, prepared[n]!);
      prepared[n] = undefined;
    }
  }
  return buf;
}

/** Set bits in a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** 1-based position (from the most significant bit) of the last set bit of x; 0 when x is 0. */
function lastBit(x: number): number {
  return x === 0 ? 0 : Math.clz32(x & -x) + 1;
}

export interface UnpackOptions {
  /** Decode and validate every field immediately instead of on first get(). */
  eager?: boolean;
}

function readMti(c: CompiledSpec, buf: Buffer): string {
  if (buf.length < c.mtiBytes) fail('TRUNCATED', `message of ${buf.length} bytes is too short for the MTI`, undefined, buf.length);
  let s: string;
  if (c.mtiEnc === 'bcd') {
    const a = bcdPair(buf[0]!);
    const b = bcdPair(buf[1]!);
    if (a === '') fail('BAD_MTI', `MTI byte ${hexByte(buf[0]!)} is not BCD`, undefined, 0);
    if (b === '') fail('BAD_MTI', `MTI byte ${hexByte(buf[1]!)} is not BCD`, undefined, 1);
    s = a + b;
  } else {
    const ebcdic = c.mtiEnc !== 'ascii';
    const a0 = mtiDigit(buf, 0, ebcdic);
    const a1 = mtiDigit(buf, 1, ebcdic);
    const a2 = mtiDigit(buf, 2, ebcdic);
    const a3 = mtiDigit(buf, 3, ebcdic);
    s = String.fromCharCode(a0, a1, a2, a3);
  }
  return s;
}

/** ASCII code of MTI digit i (ASCII or EBCDIC byte); throws BAD_MTI. */
function mtiDigit(buf: Buffer, i: number, ebcdic: boolean): number {
  const b = buf[i]!;
  const a = ebcdic ? EBCDIC_TO_ASCII[b]! : b;
  if (a < 0x30 || a > 0x39) fail('BAD_MTI', `MTI byte ${hexByte(b)} is not a digit`, undefined, i);
  return a;
}

/** Read one bitmap at `off` into bm[at..at+8); returns the offset after it. */
function readBitmap(c: CompiledSpec, buf: Buffer, off: number, bm: Uint8Array, at: number, which: string): number {
  if (off + c.bitmapBytes > buf.length) {
    fail('TRUNCATED', `message ends inside the ${which} bitmap`, undefined, off);
  }
  if (c.bitmapHex) {
    // decoded straight into the scratch bitmap (no Buffer per message)
    const bad = readHexInto(buf, off, 8, bm, at);
    if (bad >= 0) fail('BAD_BITMAP', `${which} bitmap is not hexadecimal`, undefined, bad);
  } else {
    for (let i = 0; i < 8; i++) bm[at + i] = buf[off + i]!;
  }
  return off + c.bitmapBytes;
}

/** End offset of the last scan() (scan is synchronous; a module variable saves a tuple per unpack). */
let scanEnd = 0;

/** Walk MTI, bitmaps and fields up to `limit`, recording offsets; the end offset goes to scanEnd. */
function scan<F extends FieldMap>(spec: Spec<F>, bytes: Uint8Array, limit: number): IsoMessage<F> {
  if (!(bytes instanceof Uint8Array)) fail('BAD_VALUE', 'input must be a Buffer or Uint8Array');
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c = spec[COMPILED];
  const end = buf.length;
  const mti = readMti(c, buf);
  const bm = scanBitmap;
  const bmOff = c.mtiBytes;
  let off = readBitmap(c, buf, bmOff, bm, 0, 'primary');
  let bmBytes = 8;
  if ((bm[0]! & 0x80) !== 0) {
    if (!c.secondary) {
      fail('BAD_BITMAP', `bit 1 (secondary bitmap) is set but spec ${spec.name} allows the primary bitmap only`, 1, bmOff);
    }
    const secOff = off;
    off = readBitmap(c, buf, off, bm, 8, 'secondary');
    if ((bm[8]! & 0x80) !== 0) fail('UNSUPPORTED', 'bit 65 (tertiary bitmap) is set; tertiary bitmaps are not supported', 65, secOff);
    bmBytes = 16;
  }
  // bit 1 is the secondary-bitmap flag, not a field
  const w0 = ((bm[0]! << 24) | (bm[1]! << 16) | (bm[2]! << 8) | bm[3]!) & 0x7fffffff;
  const w1 = (bm[4]! << 24) | (bm[5]! << 16) | (bm[6]! << 8) | bm[7]!;
  const w2 = bmBytes === 8 ? 0 : (bm[8]! << 24) | (bm[9]! << 16) | (bm[10]! << 8) | bm[11]!;
  const w3 = bmBytes === 8 ? 0 : (bm[12]! << 24) | (bm[13]! << 16) | (bm[14]! << 8) | bm[15]!;
  // Size the per-message arrays to what the bitmap announces (HOT PATH: allocation).
  const count = popcount(w0) + popcount(w1) + popcount(w2) + popcount(w3);
  const top = w3 !== 0 ? 96 + lastBit(w3) : w2 !== 0 ? 64 + lastBit(w2) : w1 !== 0 ? 32 + lastBit(w1) : lastBit(w0);
  const msg = new IsoMessage<F>(spec, mti, top + 1);
  const o = new Array<number>(count * 3);
  msg._src = buf;
  msg._o = o;
  const v = msg._v;
  const w = msg._w;
  w[0] = w0;
  w[1] = w1;
  w[2] = w2;
  w[3] = w3;
  const fields = c.fields;
  const hexMul = c.bitmapHex ? 2 : 1;
  let k = 0;
  outer: for (let i = 0; i < 4; i++) {
    let x = w[i]!;
    while (x !== 0) {
      const lz = Math.clz32(x);
      x &= ~(0x80000000 >>> lz);
      const n = i * 32 + lz + 1;
      if (n > limit) {
        // peek: forget the fields we did not walk
        w[i]! &= ~(0xffffffff >>> lz);
        for (let k = i + 1; k < 4; k++) w[k] = 0;
        break outer;
      }
      const cf = fields[n];
      if (cf === null || cf === undefined) {
        const at = (n > 64 ? bmOff + c.bitmapBytes : bmOff) + (((n - 1) % 64) >> 3) * hexMul;
        fail('UNDEFINED_FIELD', `bitmap announces field ${n}, which spec ${spec.name} does not define`, n, at);
      }
      let units: number;
      let start: number;
      let len: number;
      if (cf.fixed) {
        units = cf.max;
        start = off;
        len = cf.fixedBytes;
      } else {
        if (off + cf.pfxBytes > end) fail('TRUNCATED', 'message ends inside the length prefix', n, off);
        units = readPrefix(cf, buf, off);
        start = off + cf.pfxBytes;
        len = contentBytes(cf, units);
      }
      if (start + len > end) {
        fail('TRUNCATED', `field needs ${len} bytes but only ${end - start} remain`, n, start);
      }
      o[k] = start;
      o[k + 1] = start + len;
      o[k + 2] = units;
      k += 3;
      v[n] = LAZY;
      off = start + len;
    }
  }
  msg._r = [w[0]!, w[1]!, w[2]!, w[3]!];
  scanEnd = off;
  return msg;
}

/**
 * Parse MTI + bitmap(s) + fields from `bytes` (which must hold exactly one message body).
 * Structure (lengths, bitmap, MTI) is checked now; field contents on first get() unless
 * `eager`. The message keeps a reference to `bytes`.
 */
export function unpack<F extends FieldMap>(spec: Spec<F>, bytes: Uint8Array, opts?: UnpackOptions): IsoMessage<F> {
  const msg = scan(spec, bytes, 128);
  const off = scanEnd;
  if (off < bytes.length) {
    fail('TRAILING_BYTES', `${bytes.length - off} bytes left after the last field`, undefined, off);
  }
  if (opts?.eager === true) msg.decodeAll();
  return msg;
}

export interface PeekResult<F extends FieldMap, K extends FieldNumber<F>> {
  mti: string;
  fields: Pick<FieldValues<F>, K>;
}

/**
 * MTI and just the requested fields, for routing. Stops walking after the highest requested
 * field, so nothing after it is validated.
 */
export function peek<F extends FieldMap, const K extends FieldNumber<F>>(
  spec: Spec<F>,
  bytes: Uint8Array,
  fieldNumbers: readonly K[] = [],
): PeekResult<F, K> {
  let limit = 1;
  for (const n of fieldNumbers) if (n > limit) limit = n;
  const msg = scan(spec, bytes, limit);
  const fields: Record<number, unknown> = {};
  for (const n of fieldNumbers) {
    const val = msg.get(n);
    if (val !== undefined) fields[n] = val;
  }
  return { mti: msg.mti, fields: fields as Pick<FieldValues<F>, K> };
}
