/**
 * AES DUKPT, ANSI X9.24-3-2017 (host / receiving-SCD side, plus the originator's counter step).
 *
 * KSN: 12 bytes = Initial Key ID (8: BDK ID 4 | derivation ID 4) | 32-bit transaction counter.
 * Every key is derived with AES-ECB under the parent key over 16-byte derivation data:
 *   version 01 | key block counter | key usage (2) | algorithm (2) | length in bits (2) | 8 bytes,
 * the last 8 bytes being the Initial Key ID (initial key) or derivation ID | counter (others).
 * Intermediate derivation keys walk the counter bits from the most significant set bit down;
 * the working key is derived from the derivation key for the full counter.
 */
import { aesEcbEncrypt, wipe } from '../cipher.js';
import { DukptError } from './errors.js';
import { bytesOf, popcount } from './util.js';

export const AES_KSN_LENGTH = 12;
export const AES_INITIAL_KEY_ID_LENGTH = 8;
/** The originator never uses a counter with more than this many one bits. */
export const AES_MAX_ONE_BITS = 16;
/** Counter reserved for deriving the DUKPT update key (key encryption usage only). */
export const AES_UPDATE_KEY_COUNTER = 0xffffffff;

export type AesDukptKeyType = 'TDES2' | 'TDES3' | 'AES128' | 'AES192' | 'AES256';
export type AesDukptUsage =
  | 'keyEncryption'
  | 'pinEncryption'
  | 'macGeneration'
  | 'macVerification'
  | 'macBoth'
  | 'dataEncrypt'
  | 'dataDecrypt'
  | 'dataBoth';

const KEY_TYPES: Record<AesDukptKeyType, { algorithm: number; bits: number; aes: boolean }> = {
  TDES2: { algorithm: 0x0000, bits: 128, aes: false },
  TDES3: { algorithm: 0x0001, bits: 192, aes: false },
  AES128: { algorithm: 0x0002, bits: 128, aes: true },
  AES192: { algorithm: 0x0003, bits: 192, aes: true },
  AES256: { algorithm: 0x0004, bits: 256, aes: true },
};

const USAGES: Record<AesDukptUsage, number> = {
  keyEncryption: 0x0002,
  pinEncryption: 0x1000,
  macGeneration: 0x2000,
  macVerification: 0x2001,
  macBoth: 0x2002,
  dataEncrypt: 0x3000,
  dataDecrypt: 0x3001,
  dataBoth: 0x3002,
};
const USAGE_DERIVATION = 0x8000;
const USAGE_INITIAL_KEY = 0x8001;

function aesTypeOf(key: Buffer): AesDukptKeyType {
  return key.length === 16 ? 'AES128' : key.length === 24 ? 'AES192' : 'AES256';
}

function derivationKey(v: Uint8Array | string, what: string): Buffer {
  return bytesOf(v, [16, 24, 32], what, 'BAD_KEY_LENGTH');
}

function ksnBytes(ksn: Uint8Array | string): Buffer {
  return bytesOf(ksn, AES_KSN_LENGTH, 'AES DUKPT KSN', 'BAD_KSN_LENGTH');
}

/** Derive `type` key material under `key` from the 8 trailing bytes of derivation data. */
function derive(key: Buffer, usage: number, type: AesDukptKeyType, tail: Uint8Array): Buffer {
  const t = KEY_TYPES[type];
  const data = Buffer.alloc(16);
  data[0] = 0x01;
  data.writeUInt16BE(usage, 2);
  data.writeUInt16BE(t.algorithm, 4);
  data.writeUInt16BE(t.bits, 6);
  data.set(tail, 8);
  const blocks: Buffer[] = [];
  for (let i = 0; i * 128 < t.bits; i++) {
    data[1] = i + 1;
    blocks.push(aesEcbEncrypt(key, data));
  }
  const all = Buffer.concat(blocks);
  const out = Buffer.from(all.subarray(0, t.bits / 8));
  wipe(all, data, ...blocks);
  return out;
}

/** The 32-bit transaction counter of a KSN. */
export function aesKsnCounter(ksn: Uint8Array | string): number {
  return ksnBytes(ksn).readUInt32BE(8);
}

/** Build a KSN from an Initial Key ID and a counter. */
export function aesMakeKsn(initialKeyId: Uint8Array | string, counter: number): Buffer {
  const id = bytesOf(initialKeyId, AES_INITIAL_KEY_ID_LENGTH, 'AES DUKPT Initial Key ID', 'BAD_KSN_LENGTH');
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) throw new DukptError('BAD_KSN_LENGTH', 'counter must be a 32-bit unsigned integer');
  const k = Buffer.alloc(AES_KSN_LENGTH);
  id.copy(k, 0);
  k.writeUInt32BE(counter, 8);
  return k;
}

