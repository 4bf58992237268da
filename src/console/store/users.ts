/** Console users: the console_users and console_user_merchants tables. */
import type { Db } from '../../store/index.js';
import type { Role } from '../roles.js';

export type UserStatus = 'active' | 'disabled';

export interface ConsoleUser {
  username: string;
  role: Role;
  status: UserStatus;
  disabledReason: string | null;
  merchants: string[];
  passwordChangedAt: Date;
  mustChangePassword: boolean;
  failedAttempts: number;
  lockedUntil: Date | null;
  lastSignInAt: Date | null;
  lastActivityAt: Date | null;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
}

/** A user plus the stored password hash: never leaves the console's auth code. */
export interface ConsoleUserWithHash extends ConsoleUser {
  passwordHash: string;
}

interface UserRow {
  username: string;
  role: Role;
  status: UserStatus;
  disabled_reason: string | null;
  password_hash: string;
  password_changed_at: Date;
  must_change_password: boolean;
  failed_attempts: number;
  locked_until: Date | null;
  last_sign_in_at: Date | null;
  last_activity_at: Date | null;
  created_at: Date;
  created_by: string;
  updated_at: Date;
  merchants: string[] | string | null;
}

const SELECT = `SELECT u.username, u.role, u.status, u.disabled_reason, u.password_hash, u.password_changed_at,
    u.must_change_password, u.failed_attempts, u.locked_until, u.last_sign_in_at, u.last_activity_at,
    u.created_at, u.created_by, u.updated_at,
    (SELECT coalesce(jsonb_agg(m.merchant_no ORDER BY m.merchant_no), '[]'::jsonb)::text
       FROM console_user_merchants m WHERE m.username = u.username) AS merchants
  FROM console_users u`;

function toUser(r: UserRow): ConsoleUserWithHash {
  const merchants = typeof r.merchants === 'string' ? (JSON.parse(r.merchants) as string[]) : (r.merchants ?? []);
  return {
    username: r.username,
    role: r.role,
    status: r.status,
    disabledReason: r.disabled_reason,
    merchants,
    passwordHash: r.password_hash,
    passwordChangedAt: r.password_changed_at,
    mustChangePassword: r.must_change_password,
    failedAttempts: Number(r.failed_attempts),
    lockedUntil: r.locked_until,
    lastSignInAt: r.last_sign_in_at,
    lastActivityAt: r.last_activity_at,
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
  };
}

/** Drop the hash before a user leaves the auth code. */
export function publicUser(u: ConsoleUserWithHash | ConsoleUser): ConsoleUser {
  const { passwordHash: _drop, ...rest } = u as ConsoleUserWithHash;
  return rest;
}

