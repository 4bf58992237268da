/**
 * IsoMessage: an MTI plus field values. Messages from unpack() keep a reference to the input
 * bytes and the offsets of every field; a field's value is decoded on first get() and cached
 * (lazy decoding), so a malformed field raises its Iso8583Error from get(), decodeAll() or pack().
 * Do not modify the input buffer while such a message is in use.
 */
import { decodeField } from './compile.js';
import { fail } from './errors.js';
import type { FieldMap, FieldNumber, FieldValue, FieldValues } from './fields.js';
import { COMPILED, fieldOf, type Spec } from './spec.js';

/** Marks a present field whose value has not been decoded yet. */
export const LAZY: unique symbol = Symbol('iso8583.lazy');

export class IsoMessage<F extends FieldMap = FieldMap> {
  readonly spec: Spec<F>;
  /** Message type indicator, 4 digits. Validated on pack. */
  mti: string;
  /** @internal values by field number; undefined = absent, LAZY = present but not decoded. */
  _v: unknown[];
  /**
   * @internal presence bits, 4 x 32: word (n-1)>>5, bit 0x80000000 >>> ((n-1)&31), i.e. the
   * bitmap itself. pack/unpack/fields() iterate set bits with Math.clz32 instead of scanning
   * 128 slots (HOT PATH).
   */
  _w: number[] = [0, 0, 0, 0];
  /** @internal source bytes of an unpacked message. */
  _src: Buffer | null = null;
  /**
   * @internal per received field: content start, content end, unit count (3 entries per field,
   * in field order: entry k*3 belongs to the k-th field of the received bitmap `_r`; count -1
   * once set()/delete() replaced the received value). Sized to the fields actually received
   * rather than 3 x 129 slots: unpack allocated ~4.5 KB per message before (HOT PATH). A plain
   * array on purpose: typed arrays over 64 bytes are allocated off-heap and cost ~1 µs each.
   */
  _o: number[] | null = null;
  /** @internal presence bits as received (same layout as `_w`); never changes after unpack. */
  _r: number[] | null = null;

  /** `slots`: initial length of the value array (highest expected field + 1; it grows on set). */
  constructor(spec: Spec<F>, mti: string, slots = 129) {
    this.spec = spec;
    this.mti = mti;
    this._v = new Array<unknown>(slots);
  }

  /** Value of field `n` (decoded on first access), or undefined when absent. */
  get<K extends FieldNumber<F>>(n: K): FieldValue<F[K]> | undefined {
    const v = this._v[n];
    if (v !== LAZY) return v as FieldValue<F[K]> | undefined;
    return this._decode(n) as FieldValue<F[K]>;
  }

  /** Set field `n`. The value is validated when the message is packed. */
  set<K extends FieldNumber<F>>(n: K, value: FieldValue<F[K]>): this {
    fieldOf(this.spec, n);
    if (value === undefined || value === null) fail('BAD_VALUE', 'value is missing; use delete() to remove a field', n);
    this._put(n, value);
    this._forget(n);
    return this;
  }

  has(n: FieldNumber<F>): boolean {
    return this._v[n] !== undefined;
  }

  delete(n: FieldNumber<F>): this {
    if (this._v[n] === undefined) return this;
    this._v[n] = undefined;
    this._w[(n - 1) >> 5]! &= ~(0x80000000 >>> ((n - 1) & 31));
    this._forget(n);
    return this;
  }

  /** Present field numbers, ascending. */
  fields(): Array<FieldNumber<F>> {
    const out: number[] = [];
    const w = this._w;
    for (let i = 0; i < 4; i++) {
      let x = w[i]!;
      while (x !== 0) {
        const lz = Math.clz32(x);
        out.push(i * 32 + lz + 1);
        x &= ~(0x80000000 >>> lz);
      }
    }
    return out as Array<FieldNumber<F>>;
  }

  /** Decode every lazily held field now (throws the first Iso8583Error found). */
  decodeAll(): this {
    for (const n of this.fields()) if (this._v[n] === LAZY) this._decode(n);
    return this;
  }

  /** All present values as a plain object (decodes everything). */
  toObject(): FieldValues<F> {
    const out: Record<number, unknown> = {};
    for (const n of this.fields()) out[n] = this.get(n);
    return out as FieldValues<F>;
  }

  /**
   * Bytes of field `n` exactly as received (length prefix + content), for an unpacked field that
   * has not been replaced by set(); undefined otherwise. Useful for MAC input or logging.
   */
  raw(n: FieldNumber<F>): Buffer | undefined {
    const o = this._o;
    if (o === null || this._src === null || this._v[n] === undefined) return undefined;
    const k = this._slot(n);
    if (k < 0 || o[k + 2]! < 0) return undefined;
    const cf = this.spec[COMPILED].fields[n]!;
    return this._src.subarray(o[k]! - cf.pfxBytes, o[k + 1]);
  }

  /** @internal store a value and mark it present (no checks). */
  _put(n: number, value: unknown): void {
    this._v[n] = value;
    this._w[(n - 1) >> 5]! |= 0x80000000 >>> ((n - 1) & 31);
  }

  /** @internal */
  _decode(n: number): unknown {
    const cf = this.spec[COMPILED].fields[n]!;
    const o = this._o!;
    const k = this._slot(n);
    const v = decodeField(cf, this._src!, o[k]!, o[k + 1]!, o[k + 2]!);
    this._v[n] = v;
    return v;
  }

  /**
   * @internal index in `_o` of received field `n` (3 x its rank in the received bitmap), or -1
   * when `n` was not received. HOT PATH (every lazy get): a few popcounts, no lookups.
   */
  _slot(n: number): number {
    const r = this._r;
    if (r === null) return -1;
    const i = (n - 1) >> 5;
    const bit = 0x80000000 >>> ((n - 1) & 31);
    const x = r[i]!;
    if ((x & bit) === 0) return -1;
    // fields before n: the bits above `bit` in word i, plus every bit of the earlier words
    let k = popcount(x & ~((bit << 1) - 1));
    for (let j = 0; j < i; j++) k += popcount(r[j]!);
    return k * 3;
  }

  /** @internal the received value of `n` (if any) has been replaced or deleted. */
  _forget(n: number): void {
    if (this._o === null) return;
    const k = this._slot(n);
    if (k >= 0) this._o[k + 2] = -1;
  }
}

/** Set bits in a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * A new message. `fields` values are stored as given and validated on pack.
 */
export function createMessage<F extends FieldMap>(spec: Spec<F>, mti: string, fields?: FieldValues<F>): IsoMessage<F> {
  const m = new IsoMessage<F>(spec, mti);
  if (fields !== undefined) {
    // HOT PATH: indexed reads over 0..129 are ~3x cheaper than for-in over integer keys.
    // Non-numeric keys are ignored (they are compile errors for typed callers).
    const src = fields as Record<number, unknown>;
    const defs = spec[COMPILED].fields;
    const v = m._v;
    const w = m._w;
    for (let n = 0; n <= 129; n++) {
      const val = src[n];
      if (val === undefined) continue;
      if (n > 128 || defs[n] === null) fieldOf(spec, n);
      v[n] = val;
      w[(n - 1) >> 5]! |= 0x80000000 >>> ((n - 1) & 31);
    }
  }
  return m;
}
