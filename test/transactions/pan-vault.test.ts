/** The pending-entry PAN vault: AES-256-CBC under an HSM data key, random IV, never the clear PAN; opened only when it matches the entry's PAN fingerprint. */
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import type { Db } from '../../src/store/index.js';
import { fingerprintPan } from '../../src/transactions/pan-fingerprint.js';
import { openPan, PanVaultError, sealPan } from '../../src/transactions/pan-vault.js';
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
      expect(await openPan(db, hsm, a, await fingerprintPan(db, hsm, pan))).toBe(pan);
      const key = await db.query<{ key_kcv: string }>('SELECT key_kcv FROM journal_keys');
      expect(key.rows).toHaveLength(1);
      expect(key.rows[0]!.key_kcv).toMatch(/^[0-9A-F]{10}$/);
    } finally {
      await hsm.close();
    }
  });

  it('refuses a sealed PAN that was changed, copied from another entry or is malformed, without naming the PAN', async () => {
    db = await backend.open();
    const hsm = await SoftHsm.open({ lmkHex: randomBytes(32).toString('hex') });
    try {
      const pan = '6299900000000000018';
      const other = '6299900000000000026';
      const fp = await fingerprintPan(db, hsm, pan);
      const sealed = await sealPan(db, hsm, pan);
      const refused = async (s: string, f: string): Promise<string> => {
        try {
          await openPan(db!, hsm, s, f);
          return 'opened';
        } catch (e) {
          expect(e).toBeInstanceOf(PanVaultError);
          expect((e as Error).message).not.toContain(pan);
          expect((e as Error).message).not.toContain(other);
          return 'refused';
        }
      };
      // Another entry's cipher text (another card) under this entry's fingerprint.
      expect(await refused(await sealPan(db, hsm, other), fp)).toBe('refused');
      // One bit of the IV flipped: CBC opens it to different digits.
      const flipped = (parseInt(sealed[0]!, 16) ^ 1).toString(16) + sealed.slice(1);
      expect(await refused(flipped, fp)).toBe('refused');
      // Truncated, not hex, empty.
      expect(await refused(sealed.slice(0, 40), fp)).toBe('refused');
      expect(await refused('zz' + sealed.slice(2), fp)).toBe('refused');
      expect(await refused('', fp)).toBe('refused');
      // The genuine pair still opens.
      expect(await openPan(db, hsm, sealed, fp)).toBe(pan);
    } finally {
      await hsm.close();
    }
  });
});
