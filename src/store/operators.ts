/**
 * POS operators (migrations/004_operators.sql): the repository behind the CLI, the management API
 * and the host's operator messages.
 *
 * Management functions take an `audit` (`actor`, optional `origin`, optional `now`) and append an
 * event in the same transaction (`operator.added`, `operator.disabled`, `operator.enabled`,
 * `operator.password-reset`, `operator.password-changed`, `operator.unlocked`,
 * `operator.permission-granted`, `operator.permission-revoked`, `operator.role-changed`,
 * `role.permission-granted`, `role.permission-revoked`), resource `operator:<mid>/<op>`.
 * Bad input is an OperatorPolicyError (reason BAD_*), a missing operator a StoreError NOT_FOUND.
 * Password hashes never leave this module except through getOperatorCredential (for the HSM).
 */
import { hashPassword } from '../crypto/password.js';
import {
  DEFAULT_LOCK_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PASSWORD_POLICY,
  OperatorPolicyError,
  checkName,
  checkOperatorNo,
  checkPassword,
  effectivePermissions,
  isPermission,
  roleFor,
  type OperatorStatus,
  type PasswordPolicy,
  type PermissionOverride,
} from '../operators/index.js';
import { batcherFor, batchesInFlight } from './batch.js';
import type { Db } from './db.js';
import { StoreError } from './errors.js';
import { appendEvent } from './events.js';
import type { TerminalRef } from './terminals.js';

export interface OperatorRef {
  merchantNo: string;
  operatorNo: string;
}

export interface Operator extends OperatorRef {
  name: string;
  role: string;
  status: OperatorStatus;
  failedAttempts: number;
  /** Locked while this is in the future. */
  lockedUntil: Date | null;
  mustChangePassword: boolean;
  passwordChangedAt: Date;
  createdBy: string;
  changedBy: string;
  createdAt: Date;
  updatedAt: Date;
  /** Effective permissions: the role's, plus grants, minus revokes. */
  permissions: string[];
  /** Per-operator overrides of the role. */
  overrides: PermissionOverride[];
}

/** Who changes something, for the audit trail. */
export interface OperatorAudit {
  /** `user:<name>`, `operator:<mid>/<tid>/<op>`, `cli:<os user>`, `system`. */
  actor: string;
  /** `ip:port`, `cli`... */
  origin?: string | null;
  /** Application clock; default now. */
  now?: Date;
}

export interface NewOperator extends OperatorRef {
  name: string;
  /** Cashiers only; 00 and 99 have fixed roles. Default `cashier`. */
  role?: string;
  /** Clear digits, hashed here with scrypt and never stored. */
  password?: string;
  /** Or a scrypt hash made by the HSM from a password block (terminal-side add). */
  passwordHash?: string;
  /** Default true: the operator changes the password on first use. */
  mustChangePassword?: boolean;
}

