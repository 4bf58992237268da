/**
 * BER-TLV as used in EMV field 55: multi-byte tags (first byte low bits 11111, following bytes
 * continue while bit 8 is set), short and long-form lengths (0x81..0x84). Values of constructed
 * tags are kept as raw bytes; call parseTlv on them to descend.
 */
import { fail } from './errors.js';
import { hexByte } from './encodings.js';

export interface TlvItem {
  /** Tag as upper-case hex, e.g. "9F26". */
  tag: string;
  value: Buffer;
}

/**
 * Parse a complete TLV list. `field` and `base` (offset of `buf[0]` in the original message)
 * only serve error reporting.
 */
export function parseTlv(buf: Uint8Array, field?: number | string, base = 0): TlvItem[] {
  const items: TlvItem[] = [];
  const end = buf.length;
  let p = 0;
  while (p < end) {
    const tagStart = p;
    let first = buf[p++]!;
    if (first === 0x00 || first === 0xff) {
      fail('BAD_TLV', `byte ${hexByte(first)} cannot start a tag`, field, base + tagStart);
    }
    if ((first & 0x1f) === 0x1f) {
      // subsequent tag bytes: bit 8 set means another byte follows
      do {
        if (p >= end) fail('BAD_TLV', 'tag runs past the end of the data', field, base + tagStart);
        first = buf[p++]!;
      } while ((first & 0x80) !== 0 && p - tagStart < 4);
      if ((first & 0x80) !== 0) fail('BAD_TLV', 'tag longer than 4 bytes', field, base + tagStart);
    }
    const tagEnd = p;
    if (p >= end) fail('BAD_TLV', 'length missing after tag', field, base + p);
    let len = buf[p++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) fail('BAD_TLV', `unsupported length form ${hexByte(len)}`, field, base + p - 1);
      if (p + n > end) fail('BAD_TLV', 'length runs past the end of the data', field, base + p - 1);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    }
    if (len > end - p) fail('BAD_TLV', `value of ${len} bytes runs past the end of the data`, field, base + tagStart);
    const tag = Buffer.from(buf.buffer, buf.byteOffset + tagStart, tagEnd - tagStart).toString('hex').toUpperCase();
    items.push({ tag, value: Buffer.from(buf.subarray(p, p + len)) });
    p += len;
  }
  return items;
}

/** Validate a tag string and return its bytes; throws BAD_TLV. */
export function tagBytes(tag: string, field?: number | string): Buffer {
  if (typeof tag !== 'string' || tag.length < 2 || tag.length > 8 || (tag.length & 1) === 1) {
    fail('BAD_TLV', `tag ${JSON.stringify(tag)} is not 1-4 bytes of hex`, field);
  }
  const b = Buffer.from(tag, 'hex');
  if (b.length * 2 !== tag.length) fail('BAD_TLV', `tag ${JSON.stringify(tag)} is not hex`, field);
  const multi = (b[0]! & 0x1f) === 0x1f;
  if (b[0] === 0x00 || b[0] === 0xff) fail('BAD_TLV', `tag ${tag} has an invalid first byte`, field);
  if (!multi && b.length !== 1) fail('BAD_TLV', `tag ${tag}: first byte does not announce more tag bytes`, field);
  if (multi) {
    if (b.length === 1) fail('BAD_TLV', `tag ${tag}: first byte announces more tag bytes`, field);
    for (let i = 1; i < b.length; i++) {
      const more = (b[i]! & 0x80) !== 0;
      if (more !== i < b.length - 1) fail('BAD_TLV', `tag ${tag}: continuation bits are inconsistent`, field);
    }
  }
  return b;
}

function lengthSize(len: number): number {
  if (len < 0x80) return 1;
  if (len < 0x100) return 2;
  if (len < 0x10000) return 3;
  if (len < 0x1000000) return 4;
  return 5;
}

/** Encode items (minimal-length BER lengths). Throws BAD_TLV / BAD_VALUE for malformed items. */
export function buildTlv(items: readonly TlvItem[], field?: number | string): Buffer {
  if (!Array.isArray(items)) fail('BAD_VALUE', 'TLV value must be an array of {tag, value}', field);
  const tags: Buffer[] = new Array<Buffer>(items.length);
  let size = 0;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (typeof it !== 'object' || it === null || !(it.value instanceof Uint8Array)) {
      fail('BAD_VALUE', `TLV item ${i} must be {tag: string, value: Buffer}`, field);
    }
    const t = tagBytes(it.tag, field);
    tags[i] = t;
    size += t.length + lengthSize(it.value.length) + it.value.length;
  }
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = 0; i < items.length; i++) {
    const t = tags[i]!;
    const v = items[i]!.value;
    p += t.copy(out, p);
    const n = v.length;
    const ls = lengthSize(n);
    if (ls === 1) out[p++] = n;
    else {
      out[p++] = 0x80 | (ls - 1);
      for (let k = ls - 2; k >= 0; k--) out[p++] = (n >>> (8 * k)) & 0xff;
    }
    out.set(v, p);
    p += n;
  }
  return out;
}

/** First item with `tag` (case-insensitive), or undefined. */
export function tlvGet(items: readonly TlvItem[], tag: string): Buffer | undefined {
  const t = tag.toUpperCase();
  for (const it of items) if (it.tag === t) return it.value;
  return undefined;
}

/** Copy of `items` with `tag` replaced in place, or appended when absent. */
export function tlvSet(items: readonly TlvItem[], tag: string, value: Buffer): TlvItem[] {
  const t = tag.toUpperCase();
  tagBytes(t);
  let done = false;
  const out = items.map((it) => {
    if (!done && it.tag === t) {
      done = true;
      return { tag: t, value };
    }
    return it;
  });
  if (!done) out.push({ tag: t, value });
  return out;
}

/** Tags as a Map (first occurrence wins). */
export function tlvToMap(items: readonly TlvItem[]): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const it of items) if (!m.has(it.tag)) m.set(it.tag, it.value);
  return m;
}
