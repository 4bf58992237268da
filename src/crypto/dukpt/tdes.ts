/**
 * TDES DUKPT, ANSI X9.24-1:2009 (host / receiving-SCD side, plus the originator's counter step).
 *
 * KSN: 10 bytes = 59-bit initial key serial number | 21-bit transaction counter.
 * IPEK: left = TDES(BDK, KSN' ), right = TDES(BDK xor C0C0C0C000000000C0C0C0C000000000, KSN'),
 *   where KSN' is the leftmost 8 bytes of the KSN with the counter bits cleared.
 * Transaction key: from the IPEK, for each counter bit from the most significant set bit down,
 *   set that bit in the KSN register and apply the non-reversible key generation process.
 * Working keys are variants of the transaction key; the data keys additionally encrypt each half
 *   of the variant with the variant itself (the X9.24-1:2009 data "one-way" step).
 */
import { tdesEcbEncrypt, wipe, xor } from '../cipher.js';
import { DukptError } from './errors.js';
import { bytesOf, popcount } from './util.js';

export const TDES_KSN_LENGTH = 10;
export const TDES_COUNTER_BITS = 21;
export const TDES_COUNTER_MASK = 0x1fffff;
/** The originator never uses a counter with more than this many one bits. */
export const TDES_MAX_ONE_BITS = 10;

export type TdesDukptUsage = 'pin' | 'macRequest' | 'macResponse' | 'dataRequest' | 'dataResponse';

const KEY_MASK = Buffer.from('C0C0C0C000000000C0C0C0C000000000', 'hex');
const VARIANTS: Record<TdesDukptUsage, Buffer> = {
  pin: Buffer.from('00000000000000FF00000000000000FF', 'hex'),
  macRequest: Buffer.from('000000000000FF00000000000000FF00', 'hex'),
  macResponse: Buffer.from('00000000FF00000000000000FF000000', 'hex'),
  dataRequest: Buffer.from('0000000000FF00000000000000FF0000', 'hex'),
  dataResponse: Buffer.from('000000FF00000000000000FF00000000', 'hex'),
};

function ksnBytes(ksn: Uint8Array | string): Buffer {
  return bytesOf(ksn, TDES_KSN_LENGTH, 'TDES DUKPT KSN', 'BAD_KSN_LENGTH');
}

/** The 21-bit transaction counter of a KSN. */
export function tdesKsnCounter(ksn: Uint8Array | string): number {
  const k = ksnBytes(ksn);
  return ((k[7]! & 0x1f) << 16) | (k[8]! << 8) | k[9]!;
}

/** Derive the initial key (IPEK) from the BDK and any KSN of the device (counter ignored). */
export function tdesDeriveIpek(bdk: Uint8Array | string, ksn: Uint8Array | string): Buffer {
  const b = bytesOf(bdk, 16, 'TDES BDK', 'BAD_KEY_LENGTH');
  const k = ksnBytes(ksn);
  const reg = Buffer.from(k.subarray(0, 8));
  reg[7]! &= 0xe0;
  const masked = xor(b, KEY_MASK);
  const out = Buffer.concat([tdesEcbEncrypt(b, reg), tdesEcbEncrypt(masked, reg)]);
  wipe(b, masked);
  return out;
}

/** The non-reversible key generation process (X9.24-1:2009 A.2) for a 16-byte key. */
function nonReversible(key: Buffer, reg: Buffer): Buffer {
  const half = (k: Buffer): Buffer => {
    const left = k.subarray(0, 8);
    const right = k.subarray(8, 16);
    const t = xor(reg, right);
    const e = tdesEcbEncrypt(left, t); // single DES under the left half
    const r = xor(e, right);
    wipe(t, e);
    return r;
  };
  const newRight = half(key);
  const masked = xor(key, KEY_MASK);
  const newLeft = half(masked);
  wipe(masked);
  return Buffer.concat([newLeft, newRight]);
}

function checkCounter(counter: number): void {
  if (counter === 0) throw new DukptError('COUNTER_ZERO', 'transaction counter 0 names no transaction key');
  if (popcount(counter) > TDES_MAX_ONE_BITS) {
    throw new DukptError('TOO_MANY_ONE_BITS', `transaction counter has more than ${TDES_MAX_ONE_BITS} one bits`);
  }
}

