/**
 * Encrypt TOTP secrets under a console data key (TDK, AES-256) that lives in the HSM: generated
 * once, stored as its LMK-wrapped block in console_keys, used with AES-CBC and a random IV.
 * The clear secret exists only in memory while a code is checked or an enrolment URI is built.
 */
import { randomBytes } from 'node:crypto';
import type { Hsm, WrappedKey } from '../../crypto/hsm/index.js';
import type { Db } from '../../store/index.js';
import { storedKey } from '../../store/stored-key.js';

const KEY_NAME = 'totp-tdk';

const keys = new WeakMap<Db, Promise<WrappedKey>>();

/** The console's TOTP data key, generating it in the HSM on first use (cached per store handle). */
export function consoleDataKey(db: Db, hsm: Hsm): Promise<WrappedKey> {
  return storedKey(keys, db, {
    what: 'console data key',
    async read(d) {
      const r = await d.query<{ key_block: string; kcv: string }>(`SELECT key_block, kcv FROM console_keys WHERE name = $1`, [KEY_NAME]);
      const row = r.rows[0];
      return row ? { usage: 'TDK', algorithm: 'aes', length: 32, kcv: row.kcv, block: row.key_block } : null;
    },
    make: () => hsm.generateKey({ usage: 'TDK', algorithm: 'aes', length: 32 }),
    async insert(d, k) {
      await d.query(`INSERT INTO console_keys (name, key_block, kcv) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [KEY_NAME, k.block, k.kcv]);
    },
  });
}

/** PKCS#7 padding to the AES block. */
function pad(data: Buffer): Buffer {
  const n = 16 - (data.length % 16);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer): Buffer {
  const n = data[data.length - 1] ?? 0;
  if (n < 1 || n > 16 || n > data.length) throw new Error('bad padding on a stored TOTP secret');
  return data.subarray(0, data.length - n);
}

export async function sealSecret(db: Db, hsm: Hsm, secret: Buffer): Promise<{ enc: string; iv: string }> {
  const key = await consoleDataKey(db, hsm);
  const iv = randomBytes(16);
  const enc = await hsm.encryptData(key, pad(secret), 'cbc', iv);
  return { enc: enc.toString('hex'), iv: iv.toString('hex') };
}

export async function openSecret(db: Db, hsm: Hsm, sealed: { enc: string; iv: string }): Promise<Buffer> {
  const key = await consoleDataKey(db, hsm);
  const clear = await hsm.decryptData(key, Buffer.from(sealed.enc, 'hex'), 'cbc', Buffer.from(sealed.iv, 'hex'));
  return unpad(clear);
}
