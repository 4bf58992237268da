/** Stored TOTP enrolments (secrets encrypted, see ../auth/secret-box.ts). */
import type { Db } from '../../store/index.js';

export interface TotpRow {
  enc: string;
  iv: string;
  lastStep: number;
}

export async function getTotp(db: Db, username: string): Promise<TotpRow | null> {
  const r = await db.query<{ secret_enc: string; iv: string; last_step: string | number }>(
    `SELECT secret_enc, iv, last_step FROM console_totp WHERE username = $1`,
    [username],
  );
  const x = r.rows[0];
  return x ? { enc: x.secret_enc, iv: x.iv, lastStep: Number(x.last_step) } : null;
}

export async function putTotp(db: Db, username: string, sealed: { enc: string; iv: string }, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO console_totp (username, secret_enc, iv, last_step, created_at) VALUES ($1, $2, $3, 0, $4)
     ON CONFLICT (username) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, iv = EXCLUDED.iv, last_step = 0, created_at = EXCLUDED.created_at`,
    [username, sealed.enc, sealed.iv, now],
  );
}

/** Accept a step only if it is newer than the last one used (atomic: a replay in a race loses). */
export async function useTotpStep(db: Db, username: string, step: number): Promise<boolean> {
  const r = await db.query(`UPDATE console_totp SET last_step = $2 WHERE username = $1 AND last_step < $2`, [username, step]);
  return r.rowCount > 0;
}
