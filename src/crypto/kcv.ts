/**
 * Key check values (ANSI X9.24-1:2017 §7.7.2 / Annex A; PCI PIN requirement 15-1).
 *
 * - 'zero' method (legacy): encrypt one all-zero block under the key (ECB) and keep the leftmost
 *   bytes. TDES: an 8-byte key runs as single DES, 16 bytes as 2-key TDES, 24 as 3-key. Default
 *   length 3 bytes (X9.24-1 caps this method at 24 bits; CUP sign-on uses 4).
 * - 'cmac' method: CMAC (SP 800-38B) of one all-zero block under the key; default length 5 bytes
 *   (X9.24-1 caps it at 40 bits). This is the method X9.24-1:2017 requires for AES.
 *
 * Defaults: tdes → zero/3; aes → cmac/5. `{alg:'aes', method:'zero'}` is the legacy AES variant
 * (AES-ECB of a zero block, 3 bytes) still printed by some HSMs and tools.
 */
import { timingSafeEqual } from 'node:crypto';
import { blockSize, encrypt, wipe, type BlockAlgorithm } from './cipher.js';
import { CryptoError, requireKeyLength } from './errors.js';
import { cmac } from './mac.js';

export type KcvMethod = 'zero' | 'cmac';

export interface KcvOptions {
  alg: BlockAlgorithm;
  method?: KcvMethod;
  /** Bytes to keep (1..block size). Default 3 for 'zero', 5 for 'cmac'. */
  length?: number;
}

function checkKey(alg: BlockAlgorithm, key: Uint8Array): void {
  if (alg === 'aes') requireKeyLength('AES', key, [16, 24, 32]);
  else requireKeyLength('TDES', key, [8, 16, 24]);
}

/** Key check value of `key`; see the module comment for methods and defaults. */
export function kcv(key: Uint8Array, opts: KcvOptions): Buffer {
  const { alg } = opts;
  if (alg !== 'tdes' && alg !== 'aes') throw new CryptoError('BAD_INPUT', 'KCV algorithm must be tdes or aes');
  const method: KcvMethod = opts.method ?? (alg === 'aes' ? 'cmac' : 'zero');
  if (method !== 'zero' && method !== 'cmac') throw new CryptoError('BAD_INPUT', 'KCV method must be zero or cmac');
  const bs = blockSize(alg);
  const length = opts.length ?? (method === 'cmac' ? 5 : 3);
  if (!Number.isInteger(length) || length < 1 || length > bs) {
    throw new CryptoError('BAD_INPUT', `KCV length must be 1..${bs} bytes, got ${length}`);
  }
  checkKey(alg, key);
  const zero = Buffer.alloc(bs);
  const full = method === 'cmac' ? cmac(alg, key, zero) : encrypt(alg, 'ecb', key, zero);
  const out = Buffer.from(full.subarray(0, length));
  wipe(full);
  return out;
}

/** True when `expected` equals the leading bytes of the key's KCV (its length sets how many). */
export function verifyKcv(key: Uint8Array, expected: Uint8Array, opts: Omit<KcvOptions, 'length'>): boolean {
  const actual = kcv(key, { ...opts, length: expected.length });
  return timingSafeEqual(actual, expected);
}

/** Throw CryptoError(KCV_MISMATCH) unless `expected` matches the key's KCV. */
export function requireKcv(key: Uint8Array, expected: Uint8Array, opts: Omit<KcvOptions, 'length'>): void {
  if (!verifyKcv(key, expected, opts)) throw new CryptoError('KCV_MISMATCH', 'key check value does not match');
}