interface OperatorRow {
  merchant_no: string;
  operator_no: string;
  name: string;
  role: string;
  status: OperatorStatus;
  failed_attempts: number;
  locked_until: Date | null;
  must_change_password: boolean;
  password_changed_at: Date;
  created_by: string;
  changed_by: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'merchant_no, operator_no, name, role, status, failed_attempts, locked_until, must_change_password, password_changed_at, created_by, changed_by, created_at, updated_at';

function notFound(): StoreError {
  return new StoreError('NOT_FOUND', 'operator not found', { table: 'operators' });
}

function resource(ref: OperatorRef): string {
  return `operator:${ref.merchantNo}/${ref.operatorNo}`;
}

async function rolePermissions(db: Db, role: string): Promise<string[]> {
  const r = await db.query<{ permission: string }>('SELECT permission FROM role_permissions WHERE role = $1 ORDER BY permission', [role]);
  return r.rows.map((x) => x.permission);
}

async function overridesOf(db: Db, ref: OperatorRef): Promise<PermissionOverride[]> {
  const r = await db.query<{ permission: string; effect: 'grant' | 'revoke' }>(
    'SELECT permission, effect FROM operator_grants WHERE merchant_no = $1 AND operator_no = $2 ORDER BY permission',
    [ref.merchantNo, ref.operatorNo],
  );
  return r.rows.map((x) => ({ permission: x.permission, effect: x.effect }));
}

async function toOperator(db: Db, r: OperatorRow): Promise<Operator> {
  const ref = { merchantNo: r.merchant_no, operatorNo: r.operator_no };
  const [roleP, overrides] = await Promise.all([rolePermissions(db, r.role), overridesOf(db, ref)]);
  return operatorOf(r, roleP, overrides);
}

/** JSON arrays decoded by the driver, or still text (kept safe for either). */
function jsonArray<T>(v: unknown): T[] {
  const a: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(a) ? (a as T[]) : [];
}

function operatorOf(r: OperatorRow, roleP: string[], overrides: PermissionOverride[]): Operator {
  const ref = { merchantNo: r.merchant_no, operatorNo: r.operator_no };
  return {
    ...ref,
    name: r.name,
    role: r.role,
    status: r.status,
    failedAttempts: Number(r.failed_attempts),
    lockedUntil: r.locked_until,
    mustChangePassword: r.must_change_password,
    passwordChangedAt: r.password_changed_at,
    createdBy: r.created_by,
    changedBy: r.changed_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    permissions: effectivePermissions(roleP, overrides),
    overrides,
  };
}

/** True while `op` is locked at `now`. */
export function isLocked(op: Pick<Operator, 'lockedUntil'>, now: Date = new Date()): boolean {
  return op.lockedUntil !== null && op.lockedUntil.getTime() > now.getTime();
}

/**
 * One statement (the operator gate asks this on every financial request): the operator row with
 * its role's permissions and its grants / revokes aggregated alongside.
 */
export async function getOperator(db: Db, ref: OperatorRef): Promise<Operator | null> {
  const r = await db.query<OperatorRow & { role_perms: unknown; grants: unknown }>(
    `SELECT ${COLUMNS},
            (SELECT coalesce(json_agg(rp.permission ORDER BY rp.permission), '[]'::json) FROM role_permissions rp WHERE rp.role = o.role) AS role_perms,
            (SELECT coalesce(json_agg(json_build_object('permission', g.permission, 'effect', g.effect) ORDER BY g.permission), '[]'::json)
               FROM operator_grants g WHERE g.merchant_no = o.merchant_no AND g.operator_no = o.operator_no) AS grants
       FROM operators o WHERE o.merchant_no = $1 AND o.operator_no = $2`,
    [ref.merchantNo, ref.operatorNo],
  );
  const row = r.rows[0];
  if (!row) return null;
  const overrides = jsonArray<{ permission: string; effect: 'grant' | 'revoke' }>(row.grants).map((x) => ({ permission: x.permission, effect: x.effect }));
  return operatorOf(row, jsonArray<string>(row.role_perms), overrides);
}

export interface ListOperatorsOptions {
  status?: OperatorStatus;
}

export async function listOperators(db: Db, merchantNo: string, opts: ListOperatorsOptions = {}): Promise<Operator[]> {
  const r = await db.query<OperatorRow>(
    `SELECT ${COLUMNS} FROM operators WHERE merchant_no = $1 AND ($2::text IS NULL OR status = $2) ORDER BY operator_no`,
    [merchantNo, opts.status ?? null],
  );
  const out: Operator[] = [];
  for (const row of r.rows) out.push(await toOperator(db, row));
  return out;
}

/** Lock the row and return it, or throw NOT_FOUND. */
async function lockRow(tx: Db, ref: OperatorRef): Promise<OperatorRow> {
  const r = await tx.query<OperatorRow>(`SELECT ${COLUMNS} FROM operators WHERE merchant_no = $1 AND operator_no = $2 FOR UPDATE`, [ref.merchantNo, ref.operatorNo]);
  if (!r.rows[0]) throw notFound();
  return r.rows[0];
}

async function event(tx: Db, type: string, ref: OperatorRef, audit: OperatorAudit, detail?: Record<string, unknown>): Promise<void> {
  await appendEvent(tx, {
    type,
    ok: true,
    merchantNo: ref.merchantNo,
    operatorNo: ref.operatorNo,
    detail: detail ?? null,
    actor: audit.actor,
    origin: audit.origin ?? null,
    resource: resource(ref),
  });
}

async function checkRoleExists(db: Db, role: string): Promise<void> {
  const r = await db.query('SELECT 1 FROM operator_roles WHERE role = $1', [role]);
  if (r.rowCount === 0) throw new OperatorPolicyError('BAD_ROLE', `unknown role ${role}`);
}

/** Add an operator. DUPLICATE when the number is taken; CONSTRAINT when the merchant is unknown. */
export async function addOperator(db: Db, input: NewOperator, audit: OperatorAudit, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY): Promise<Operator> {
  checkOperatorNo(input.operatorNo);
  checkName(input.name);
  const role = roleFor(input.operatorNo, input.role);
  let hash: string;
  if (input.password !== undefined) {
    checkPassword(input.operatorNo, input.password, policy);
    hash = await hashPassword(input.password);
  } else if (typeof input.passwordHash === 'string' && input.passwordHash.startsWith('scrypt$')) {
    hash = input.passwordHash;
  } else {
    throw new OperatorPolicyError('BAD_PASSWORD', 'an initial password is required');
  }
  await checkRoleExists(db, role);
  const now = audit.now ?? new Date();
  return db.transaction(async (tx) => {
    const r = await tx.query<OperatorRow>(
      `INSERT INTO operators (merchant_no, operator_no, name, role, password_hash, must_change_password, password_changed_at,
                              created_by, changed_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $7, $7) RETURNING ${COLUMNS}`,
      [input.merchantNo, input.operatorNo, input.name.trim(), role, hash, input.mustChangePassword ?? true, now, audit.actor],
    );
    await event(tx, 'operator.added', input, audit, { role, name: input.name.trim() });
    return toOperator(tx, r.rows[0] as OperatorRow);
  });
}

async function update(
  db: Db,
  ref: OperatorRef,
  audit: OperatorAudit,
  type: string,
  set: string,
  params: readonly unknown[],
  detail?: Record<string, unknown>,
): Promise<Operator> {
  const now = audit.now ?? new Date();
  return db.transaction(async (tx) => {
    await lockRow(tx, ref);
    const r = await tx.query<OperatorRow>(
      `UPDATE operators SET ${set}, changed_by = $3, updated_at = $4 WHERE merchant_no = $1 AND operator_no = $2 RETURNING ${COLUMNS}`,
      [ref.merchantNo, ref.operatorNo, audit.actor, now, ...params],
    );
    await event(tx, type, ref, audit, detail);
    return toOperator(tx, r.rows[0] as OperatorRow);
  });
}

/** Disable an operator and end their open sessions (reason `disabled`). */
export async function disableOperator(db: Db, ref: OperatorRef, audit: OperatorAudit): Promise<Operator> {
  const op = await update(db, ref, audit, 'operator.disabled', "status = 'disabled'", []);
  await endSessionsOfOperator(db, ref, 'disabled', audit.now);
  return op;
}

export function enableOperator(db: Db, ref: OperatorRef, audit: OperatorAudit): Promise<Operator> {
  return update(db, ref, audit, 'operator.enabled', "status = 'active'", []);
}

/** Clear the failed-attempt counter and any lock. */
export function unlockOperator(db: Db, ref: OperatorRef, audit: OperatorAudit): Promise<Operator> {
  return update(db, ref, audit, 'operator.unlocked', 'failed_attempts = 0, locked_until = NULL', []);
}

/**
 * Set a new password chosen by someone else (supervisor, administrator, back office): the operator
 * must change it on next use; the lock is cleared.
 */
export async function resetOperatorPassword(
  db: Db,
  ref: OperatorRef,
  password: string,
  audit: OperatorAudit,
  policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
): Promise<Operator> {
  checkPassword(ref.operatorNo, password, policy);
  const hash = await hashPassword(password);
  return setOperatorPasswordHash(db, ref, hash, { ...audit, mustChange: true });
}

/**
 * Store a password hash made elsewhere (the HSM, from a PIN block). `mustChange` false: the
 * operator chose it (`operator.password-changed`); true: a reset (`operator.password-reset`).
 */
export function setOperatorPasswordHash(db: Db, ref: OperatorRef, hash: string, audit: OperatorAudit & { mustChange: boolean }): Promise<Operator> {
  if (!hash.startsWith('scrypt$')) throw new OperatorPolicyError('BAD_PASSWORD', 'not a scrypt password hash');
  return update(
    db,
    ref,
    audit,
    audit.mustChange ? 'operator.password-reset' : 'operator.password-changed',
    'password_hash = $5, must_change_password = $6, password_changed_at = $4, failed_attempts = 0, locked_until = NULL',
    [hash, audit.mustChange],
  );
}

/** Change a cashier's role (00 and 99 have fixed roles). */
export async function setOperatorRole(db: Db, ref: OperatorRef, role: string, audit: OperatorAudit): Promise<Operator> {
  checkOperatorNo(ref.operatorNo);
  roleFor(ref.operatorNo, role);
  await checkRoleExists(db, role);
  return update(db, ref, audit, 'operator.role-changed', 'role = $5', [role], { role });
}

async function override(db: Db, ref: OperatorRef, permission: string, effect: 'grant' | 'revoke', audit: OperatorAudit): Promise<Operator> {
  if (!isPermission(permission)) throw new OperatorPolicyError('BAD_PERMISSION', `unknown permission ${String(permission)}`);
  const now = audit.now ?? new Date();
  return db.transaction(async (tx) => {
    await lockRow(tx, ref);
    await tx.query(
      `INSERT INTO operator_grants (merchant_no, operator_no, permission, effect, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (merchant_no, operator_no, permission) DO UPDATE SET effect = EXCLUDED.effect, granted_by = EXCLUDED.granted_by, granted_at = EXCLUDED.granted_at`,
      [ref.merchantNo, ref.operatorNo, permission, effect, audit.actor, now],
    );
    const r = await tx.query<OperatorRow>(
      `UPDATE operators SET changed_by = $3, updated_at = $4 WHERE merchant_no = $1 AND operator_no = $2 RETURNING ${COLUMNS}`,
      [ref.merchantNo, ref.operatorNo, audit.actor, now],
    );
    await event(tx, effect === 'grant' ? 'operator.permission-granted' : 'operator.permission-revoked', ref, audit, { permission });
    return toOperator(tx, r.rows[0] as OperatorRow);
  });
}

/** Give one operator a permission their role lacks (or undo a revoke). */
export function grantPermission(db: Db, ref: OperatorRef, permission: string, audit: OperatorAudit): Promise<Operator> {
  return override(db, ref, permission, 'grant', audit);
}

/** Take a permission from one operator even if their role has it. */
export function revokePermission(db: Db, ref: OperatorRef, permission: string, audit: OperatorAudit): Promise<Operator> {
  return override(db, ref, permission, 'revoke', audit);
}

export interface Role {
  role: string;
  description: string;
  permissions: string[];
}

export async function listRoles(db: Db): Promise<Role[]> {
  const r = await db.query<{ role: string; description: string }>('SELECT role, description FROM operator_roles ORDER BY role');
  const out: Role[] = [];
  for (const row of r.rows) out.push({ ...row, permissions: await rolePermissions(db, row.role) });
  return out;
}

/** Add (`allowed` true) or remove a permission of a role, for every operator holding it. */
export async function setRolePermission(db: Db, role: string, permission: string, allowed: boolean, audit: OperatorAudit): Promise<Role> {
  if (!isPermission(permission)) throw new OperatorPolicyError('BAD_PERMISSION', `unknown permission ${String(permission)}`);
  await checkRoleExists(db, role);
  return db.transaction(async (tx) => {
    if (allowed) await tx.query('INSERT INTO role_permissions (role, permission) VALUES ($1, $2) ON CONFLICT DO NOTHING', [role, permission]);
    else await tx.query('DELETE FROM role_permissions WHERE role = $1 AND permission = $2', [role, permission]);
    await appendEvent(tx, {
      type: allowed ? 'role.permission-granted' : 'role.permission-revoked',
      ok: true,
      detail: { role, permission },
      actor: audit.actor,
      origin: audit.origin ?? null,
      resource: `role:${role}`,
    });
    const d = await tx.query<{ description: string }>('SELECT description FROM operator_roles WHERE role = $1', [role]);
    return { role, description: d.rows[0]?.description ?? '', permissions: await rolePermissions(tx, role) };
  });
}

// ---------------------------------------------------------------------------------------------
// Password checks (host): the hash goes to the HSM, the outcome comes back here.

/** The operator and their stored password hash, for Hsm.verifyPinBlockSecret. */
export async function getOperatorCredential(db: Db, ref: OperatorRef): Promise<{ operator: Operator; passwordHash: string } | null> {
  const r = await db.query<OperatorRow & { password_hash: string }>(
    `SELECT ${COLUMNS}, password_hash FROM operators WHERE merchant_no = $1 AND operator_no = $2`,
    [ref.merchantNo, ref.operatorNo],
  );
  const row = r.rows[0];
  return row ? { operator: await toOperator(db, row), passwordHash: row.password_hash } : null;
}

export interface LockoutOptions {
  maxAttempts?: number;
  lockSeconds?: number;
  now?: Date;
}

export interface FailedPasswordResult {
  failedAttempts: number;
  /** This failure locked the operator. */
  lockedNow: boolean;
  lockedUntil: Date | null;
}

/**
 * Count a wrong password. A lock that has run out starts a fresh count. At `maxAttempts` (default
 * 5) the operator is locked for `lockSeconds` (default 1800) and their sessions end.
 */
export async function recordFailedPassword(db: Db, ref: OperatorRef, opts: LockoutOptions = {}): Promise<FailedPasswordResult> {
  const now = opts.now ?? new Date();
  const max = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const lockMs = (opts.lockSeconds ?? DEFAULT_LOCK_SECONDS) * 1000;
  const result = await db.transaction(async (tx) => {
    const row = await lockRow(tx, ref);
    const expired = row.locked_until !== null && row.locked_until.getTime() <= now.getTime();
    const attempts = (expired ? 0 : Number(row.failed_attempts)) + 1;
    const alreadyLocked = row.locked_until !== null && !expired;
    const lockedNow = !alreadyLocked && attempts >= max;
    const lockedUntil = lockedNow ? new Date(now.getTime() + lockMs) : expired ? null : row.locked_until;
    await tx.query('UPDATE operators SET failed_attempts = $3, locked_until = $4 WHERE merchant_no = $1 AND operator_no = $2', [
      ref.merchantNo,
      ref.operatorNo,
      attempts,
      lockedUntil,
    ]);
    return { failedAttempts: attempts, lockedNow, lockedUntil };
  });
  if (result.lockedNow) await endSessionsOfOperator(db, ref, 'locked', now);
  return result;
}

/** A right password: clear the count (and a lock that has run out). */
export async function recordGoodPassword(db: Db, ref: OperatorRef, now: Date = new Date()): Promise<void> {
  await db.query(
    `UPDATE operators SET failed_attempts = 0, locked_until = CASE WHEN locked_until <= $3 THEN NULL ELSE locked_until END
      WHERE merchant_no = $1 AND operator_no = $2`,
    [ref.merchantNo, ref.operatorNo, now],
  );
}

// ---------------------------------------------------------------------------------------------
// Sessions: who is signed on at a terminal.

export type SessionEndReason = 'sign-off' | 'terminal-sign-off' | 'settlement' | 'idle' | 'replaced' | 'disabled' | 'locked';

export interface OperatorSession extends TerminalRef {
  id: string;
  operatorNo: string;
  signedOnAt: Date;
  lastActivity: Date;
  endedAt: Date | null;
  endReason: SessionEndReason | null;
}

interface SessionRow {
  id: string | number;
  merchant_no: string;
  terminal_no: string;
  operator_no: string;
  signed_on_at: Date;
  last_activity: Date;
  ended_at: Date | null;
  end_reason: SessionEndReason | null;
}

const SESSION_COLUMNS = 'id, merchant_no, terminal_no, operator_no, signed_on_at, last_activity, ended_at, end_reason';

function toSession(r: SessionRow): OperatorSession {
  return {
    id: String(r.id),
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    operatorNo: r.operator_no,
    signedOnAt: r.signed_on_at,
    lastActivity: r.last_activity,
    endedAt: r.ended_at,
    endReason: r.end_reason,
  };
}

/**
 * Sign `operatorNo` on at a terminal, ending whoever was signed on there (reason `replaced`).
 * Sign-ons at one terminal serialise on its row (FOR NO KEY UPDATE, which leaves foreign-key
 * checks alone), so exactly one session stays open. NOT_FOUND when the terminal does not exist.
 */
export async function startOperatorSession(db: Db, input: TerminalRef & { operatorNo: string; now?: Date }): Promise<{ session: OperatorSession; replaced: OperatorSession | null }> {
  const now = input.now ?? new Date();
  return db.transaction(async (tx) => {
    const t = await tx.query('SELECT 1 FROM terminals WHERE merchant_no = $1 AND terminal_no = $2 FOR NO KEY UPDATE', [input.merchantNo, input.terminalNo]);
    if (t.rowCount === 0) throw new StoreError('NOT_FOUND', 'terminal not found', { table: 'terminals' });
    const ended = await tx.query<SessionRow>(
      `UPDATE operator_sessions SET ended_at = $3, end_reason = 'replaced'
        WHERE merchant_no = $1 AND terminal_no = $2 AND ended_at IS NULL RETURNING ${SESSION_COLUMNS}`,
      [input.merchantNo, input.terminalNo, now],
    );
    const r = await tx.query<SessionRow>(
      `INSERT INTO operator_sessions (merchant_no, terminal_no, operator_no, signed_on_at, last_activity)
       VALUES ($1, $2, $3, $4, $4) RETURNING ${SESSION_COLUMNS}`,
      [input.merchantNo, input.terminalNo, input.operatorNo, now],
    );
    return { session: toSession(r.rows[0] as SessionRow), replaced: ended.rows[0] ? toSession(ended.rows[0]) : null };
  });
}

/** The open session at a terminal, if any (idle or not: the caller applies the idle limit). */
export async function getOpenSession(db: Db, ref: TerminalRef): Promise<OperatorSession | null> {
  const r = await db.query<SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM operator_sessions WHERE merchant_no = $1 AND terminal_no = $2 AND ended_at IS NULL`,
    [ref.merchantNo, ref.terminalNo],
  );
  return r.rows[0] ? toSession(r.rows[0]) : null;
}

/**
 * The open session at a terminal and its operator (with permissions), in one statement — what
 * the operator gate reads on every financial request. Null when no session is open; `operator`
 * null when the session's operator row is gone.
 */
export async function getOpenSessionWithOperator(db: Db, ref: TerminalRef): Promise<SessionWithOperator | null> {
  // Concurrent gate reads (one per request in flight) are grouped into one statement on PostgreSQL.
  const b = batcherFor<TerminalRef, SessionWithOperator | null>(db, GATE_READ_BATCH, {
    single: sessionWithOperatorOne,
    many: sessionWithOperatorMany,
    maxBatch: 200,
    maxConcurrent: batchesInFlight(db),
  });
  return b === null || db.kind === 'pglite' ? sessionWithOperatorOne(db, ref) : b.call({ merchantNo: ref.merchantNo, terminalNo: ref.terminalNo });
}

export interface SessionWithOperator {
  session: OperatorSession;
  operator: Operator | null;
}

const GATE_READ_BATCH = {};

const SESSION_WITH_OPERATOR = `s.id, s.merchant_no, s.terminal_no, s.operator_no, s.signed_on_at, s.last_activity, s.ended_at, s.end_reason,
            o.operator_no AS o_operator_no, o.name AS o_name, o.role AS o_role, o.status AS o_status, o.failed_attempts AS o_failed_attempts,
            o.locked_until AS o_locked_until, o.must_change_password AS o_must_change_password, o.password_changed_at AS o_password_changed_at,
            o.created_by AS o_created_by, o.changed_by AS o_changed_by, o.created_at AS o_created_at, o.updated_at AS o_updated_at,
            (SELECT coalesce(json_agg(rp.permission ORDER BY rp.permission), '[]'::json) FROM role_permissions rp WHERE rp.role = o.role) AS o_role_perms,
            (SELECT coalesce(json_agg(json_build_object('permission', g.permission, 'effect', g.effect) ORDER BY g.permission), '[]'::json)
               FROM operator_grants g WHERE g.merchant_no = o.merchant_no AND g.operator_no = o.operator_no) AS o_grants`;

async function sessionWithOperatorOne(db: Db, ref: TerminalRef): Promise<SessionWithOperator | null> {
  const r = await db.query<SessionRow & OperatorJoinRow>(
    `SELECT ${SESSION_WITH_OPERATOR}
       FROM operator_sessions s
       LEFT JOIN operators o ON o.merchant_no = s.merchant_no AND o.operator_no = s.operator_no
      WHERE s.merchant_no = $1 AND s.terminal_no = $2 AND s.ended_at IS NULL`,
    [ref.merchantNo, ref.terminalNo],
  );
  const row = r.rows[0];
  return row ? toSessionWithOperator(row) : null;
}

async function sessionWithOperatorMany(db: Db, refs: readonly TerminalRef[]): Promise<(SessionWithOperator | null)[]> {
  const doc = JSON.stringify(refs.map((x, i) => ({ i, m: x.merchantNo, t: x.terminalNo })));
  const r = await db.query<SessionRow & OperatorJoinRow & { i: number }>(
    `SELECT v.i, ${SESSION_WITH_OPERATOR}
       FROM jsonb_to_recordset($1::text::jsonb) AS v(i int, m text, t text)
       JOIN operator_sessions s ON s.merchant_no = v.m AND s.terminal_no = v.t AND s.ended_at IS NULL
       LEFT JOIN operators o ON o.merchant_no = s.merchant_no AND o.operator_no = s.operator_no`,
    [doc],
  );
  const out = new Array<SessionWithOperator | null>(refs.length).fill(null);
  for (const row of r.rows) out[Number(row.i)] = toSessionWithOperator(row);
  return out;
}

function toSessionWithOperator(row: SessionRow & OperatorJoinRow): SessionWithOperator {
  const session = toSession(row);
  if (row.o_operator_no === null) return { session, operator: null };
  const op: OperatorRow = {
    merchant_no: row.merchant_no,
    operator_no: row.o_operator_no,
    name: row.o_name,
    role: row.o_role,
    status: row.o_status,
    failed_attempts: row.o_failed_attempts,
    locked_until: row.o_locked_until,
    must_change_password: row.o_must_change_password,
    password_changed_at: row.o_password_changed_at,
    created_by: row.o_created_by,
    changed_by: row.o_changed_by,
    created_at: row.o_created_at,
    updated_at: row.o_updated_at,
  };
  const overrides = jsonArray<{ permission: string; effect: 'grant' | 'revoke' }>(row.o_grants).map((x) => ({ permission: x.permission, effect: x.effect }));
  return { session, operator: operatorOf(op, jsonArray<string>(row.o_role_perms), overrides) };
}

/** The operator columns of getOpenSessionWithOperator (null when the operator row is gone). */
type OperatorJoinRow = {
  [K in keyof OperatorRow as K extends 'merchant_no' | 'operator_no' ? never : `o_${K}`]: OperatorRow[K];
} & { o_operator_no: string | null; o_role_perms: unknown; o_grants: unknown };

async function touchOne(db: Db, t: { id: string; now: Date }): Promise<void> {
  await db.query('UPDATE operator_sessions SET last_activity = $2 WHERE id = $1 AND ended_at IS NULL AND last_activity < $2', [t.id, t.now]);
}

async function touchMany(db: Db, ts: readonly { id: string; now: Date }[]): Promise<void[]> {
  // One statement (one commit) for every touch queued meanwhile; the latest time wins per session.
  await db.query(
    `UPDATE operator_sessions s SET last_activity = v.at
       FROM (SELECT id, max(at) AS at FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at) GROUP BY id) v
      WHERE s.id = v.id AND s.ended_at IS NULL AND s.last_activity < v.at`,
    [ts.map((t) => t.id), ts.map((t) => t.now)],
  );
  return ts.map(() => undefined);
}

/** Identifies the session-touch Batcher of a Db. */
const TOUCH_BATCHER = {};

/** Record activity on an open session; concurrent touches on one store handle share one statement. */
export function touchOperatorSession(db: Db, id: string, now: Date = new Date()): Promise<void> {
  const t = { id, now };
  const batcher = batcherFor(db, TOUCH_BATCHER, { single: touchOne, many: touchMany, maxBatch: 500, maxConcurrent: 1 });
  return batcher === null ? touchOne(db, t) : batcher.call(t);
}

/** End the open session at a terminal; returns the sessions ended (zero or one). */
export async function endTerminalSessions(db: Db, ref: TerminalRef, reason: SessionEndReason, now: Date = new Date()): Promise<OperatorSession[]> {
  const r = await db.query<SessionRow>(
    `UPDATE operator_sessions SET ended_at = $3, end_reason = $4
      WHERE merchant_no = $1 AND terminal_no = $2 AND ended_at IS NULL RETURNING ${SESSION_COLUMNS}`,
    [ref.merchantNo, ref.terminalNo, now, reason],
  );
  return r.rows.map(toSession);
}

/** End every open session of one operator (disabled, locked). */
export async function endSessionsOfOperator(db: Db, ref: OperatorRef, reason: SessionEndReason, now: Date = new Date()): Promise<OperatorSession[]> {
  const r = await db.query<SessionRow>(
    `UPDATE operator_sessions SET ended_at = $3, end_reason = $4
      WHERE merchant_no = $1 AND operator_no = $2 AND ended_at IS NULL RETURNING ${SESSION_COLUMNS}`,
    [ref.merchantNo, ref.operatorNo, now, reason],
  );
  return r.rows.map(toSession);
}

export async function listOperatorSessions(db: Db, merchantNo: string, opts: { openOnly?: boolean; limit?: number } = {}): Promise<OperatorSession[]> {
  const r = await db.query<SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM operator_sessions WHERE merchant_no = $1 AND ($2::boolean IS NOT TRUE OR ended_at IS NULL)
      ORDER BY id DESC LIMIT $3`,
    [merchantNo, opts.openOnly ?? false, Math.min(Math.max(opts.limit ?? 100, 1), 1000)],
  );
  return r.rows.map(toSession);
}

