/** The pending-entry PAN vault: AES-256-CBC under an HSM data key, random IV, never the clear PAN. */
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import type { Db } from '../../src/store/index.js';
import { openPan, sealPan } from '../../src/transactions/pan-vault.js';
import { describeBackends } from '../store/helpers.js';

describeBackends('PAN vault', (backend) => {
  let db: Db | undefined;
  afterEach(async () => {
    if (db) await backend.dispose(db);
    db = undefined;
  });

  it('seals under an AES-256 key made once, with a fresh IV each time, and opens again', async () => {
    db = await backend.open();
    const hsm = await SoftHsm.open({ lmkHex: randomBytes(32).toString('hex') });
    try {
      const pan = '6299900000000000018';
      const a = await sealPan(db, hsm, pan);
      const b = await sealPan(db, hsm, pan);
      expect(a).not.toBe(b);
      expect(a).toMatch(/^[0-9a-f]{96}$/); // 16-byte IV + 32 bytes of ciphertext
      expect(a).not.toContain(Buffer.from(pan).toString('hex'));
      expect(await openPan(db, hsm, a)).toBe(pan);
      const key = await db.query<{ key_kcv: string }>('SELECT key_kcv FROM journal_keys');
      expect(key.rows).toHaveLength(1);
      expect(key.rows[0]!.key_kcv).toMatch(/^[0-9A-F]{10}$/);
    } finally {
      await hsm.close();
    }
  });
});
