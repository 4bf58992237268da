/**
 * pack / unpack / peek: MTI + bitmap(s) + fields. Framing (length header, TPDU, header) is not
 * handled here. HOT PATH: the whole file. pack sizes every field first, then writes into one
 * Buffer; unpack only walks length prefixes and records offsets (values decode lazily).
 */
import {
  contentBytes, packedSize, prepareValue, readPrefix, writeField, type Prepared,
} from './compile.js';
import { fail } from './errors.js';
import {
  ASCII_TO_EBCDIC, EBCDIC_TO_ASCII, bcdPair, hexByte, readHex, writeAscii, writeBcd, writeHexBytes,
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
 */
export function pack<F extends FieldMap>(spec: Spec<F>, msg: IsoMessage<F>): Buffer {
  const c = spec[COMPILED];
  const mti = checkMti(msg.mti);
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
    const codes = new Array<number>(4);
    for (let i = 0; i < 4; i++) {
      const b = buf[i]!;
      const a = c.mtiEnc === 'ascii' ? b : EBCDIC_TO_ASCII[b]!;
      if (a < 0x30 || a > 0x39) fail('BAD_MTI', `MTI byte ${hexByte(b)} is not a digit`, undefined, i);
      codes[i] = a;
    }
    s = String.fromCharCode(codes[0]!, codes[1]!, codes[2]!, codes[3]!);
  }
  return s;
}

/** Read one bitmap at `off` into bm[at..at+8); returns the offset after it. */
function readBitmap(c: CompiledSpec, buf: Buffer, off: number, bm: Uint8Array, at: number, which: string): number {
  if (off + c.bitmapBytes > buf.length) {
    fail('TRUNCATED', `message ends inside the ${which} bitmap`, undefined, off);
  }
  if (c.bitmapHex) {
    let b: Buffer;
    try {
      b = readHex(buf, off, off + 16, undefined);
    } catch (e) {
      fail('BAD_BITMAP', `${which} bitmap is not hexadecimal`, undefined, (e as { offset?: number }).offset ?? off);
    }
    for (let i = 0; i < 8; i++) bm[at + i] = b[i]!;
  } else {
    for (let i = 0; i < 8; i++) bm[at + i] = buf[off + i]!;
  }
  return off + c.bitmapBytes;
}

/** Walk MTI, bitmaps and fields up to `limit`, recording offsets. Returns [message, end offset]. */
function scan<F extends FieldMap>(spec: Spec<F>, bytes: Uint8Array, limit: number): [IsoMessage<F>, number] {
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
  const msg = new IsoMessage<F>(spec, mti);
  const o = new Array<number>(387);
  msg._src = buf;
  msg._o = o;
  const v = msg._v;
  const w = msg._w;
  const fields = c.fields;
  const hexMul = c.bitmapHex ? 2 : 1;
  for (let i = 0; i < 4; i++) {
    const j = i * 4;
    w[i] = (bm[j]! << 24) | (bm[j + 1]! << 16) | (bm[j + 2]! << 8) | bm[j + 3]!;
  }
  w[0]! &= 0x7fffffff; // bit 1 is the secondary-bitmap flag, not a field
  if (bmBytes === 8) {
    w[2] = 0;
    w[3] = 0;
  }
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
      let count: number;
      let start: number;
      let len: number;
      if (cf.fixed) {
        count = cf.max;
        start = off;
        len = cf.fixedBytes;
      } else {
        if (off + cf.pfxBytes > end) fail('TRUNCATED', 'message ends inside the length prefix', n, off);
        count = readPrefix(cf, buf, off);
        start = off + cf.pfxBytes;
        len = contentBytes(cf, count);
      }
      if (start + len > end) {
        fail('TRUNCATED', `field needs ${len} bytes but only ${end - start} remain`, n, start);
      }
      const k = n * 3;
      o[k] = start;
      o[k + 1] = start + len;
      o[k + 2] = count;
      v[n] = LAZY;
      off = start + len;
    }
  }
  return [msg, off];
}

/**
 * Parse MTI + bitmap(s) + fields from `bytes` (which must hold exactly one message body).
 * Structure (lengths, bitmap, MTI) is checked now; field contents on first get() unless
 * `eager`. The message keeps a reference to `bytes`.
 */
export function unpack<F extends FieldMap>(spec: Spec<F>, bytes: Uint8Array, opts?: UnpackOptions): IsoMessage<F> {
  const [msg, off] = scan(spec, bytes, 128);
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
  const [msg] = scan(spec, bytes, limit);
  const fields: Record<number, unknown> = {};
  for (const n of fieldNumbers) {
    const val = msg.get(n);
    if (val !== undefined) fields[n] = val;
  }
  return { mti: msg.mti, fields: fields as Pick<FieldValues<F>, K> };
}
