/**
 * Per-field codecs, compiled once by defineSpec. A compiled field is a flat, monomorphic record
 * (small-integer enums, no closures) so the pack/unpack loops stay on one hidden class and
 * dispatch with switches. HOT PATH: prepareValue, writeField, scanField, decodeField.
 */
import { fail } from './errors.js';
import {
  CS_A, CS_AN, CS_ANS, CS_ANY, CS_N, CS_Z, bcdBytes, findBadByte, findBadChar, readAscii, readBcd,
  readEbcdic, readHex, writeAscii, writeAsciiChecked, writeBcd, writeBcdChecked, writeEbcdic, writeHex,
  ASCII_TO_EBCDIC,
} from './encodings.js';
import type { FieldDef, Sensitivity, StringKind, SubfieldDef } from './fields.js';
import { buildTlv, parseTlv } from './tlv.js';

// value types
export const VT_TEXT = 0;
export const VT_BINARY = 1;
export const VT_COMPOSITE = 2;
export const VT_TLV = 3;
// encodings
export const E_ASCII = 0;
export const E_EBCDIC = 1;
export const E_BCD = 2;
export const E_BINARY = 3;
export const E_HEX = 4;
// prefix encodings
export const P_NONE = 0;
export const P_ASCII = 1;
export const P_EBCDIC = 2;
export const P_BCD = 3;
export const P_BINARY = 4;

export interface CompiledSub {
  readonly key: number;
  readonly id: string;
  readonly name: string;
  readonly kind: SubfieldDef['kind'];
  readonly length: number;
  readonly optional: boolean;
  readonly cs: number;
}

export interface CompiledField {
  readonly no: number;
  readonly name: string;
  readonly def: FieldDef;
  readonly kind: FieldDef['kind'];
  readonly vt: number;
  readonly enc: number;
  /** Character-class mask for text (and for a composite's whole text). */
  readonly cs: number;
  readonly track: boolean;
  readonly fixed: boolean;
  /** Exact (fixed) or maximum (variable) length in units. */
  readonly max: number;
  readonly pfx: number;
  readonly pfxBytes: number;
  readonly unitBytes: boolean;
  readonly left: boolean;
  readonly pad: number;
  readonly padOnPack: boolean;
  /** Content bytes of a fixed field; -1 for variable ones. */
  readonly fixedBytes: number;
  readonly subs: readonly CompiledSub[] | null;
  readonly sensitive: Sensitivity | undefined;
  /** Human format string for dump, e.g. "n..19 LL(bcd) bcd". */
  readonly format: string;
}

export function charsetOf(kind: StringKind | SubfieldDef['kind'], anyByte: boolean): number {
  switch (kind) {
    case 'n': return CS_N;
    case 'z': return CS_Z;
    case 'a': return CS_A;
    case 'an': return CS_AN;
    default: return anyByte ? CS_ANY : CS_ANS;
  }
}

const CHARSET_NAME: Record<number, string> = {
  [CS_N]: 'digits', [CS_Z]: 'track characters (digits, "=", "D")', [CS_A]: 'letters and spaces',
  [CS_AN]: 'letters, digits and spaces', [CS_ANS]: 'printable ASCII', [CS_ANY]: 'single-byte characters',
};

export function charsetName(cs: number): string {
  return CHARSET_NAME[cs] ?? 'the field character set';
}

/** Content bytes for `count` units. */
export function contentBytes(cf: CompiledField, count: number): number {
  switch (cf.enc) {
    case E_BCD: return cf.unitBytes ? count : bcdBytes(count);
    case E_HEX: return cf.unitBytes ? count * 2 : count;
    default: return count;
  }
}

// ---------------------------------------------------------------------------------------------
// Pack side

/** A value normalised for writing: a string (text/composite) or bytes (binary/tlv). */
export type Prepared = string | Buffer | Uint8Array;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

/** Length of a prepared value in units (what the prefix says). */
export function unitsOf(cf: CompiledField, p: Prepared): number {
  if (typeof p === 'string') return cf.unitBytes && cf.enc === E_BCD ? bcdBytes(p.length) : p.length;
  return cf.enc === E_HEX && !cf.unitBytes ? p.length * 2 : p.length;
}

/**
 * Validate a value for field `cf` and return it in writable form. Throws Iso8583Error naming
 * the field. HOT PATH (pack).
 */
