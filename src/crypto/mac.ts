/**
 * Message authentication codes used on payment links.
 *
 * - ISO/IEC 9797-1 padding methods 1 (zeros) and 2 (0x80 then zeros).
 * - ANSI X9.9 = ISO/IEC 9797-1 MAC algorithm 1 with single DES (CBC-MAC, zero IV).
 * - ANSI X9.19 "retail MAC" = ISO/IEC 9797-1 MAC algorithm 3 with DES: CBC-MAC under K, then the
 *   last block is decrypted under K' and encrypted under K again (16-byte key K||K').
 * - CMAC (NIST SP 800-38B; AES-CMAC per RFC 4493) over AES or TDES.
 * - The UnionPay POS "ECB" MAC (field 64 of the CUP POS dialect).
 *
 * Verification compares with crypto.timingSafeEqual and accepts MACs truncated to a stated length
 * (leftmost bytes, ISO/IEC 9797-1 §7 truncation).
 */
import { timingSafeEqual } from 'node:crypto';
import { blockSize, encrypt, tdesCbcEncrypt, tdesEcbDecrypt, tdesEcbEncrypt, wipe, xor, type BlockAlgorithm } from './cipher.js';
import { CryptoError, requireKeyLength, viaCipher } from './errors.js';

export type Iso9797Padding = 1 | 2;

/**
 * ISO/IEC 9797-1 padding. Method 1: append the fewest (possibly zero) 0x00 bytes giving a
 * positive multiple of the block size (so empty data becomes one zero block). Method 2: append
 * 0x80 then the fewest 0x00 bytes giving a multiple of the block size.
 */
