/**
 * PAN fingerprints: HMAC-SHA-256 of the PAN under the store's PAN fingerprint key (FPK), made in
 * the HSM. Journal entries, issuer cards, risk windows and settlement records match cards by it,
 * so it must not change for the life of the store: the FPK is a key block in pan_fingerprint_keys,
 * re-wrapped (not replaced) by an LMK rotation.
 *
 * The key is created on first use. With a SoftHsm it is the key SoftHsm used to derive from its
 * LMK before the key was stored (`fingerprintKeyFromLmk`), so stores made earlier keep their
 * fingerprints; another HSM generates a fresh one.
 */
import type { Hsm, WrappedKey } from '../crypto/hsm/hsm.js';
import { SoftHsm } from '../crypto/hsm/soft-hsm.js';
import type { Db } from '../store/db.js';
import { storedKey } from '../store/stored-key.js';

const keys = new WeakMap<Db, Promise<WrappedKey>>();

/** The store's PAN fingerprint key (cached per store handle; a failed load is not cached). */
export function panFingerprintKey(db: Db, hsm: Hsm): Promise<WrappedKey> {
  return storedKey(keys, db, {
    what: 'PAN fingerprint key',
    async read(d) {
      const r = await d.query<{ key_block: string; key_kcv: string }>('SELECT key_block, key_kcv FROM pan_fingerprint_keys WHERE id = 1');
      const row = r.rows[0];
      return row === undefined ? null : { usage: 'FPK', algorithm: 'hmac', length: 32, kcv: row.key_kcv.toUpperCase(), block: row.key_block };
    },
    make: () => (hsm instanceof SoftHsm ? hsm.fingerprintKeyFromLmk() : hsm.generateKey({ usage: 'FPK', algorithm: 'hmac', length: 32 })),
    async insert(d, k) {
      await d.query('INSERT INTO pan_fingerprint_keys (id, key_block, key_kcv) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [k.block, k.kcv]);
    },
  });
}

/**
 * Before an LMK rotation: a store that has no stored fingerprint key yet (made by an older
 * version, and no card fingerprinted since) gets the key its fingerprints were made with, derived
 * from the previous LMK and wrapped under the current one — were it made later from the new LMK,
 * every stored fingerprint would stop matching. True when the key was stored now.
 */
export async function adoptPreviousFingerprintKey(db: Db, hsm: SoftHsm): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM pan_fingerprint_keys WHERE id = 1');
  if (r.rowCount > 0) return false;
  const k = await hsm.fingerprintKeyFromLmk('previous');
  const ins = await db.query('INSERT INTO pan_fingerprint_keys (id, key_block, key_kcv) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [k.block, k.kcv]);
  return ins.rowCount === 1;
}

/** The fingerprint of `pan` in this store: 64 lower-case hex characters. */
export async function fingerprintPan(db: Db, hsm: Hsm, pan: string): Promise<string> {
  return hsm.panFingerprint(await panFingerprintKey(db, hsm), pan);
}