export function prepareValue(cf: CompiledField, v: unknown): Prepared {
  switch (cf.vt) {
    case VT_TEXT: {
      if (typeof v !== 'string') fail('BAD_VALUE', `expected a string, got ${describe(v)}`, cf.no);
      return checkText(cf, v, cf.no);
    }
    case VT_BINARY: {
      if (!(v instanceof Uint8Array)) fail('BAD_VALUE', `expected a Buffer, got ${describe(v)}`, cf.no);
      checkUnits(cf, unitsOf(cf, v), cf.no);
      return v;
    }
    case VT_COMPOSITE:
      return checkText(cf, joinComposite(cf, v), cf.no);
    default: {
      const bytes = buildTlv(v as never, cf.no);
      checkUnits(cf, unitsOf(cf, bytes), cf.no);
      return bytes;
    }
  }
}

function checkUnits(cf: CompiledField, units: number, field: number | string): void {
  if (cf.fixed) {
    if (units !== cf.max) fail('BAD_LENGTH', `length ${units} but the field is fixed at ${cf.max}`, field);
  } else if (units > cf.max) {
    fail('LENGTH_OVER_MAX', `length ${units} exceeds the maximum ${cf.max}`, field);
  }
}

/**
 * The length part of checkText, without throwing: `s` (padded when the field pads on pack) if
 * its length is acceptable, else null. HOT PATH (pack fast path).
 */
export function fitText(cf: CompiledField, s: string): string | null {
  if (cf.fixed) {
    if (s.length === cf.max) return s;
    if (s.length < cf.max && cf.padOnPack) return cf.kind === 'n' ? s.padStart(cf.max, '0') : s.padEnd(cf.max, ' ');
    return null;
  }
  const units = cf.unitBytes && cf.enc === E_BCD ? bcdBytes(s.length) : s.length;
  return units > cf.max ? null : s;
}

/**
 * writeField for ASCII or BCD text whose length fitText accepted, checking the character set
 * while encoding (what checkText's findBadChar does separately). Returns the new offset, or -1
 * at the first character outside the set (the buffer is then garbage). HOT PATH.
 */
export function writeTextChecked(cf: CompiledField, buf: Buffer, off: number, s: string): number {
  if (!cf.fixed) off = writePrefix(cf, buf, off, unitsOf(cf, s));
  return cf.enc === E_BCD
    ? writeBcdChecked(buf, off, s, cf.left, cf.pad, cf.cs)
    : writeAsciiChecked(buf, off, s, cf.cs);
}

function checkText(cf: CompiledField, s: string, field: number | string): string {
  if (cf.fixed && s.length !== cf.max) {
    if (s.length < cf.max && cf.padOnPack) {
      s = cf.kind === 'n' ? s.padStart(cf.max, '0') : s.padEnd(cf.max, ' ');
    } else {
      fail('BAD_LENGTH', `length ${s.length} but the field is fixed at ${cf.max}`, field);
    }
  } else if (!cf.fixed) {
    const units = cf.unitBytes && cf.enc === E_BCD ? bcdBytes(s.length) : s.length;
    if (units > cf.max) fail('LENGTH_OVER_MAX', `length ${units} exceeds the maximum ${cf.max}`, field);
  }
  const bad = findBadChar(s, cf.cs);
  if (bad >= 0) {
    fail('BAD_CHARSET', `character ${JSON.stringify(s[bad])} at position ${bad} is not allowed (${charsetName(cf.cs)})`, field);
  }
  if (cf.enc === E_EBCDIC) {
    for (let i = 0; i < s.length; i++) {
      if (ASCII_TO_EBCDIC[s.charCodeAt(i)] === 0) {
        fail('BAD_CHARSET', `character ${JSON.stringify(s[i])} has no EBCDIC mapping`, field);
      }
    }
  }
  return s;
}

