/**
 * Specs: a dialect is a typed, plain-data object. defineSpec validates it once and compiles
 * one codec record per field (see compile.ts), so pack/unpack never re-interpret definitions.
 */
import { fail } from './errors.js';
import { CS_N, CS_Z } from './encodings.js';
import {
  E_ASCII, E_BCD, E_BINARY, E_EBCDIC, E_HEX, P_ASCII, P_BCD, P_BINARY, P_EBCDIC, P_NONE, VT_BINARY,
  VT_COMPOSITE, VT_TEXT, VT_TLV, charsetOf, contentBytes,
  type CompiledField, type CompiledSub,
} from './compile.js';
import type { FieldDef, FieldMap, LengthType } from './fields.js';

export type MtiEncoding = 'bcd' | 'ascii' | 'ebcdic';
/** binary: 8 raw bytes per bitmap; hex: 16 upper-case ASCII hex characters per bitmap. */
export type BitmapEncoding = 'binary' | 'hex';

export interface SpecDefinition<F extends FieldMap = FieldMap> {
  readonly name: string;
  readonly description?: string;
  readonly mti: { readonly encoding: MtiEncoding };
  /** secondary: whether fields 65-128 (bit 1 = secondary bitmap present) are allowed. */
  readonly bitmap: { readonly encoding: BitmapEncoding; readonly secondary: boolean };
  readonly fields: F;
}

export interface CompiledSpec {
  /** Index = field number (1..128); null where undefined. */
  readonly fields: ReadonlyArray<CompiledField | null>;
  readonly numbers: readonly number[];
  readonly mtiEnc: MtiEncoding;
  readonly mtiBytes: number;
  readonly bitmapHex: boolean;
  readonly secondary: boolean;
  /** Bytes of one bitmap (8 or 16). */
  readonly bitmapBytes: number;
}

export const COMPILED: unique symbol = Symbol('iso8583.compiled');

export interface Spec<F extends FieldMap = FieldMap> extends SpecDefinition<F> {
  readonly [COMPILED]: CompiledSpec;
}

const LENGTH_DIGITS: Record<LengthType, number> = { fixed: 0, LL: 2, LLL: 3, LLLL: 4 };

function specError(message: string, field?: number | string): never {
  fail('BAD_SPEC', message, field);
}

function isInt(n: unknown, min: number, max: number): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

