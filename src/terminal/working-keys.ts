/**
 * Field 62 of the sign-on response (0810): working keys encrypted (ECB) under the terminal master
 * key, each followed by a 4-byte check value (first 4 bytes of the encryption of 8 zero bytes under
 * the clear key; DES for 8-byte keys, 2-key TDES for 16-byte keys).
 *
 * | 60.3 | bytes | layout |
 * |---|---|---|
 * | 001 | 24 | PIK(8) KCV(4) MAK(8) KCV(4) |
 * | 003 | 40 | PIK(16) KCV(4) MAK(8) + 00×8 KCV(4) |
 * | 004 | 60 | as 003, then TDK(16) KCV(4) |
 *
 * For 003/004 the 16-byte MAK slot normally holds a single-length MAK and 8 zero bytes. Some hosts
 * fill it with a double-length MAK instead; when the second half is not zero it is decrypted and
 * checked as a 16-byte key.
 */
import { timingSafeEqual } from 'node:crypto';
import { tdesEcbDecrypt, toHex, wipe } from '../crypto/cipher.js';
import { kcv } from '../crypto/kcv.js';
import { TerminalError } from './errors.js';

export type KeyScheme = '001' | '003' | '004';
export const KEY_SCHEMES: readonly KeyScheme[] = ['001', '003', '004'];

/** Byte length of field 62 for each scheme. */
export const KEY_BLOCK_LENGTH: Readonly<Record<KeyScheme, number>> = Object.freeze({ '001': 24, '003': 40, '004': 60 });

export interface WorkingKeys {
  /** PIN key, clear (8 or 16 bytes). */
  readonly pik: Buffer;
  /** MAC key, clear (8 bytes, or 16 when the host sent a double-length one). */
  readonly mak: Buffer;
  /** Track/data key, clear (16 bytes), scheme 004 only. */
  readonly tdk?: Buffer;
}

export interface WorkingKeyKcvs {
  pik: string;
  mak: string;
  tdk?: string;
}

export function isKeyScheme(s: unknown): s is KeyScheme {
  return typeof s === 'string' && (KEY_SCHEMES as readonly string[]).includes(s);
}

/** Upper-case hex check values (4 bytes) of the keys. */
export function workingKeyKcvs(keys: WorkingKeys): WorkingKeyKcvs {
  const out: WorkingKeyKcvs = { pik: toHex(kcv(keys.pik, { alg: 'tdes', length: 4 })), mak: toHex(kcv(keys.mak, { alg: 'tdes', length: 4 })) };
  if (keys.tdk !== undefined) out.tdk = toHex(kcv(keys.tdk, { alg: 'tdes', length: 4 }));
  return out;
}

/** Wipe every key held in `keys`. */
export function wipeWorkingKeys(keys: WorkingKeys | null | undefined): void {
  if (!keys) return;
  wipe(keys.pik, keys.mak, keys.tdk);
}

interface Slot {
  name: 'PIK' | 'MAK' | 'TDK';
  cipher: Buffer;
  check: Buffer;
}

function slots(scheme: KeyScheme, block: Buffer): Slot[] {
  if (scheme === '001') {
    return [
      { name: 'PIK', cipher: block.subarray(0, 8), check: block.subarray(8, 12) },
      { name: 'MAK', cipher: block.subarray(12, 20), check: block.subarray(20, 24) },
    ];
  }
  const makSlot = block.subarray(20, 36);
  const makIsDouble = makSlot.subarray(8).some((b) => b !== 0);
  const out: Slot[] = [
    { name: 'PIK', cipher: block.subarray(0, 16), check: block.subarray(16, 20) },
    { name: 'MAK', cipher: makIsDouble ? makSlot : makSlot.subarray(0, 8), check: block.subarray(36, 40) },
  ];
  if (scheme === '004') out.push({ name: 'TDK', cipher: block.subarray(40, 56), check: block.subarray(56, 60) });
  return out;
}

/**
 * Decrypt and verify the working keys of a sign-on response. On any KCV mismatch every key
 * decrypted so far is wiped and TerminalError KCV_MISMATCH is thrown; a wrong length gives
 * BAD_KEY_BLOCK. `tmk` is the clear terminal master key (8, 16 or 24 bytes); it is not modified.
 */
export function decryptWorkingKeys(tmk: Uint8Array, scheme: KeyScheme, block: Uint8Array | undefined): WorkingKeys {
  if (!isKeyScheme(scheme)) throw new TerminalError('BAD_ARGUMENT', `unknown key scheme ${String(scheme)}`);
  if (block === undefined) throw new TerminalError('BAD_KEY_BLOCK', 'sign-on response has no field 62 (working keys)');
  const expected = KEY_BLOCK_LENGTH[scheme];
  if (block.length !== expected) {
    throw new TerminalError('BAD_KEY_BLOCK', `field 62 is ${block.length} bytes; key scheme ${scheme} needs ${expected}`);
  }
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const clear: Buffer[] = [];
  try {
    for (const slot of slots(scheme, buf)) {
      const key = tdesEcbDecrypt(tmk, slot.cipher);
      clear.push(key);
      const actual = kcv(key, { alg: 'tdes', length: 4 });
      const ok = timingSafeEqual(actual, slot.check);
      if (!ok) {
        throw new TerminalError('KCV_MISMATCH', `${slot.name} check value ${toHex(slot.check)} does not match the decrypted key (${toHex(actual)}); keys discarded`);
      }
    }
  } catch (e) {
    wipe(...clear);
    if (e instanceof TerminalError) throw e;
    throw new TerminalError('BAD_KEY_BLOCK', `working keys could not be decrypted: ${(e as Error).message}`, { cause: e });
  }
  const [pik, mak, tdk] = clear as [Buffer, Buffer, Buffer | undefined];
  return tdk === undefined ? { pik, mak } : { pik, mak, tdk };
}
