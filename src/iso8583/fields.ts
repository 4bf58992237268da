/**
 * Field definitions are plain, JSON-compatible data. The builders below (`fixed`, `llvar`,
 * `lllvar`, `llllvar`, `composite`, `sub`) only fill in the kind and length type and keep the
 * literal kind in the type, so a spec's field value types are known at compile time.
 */
import type { TlvItem } from './tlv.js';

export type Sensitivity = 'pan' | 'track' | 'pin' | 'key' | 'cvv' | 'mac';
/** n numeric · a alphabetic · an alphanumeric · ans printable · z track data (digits, '=', 'D'). */
export type StringKind = 'n' | 'a' | 'an' | 'ans' | 'z';
export type FieldKind = StringKind | 'b' | 'composite' | 'tlv';
export type LengthType = 'fixed' | 'LL' | 'LLL' | 'LLLL';
/**
 * Length prefix encoding. ascii/ebcdic: one character per digit (2, 3 or 4 bytes).
 * bcd: LL = 1 byte, LLL/LLLL = 2 bytes. binary: LL = 1 byte, LLL/LLLL = 2 bytes big-endian.
 */
export type PrefixEncoding = 'ascii' | 'ebcdic' | 'bcd' | 'binary';
export type TextEncoding = 'ascii' | 'ebcdic' | 'bcd';
/** binary: raw bytes; hex: bytes carried as upper-case ASCII hex (two characters per byte). */
export type BinaryEncoding = 'binary' | 'hex';
/** What the length prefix (and `length`) counts: characters/digits or encoded bytes. */
export type LengthUnit = 'chars' | 'bytes';

interface CommonDef {
  readonly name?: string;
  readonly lengthType: LengthType;
  /** Exact length (fixed) or maximum (variable), in `unit`s. */
  readonly length: number;
  /** Variable fields only. Default 'ascii'. */
  readonly prefix?: PrefixEncoding;
  /** Default 'chars' for text and composite fields, 'bytes' for b and tlv. */
  readonly unit?: LengthUnit;
  readonly sensitive?: Sensitivity;
}

interface TextOptions {
  /** Default 'ascii'. */
  readonly encoding?: TextEncoding;
  /** BCD only: where the digits sit when the count is odd. Default 'right' (leading pad nibble). */
  readonly align?: 'left' | 'right';
  /** BCD only: pad nibble value 0-15 for odd counts. Default 0 (F = 15 is common for track data). */
  readonly pad?: number;
}

export interface StringFieldDef<K extends StringKind = StringKind> extends CommonDef, TextOptions {
  readonly kind: K;
  /** Fixed fields: a shorter value is padded on pack (n: leading zeros; a/an/ans: trailing spaces). */
  readonly padOnPack?: boolean;
  /** ans only: accept any character 0x00-0xFF (carried byte-for-byte, e.g. GBK text in latin1). */
  readonly anyByte?: boolean;
}

export interface BinaryFieldDef extends CommonDef {
  readonly kind: 'b';
  /** Default 'binary'. */
  readonly encoding?: BinaryEncoding;
}

export interface TlvFieldDef extends CommonDef {
  readonly kind: 'tlv';
  readonly encoding?: BinaryEncoding;
}

export interface SubfieldDef {
  readonly name: string;
  readonly kind: 'n' | 'a' | 'an' | 'ans';
  readonly length: number;
  /** Optional sub-fields must all come after the required ones (trailing). */
  readonly optional?: boolean;
}

export type SubfieldMap = { readonly [sub: number]: SubfieldDef };

export interface CompositeFieldDef<S extends SubfieldMap = SubfieldMap> extends CommonDef, TextOptions {
  readonly kind: 'composite';
  /** Fixed-length sub-fields numbered 1..n in order; their concatenation is the field's text. */
  readonly subfields: S;
}

export type FieldDef = StringFieldDef | BinaryFieldDef | TlvFieldDef | CompositeFieldDef;

export type FieldMap = { readonly [field: number]: FieldDef };