function compileField(no: number, def: FieldDef): CompiledField {
  const bad = (m: string): never => specError(m, no);
  if (typeof def !== 'object' || def === null) bad('definition must be an object');
  const kind = def.kind;
  const lengthType = def.lengthType;
  if (!(lengthType in LENGTH_DIGITS)) bad(`lengthType must be fixed, LL, LLL or LLLL (got ${String(lengthType)})`);
  const fixedLen = lengthType === 'fixed';

  let vt: number;
  let enc: number;
  let cs = 0;
  switch (kind) {
    case 'n': case 'a': case 'an': case 'ans': case 'z': case 'composite': {
      vt = kind === 'composite' ? VT_COMPOSITE : VT_TEXT;
      const e = def.encoding ?? 'ascii';
      enc = e === 'ascii' ? E_ASCII : e === 'ebcdic' ? E_EBCDIC : e === 'bcd' ? E_BCD : bad(`text encoding must be ascii, ebcdic or bcd (got ${String(e)})`);
      break;
    }
    case 'b': case 'tlv': {
      vt = kind === 'b' ? VT_BINARY : VT_TLV;
      const e = def.encoding ?? 'binary';
      enc = e === 'binary' ? E_BINARY : e === 'hex' ? E_HEX : bad(`binary encoding must be binary or hex (got ${String(e)})`);
      break;
    }
    default:
      return bad(`unknown kind ${JSON.stringify(kind)}`);
  }

  let subs: CompiledSub[] | null = null;
  if (kind === 'composite') {
    const raw = def.subfields;
    if (typeof raw !== 'object' || raw === null) bad('composite needs subfields');
    const keys = Object.keys(raw).map(Number).sort((a, b) => a - b);
    if (keys.length === 0) bad('composite needs at least one sub-field');
    subs = [];
    let total = 0;
    let seenOptional = false;
    keys.forEach((k, i) => {
      const sd = raw[k]!;
      const id = `${no}.${k}`;
      if (k !== i + 1) specError('sub-fields must be numbered 1, 2, 3 … without gaps', id);
      if (typeof sd !== 'object' || sd === null) specError('sub-field definition must be an object', id);
      if (!['n', 'a', 'an', 'ans'].includes(sd.kind)) specError(`sub-field kind must be n, a, an or ans (got ${JSON.stringify(sd.kind)})`, id);
      if (!isInt(sd.length, 1, 9999)) specError('sub-field length must be a positive integer', id);
      if (typeof sd.name !== 'string') specError('sub-field name must be a string', id);
      if (sd.optional !== undefined && typeof sd.optional !== 'boolean') specError('optional must be true or false', id);
      const optional = sd.optional === true;
      if (seenOptional && !optional) specError('a required sub-field cannot follow an optional one', id);
      seenOptional ||= optional;
      if (enc === E_BCD && sd.kind !== 'n') specError('BCD composites can only hold n sub-fields', id);
      total += sd.length;
      subs!.push({ key: k, id, name: sd.name, kind: sd.kind, length: sd.length, optional, cs: charsetOf(sd.kind, false) });
    });
    if (fixedLen && (seenOptional || total !== def.length)) bad('a fixed composite needs required sub-fields summing to its length');
    if (!fixedLen && total > def.length) bad(`sub-fields total ${total} exceeds the maximum ${def.length}`);
    cs = enc === E_BCD ? CS_N : subs.reduce((m, s) => m | s.cs, 0);
  } else if (vt === VT_TEXT) {
    const anyByte = 'anyByte' in def && def.anyByte === true;
    if (anyByte && (kind !== 'ans' || enc !== E_ASCII)) bad('anyByte needs kind ans with ascii encoding');
    cs = charsetOf(kind as 'n', anyByte);
  }
  if (enc === E_BCD && vt === VT_TEXT && cs !== CS_N && cs !== CS_Z) bad(`BCD encoding needs kind n or z (got ${kind})`);

  const unit = def.unit ?? (vt === VT_BINARY || vt === VT_TLV ? 'bytes' : 'chars');
  if (unit !== 'chars' && unit !== 'bytes') bad(`unit must be chars or bytes (got ${String(unit)})`);
  const unitBytes = unit === 'bytes';
  if (enc === E_BINARY && !unitBytes) bad('raw binary fields count bytes (unit "bytes")');
  if (vt === VT_COMPOSITE && unitBytes && enc === E_BCD) bad('BCD composites count digits (unit "chars")');

  if (!isInt(def.length, 1, 65535)) bad('length must be a positive integer');
  let pfx = P_NONE;
  let pfxBytes = 0;
  if (!fixedLen) {
    const p = def.prefix ?? 'ascii';
    const digits = LENGTH_DIGITS[lengthType];
    switch (p) {
      case 'ascii': pfx = P_ASCII; pfxBytes = digits; break;
      case 'ebcdic': pfx = P_EBCDIC; pfxBytes = digits; break;
      case 'bcd': pfx = P_BCD; pfxBytes = digits === 2 ? 1 : 2; break;
      case 'binary': pfx = P_BINARY; pfxBytes = digits === 2 ? 1 : 2; break;
      default: bad(`prefix must be ascii, ebcdic, bcd or binary (got ${String(p)})`);
    }
    const cap = pfx === P_BINARY ? (pfxBytes === 1 ? 255 : 65535) : 10 ** digits - 1;
    if (def.length > cap) bad(`maximum ${def.length} does not fit a ${lengthType} ${p} prefix (max ${cap})`);
  } else if (def.prefix !== undefined) {
    bad('fixed fields take no prefix');
  }
  if (enc === E_HEX && !unitBytes && def.length % 2 === 1 && fixedLen) bad('a fixed hex field counted in characters needs an even length');

  let left = false;
  let pad = 0;
  const text = def as { align?: unknown; pad?: unknown; padOnPack?: unknown };
  if (text.align !== undefined) {
    if (text.align !== 'left' && text.align !== 'right') bad('align must be left or right');
    left = text.align === 'left';
  }
  if (text.pad !== undefined) {
    if (!isInt(text.pad, 0, 15)) bad('pad must be a nibble value 0-15');
    pad = text.pad as number;
  }
  const padOnPack = text.padOnPack === true;
  if (padOnPack && !(vt === VT_TEXT && fixedLen && kind !== 'z')) bad('padOnPack applies to fixed n/a/an/ans fields only');
  if (def.sensitive !== undefined && !['pan', 'track', 'pin', 'key', 'cvv', 'mac'].includes(def.sensitive)) {
    bad(`unknown sensitivity ${JSON.stringify(def.sensitive)}`);
  }
  if (def.name !== undefined && typeof def.name !== 'string') bad('name must be a string');

  const partial = { enc, unitBytes } as CompiledField;
  const fixedBytes = fixedLen ? contentBytes(partial, def.length) : -1;
  const encName = def.encoding ?? (vt === VT_BINARY || vt === VT_TLV ? 'binary' : 'ascii');
  const format =
    `${kind === 'composite' ? 'composite' : kind}${fixedLen ? def.length : '..' + def.length}` +
    (fixedLen ? '' : ` ${lengthType}(${def.prefix ?? 'ascii'}${unitBytes && vt !== VT_BINARY && vt !== VT_TLV ? ', bytes' : ''})`) +
    ` ${encName}${enc === E_BCD && left ? ' left' : ''}`;

  return {
    no, name: def.name ?? `Field ${no}`, def, kind, vt, enc, cs, track: cs === CS_Z, fixed: fixedLen,
    max: def.length, pfx, pfxBytes, unitBytes, left, pad, padOnPack, fixedBytes, subs,
    sensitive: def.sensitive, format,
  };
}

