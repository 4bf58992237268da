/**
 * Block-cipher core on node:crypto. Every other crypto module calls these and nothing else
 * touches createCipheriv, so algorithm names and key expansion live in one place.
 *
 * DES is run as TDES with K|K|K (OpenSSL 3 moved single DES to the legacy provider); 2-key TDES
 * is run as K1|K2|K1. No padding is ever applied here: callers pad per their standard.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type BlockAlgorithm = 'tdes' | 'aes';
export type BlockMode = 'ecb' | 'cbc';

export class CipherError extends Error {
  override readonly name = 'CipherError';
}

const ZERO8 = Buffer.alloc(8);
const ZERO16 = Buffer.alloc(16);

/** Block size in bytes of an algorithm. */
export function blockSize(alg: BlockAlgorithm): 8 | 16 {
  return alg === 'aes' ? 16 : 8;
}

/** Expand an 8-, 16- or 24-byte DES/TDES key to the 24-byte form OpenSSL's des-ede3 takes. */
export function expandTdesKey(key: Uint8Array): Buffer {
  switch (key.length) {
    case 8:
      return Buffer.concat([key, key, key]);
    case 16:
      return Buffer.concat([key, key.subarray(0, 8)]);
    case 24:
      return Buffer.from(key);
    default:
      throw new CipherError(`TDES key must be 8, 16 or 24 bytes, got ${key.length}`);
  }
}

function aesName(key: Uint8Array, mode: BlockMode): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new CipherError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  return `aes-${key.length * 8}-${mode}`;
}

function run(
  encrypt: boolean,
  alg: BlockAlgorithm,
  mode: BlockMode,
  key: Uint8Array,
  data: Uint8Array,
  iv?: Uint8Array,
): Buffer {
  const bs = blockSize(alg);
  if (data.length % bs !== 0) {
    throw new CipherError(`data length ${data.length} is not a multiple of the ${bs}-byte block`);
  }
  let name: string;
  let k: Buffer | Uint8Array;
  if (alg === 'tdes') {
    name = mode === 'ecb' ? 'des-ede3' : 'des-ede3-cbc';
    k = expandTdesKey(key);
  } else {
    name = aesName(key, mode);
    k = key;
  }
  let ivBuf: Uint8Array | null = null;
  if (mode === 'cbc') {
    ivBuf = iv ?? (bs === 8 ? ZERO8 : ZERO16);
    if (ivBuf.length !== bs) throw new CipherError(`IV must be ${bs} bytes, got ${ivBuf.length}`);
  }
  const c = encrypt ? createCipheriv(name, k, ivBuf) : createDecipheriv(name, k, ivBuf);
  c.setAutoPadding(false);
  const out = Buffer.concat([c.update(data), c.final()]);
  if (alg === 'tdes' && k !== key) (k as Buffer).fill(0);
  return out;
}

export function encrypt(alg: BlockAlgorithm, mode: BlockMode, key: Uint8Array, data: Uint8Array, iv?: Uint8Array): Buffer {
  return run(true, alg, mode, key, data, iv);
}

export function decrypt(alg: BlockAlgorithm, mode: BlockMode, key: Uint8Array, data: Uint8Array, iv?: Uint8Array): Buffer {
  return run(false, alg, mode, key, data, iv);
}

/** TDES (or DES when the key is 8 bytes) ECB. */
export const tdesEcbEncrypt = (key: Uint8Array, data: Uint8Array): Buffer => run(true, 'tdes', 'ecb', key, data);
export const tdesEcbDecrypt = (key: Uint8Array, data: Uint8Array): Buffer => run(false, 'tdes', 'ecb', key, data);
export const tdesCbcEncrypt = (key: Uint8Array, data: Uint8Array, iv?: Uint8Array): Buffer => run(true, 'tdes', 'cbc', key, data, iv);
export const tdesCbcDecrypt = (key: Uint8Array, data: Uint8Array, iv?: Uint8Array): Buffer => run(false, 'tdes', 'cbc', key, data, iv);
export const aesEcbEncrypt = (key: Uint8Array, data: Uint8Array): Buffer => run(true, 'aes', 'ecb', key, data);
export const aesEcbDecrypt = (key: Uint8Array, data: Uint8Array): Buffer => run(false, 'aes', 'ecb', key, data);
export const aesCbcEncrypt = (key: Uint8Array, data: Uint8Array, iv?: Uint8Array): Buffer => run(true, 'aes', 'cbc', key, data, iv);
export const aesCbcDecrypt = (key: Uint8Array, data: Uint8Array, iv?: Uint8Array): Buffer => run(false, 'aes', 'cbc', key, data, iv);

/** a XOR b into a new buffer (lengths must match). */
export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  if (a.length !== b.length) throw new CipherError(`xor of unequal lengths ${a.length} and ${b.length}`);
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Overwrite key material in place. */
export function wipe(...bufs: (Uint8Array | null | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

/** Parse strict hex (even length, 0-9A-F any case) or throw. */
export function fromHex(hex: string, what = 'hex'): Buffer {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new CipherError(`${what} must be an even number of hex digits`);
  }
  return Buffer.from(hex, 'hex');
}

/** Upper-case hex, the way payment engineers write it. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').toUpperCase();
}