// ---------------------------------------------------------------------------------------------
// Value types derived from definitions

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Value of a composite: required sub-fields are required keys, optional (trailing) ones optional. */
export type CompositeValue<S> = Simplify<
  { -readonly [K in keyof S as S[K] extends { readonly optional: true } ? never : K]: string } & {
    -readonly [K in keyof S as S[K] extends { readonly optional: true } ? K : never]?: string;
  }
>;

export type FieldValue<D> = D extends { readonly kind: 'b' }
  ? Buffer
  : D extends { readonly kind: 'tlv' }
    ? TlvItem[]
    : D extends { readonly kind: 'composite'; readonly subfields: infer S }
      ? CompositeValue<S>
      : D extends { readonly kind: StringKind }
        ? string
        : never;

/** Field numbers defined by a field map. */
export type FieldNumber<F> = keyof F & number;

/** An object of field values for a spec's fields, all optional (as accepted by createMessage). */
export type FieldValues<F> = { [K in FieldNumber<F>]?: FieldValue<F[K]> };

// ---------------------------------------------------------------------------------------------
// Builders

export type TextOpts = Omit<StringFieldDef, 'kind' | 'lengthType' | 'length'>;
export type BinaryOpts = Omit<BinaryFieldDef, 'kind' | 'lengthType' | 'length'>;
export type TlvOpts = Omit<TlvFieldDef, 'kind' | 'lengthType' | 'length'>;
export type CompositeOpts = Omit<CompositeFieldDef, 'kind' | 'lengthType' | 'length' | 'subfields'>;

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export interface LengthBuilders {
  n(length: number, opts?: TextOpts): StringFieldDef<'n'>;
  a(length: number, opts?: TextOpts): StringFieldDef<'a'>;
  an(length: number, opts?: TextOpts): StringFieldDef<'an'>;
  ans(length: number, opts?: TextOpts): StringFieldDef<'ans'>;
  z(length: number, opts?: TextOpts): StringFieldDef<'z'>;
  b(length: number, opts?: BinaryOpts): BinaryFieldDef;
  tlv(length: number, opts?: TlvOpts): TlvFieldDef;
}

function builders(lengthType: LengthType): LengthBuilders {
  const text =
    <K extends StringKind>(kind: K) =>
    (length: number, opts: TextOpts = {}): StringFieldDef<K> =>
      clean({ ...opts, kind, lengthType, length });
  return {
    n: text('n'),
    a: text('a'),
    an: text('an'),
    ans: text('ans'),
    z: text('z'),
    b: (length, opts = {}) => clean({ ...opts, kind: 'b', lengthType, length }),
    tlv: (length, opts = {}) => clean({ ...opts, kind: 'tlv', lengthType, length }),
  };
}

/** Fixed-length fields: `fixed.n(6, { encoding: 'bcd' })`. */
export const fixed = builders('fixed');
/** Variable fields with a 2-digit length prefix. */
export const llvar = builders('LL');
/** Variable fields with a 3-digit length prefix. */
export const lllvar = builders('LLL');
/** Variable fields with a 4-digit length prefix. */
export const llllvar = builders('LLLL');

/** Composite field: `composite('LLL', 17, { 1: sub.n(2, 'Type'), 4: sub.n(1, 'Cap', { optional: true }) }, opts)`. */
export function composite<const S extends SubfieldMap>(
  lengthType: LengthType,
  length: number,
  subfields: S,
  opts: CompositeOpts = {},
): CompositeFieldDef<S> {
  return clean({ ...opts, kind: 'composite', lengthType, length, subfields });
}

type SubBuilder<K extends SubfieldDef['kind']> = <const O extends boolean = false>(
  length: number,
  name: string,
  opts?: { optional?: O },
) => { readonly kind: K; readonly length: number; readonly name: string; readonly optional: O };

function subBuilder<K extends SubfieldDef['kind']>(kind: K): SubBuilder<K> {
  return (length, name, opts) => ({ kind, length, name, optional: (opts?.optional ?? false) as never });
}

/** Sub-field builders for composite fields. */
export const sub = {
  n: subBuilder('n'),
  a: subBuilder('a'),
  an: subBuilder('an'),
  ans: subBuilder('ans'),
};