/** Derive the transaction ("current") key for a KSN from the IPEK. */
export function tdesDeriveTransactionKey(ipek: Uint8Array | string, ksn: Uint8Array | string): Buffer {
  const k = ksnBytes(ksn);
  let key = bytesOf(ipek, 16, 'TDES IPEK', 'BAD_KEY_LENGTH');
  const counter = tdesKsnCounter(k);
  checkCounter(counter);
  const reg = Buffer.from(k.subarray(2, 10));
  reg[5]! &= 0xe0;
  reg[6] = 0;
  reg[7] = 0;
  for (let bit = 1 << (TDES_COUNTER_BITS - 1); bit !== 0; bit >>>= 1) {
    if ((counter & bit) === 0) continue;
    reg[5]! |= (bit >>> 16) & 0xff;
    reg[6]! |= (bit >>> 8) & 0xff;
    reg[7]! |= bit & 0xff;
    const next = nonReversible(key, reg);
    wipe(key);
    key = next;
  }
  wipe(reg);
  return key;
}

/** XOR the usage's variant constant into a transaction key (no data one-way step). */
export function tdesApplyVariant(transactionKey: Uint8Array | string, usage: TdesDukptUsage): Buffer {
  const v = VARIANTS[usage];
  if (!v) throw new DukptError('BAD_USAGE', `unknown TDES DUKPT key usage "${String(usage)}"`);
  const k = bytesOf(transactionKey, 16, 'TDES transaction key', 'BAD_KEY_LENGTH');
  const out = xor(k, v);
  wipe(k);
  return out;
}

/**
 * The working key for `usage` from a transaction key: PIN and MAC keys are the plain variants;
 * data keys are the variant with each half encrypted (TDES) under the variant itself.
 */
export function tdesWorkingKeyFromTransactionKey(transactionKey: Uint8Array | string, usage: TdesDukptUsage): Buffer {
  const variant = tdesApplyVariant(transactionKey, usage);
  if (usage !== 'dataRequest' && usage !== 'dataResponse') return variant;
  const out = Buffer.concat([tdesEcbEncrypt(variant, variant.subarray(0, 8)), tdesEcbEncrypt(variant, variant.subarray(8, 16))]);
  wipe(variant);
  return out;
}

/** Host derivation from the IPEK: transaction key for the KSN, then the usage's working key. */
export function tdesDeriveWorkingKey(ipek: Uint8Array | string, ksn: Uint8Array | string, usage: TdesDukptUsage): Buffer {
  const tk = tdesDeriveTransactionKey(ipek, ksn);
  const out = tdesWorkingKeyFromTransactionKey(tk, usage);
  wipe(tk);
  return out;
}

/** Host derivation from the BDK. */
export function tdesDeriveWorkingKeyFromBdk(bdk: Uint8Array | string, ksn: Uint8Array | string, usage: TdesDukptUsage): Buffer {
  const ipek = tdesDeriveIpek(bdk, ksn);
  const out = tdesDeriveWorkingKey(ipek, ksn, usage);
  wipe(ipek);
  return out;
}

/**
 * The KSN of the originator's next transaction: the counter is advanced past values with more
 * than ten one bits (by adding the lowest set bit, as the future-key algorithm does).
 * Throws COUNTER_EXHAUSTED when no valid counter is left.
 */
export function tdesNextKsn(ksn: Uint8Array | string): Buffer {
  const k = ksnBytes(ksn);
  let c = tdesKsnCounter(k) + 1;
  while (c <= TDES_COUNTER_MASK && popcount(c) > TDES_MAX_ONE_BITS) c += c & -c;
  if (c > TDES_COUNTER_MASK) throw new DukptError('COUNTER_EXHAUSTED', 'TDES DUKPT transaction counter is exhausted');
  k[7] = (k[7]! & 0xe0) | ((c >>> 16) & 0x1f);
  k[8] = (c >>> 8) & 0xff;
  k[9] = c & 0xff;
  return k;
}

/** True when the KSN is well formed and its counter is one the originator would use. */
export function isValidTdesKsn(ksn: Uint8Array | string): boolean {
  try {
    checkCounter(tdesKsnCounter(ksn));
    return true;
  } catch {
    return false;
  }
}
