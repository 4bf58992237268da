/**
 * The PAN of a journal entry while it is pending, encrypted inside the HSM (AES-256-CBC, random
 * IV) under the journal data key: crash recovery needs it to reverse with the issuer, whose reversal
 * is checked against the card. The data key is generated in the HSM on first use and stored
 * LMK-wrapped in journal_keys; the cipher is cleared when the entry becomes final.
 */
import { randomBytes } from 'node:crypto';
import type { Hsm, WrappedKey } from '../crypto/hsm/hsm.js';
import type { Db } from '../store/db.js';
import { storedKey } from '../store/stored-key.js';
import { fingerprintPan } from './pan-fingerprint.js';

const keys = new WeakMap<Db, Promise<WrappedKey>>();

/** The journal data key (cached per store handle). */
export function journalKey(db: Db, hsm: Hsm): Promise<WrappedKey> {
  return storedKey(keys, db, {
    what: 'journal data key',
    async read(d) {
      const r = await d.query<{ key_block: string; key_kcv: string }>('SELECT key_block, key_kcv FROM journal_keys WHERE id = 1');
      const row = r.rows[0];
      if (row === undefined) return null;
      // AES keys have a 5-byte (CMAC) check value, TDES keys 3 bytes; stores made before the switch
      // to AES keep their TDES key (the HSM reads the real algorithm from the block).
      const aes = row.key_kcv.length === 10;
      return { usage: 'TDK', algorithm: aes ? 'aes' : 'tdes', length: aes ? 32 : 16, kcv: row.key_kcv.toUpperCase(), block: row.key_block };
    },
    make: () => hsm.generateKey({ usage: 'TDK', algorithm: 'aes', length: 32 }),
    async insert(d, k) {
      await d.query('INSERT INTO journal_keys (id, key_block, key_kcv) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [k.block, k.kcv]);
    },
  });
}

function shape(key: WrappedKey): { ivBytes: number; padTo: number } {
  return key.algorithm === 'aes' ? { ivBytes: 16, padTo: 32 } : { ivBytes: 8, padTo: 24 };
}

/** IV + ciphertext of the PAN padded with spaces to a whole number of blocks, as lower-case hex. */
export async function sealPan(db: Db, hsm: Hsm, pan: string): Promise<string> {
  const key = await journalKey(db, hsm);
  const { ivBytes, padTo } = shape(key);
  const iv = randomBytes(ivBytes);
  const ct = await hsm.encryptData(key, Buffer.from(pan.padEnd(padTo, ' '), 'ascii'), 'cbc', iv);
  return Buffer.concat([iv, ct]).toString('hex');
}

/**
 * Open a sealed PAN and check it against the entry's PAN fingerprint (an HMAC under the store's PAN
 * fingerprint key, ./pan-fingerprint.ts): CBC alone does not detect a changed or swapped cipher text, the fingerprint
 * does — someone able to write the database cannot make a cipher text that opens to a PAN matching
 * a fingerprint they did not copy with it. A mismatch is a PanVaultError; the PAN is never in it.
 */
export async function openPan(db: Db, hsm: Hsm, sealed: string, fingerprint: string): Promise<string> {
  const key = await journalKey(db, hsm);
  const { ivBytes } = shape(key);
  if (!/^(?:[0-9a-f]{2})+$/.test(sealed) || sealed.length / 2 <= ivBytes) throw new PanVaultError('sealed PAN is malformed');
  const raw = Buffer.from(sealed, 'hex');
  let pan: string;
  try {
    const clear = await hsm.decryptData(key, raw.subarray(ivBytes), 'cbc', raw.subarray(0, ivBytes));
    pan = clear.toString('ascii').trim();
  } catch {
    throw new PanVaultError('sealed PAN does not decrypt under the journal data key');
  }
  if (!/^[0-9]{12,19}$/.test(pan) || (await fingerprintPan(db, hsm, pan)) !== fingerprint) {
    throw new PanVaultError('sealed PAN does not match the entry (cipher text changed or copied from another entry)');
  }
  return pan;
}

/** A sealed PAN that cannot be used: malformed, undecryptable, or not the entry's card. */
export class PanVaultError extends Error {
  override readonly name = 'PanVaultError';
}
