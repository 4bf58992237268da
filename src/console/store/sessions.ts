/** Console sessions: only SHA-256(token) is stored. */
import type { Db } from '../../store/index.js';

export type SessionScope = 'full' | 'password-change';

export interface SessionRow {
  tokenHash: string;
  username: string;
  scope: SessionScope;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

interface Row {
  token_hash: string;
  username: string;
  scope: SessionScope;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export async function insertSession(
  db: Db,
  s: { tokenHash: string; username: string; scope: SessionScope; now: Date; expiresAt: Date; origin: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO console_sessions (token_hash, username, scope, created_at, last_seen_at, expires_at, origin) VALUES ($1, $2, $3, $4, $4, $5, $6)`,
    [s.tokenHash, s.username, s.scope, s.now, s.expiresAt, s.origin],
  );
}

export async function findSession(db: Db, tokenHash: string): Promise<SessionRow | null> {
  const r = await db.query<Row>(
    `SELECT token_hash, username, scope, created_at, last_seen_at, expires_at, revoked_at FROM console_sessions WHERE token_hash = $1`,
    [tokenHash],
  );
  const x = r.rows[0];
  return x
    ? { tokenHash: x.token_hash, username: x.username, scope: x.scope, createdAt: x.created_at, lastSeenAt: x.last_seen_at, expiresAt: x.expires_at, revokedAt: x.revoked_at }
    : null;
}

export async function touchSession(db: Db, tokenHash: string, now: Date): Promise<void> {
  await db.query(`UPDATE console_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2`, [tokenHash, now]);
}

export async function revokeSession(db: Db, tokenHash: string, now: Date): Promise<void> {
  await db.query(`UPDATE console_sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash, now]);
}

/** Revoke every live session of a user (privilege or credential change, disable). Returns how many. */
export async function revokeUserSessions(db: Db, username: string, now: Date): Promise<number> {
  const r = await db.query(`UPDATE console_sessions SET revoked_at = $2 WHERE username = $1 AND revoked_at IS NULL`, [username, now]);
  return r.rowCount;
}