export function padIso9797(data: Uint8Array, method: Iso9797Padding, block = 8): Buffer {
  if (method !== 1 && method !== 2) throw new CryptoError('BAD_INPUT', 'ISO 9797-1 padding method must be 1 or 2');
  if (method === 1) {
    const len = data.length === 0 ? block : Math.ceil(data.length / block) * block;
    const out = Buffer.alloc(len);
    out.set(data);
    return out;
  }
  const len = (Math.floor(data.length / block) + 1) * block;
  const out = Buffer.alloc(len);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

function lastBlock(buf: Buffer, bs: number): Buffer {
  return buf.subarray(buf.length - bs);
}

// ---------------------------------------------------------------------------------------------
// ANSI X9.9 / ISO 9797-1 algorithm 1 (single DES) and ANSI X9.19 / ISO 9797-1 algorithm 3

export interface DesMacOptions {
  /** ISO/IEC 9797-1 padding method; default 1 (zeros), as ANSI X9.9 / X9.19 specify. */
  padding?: Iso9797Padding;
}

/** ANSI X9.9 MAC: single-DES CBC-MAC with zero IV (ISO/IEC 9797-1 algorithm 1). 8-byte key → 8 bytes. */
export function macX99(key: Uint8Array, data: Uint8Array, opts: DesMacOptions = {}): Buffer {
  requireKeyLength('X9.9 MAC', key, [8]);
  const padded = padIso9797(data, opts.padding ?? 1, 8);
  const cbc = viaCipher('BAD_INPUT', () => tdesCbcEncrypt(key, padded));
  const mac = Buffer.from(lastBlock(cbc, 8));
  wipe(cbc, padded);
  return mac;
}

/**
 * ANSI X9.19 retail MAC (ISO/IEC 9797-1 algorithm 3, output transformation 3): CBC-MAC under the
 * left key K, then decrypt under K' and encrypt under K. 16-byte key K||K' → 8 bytes.
 */
export function macX919(key: Uint8Array, data: Uint8Array, opts: DesMacOptions = {}): Buffer {
  requireKeyLength('X9.19 MAC', key, [16]);
  const k1 = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  const padded = padIso9797(data, opts.padding ?? 1, 8);
  const cbc = viaCipher('BAD_INPUT', () => tdesCbcEncrypt(k1, padded));
  const h = lastBlock(cbc, 8);
  const d = tdesEcbDecrypt(k2, h);
  const mac = tdesEcbEncrypt(k1, d);
  wipe(cbc, padded, d);
  return mac;
}

// ---------------------------------------------------------------------------------------------
// CMAC (NIST SP 800-38B; RFC 4493 for AES-128)

const RB: Record<8 | 16, number> = { 8: 0x1b, 16: 0x87 };

function dbl(block: Buffer): Buffer {
  const out = Buffer.allocUnsafe(block.length);
  let carry = 0;
  for (let i = block.length - 1; i >= 0; i--) {
    const b = block[i]!;
    out[i] = ((b << 1) & 0xff) | carry;
    carry = b >> 7;
  }
  if (block[0]! & 0x80) out[block.length - 1]! ^= RB[block.length as 8 | 16];
  return out;
}

function checkCmacKey(alg: BlockAlgorithm, key: Uint8Array): void {
  if (alg === 'aes') requireKeyLength('AES-CMAC', key, [16, 24, 32]);
  else requireKeyLength('TDES-CMAC', key, [8, 16, 24]);
}

/** CMAC subkeys K1, K2 (SP 800-38B §6.1; RFC 4493 §2.3), plus L = CIPH_K(0^b). */
export function cmacSubkeys(alg: BlockAlgorithm, key: Uint8Array): { l: Buffer; k1: Buffer; k2: Buffer } {
  checkCmacKey(alg, key);
  const l = encrypt(alg, 'ecb', key, Buffer.alloc(blockSize(alg)));
  const k1 = dbl(l);
  const k2 = dbl(k1);
  return { l, k1, k2 };
}

/** CMAC over a block cipher (SP 800-38B): full-block tag (16 bytes for AES, 8 for TDES). */
export function cmac(alg: BlockAlgorithm, key: Uint8Array, data: Uint8Array): Buffer {
  const bs = blockSize(alg);
  const { l, k1, k2 } = cmacSubkeys(alg, key);
  const complete = data.length > 0 && data.length % bs === 0;
  const n = complete ? data.length / bs : Math.floor(data.length / bs) + 1;
  const m = Buffer.alloc(n * bs);
  m.set(data);
  if (!complete) m[data.length] = 0x80;
  const last = m.subarray((n - 1) * bs);
  last.set(xor(last, complete ? k1 : k2));
  const cbc = encrypt(alg, 'cbc', key, m, Buffer.alloc(bs));
  const tag = Buffer.from(lastBlock(cbc, bs));
  wipe(l, k1, k2, m, cbc);
  return tag;
}

/** AES-CMAC (RFC 4493 for 128-bit keys; SP 800-38B for 192/256). 16-byte tag. */
export function aesCmac(key: Uint8Array, data: Uint8Array): Buffer {
  return cmac('aes', key, data);
}

// ---------------------------------------------------------------------------------------------
// UnionPay POS "ECB" MAC

/** XOR of all 8-byte blocks of `data` after 0x00 padding to a multiple of 8 (no pad if already aligned). */
export function unionPayMacFold(data: Uint8Array): Buffer {
  const acc = Buffer.alloc(8);
  for (let i = 0; i < data.length; i++) acc[i % 8]! ^= data[i]!;
  return acc;
}

/**
 * UnionPay POS MAC (field 64). `data` is the MAC block: MTI through the last field before 64.
 * Steps: zero-pad to a multiple of 8 and XOR all blocks; write the 8-byte result as 16 upper-case
 * hex characters; encrypt the first 8 characters (ASCII) under the MAK (DES for an 8-byte MAK,
 * 2-key TDES for a 16-byte one); XOR with the last 8 characters; encrypt again; write as
 * upper-case hex; the MAC is the ASCII of the first 8 hex characters. Returns 8 bytes.
 */
export function unionPayMac(mak: Uint8Array, data: Uint8Array): Buffer {
  requireKeyLength('UnionPay MAK', mak, [8, 16]);
  const fold = unionPayMacFold(data);
  const hex = Buffer.from(fold.toString('hex').toUpperCase(), 'ascii');
  const e1 = tdesEcbEncrypt(mak, hex.subarray(0, 8));
  const x = xor(e1, hex.subarray(8, 16));
  const e2 = tdesEcbEncrypt(mak, x);
  const mac = Buffer.from(e2.toString('hex').toUpperCase().slice(0, 8), 'ascii');
  wipe(fold, hex, e1, x, e2);
  return mac;
}

// ---------------------------------------------------------------------------------------------
// Verification

export interface VerifyOptions {
  /**
   * Length in bytes the received MAC is stated to have (leftmost bytes of the full MAC). Defaults
   * to the received MAC's own length; it must equal that length and lie in [4, full length].
   */
  length?: number;
}

const MIN_MAC_BYTES = 4;

function constantTimeMatch(full: Buffer, received: Uint8Array, opts: VerifyOptions): boolean {
  const len = opts.length ?? received.length;
  if (!Number.isInteger(len) || len < MIN_MAC_BYTES || len > full.length) {
    wipe(full);
    throw new CryptoError('BAD_INPUT', `MAC length must be ${MIN_MAC_BYTES}..${full.length} bytes, got ${len}`);
  }
  if (received.length !== len) {
    wipe(full);
    throw new CryptoError('BAD_INPUT', `received MAC is ${received.length} bytes, stated length is ${len}`);
  }
  const ok = timingSafeEqual(full.subarray(0, len), received);
  wipe(full);
  return ok;
}

export function verifyMacX99(key: Uint8Array, data: Uint8Array, mac: Uint8Array, opts: DesMacOptions & VerifyOptions = {}): boolean {
  return constantTimeMatch(macX99(key, data, opts), mac, opts);
}

export function verifyMacX919(key: Uint8Array, data: Uint8Array, mac: Uint8Array, opts: DesMacOptions & VerifyOptions = {}): boolean {
  return constantTimeMatch(macX919(key, data, opts), mac, opts);
}

export function verifyCmac(alg: BlockAlgorithm, key: Uint8Array, data: Uint8Array, mac: Uint8Array, opts: VerifyOptions = {}): boolean {
  return constantTimeMatch(cmac(alg, key, data), mac, opts);
}

export function verifyAesCmac(key: Uint8Array, data: Uint8Array, mac: Uint8Array, opts: VerifyOptions = {}): boolean {
  return verifyCmac('aes', key, data, mac, opts);
}

export function verifyUnionPayMac(mak: Uint8Array, data: Uint8Array, mac: Uint8Array, opts: VerifyOptions = {}): boolean {
  return constantTimeMatch(unionPayMac(mak, data), mac, opts);
}

/** Throw CryptoError(MAC_MISMATCH) when a verify call returned false. */
export function requireMac(valid: boolean): void {
  if (!valid) throw new CryptoError('MAC_MISMATCH', 'MAC verification failed');
}