/**
 * Validate and compile a spec. Throws Iso8583Error('BAD_SPEC') naming the offending field.
 * Pass the object literal directly (or `as const`) so field value types are inferred.
 */
export function defineSpec<const F extends FieldMap>(def: SpecDefinition<F>): Spec<F> {
  if (typeof def !== 'object' || def === null) specError('spec must be an object');
  if (typeof def.name !== 'string' || def.name.length === 0) specError('spec name must be a non-empty string');
  const mtiEnc = def.mti?.encoding;
  if (mtiEnc !== 'bcd' && mtiEnc !== 'ascii' && mtiEnc !== 'ebcdic') specError('mti.encoding must be bcd, ascii or ebcdic');
  const bmEnc = def.bitmap?.encoding;
  if (bmEnc !== 'binary' && bmEnc !== 'hex') specError('bitmap.encoding must be binary or hex');
  if (typeof def.bitmap.secondary !== 'boolean') specError('bitmap.secondary must be true or false');
  if (typeof def.fields !== 'object' || def.fields === null) specError('fields must be an object');
  const secondary = def.bitmap.secondary;
  const fields: Array<CompiledField | null> = new Array<CompiledField | null>(129).fill(null);
  const numbers: number[] = [];
  for (const key of Object.keys(def.fields)) {
    const no = Number(key);
    if (!isInt(no, 1, 128) || String(no) !== key) specError(`field key ${JSON.stringify(key)} is not a field number 2-128`);
    if (no === 1) specError('field 1 is the secondary bitmap; set bitmap.secondary instead', 1);
    if (no === 65) specError('field 65 (tertiary bitmap) is not supported', 65);
    if (no > 64 && !secondary) specError(`field ${no} needs bitmap.secondary: true`, no);
    fields[no] = compileField(no, (def.fields as Record<number, FieldDef>)[no]!);
    numbers.push(no);
  }
  const compiled: CompiledSpec = {
    fields,
    numbers,
    mtiEnc,
    mtiBytes: mtiEnc === 'bcd' ? 2 : 4,
    bitmapHex: bmEnc === 'hex',
    secondary,
    bitmapBytes: bmEnc === 'hex' ? 16 : 8,
  };
  const spec = { ...def, [COMPILED]: compiled };
  Object.defineProperty(spec, COMPILED, { enumerable: false });
  return Object.freeze(spec) as Spec<F>;
}

/** Compiled field for `no`, or throws UNDEFINED_FIELD. */
export function fieldOf(spec: Spec<FieldMap>, no: number): CompiledField {
  const cf = Number.isInteger(no) && no >= 0 && no <= 128 ? spec[COMPILED].fields[no] : null;
  if (!cf) fail('UNDEFINED_FIELD', `field ${no} is not defined in spec ${spec.name}`, no);
  return cf;
}

/** Human description of the encoding of field `no` (as dump prints it). */
export function fieldFormat(spec: Spec<FieldMap>, no: number): string {
  return fieldOf(spec, no).format;
}
