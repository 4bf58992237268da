/**
 * Random key and fill generation on node:crypto's CSPRNG.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { CryptoError } from './errors.js';
import { withOddParity } from './parity.js';

export type KeyAlgorithm = 'des' | 'tdes' | 'aes';

const LENGTHS: Record<KeyAlgorithm, readonly number[]> = {
  des: [8],
  tdes: [8, 16, 24],
  aes: [16, 24, 32],
};

function distinctHalves(key: Buffer): boolean {
  // A TDES key whose 8-byte parts repeat (K1 = K2, or K2 = K3) collapses to single DES.
  if (key.length >= 16 && key.subarray(0, 8).equals(key.subarray(8, 16))) return false;
  if (key.length === 24 && key.subarray(8, 16).equals(key.subarray(16, 24))) return false;
  return true;
}

/**
 * A fresh random key. DES/TDES keys get odd parity and (for 16/24 bytes) distinct 8-byte parts.
 * `length` defaults to 8 for des, 16 for tdes and aes.
 */
export function randomKey(alg: KeyAlgorithm, length?: number): Buffer {
  const allowed = LENGTHS[alg];
  if (!allowed) throw new CryptoError('BAD_INPUT', 'key algorithm must be des, tdes or aes');
  const len = length ?? (alg === 'des' ? 8 : 16);
  if (!allowed.includes(len)) {
    throw new CryptoError('BAD_KEY_LENGTH', `${alg} key must be ${allowed.join(', ')} bytes, got ${len}`);
  }
  if (alg === 'aes') return randomBytes(len);
  for (;;) {
    const raw = randomBytes(len);
    const key = withOddParity(raw);
    raw.fill(0);
    if (distinctHalves(key)) return key;
    key.fill(0);
  }
}

/** `n` random bytes. */
export function randomBytesSecure(n: number): Buffer {
  return randomBytes(n);
}

/** `count` random hex digits, each uniform over [lo, hi] (0..15), upper case. */
export function randomNibbles(count: number, lo = 0, hi = 15): string {
  let s = '';
  for (let i = 0; i < count; i++) s += randomInt(lo, hi + 1).toString(16).toUpperCase();
  return s;
}
