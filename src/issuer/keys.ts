/**
 * The issuer's keys and PIN enrolment.
 *
 * - ZPK (double-length TDES): the key PIN blocks arrive under (`Issuer.pinKey()`); the acquirer
 *   translates terminal PIN blocks to it in its HSM.
 * - PVK pair (double-length TDES, V2): computes and verifies Visa PVVs.
 * Both are generated in the HSM on the simulator's first open and stored as LMK-wrapped blocks in
 * issuer_keys (one row; concurrent first opens agree on whichever row was inserted first).
 *
 * PIN enrolment (`enrolPvv`): the PVV must be computed inside the HSM from a PIN block under a
 * key the HSM holds, and software cannot encrypt under a wrapped key. So a one-time PIN key is
 * formed from two random components (the caller knows the clear key: the XOR of the
 * components), the format 0 PIN block is encrypted in software under that clear key, the HSM
 * computes the PVV from it, and the clear key, components and block are wiped. The one-time key
 * is never stored.
 */
import { wipe, xor } from '../crypto/cipher.js';
import type { Hsm, WrappedKey } from '../crypto/hsm/hsm.js';
import { buildPinBlock, encryptPinBlock } from '../crypto/pinblock.js';
import { randomBytesSecure } from '../crypto/random.js';
import type { Db } from '../store/db.js';
import { loadOrCreate } from '../store/stored-key.js';

export interface IssuerKeys {
  zpk: WrappedKey;
  pvk: WrappedKey;
  /** PVKI written into new cards. */
  pvki: number;
}

interface KeyRow {
  zpk_block: string;
  zpk_kcv: string;
  pvk_block: string;
  pvk_kcv: string;
  pvki: number;
}

function fromRow(r: KeyRow): IssuerKeys {
  return {
    zpk: { usage: 'ZPK', algorithm: 'tdes', length: 16, kcv: r.zpk_kcv, block: r.zpk_block },
    pvk: { usage: 'PVK', algorithm: 'tdes', length: 16, kcv: r.pvk_kcv, block: r.pvk_block },
    pvki: Number(r.pvki),
  };
}

const SELECT_KEYS = 'SELECT zpk_block, zpk_kcv, pvk_block, pvk_kcv, pvki FROM issuer_keys WHERE id = 1';

/** Load the issuer's keys, generating and storing them on first use. */
export function ensureIssuerKeys(db: Db, hsm: Hsm): Promise<IssuerKeys> {
  return loadOrCreate<IssuerKeys>(db, {
    what: "the issuer simulator's keys",
    async read(d) {
      const r = await d.query<KeyRow>(SELECT_KEYS);
      return r.rows[0] === undefined ? null : fromRow(r.rows[0]);
    },
    async make() {
      const zpk = await hsm.generateKey({ usage: 'ZPK', algorithm: 'tdes', length: 16 });
      const pvk = await hsm.generateKey({ usage: 'PVK', algorithm: 'tdes', length: 16 });
      return { zpk, pvk, pvki: 1 };
    },
    async insert(d, k) {
      await d.query(
        `INSERT INTO issuer_keys (id, zpk_block, zpk_kcv, pvk_block, pvk_kcv, pvki) VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING`,
        [k.zpk.block, k.zpk.kcv, k.pvk.block, k.pvk.kcv, k.pvki],
      );
    },
  });
}

/**
 * The Visa PVV of `pin` for `pan` under `pvk`, computed in the HSM via a one-time PIN key (see
 * the file comment). The PIN is only in this process for the time it takes to build the block.
 */
export async function enrolPvv(hsm: Hsm, req: { pan: string; pin: string; pvk: WrappedKey; pvki: number }): Promise<string> {
  const c1 = randomBytesSecure(16);
  const c2 = randomBytesSecure(16);
  const clearKey = xor(c1, c2);
  let clearBlock: Buffer | undefined;
  let pinBlock: Buffer | undefined;
  try {
    const pik = await hsm.importFromComponents({ usage: 'PIK', algorithm: 'tdes', length: 16 }, [c1, c2]);
    clearBlock = buildPinBlock({ format: 0, pin: req.pin, pan: req.pan });
    // DES ignores the parity bits the HSM may have adjusted, so the XOR encrypts the same way.
    pinBlock = encryptPinBlock(clearKey, clearBlock);
    return await hsm.pvvFromPinBlock({ pinBlock, pik, format: 0, pan: req.pan, pvk: req.pvk, pvki: req.pvki });
  } finally {
    wipe(c1, c2, clearKey, clearBlock, pinBlock);
  }
}