/** Derive the initial key (IK) from an AES BDK and the 8-byte Initial Key ID. */
export function aesDeriveInitialKey(bdk: Uint8Array | string, initialKeyId: Uint8Array | string): Buffer {
  const b = derivationKey(bdk, 'AES BDK');
  const id = bytesOf(initialKeyId, AES_INITIAL_KEY_ID_LENGTH, 'AES DUKPT Initial Key ID', 'BAD_KSN_LENGTH');
  const out = derive(b, USAGE_INITIAL_KEY, aesTypeOf(b), id);
  wipe(b);
  return out;
}

/** Derivation data tail for a counter: derivation ID (KSN bytes 4..7) | counter. */
function tailFor(ksn: Buffer, counter: number): Buffer {
  const t = Buffer.alloc(8);
  ksn.copy(t, 0, 4, 8);
  t.writeUInt32BE(counter >>> 0, 4);
  return t;
}

function checkCounter(counter: number, usage?: AesDukptUsage): void {
  if (counter === 0) throw new DukptError('COUNTER_ZERO', 'transaction counter 0 names no transaction key');
  if (counter === AES_UPDATE_KEY_COUNTER) {
    if (usage === undefined || usage === 'keyEncryption') return;
    throw new DukptError('BAD_USAGE', 'counter FFFFFFFF only derives the DUKPT update key (keyEncryption)');
  }
  if (popcount(counter) > AES_MAX_ONE_BITS) {
    throw new DukptError('TOO_MANY_ONE_BITS', `transaction counter has more than ${AES_MAX_ONE_BITS} one bits`);
  }
}

/**
 * The intermediate derivation key for a KSN (the key from which that transaction's working
 * keys are derived), walked from the initial key.
 */
export function aesDeriveDerivationKey(ik: Uint8Array | string, ksn: Uint8Array | string): Buffer {
  let key = derivationKey(ik, 'AES DUKPT initial key');
  const k = ksnBytes(ksn);
  const counter = k.readUInt32BE(8);
  checkCounter(counter);
  const type = aesTypeOf(key);
  let reg = 0;
  for (let bit = 0x80000000; bit >= 1; bit /= 2) {
    if (counter & bit) {
      reg = (reg | bit) >>> 0;
      const next = derive(key, USAGE_DERIVATION, type, tailFor(k, reg));
      wipe(key);
      key = next;
    }
  }
  return key;
}

function checkType(type: AesDukptKeyType, ikLength: number): void {
  const t = KEY_TYPES[type];
  if (!t) throw new DukptError('BAD_USAGE', `unknown AES DUKPT key type "${String(type)}"`);
  // An AES working key may not be stronger than the key it is derived from.
  if (t.aes && t.bits > ikLength * 8) throw new DukptError('BAD_USAGE', `${type} keys cannot be derived from a ${ikLength * 8}-bit initial key`);
}

/** Working key of `type` for `usage` at the KSN, from the initial key. */
export function aesDeriveWorkingKey(ik: Uint8Array | string, ksn: Uint8Array | string, usage: AesDukptUsage, type: AesDukptKeyType): Buffer {
  const k = ksnBytes(ksn);
  const usageCode = USAGES[usage];
  if (usageCode === undefined) throw new DukptError('BAD_USAGE', `unknown AES DUKPT key usage "${String(usage)}"`);
  const counter = k.readUInt32BE(8);
  checkCounter(counter, usage);
  const dk = aesDeriveDerivationKey(ik, k);
  try {
    checkType(type, dk.length);
    return derive(dk, usageCode, type, tailFor(k, counter));
  } finally {
    wipe(dk);
  }
}

/** Working key straight from the BDK (the host path). */
export function aesDeriveWorkingKeyFromBdk(bdk: Uint8Array | string, ksn: Uint8Array | string, usage: AesDukptUsage, type: AesDukptKeyType): Buffer {
  const k = ksnBytes(ksn);
  const ik = aesDeriveInitialKey(bdk, k.subarray(0, 8));
  try {
    return aesDeriveWorkingKey(ik, k, usage, type);
  } finally {
    wipe(ik);
  }
}

/**
 * The KSN of the originator's next transaction, skipping counters with more than 16 one bits.
 * Throws COUNTER_EXHAUSTED when none is left (the last usable counter is FFFF0000).
 */
export function aesNextKsn(ksn: Uint8Array | string): Buffer {
  const k = ksnBytes(ksn);
  let c = k.readUInt32BE(8) + 1;
  while (c < AES_UPDATE_KEY_COUNTER && popcount(c) > AES_MAX_ONE_BITS) c += (c & -c) >>> 0;
  if (c >= AES_UPDATE_KEY_COUNTER) throw new DukptError('COUNTER_EXHAUSTED', 'AES DUKPT transaction counter is exhausted');
  k.writeUInt32BE(c, 8);
  return k;
}

/** True when the KSN is well formed and its counter is one the originator would use. */
export function isValidAesKsn(ksn: Uint8Array | string): boolean {
  try {
    const c = aesKsnCounter(ksn);
    if (c === AES_UPDATE_KEY_COUNTER) return false;
    checkCounter(c);
    return true;
  } catch {
    return false;
  }
}
