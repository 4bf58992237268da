/**
 * DES key parity. Each DES key byte carries 7 key bits and one parity bit (the least significant);
 * FIPS 46-3 §3 / ANSI X9.24 require odd parity (an odd number of 1 bits per byte).
 */
import { CryptoError } from './errors.js';

function popcount8(b: number): number {
  let n = b & 0xff;
  n = n - ((n >> 1) & 0x55);
  n = (n & 0x33) + ((n >> 2) & 0x33);
  return (n + (n >> 4)) & 0x0f;
}

/** True when every byte of `key` has odd parity. An empty key is rejected (false). */
export function hasOddParity(key: Uint8Array): boolean {
  if (key.length === 0) return false;
  for (const b of key) if ((popcount8(b) & 1) === 0) return false;
  return true;
}

/** A copy of `key` with each byte's low bit set so the byte has odd parity. */
export function withOddParity(key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(key.length);
  for (let i = 0; i < key.length; i++) {
    const hi = key[i]! & 0xfe;
    out[i] = hi | ((popcount8(hi) & 1) === 0 ? 1 : 0);
  }
  return out;
}

/** Throw CryptoError(BAD_PARITY) unless every byte of `key` has odd parity. */
export function requireOddParity(key: Uint8Array): void {
  if (!hasOddParity(key)) throw new CryptoError('BAD_PARITY', 'DES key does not have odd parity');
}