export async function getUser(db: Db, username: string): Promise<ConsoleUserWithHash | null> {
  const r = await db.query<UserRow>(`${SELECT} WHERE u.username = $1`, [username]);
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

export async function listUsers(db: Db): Promise<ConsoleUserWithHash[]> {
  const r = await db.query<UserRow>(`${SELECT} ORDER BY u.username`);
  return r.rows.map(toUser);
}

export interface InsertUser {
  username: string;
  role: Role;
  merchants: readonly string[];
  passwordHash: string;
  createdBy: string;
  now: Date;
}

export async function insertUser(db: Db, u: InsertUser): Promise<void> {
  await db.query(
    `INSERT INTO console_users (username, role, password_hash, password_changed_at, must_change_password, created_at, created_by, updated_at)
     VALUES ($1, $2, $3, $4, true, $4, $5, $4)`,
    [u.username, u.role, u.passwordHash, u.now, u.createdBy],
  );
  await setUserMerchants(db, u.username, u.merchants);
  await db.query(`INSERT INTO console_password_history (username, password_hash, created_at) VALUES ($1, $2, $3)`, [u.username, u.passwordHash, u.now]);
}

export async function setUserMerchants(db: Db, username: string, merchants: readonly string[]): Promise<void> {
  await db.query(`DELETE FROM console_user_merchants WHERE username = $1`, [username]);
  for (const m of [...new Set(merchants)]) {
    await db.query(`INSERT INTO console_user_merchants (username, merchant_no) VALUES ($1, $2)`, [username, m]);
  }
}

export async function setUserRole(db: Db, username: string, role: Role, now: Date): Promise<void> {
  await db.query(`UPDATE console_users SET role = $2, updated_at = $3 WHERE username = $1`, [username, role, now]);
}

export async function setUserStatus(db: Db, username: string, status: UserStatus, reason: string | null, now: Date): Promise<boolean> {
  const r = await db.query(
    `UPDATE console_users SET status = $2, disabled_reason = $3, updated_at = $4,
       failed_attempts = CASE WHEN $2 = 'active' THEN 0 ELSE failed_attempts END,
       locked_until = CASE WHEN $2 = 'active' THEN NULL ELSE locked_until END,
       last_activity_at = CASE WHEN $2 = 'active' THEN $4 ELSE last_activity_at END
     WHERE username = $1`,
    [username, status, status === 'active' ? null : reason, now],
  );
  return r.rowCount > 0;
}

/** Record a failed sign-in; lock when the count reaches `maxFailures`. Returns the new state. */
export async function recordFailure(
  db: Db,
  username: string,
  now: Date,
  maxFailures: number,
  lockMs: number,
): Promise<{ failedAttempts: number; lockedUntil: Date | null }> {
  const r = await db.query<{ failed_attempts: number; locked_until: Date | null }>(
    `UPDATE console_users SET failed_attempts = failed_attempts + 1,
       locked_until = CASE WHEN failed_attempts + 1 >= $3 THEN $2::timestamptz + ($4 || ' milliseconds')::interval ELSE locked_until END,
       updated_at = $2
     WHERE username = $1 RETURNING failed_attempts, locked_until`,
    [username, now, maxFailures, String(lockMs)],
  );
  const row = r.rows[0];
  return { failedAttempts: Number(row?.failed_attempts ?? 0), lockedUntil: row?.locked_until ?? null };
}

/** Successful sign-in: clear failures and lock, note the time. */
export async function recordSignIn(db: Db, username: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE console_users SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = $2, last_activity_at = $2, updated_at = $2 WHERE username = $1`,
    [username, now],
  );
}

/** Clear an expired lock (a fresh count of attempts after the lockout period). */
export async function clearLock(db: Db, username: string, now: Date): Promise<void> {
  await db.query(`UPDATE console_users SET failed_attempts = 0, locked_until = NULL, updated_at = $2 WHERE username = $1`, [username, now]);
}

export async function touchActivity(db: Db, username: string, now: Date): Promise<void> {
  await db.query(`UPDATE console_users SET last_activity_at = $2 WHERE username = $1 AND (last_activity_at IS NULL OR last_activity_at < $2)`, [username, now]);
}

export const PASSWORD_HISTORY = 4;

export async function passwordHistory(db: Db, username: string): Promise<string[]> {
  const r = await db.query<{ password_hash: string }>(
    `SELECT password_hash FROM console_password_history WHERE username = $1 ORDER BY id DESC LIMIT $2`,
    [username, PASSWORD_HISTORY],
  );
  return r.rows.map((x) => x.password_hash);
}

/** Store a new password hash; keep only the newest four in the history. */
export async function setPassword(db: Db, username: string, hash: string, now: Date, mustChange: boolean): Promise<void> {
  await db.query(
    `UPDATE console_users SET password_hash = $2, password_changed_at = $3, must_change_password = $4, updated_at = $3 WHERE username = $1`,
    [username, hash, now, mustChange],
  );
  await db.query(`INSERT INTO console_password_history (username, password_hash, created_at) VALUES ($1, $2, $3)`, [username, hash, now]);
  await db.query(
    `DELETE FROM console_password_history WHERE username = $1 AND id NOT IN
       (SELECT id FROM console_password_history WHERE username = $1 ORDER BY id DESC LIMIT $2)`,
    [username, PASSWORD_HISTORY],
  );
}
