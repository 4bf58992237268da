/** PAN fingerprints under the store's PAN fingerprint key (src/transactions/pan-fingerprint.ts). */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import type { Db } from '../../src/store/index.js';
import { fingerprintPan, panFingerprintKey } from '../../src/transactions/pan-fingerprint.js';
import { describeBackends } from '../store/helpers.js';

const PAN = '6299900000000000018';

describeBackends('PAN fingerprint key', (backend) => {
  let db: Db | undefined;
  afterEach(async () => {
    if (db) await backend.dispose(db);
    db = undefined;
  });

  it('is made once per store, from the LMK as SoftHsm derived it before it was stored: old fingerprints still match', async () => {
    db = await backend.open();
    const lmk = randomBytes(32);
    const hsm = await SoftHsm.open({ lmkHex: lmk.toString('hex'), env: {} });
    try {
      const fp = await fingerprintPan(db, hsm, PAN);
      // What SoftHsm computed before the key was stored: HMAC-SHA-256 under HKDF-SHA-256(LMK, info "qiandao pan fingerprint v1").
      const legacyKey = Buffer.from(hkdfSync('sha256', lmk, Buffer.alloc(0), 'qiandao pan fingerprint v1', 32));
      expect(fp).toBe(createHmac('sha256', legacyKey).update(PAN).digest('hex'));
      expect(await fingerprintPan(db, hsm, '6299900000000000026')).not.toBe(fp);
      const rows = await db.query<{ key_block: string; key_kcv: string }>('SELECT key_block, key_kcv FROM pan_fingerprint_keys');
      expect(rows.rows).toHaveLength(1);
      const key = await panFingerprintKey(db, hsm);
      expect(key).toMatchObject({ usage: 'FPK', algorithm: 'hmac', block: rows.rows[0]!.key_block });
      // Its check value: HMAC-SHA-256 of 32 zero bytes, first 5 bytes.
      expect(rows.rows[0]!.key_kcv).toBe(createHmac('sha256', legacyKey).update(Buffer.alloc(32)).digest().subarray(0, 5).toString('hex').toUpperCase());
    } finally {
      await hsm.close();
    }
  });

  it('is one key per store: a second HSM handle under the same LMK and concurrent first uses agree', async () => {
    db = await backend.open();
    const lmkHex = randomBytes(32).toString('hex');
    const a = await SoftHsm.open({ lmkHex, env: {} });
    const b = await SoftHsm.open({ lmkHex, env: {} });
    try {
      const [fa, fb] = await Promise.all([fingerprintPan(db, a, PAN), fingerprintPan(db, b, PAN)]);
      expect(fa).toBe(fb);
      expect((await db.query('SELECT 1 FROM pan_fingerprint_keys')).rowCount).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