function joinComposite(cf: CompiledField, v: unknown): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    fail('BAD_VALUE', `expected an object of sub-fields, got ${describe(v)}`, cf.no);
  }
  const obj = v as Record<string, unknown>;
  const subs = cf.subs!;
  let out = '';
  let missingAt = -1;
  let given = 0;
  for (let i = 0; i < subs.length; i++) {
    const sd = subs[i]!;
    const sv = obj[sd.key];
    if (sv === undefined) {
      if (!sd.optional) fail('MISSING_FIELD', `required sub-field ${sd.id} (${sd.name}) is missing`, sd.id);
      if (missingAt < 0) missingAt = i;
      continue;
    }
    given++;
    if (missingAt >= 0) {
      fail('BAD_VALUE', `sub-field ${sd.id} is set but ${subs[missingAt]!.id} before it is not`, sd.id);
    }
    if (typeof sv !== 'string') fail('BAD_VALUE', `expected a string, got ${describe(sv)}`, sd.id);
    if (sv.length !== sd.length) fail('BAD_LENGTH', `length ${sv.length} but the sub-field is fixed at ${sd.length}`, sd.id);
    const bad = findBadChar(sv, sd.cs);
    if (bad >= 0) fail('BAD_CHARSET', `character ${JSON.stringify(sv[bad])} at position ${bad} is not allowed (${charsetName(sd.cs)})`, sd.id);
    out += sv;
  }
  // Keys other than the defined sub-fields are a caller error (a typo would otherwise vanish).
  let keys = 0;
  for (const k in obj) if (obj[k] !== undefined) keys++;
  if (keys !== given) {
    for (const k in obj) {
      if (obj[k] !== undefined && !subs.some((s) => String(s.key) === k)) {
        fail('UNDEFINED_FIELD', `sub-field ${cf.no}.${k} is not defined`, `${cf.no}.${k}`);
      }
    }
  }
  return out;
}

function writePrefix(cf: CompiledField, buf: Buffer, off: number, n: number): number {
  switch (cf.pfx) {
    case P_BCD:
      if (cf.pfxBytes === 1) {
        buf[off] = (((n / 10) | 0) << 4) | n % 10;
      } else {
        buf[off] = (((n / 1000) | 0) << 4) | ((n / 100) | 0) % 10;
        buf[off + 1] = ((((n / 10) | 0) % 10) << 4) | n % 10;
      }
      return off + cf.pfxBytes;
    case P_BINARY:
      if (cf.pfxBytes === 1) buf[off] = n;
      else {
        buf[off] = n >>> 8;
        buf[off + 1] = n & 0xff;
      }
      return off + cf.pfxBytes;
    default: {
      // ASCII / EBCDIC digits, most significant first
      const base = cf.pfx === P_ASCII ? 0x30 : 0xf0;
      for (let i = cf.pfxBytes - 1; i >= 0; i--) {
        buf[off + i] = base + (n % 10);
        n = (n / 10) | 0;
      }
      return off + cf.pfxBytes;
    }
  }
}

/** Encoded size (prefix + content) of a prepared value. */
export function packedSize(cf: CompiledField, p: Prepared): number {
  return cf.pfxBytes + (cf.fixed ? cf.fixedBytes : contentBytes(cf, unitsOf(cf, p)));
}

/** Write prefix + content; returns the new offset. HOT PATH. */
export function writeField(cf: CompiledField, buf: Buffer, off: number, p: Prepared): number {
  if (!cf.fixed) off = writePrefix(cf, buf, off, unitsOf(cf, p));
  if (typeof p === 'string') {
    switch (cf.enc) {
      case E_BCD: return writeBcd(buf, off, p, cf.left, cf.pad);
      case E_EBCDIC: return writeEbcdic(buf, off, p);
      default: return writeAscii(buf, off, p);
    }
  }
  if (cf.enc === E_HEX) return writeHex(buf, off, p);
  const n = p.length;
  if (n > 64) buf.set(p, off); // a JS loop beats the native copy below ~64 bytes
  else for (let i = 0; i < n; i++) buf[off + i] = p[i]!;
  return off + n;
}

// ---------------------------------------------------------------------------------------------
// Unpack side

/**
 * Read the length prefix at `off` and return the unit count, validating digits and maximum.
 * HOT PATH.
 */
export function readPrefix(cf: CompiledField, buf: Uint8Array, off: number): number {
  let n = 0;
  switch (cf.pfx) {
    case P_BCD: {
      for (let i = 0; i < cf.pfxBytes; i++) {
        const b = buf[off + i]!;
        const hi = b >> 4;
        const lo = b & 15;
        if (hi > 9 || lo > 9) fail('BAD_LENGTH_PREFIX', `length byte ${b.toString(16).padStart(2, '0').toUpperCase()} is not BCD`, cf.no, off + i);
        n = n * 100 + hi * 10 + lo;
      }
      if (cf.def.lengthType === 'LLL' && n > 999) fail('BAD_LENGTH_PREFIX', `LLL length ${n} has more than 3 digits`, cf.no, off);
      break;
    }
    case P_BINARY:
      n = cf.pfxBytes === 1 ? buf[off]! : (buf[off]! << 8) | buf[off + 1]!;
      break;
    default: {
      const base = cf.pfx === P_ASCII ? 0x30 : 0xf0;
      for (let i = 0; i < cf.pfxBytes; i++) {
        const d = buf[off + i]! - base;
        if (d < 0 || d > 9) fail('BAD_LENGTH_PREFIX', `length character at byte ${off + i} is not a digit`, cf.no, off + i);
        n = n * 10 + d;
      }
    }
  }
  if (n > cf.max) fail('LENGTH_OVER_MAX', `length ${n} exceeds the maximum ${cf.max}`, cf.no, off);
  if (cf.enc === E_HEX && !cf.unitBytes && (n & 1) === 1) {
    fail('BAD_LENGTH_PREFIX', `hex length ${n} is odd`, cf.no, off);
  }
  return n;
}