// ---------------------------------------------------------------------------------------------
// Supervisor approvals: single use, short-lived.

export interface OperatorApproval extends TerminalRef {
  id: string;
  permission: string;
  approvedBy: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  usedBy: string | null;
}

interface ApprovalRow {
  id: string | number;
  merchant_no: string;
  terminal_no: string;
  permission: string;
  approved_by: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  used_by: string | null;
}

const APPROVAL_COLUMNS = 'id, merchant_no, terminal_no, permission, approved_by, created_at, expires_at, used_at, used_by';

function toApproval(r: ApprovalRow): OperatorApproval {
  return {
    id: String(r.id),
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    permission: r.permission,
    approvedBy: r.approved_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    usedBy: r.used_by,
  };
}

export async function createApproval(
  db: Db,
  input: TerminalRef & { permission: string; approvedBy: string; ttlSeconds: number; now?: Date },
): Promise<OperatorApproval> {
  const now = input.now ?? new Date();
  const r = await db.query<ApprovalRow>(
    `INSERT INTO operator_approvals (merchant_no, terminal_no, permission, approved_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${APPROVAL_COLUMNS}`,
    [input.merchantNo, input.terminalNo, input.permission, input.approvedBy, now, new Date(now.getTime() + input.ttlSeconds * 1000)],
  );
  return toApproval(r.rows[0] as ApprovalRow);
}

/** Use the oldest pending, unexpired approval of `permission` at a terminal, atomically. */
export async function consumeApproval(db: Db, input: TerminalRef & { permission: string; usedBy: string; now?: Date }): Promise<OperatorApproval | null> {
  const now = input.now ?? new Date();
  const r = await db.query<ApprovalRow>(
    `UPDATE operator_approvals SET used_at = $4, used_by = $5
      WHERE id = (SELECT id FROM operator_approvals
                   WHERE merchant_no = $1 AND terminal_no = $2 AND permission = $3 AND used_at IS NULL AND expires_at > $4
                   ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        AND used_at IS NULL
      RETURNING ${APPROVAL_COLUMNS}`,
    [input.merchantNo, input.terminalNo, input.permission, now, input.usedBy],
  );
  return r.rows[0] ? toApproval(r.rows[0]) : null;
}
