import { fromHex } from '../cipher.js';
import { DukptError } from './errors.js';

/** Accept bytes or hex text; check the length. */
export function bytesOf(v: Uint8Array | string, len: number | readonly number[], what: string, code: 'BAD_KSN_LENGTH' | 'BAD_KEY_LENGTH'): Buffer {
  let b: Buffer;
  if (typeof v === 'string') {
    try {
      b = fromHex(v, what);
    } catch {
      throw new DukptError(code, `${what} must be hexadecimal`);
    }
  } else if (v instanceof Uint8Array) {
    b = Buffer.from(v);
  } else {
    throw new DukptError(code, `${what} must be bytes or hex`);
  }
  const lens = typeof len === 'number' ? [len] : len;
  if (!lens.includes(b.length)) throw new DukptError(code, `${what} must be ${lens.join(' or ')} bytes, got ${b.length}`);
  return b;
}

export function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v !== 0; v = (v & (v - 1)) >>> 0) c++;
  return c;
}