/**
 * Decode content buf[start,end) holding `count` units. Throws Iso8583Error with absolute offsets.
 * Runs lazily on first get(). HOT PATH.
 */
export function decodeField(cf: CompiledField, buf: Buffer, start: number, end: number, count: number): unknown {
  switch (cf.vt) {
    case VT_TEXT:
      return decodeText(cf, buf, start, end, count, cf.no);
    case VT_BINARY:
      return cf.enc === E_HEX ? readHex(buf, start, end, cf.no) : copyBytes(buf, start, end);
    case VT_COMPOSITE:
      return splitComposite(cf, decodeText(cf, buf, start, end, count, cf.no), buf, start);
    default: {
      const bytes = cf.enc === E_HEX ? readHex(buf, start, end, cf.no) : buf.subarray(start, end);
      return parseTlv(bytes, cf.no, cf.enc === E_HEX ? undefined : start);
    }
  }
}

/** Copy of buf[start,end). HOT PATH: a JS loop beats the native copy below ~64 bytes. */
function copyBytes(buf: Buffer, start: number, end: number): Buffer {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n > 64) buf.copy(out, 0, start, end);
  else for (let i = 0; i < n; i++) out[i] = buf[start + i]!;
  return out;
}

function decodeText(cf: CompiledField, buf: Buffer, start: number, end: number, count: number, field: number): string {
  switch (cf.enc) {
    case E_BCD: {
      let digits = cf.fixed || !cf.unitBytes ? count : count * 2;
      if (!cf.fixed && cf.unitBytes && cf.pad > 9 && count > 0) {
        // byte-counted BCD: a non-decimal pad nibble marks an odd digit count
        const padNib = cf.left ? buf[end - 1]! & 15 : buf[start]! >> 4;
        if (padNib === cf.pad) digits--;
      }
      return readBcd(buf, start, digits, cf.left, cf.track, field);
    }
    case E_EBCDIC: {
      const s = readEbcdic(buf, start, end, field);
      const bad = findBadChar(s, cf.cs);
      if (bad >= 0) fail('BAD_CHARSET', `character ${JSON.stringify(s[bad])} is not allowed (${charsetName(cf.cs)})`, field, start + bad);
      return s;
    }
    default: {
      const bad = findBadByte(buf, start, end, cf.cs);
      if (bad >= 0) fail('BAD_CHARSET', `byte 0x${buf[bad]!.toString(16).padStart(2, '0')} is not allowed (${charsetName(cf.cs)})`, field, bad);
      return readAscii(buf, start, end);
    }
  }
}

function splitComposite(cf: CompiledField, s: string, _buf: Buffer, start: number): Record<number, string> {
  const subs = cf.subs!;
  const out: Record<number, string> = {};
  const bcd = cf.enc === E_BCD;
  let pos = 0;
  for (let i = 0; i < subs.length; i++) {
    const sd = subs[i]!;
    const at = start + (bcd ? pos >> 1 : pos);
    if (pos === s.length) {
      if (sd.optional) break;
      fail('MISSING_FIELD', `required sub-field ${sd.id} (${sd.name}) is missing`, sd.id, at);
    }
    if (pos + sd.length > s.length) {
      fail('BAD_LENGTH', `sub-field ${sd.id} needs ${sd.length} characters, only ${s.length - pos} left`, sd.id, at);
    }
    const piece = s.slice(pos, pos + sd.length);
    if (sd.cs !== cf.cs) {
      const bad = findBadChar(piece, sd.cs);
      if (bad >= 0) fail('BAD_CHARSET', `character ${JSON.stringify(piece[bad])} is not allowed (${charsetName(sd.cs)})`, sd.id, at);
    }
    out[sd.key] = piece;
    pos += sd.length;
  }
  if (pos < s.length) {
    fail('BAD_LENGTH', `${s.length - pos} characters left over after the last sub-field`, cf.no, start + (bcd ? pos >> 1 : pos));
  }
  return out;
}
