/** The operator repository on both stores: constraints, permissions as data, lockout, sessions, approvals. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addMerchant, addTerminal, listEvents, type Db } from '../../src/store/index.js';
import {
  addOperator,
  consumeApproval,
  createApproval,
  disableOperator,
  endTerminalSessions,
  getOpenSession,
  getOperator,
  grantPermission,
  isLocked,
  listOperators,
  listRoles,
  recordFailedPassword,
  recordGoodPassword,
  revokePermission,
  setOperatorRole,
  setRolePermission,
  startOperatorSession,
  unlockOperator,
} from '../../src/store/operators.js';
import { describeBackends, merchantNo as newMerchantNo } from '../store/helpers.js';

const AUDIT = { actor: 'user:alice', origin: '10.0.0.1:5000' };

describeBackends('operator store', (backend) => {
  let db: Db;
  let m: string;
  const t = '00000001';
  beforeAll(async () => {
    db = await backend.open();
    m = newMerchantNo();
    await addMerchant(db, { merchantNo: m, name: 'Shop', mcc: '5411' });
    await addTerminal(db, { merchantNo: m, terminalNo: t });
    await addOperator(db, { merchantNo: m, operatorNo: '00', name: 'Boss', password: '123456' }, AUDIT);
    await addOperator(db, { merchantNo: m, operatorNo: '01', name: 'Li', password: '1111' }, AUDIT);
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('stores operators with fixed roles for 00/99, defaults and audit fields; never a clear password', async () => {
    const boss = await getOperator(db, { merchantNo: m, operatorNo: '00' });
    expect(boss).toMatchObject({ role: 'supervisor', status: 'active', mustChangePassword: true, createdBy: 'user:alice', changedBy: 'user:alice' });
    expect(boss?.permissions).toEqual(['balance', 'manage-operators', 'preauth', 'refund', 'reprint', 'sale', 'settle', 'void']);
    expect(JSON.stringify(boss)).not.toContain('scrypt');
    const row = await db.query<{ password_hash: string }>('SELECT password_hash FROM operators WHERE merchant_no = $1', [m]);
    expect(row.rows.every((r) => r.password_hash.startsWith('scrypt$') && !r.password_hash.includes('1111'))).toBe(true);
    expect((await listOperators(db, m)).map((o) => o.operatorNo)).toEqual(['00', '01']);
    const ev = await listEvents(db, { type: 'operator.added', merchantNo: m, order: 'asc' });
    expect(ev.map((e) => [e.actor, e.origin, e.resource])).toEqual([
      ['user:alice', '10.0.0.1:5000', `operator:${m}/00`],
      ['user:alice', '10.0.0.1:5000', `operator:${m}/01`],
    ]);
  });

  it('enforces number ranges and roles in the schema too', async () => {
    const insert = (no: string, role: string) =>
      db.query(
        `INSERT INTO operators (merchant_no, operator_no, name, role, password_hash, password_changed_at, created_by, changed_by, created_at, updated_at)
         VALUES ($1, $2, 'x', $3, 'scrypt$x', now(), 't', 't', now(), now())`,
        [m, no, role],
      );
    await expect(insert('100', 'cashier')).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    await expect(insert('05', 'supervisor')).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    await expect(insert('99', 'cashier')).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    await expect(insert('05', 'nobody')).rejects.toMatchObject({ reason: 'CONSTRAINT' });
    await expect(addOperator(db, { merchantNo: m, operatorNo: '01', name: 'Dup', password: '1111' }, AUDIT)).rejects.toMatchObject({ reason: 'DUPLICATE' });
    await expect(addOperator(db, { merchantNo: newMerchantNo(), operatorNo: '01', name: 'X', password: '1111' }, AUDIT)).rejects.toMatchObject({ reason: 'CONSTRAINT' });
  });

  it('keeps permissions as data: role edits, per-operator grants and revokes, custom roles', async () => {
    const ref = { merchantNo: m, operatorNo: '01' };
    expect((await grantPermission(db, ref, 'void', AUDIT)).permissions).toEqual(['balance', 'reprint', 'sale', 'void']);
    expect((await revokePermission(db, ref, 'reprint', AUDIT)).permissions).toEqual(['balance', 'sale', 'void']);
    await setRolePermission(db, 'cashier', 'preauth', true, AUDIT);
    expect((await getOperator(db, ref))?.permissions).toEqual(['balance', 'preauth', 'sale', 'void']);
    await setRolePermission(db, 'cashier', 'preauth', false, AUDIT);
    await db.query("INSERT INTO operator_roles (role, description) VALUES ('senior-cashier', 'refunds too')");
    await setRolePermission(db, 'senior-cashier', 'refund', true, AUDIT);
    const senior = await setOperatorRole(db, ref, 'senior-cashier', AUDIT);
    expect(senior.permissions).toEqual(['refund', 'void']);
    expect((await listRoles(db)).find((r) => r.role === 'senior-cashier')?.permissions).toEqual(['refund']);
    await expect(grantPermission(db, ref, 'fly', AUDIT)).rejects.toMatchObject({ reason: 'BAD_PERMISSION' });
    await expect(setOperatorRole(db, ref, 'nobody', AUDIT)).rejects.toMatchObject({ reason: 'BAD_ROLE' });
    await expect(setOperatorRole(db, { merchantNo: m, operatorNo: '00' }, 'cashier', AUDIT)).rejects.toMatchObject({ reason: 'BAD_ROLE' });
    await setOperatorRole(db, ref, 'cashier', AUDIT);
  });

  it('locks after N failures for the lock time; a lock that ran out starts a fresh count', async () => {
    await addOperator(db, { merchantNo: m, operatorNo: '05', name: 'L', password: '5555' }, AUDIT);
    const ref = { merchantNo: m, operatorNo: '05' };
    const t0 = new Date('2026-01-01T00:00:00Z');
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await recordFailedPassword(db, ref, { maxAttempts: 3, lockSeconds: 60, now: t0 }));
    expect(results.map((r) => [r.failedAttempts, r.lockedNow])).toEqual([[1, false], [2, false], [3, true]]);
    expect(results[2]?.lockedUntil?.toISOString()).toBe('2026-01-01T00:01:00.000Z');
    const op = await getOperator(db, ref);
    expect(isLocked(op!, t0)).toBe(true);
    expect(isLocked(op!, new Date('2026-01-01T00:01:00Z'))).toBe(false);
    const later = await recordFailedPassword(db, ref, { maxAttempts: 3, lockSeconds: 60, now: new Date('2026-01-01T00:02:00Z') });
    expect(later).toMatchObject({ failedAttempts: 1, lockedNow: false, lockedUntil: null });
    await recordGoodPassword(db, ref);
    expect((await getOperator(db, ref))?.failedAttempts).toBe(0);
    for (let i = 0; i < 5; i++) await recordFailedPassword(db, ref);
    expect(isLocked((await getOperator(db, ref))!)).toBe(true);
    expect(isLocked(await unlockOperator(db, ref, AUDIT))).toBe(false);
  });

  it('keeps one open session per terminal and ends it on replace, sign-off, disable', async () => {
    const term = { merchantNo: m, terminalNo: t };
    const a = await startOperatorSession(db, { ...term, operatorNo: '01' });
    expect(a.replaced).toBeNull();
    const b = await startOperatorSession(db, { ...term, operatorNo: '00' });
    expect(b.replaced?.operatorNo).toBe('01');
    expect((await getOpenSession(db, term))?.operatorNo).toBe('00');
    await expect(
      db.query('INSERT INTO operator_sessions (merchant_no, terminal_no, operator_no, signed_on_at, last_activity) VALUES ($1, $2, $3, now(), now())', [m, t, '01']),
    ).rejects.toMatchObject({ reason: 'DUPLICATE' });
    // Racing sign-ons at one terminal: all succeed in turn, exactly one stays open.
    await Promise.all(['00', '01', '00', '01'].map((operatorNo) => startOperatorSession(db, { ...term, operatorNo })));
    const open = await db.query('SELECT 1 FROM operator_sessions WHERE merchant_no = $1 AND terminal_no = $2 AND ended_at IS NULL', [m, t]);
    expect(open.rowCount).toBe(1);
    expect((await endTerminalSessions(db, term, 'settlement')).map((s) => s.endReason)).toEqual(['settlement']);
    expect(await getOpenSession(db, term)).toBeNull();
    await startOperatorSession(db, { ...term, operatorNo: '01' });
    await disableOperator(db, { merchantNo: m, operatorNo: '01' }, AUDIT);
    expect(await getOpenSession(db, term)).toBeNull();
    const ended = await db.query<{ end_reason: string }>('SELECT end_reason FROM operator_sessions WHERE merchant_no = $1 ORDER BY id', [m]);
    expect(ended.rows.map((r) => r.end_reason)).toEqual(['replaced', 'replaced', 'replaced', 'replaced', 'replaced', 'settlement', 'disabled']);
  });

  it('uses an approval once, before it expires, at its terminal only', async () => {
    const now = new Date();
    await createApproval(db, { merchantNo: m, terminalNo: t, permission: 'refund', approvedBy: '00', ttlSeconds: 60, now });
    expect(await consumeApproval(db, { merchantNo: m, terminalNo: t, permission: 'void', usedBy: '01', now })).toBeNull();
    const used = await consumeApproval(db, { merchantNo: m, terminalNo: t, permission: 'refund', usedBy: '01', now });
    expect(used).toMatchObject({ approvedBy: '00', usedBy: '01' });
    expect(await consumeApproval(db, { merchantNo: m, terminalNo: t, permission: 'refund', usedBy: '01', now })).toBeNull();
    await createApproval(db, { merchantNo: m, terminalNo: t, permission: 'refund', approvedBy: '00', ttlSeconds: 60, now });
    expect(await consumeApproval(db, { merchantNo: m, terminalNo: t, permission: 'refund', usedBy: '01', now: new Date(now.getTime() + 61_000) })).toBeNull();
    // Two concurrent uses of one approval: exactly one wins.
    await createApproval(db, { merchantNo: m, terminalNo: t, permission: 'settle', approvedBy: '00', ttlSeconds: 60, now });
    const race = await Promise.all([1, 2, 3].map(() => consumeApproval(db, { merchantNo: m, terminalNo: t, permission: 'settle', usedBy: '01', now })));
    expect(race.filter((r) => r !== null)).toHaveLength(1);
  });
});
