/**
 * "Bare" counterparts for the crypto benchmark: the same cipher operations as the library,
 * hand-written directly on node:crypto createCipheriv / createDecipheriv, with no validation,
 * no wiping and keys pre-expanded to the 24-byte des-ede3 form once, outside the timed loop.
 * They are the floor the library is compared against, not production code.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';

const ZERO8 = Buffer.alloc(8);
const ZERO16 = Buffer.alloc(16);

/** 8- or 16-byte DES/TDES key -> the 24-byte K1|K2|K1 (or K|K|K) form; done once, outside loops. */
export function expand24(key: Uint8Array): Buffer {
  return key.length === 8 ? Buffer.concat([key, key, key]) : Buffer.concat([key, key.subarray(0, 8)]);
}

/** des-ede3 ECB, one createCipheriv / createDecipheriv call. */
export function tdesEcb(enc: boolean, key24: Buffer, data: Uint8Array): Buffer {
  const c = enc ? createCipheriv('des-ede3', key24, null) : createDecipheriv('des-ede3', key24, null);
  c.setAutoPadding(false);
  const out = c.update(data);
  c.final();
  return out;
}

function aesName(key: Uint8Array, mode: 'ecb' | 'cbc'): string {
  return `aes-${key.length * 8}-${mode}`;
}

function aesEcb(key: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv(aesName(key, 'ecb'), key, null);
  c.setAutoPadding(false);
  const out = c.update(data);
  c.final();
  return out;
}

function aesCbc(enc: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = enc ? createCipheriv(aesName(key, 'cbc'), key, iv) : createDecipheriv(aesName(key, 'cbc'), key, iv);
  c.setAutoPadding(false);
  const out = c.update(data);
  c.final();
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. KCV: one des-ede3 ECB encryption of a zero block.

export function bareKcv(key24: Buffer): Buffer {
  return tdesEcb(true, key24, ZERO8).subarray(0, 3);
}

// ---------------------------------------------------------------------------------------------
// 2. UnionPay "ECB" MAC: XOR fold, upper-case hex, encrypt, XOR, encrypt, hex.

export function bareUnionPayMac(mak24: Buffer, data: Uint8Array): Buffer {
  const fold = Buffer.alloc(8);
  for (let i = 0; i < data.length; i++) fold[i & 7]! ^= data[i]!;
  const hex = Buffer.from(fold.toString('hex').toUpperCase(), 'latin1');
  const e1 = tdesEcb(true, mak24, hex.subarray(0, 8));
  for (let i = 0; i < 8; i++) e1[i]! ^= hex[8 + i]!;
  const e2 = tdesEcb(true, mak24, e1);
  return Buffer.from(e2.toString('hex', 0, 4).toUpperCase(), 'latin1');
}

// ---------------------------------------------------------------------------------------------
// 3. ANSI X9.19: DES CBC-MAC under K (run as des-ede3-cbc with K|K|K), then D_K', E_K.
//    `data` must already be a multiple of 8 bytes (200 is).

export function bareX919(k1x3: Buffer, k2x3: Buffer, data: Uint8Array): Buffer {
  const c = createCipheriv('des-ede3-cbc', k1x3, ZERO8);
  c.setAutoPadding(false);
  const cbc = c.update(data);
  c.final();
  const d = tdesEcb(false, k2x3, cbc.subarray(cbc.length - 8));
  return tdesEcb(true, k1x3, d);
}

// ---------------------------------------------------------------------------------------------
// 4a. PIN translate format 0 -> 0 under clear keys: decrypt, XOR out the PAN field (checking the
//     control nibble), XOR it back in, encrypt.

export function bareTranslate(from24: Buffer, to24: Buffer, panField: Buffer, block: Uint8Array): Buffer {
  const clear = tdesEcb(false, from24, block);
  for (let i = 0; i < 8; i++) clear[i]! ^= panField[i]!;
  if (clear[0]! >> 4 !== 0) throw new Error('not format 0');
  for (let i = 0; i < 8; i++) clear[i]! ^= panField[i]!;
  return tdesEcb(true, to24, clear);
}

// ---------------------------------------------------------------------------------------------
// TR-31 version D (AES KBPK) by hand: CMAC = one AES-ECB call for L + one AES-CBC call over the
// whole message; key derivation = 2 CMACs each for KBEK and KBAK (32-byte LMK).

function dbl(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(16);
  let carry = 0;
  for (let i = 15; i >= 0; i--) {
    const v = b[i]!;
    out[i] = ((v << 1) & 0xff) | carry;
    carry = v >>> 7;
  }
  if (carry) out[15]! ^= 0x87;
  return out;
}

export function bareAesCmac(key: Uint8Array, msg: Uint8Array): Buffer {
  const l = aesEcb(key, ZERO16);
  const k1 = dbl(l);
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const n = complete ? msg.length / 16 : Math.floor(msg.length / 16) + 1;
  const m = Buffer.alloc(n * 16);
  m.set(msg);
  const sub = complete ? k1 : dbl(k1);
  if (!complete) m[msg.length] = 0x80;
  const off = (n - 1) * 16;
  for (let i = 0; i < 16; i++) m[off + i]! ^= sub[i]!;
  const cbc = aesCbc(true, key, ZERO16, m);
  return cbc.subarray(cbc.length - 16);
}

export interface BlockKeys {
  kbek: Buffer;
  kbak: Buffer;
}

/** KBEK / KBAK of an AES-256 KBPK (TR-31 version D derivation; 4 CMACs = 8 cipher calls). */
export function bareDerive(kbpk: Buffer): BlockKeys {
  const input = Buffer.from('0100000000040100', 'hex'); // counter | usage | 00 | AES-256 | 256 bits
  const half = (usage: number): Buffer => {
    input[0] = 1;
    input[2] = usage;
    const a = bareAesCmac(kbpk, input);
    input[0] = 2;
    const b = bareAesCmac(kbpk, input);
    return Buffer.concat([a, b]);
  };
  return { kbek: half(0), kbak: half(1) };
}

/** Unwrap a version D block of a 16-byte key: derive, CBC-decrypt (IV = MAC), CMAC, compare. */
export function bareUnwrap16(kbpk: Buffer, block: string): Buffer {
  const headerLength = block.length - 2 * (32 + 16);
  const header = Buffer.from(block.slice(0, headerLength), 'latin1');
  const ct = Buffer.from(block.slice(headerLength, headerLength + 64), 'hex');
  const mac = Buffer.from(block.slice(headerLength + 64), 'hex');
  const { kbek, kbak } = bareDerive(kbpk);
  const payload = aesCbc(false, kbek, mac, ct);
  const expected = bareAesCmac(kbak, Buffer.concat([header, payload]));
  if (!timingSafeEqual(expected, mac)) throw new Error('bad key block MAC');
  return payload.subarray(2, 18);
}

/** Wrap a 16-byte key into a version D block with a fixed, precomputed header. */
export function bareWrap16(kbpk: Buffer, header: string, key: Uint8Array): string {
  const payload = Buffer.allocUnsafe(32);
  payload.writeUInt16BE(128, 0);
  payload.set(key, 2);
  randomBytes(14).copy(payload, 18);
  const { kbek, kbak } = bareDerive(kbpk);
  const mac = bareAesCmac(kbak, Buffer.concat([Buffer.from(header, 'latin1'), payload]));
  const ct = aesCbc(true, kbek, mac, payload);
  return header + ct.toString('hex').toUpperCase() + mac.toString('hex').toUpperCase();
}
