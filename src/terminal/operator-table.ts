/**
 * The terminal's own operator table, for terminals that must work while the host is unreachable
 * (UnionPay style): supervisor 00 adds and deletes cashiers and resets their passwords, every
 * operator changes their own password, and a cashier "logs on" locally before trading.
 *
 * Passwords are kept only as scrypt hashes (src/crypto/password.ts), never in clear, and they are
 * LOCAL: the host's hashes are never sent to a terminal (a stolen terminal would otherwise leak
 * every operator's hash for offline guessing — 4 to 6 digits fall in seconds). Synchronisation
 * (`syncFromHost`) brings numbers, names, status and permissions from the host; an operator the host
 * knows but the table does not arrives without a password and must be given one by the supervisor
 * locally; an operator the host disabled or removed is disabled here.
 *
 * Trade-off: with local passwords a cashier may have two passwords (host and terminal) and a
 * password reset at the host does not reach the terminal; offline, a disabled-at-host operator
 * keeps working until the next sync. That is the price of trading while the host is down.
 *
 * The table serialises to JSON (toJSON / OperatorTable.fromJSON) for the terminal to persist.
 */
import { DEFAULT_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from '../crypto/password.js';
import {
  ADMIN,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PASSWORD_POLICY,
  OperatorPolicyError,
  SUPERVISOR,
  checkName,
  checkOperatorNo,
  checkPassword,
  operatorKind,
  type OperatorStatus,
  type PasswordPolicy,
} from '../operators/index.js';

const DEFAULT_ROLE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  supervisor: ['balance', 'manage-operators', 'preauth', 'refund', 'reprint', 'sale', 'settle', 'void'],
  cashier: ['balance', 'reprint', 'sale'],
  admin: ['manage-operators'],
});

export interface LocalOperator {
  operatorNo: string;
  name: string;
  status: OperatorStatus;
  /** scrypt hash, or null: no local password yet (synced from the host), cannot log on. */
  passwordHash: string | null;
  permissions: string[];
  failedAttempts: number;
  /** Locked after too many wrong passwords until the supervisor unlocks. */
  locked: boolean;
  /** Where the entry came from. */
  source: 'local' | 'host';
}

export interface HostOperatorRecord {
  operatorNo: string;
  name: string;
  status: OperatorStatus;
  permissions: readonly string[];
}

export interface OperatorTableOptions {
  policy?: PasswordPolicy;
  maxAttempts?: number;
  /** scrypt cost; default DEFAULT_SCRYPT. */
  scrypt?: ScryptParams;
}

export type LocalSignOn = { ok: true; operator: LocalOperator } | { ok: false; reason: 'unknown' | 'disabled' | 'no-password' | 'locked' | 'wrong-password' };

export class OperatorTable {
  readonly #ops = new Map<string, LocalOperator>();
  readonly #policy: PasswordPolicy;
  readonly #maxAttempts: number;
  readonly #scrypt: ScryptParams;
  #current: string | null = null;

  private constructor(opts: OperatorTableOptions) {
    this.#policy = opts.policy ?? DEFAULT_PASSWORD_POLICY;
    this.#maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#scrypt = opts.scrypt ?? DEFAULT_SCRYPT;
  }

  /** A new table with the supervisor (00) and the administrator (99). */
  static async create(init: { supervisorPassword: string; adminPassword: string }, opts: OperatorTableOptions = {}): Promise<OperatorTable> {
    const t = new OperatorTable(opts);
    checkPassword(SUPERVISOR, init.supervisorPassword, t.#policy);
    checkPassword(ADMIN, init.adminPassword, t.#policy);
    t.#put(SUPERVISOR, 'Supervisor', await hashPassword(init.supervisorPassword, t.#scrypt), 'local');
    t.#put(ADMIN, 'Administrator', await hashPassword(init.adminPassword, t.#scrypt), 'local');
    return t;
  }

  static fromJSON(json: unknown, opts: OperatorTableOptions = {}): OperatorTable {
    const t = new OperatorTable(opts);
    const list = (json as { operators?: unknown })?.operators;
    if (!Array.isArray(list)) throw new OperatorPolicyError('BAD_OPERATOR_NO', 'not an operator table');
    for (const raw of list as LocalOperator[]) {
      checkOperatorNo(raw.operatorNo);
      t.#ops.set(raw.operatorNo, { ...raw, permissions: [...raw.permissions] });
    }
    return t;
  }

  toJSON(): { operators: LocalOperator[] } {
    return { operators: this.list() };
  }

  #put(operatorNo: string, name: string, hash: string | null, source: 'local' | 'host'): LocalOperator {
    const op: LocalOperator = {
      operatorNo,
      name,
      status: 'active',
      passwordHash: hash,
      permissions: [...(DEFAULT_ROLE_PERMISSIONS[operatorKind(operatorNo)] ?? [])],
      failedAttempts: 0,
      locked: false,
      source,
    };
    this.#ops.set(operatorNo, op);
    return op;
  }

  list(): LocalOperator[] {
    return [...this.#ops.values()].sort((a, b) => a.operatorNo.localeCompare(b.operatorNo)).map((o) => ({ ...o, permissions: [...o.permissions] }));
  }

  get(operatorNo: string): LocalOperator | null {
    const o = this.#ops.get(operatorNo);
    return o ? { ...o, permissions: [...o.permissions] } : null;
  }

  /** The operator logged on locally, or null. */
  get current(): string | null {
    return this.#current;
  }

  /** Check a password; wrong ones count, and lock the operator at the limit. */
  async verify(operatorNo: string, password: string): Promise<LocalSignOn> {
    const op = this.#ops.get(operatorNo);
    if (!op) return { ok: false, reason: 'unknown' };
    if (op.status !== 'active') return { ok: false, reason: 'disabled' };
    if (op.passwordHash === null) return { ok: false, reason: 'no-password' };
    if (op.locked) return { ok: false, reason: 'locked' };
    if (await verifyPassword(password, op.passwordHash)) {
      op.failedAttempts = 0;
      return { ok: true, operator: { ...op, permissions: [...op.permissions] } };
    }
    op.failedAttempts += 1;
    if (op.failedAttempts >= this.#maxAttempts) op.locked = true;
    return { ok: false, reason: op.locked ? 'locked' : 'wrong-password' };
  }

  /** Log an operator on locally (the supervisor and the administrator only open management). */
  async signOn(operatorNo: string, password: string): Promise<LocalSignOn> {
    const r = await this.verify(operatorNo, password);
    if (r.ok && operatorKind(operatorNo) === 'cashier') this.#current = operatorNo;
    return r;
  }

  signOff(): void {
    this.#current = null;
  }

  /** May the operator logged on do this? */
  can(permission: string): boolean {
    if (this.#current === null) return false;
    const op = this.#ops.get(this.#current);
    return op !== undefined && op.status === 'active' && !op.locked && op.permissions.includes(permission);
  }

  async #asSupervisor(password: string): Promise<void> {
    const r = await this.verify(SUPERVISOR, password);
    if (!r.ok) throw new OperatorPolicyError('NOT_ALLOWED', `supervisor password refused (${r.reason})`);
  }

  #cashier(operatorNo: string): void {
    checkOperatorNo(operatorNo);
    if (operatorKind(operatorNo) !== 'cashier') throw new OperatorPolicyError('NOT_ALLOWED', 'the supervisor manages cashiers 01-98 only');
  }

  /** Supervisor: add a cashier (or give a host-synced cashier a local password). */
  async addCashier(supervisorPassword: string, input: { operatorNo: string; name: string; password: string }): Promise<LocalOperator> {
    await this.#asSupervisor(supervisorPassword);
    this.#cashier(input.operatorNo);
    checkName(input.name);
    checkPassword(input.operatorNo, input.password, this.#policy);
    const existing = this.#ops.get(input.operatorNo);
    if (existing && existing.passwordHash !== null) throw new OperatorPolicyError('NOT_ALLOWED', `operator ${input.operatorNo} exists`);
    const hash = await hashPassword(input.password, this.#scrypt);
    if (existing) {
      existing.passwordHash = hash;
      existing.name = input.name;
      return { ...existing, permissions: [...existing.permissions] };
    }
    return { ...this.#put(input.operatorNo, input.name, hash, 'local') };
  }

  /** Supervisor: delete a cashier. */
  async deleteCashier(supervisorPassword: string, operatorNo: string): Promise<void> {
    await this.#asSupervisor(supervisorPassword);
    this.#cashier(operatorNo);
    if (!this.#ops.delete(operatorNo)) throw new OperatorPolicyError('BAD_OPERATOR_NO', `no operator ${operatorNo}`);
    if (this.#current === operatorNo) this.#current = null;
  }

  /** Supervisor: set a cashier's password and unlock them. */
  async resetCashierPassword(supervisorPassword: string, operatorNo: string, password: string): Promise<void> {
    await this.#asSupervisor(supervisorPassword);
    this.#cashier(operatorNo);
    const op = this.#ops.get(operatorNo);
    if (!op) throw new OperatorPolicyError('BAD_OPERATOR_NO', `no operator ${operatorNo}`);
    checkPassword(operatorNo, password, this.#policy);
    op.passwordHash = await hashPassword(password, this.#scrypt);
    op.failedAttempts = 0;
    op.locked = false;
  }

  /** Any operator: change one's own password (the supervisor and administrator too). */
  async changePassword(operatorNo: string, oldPassword: string, newPassword: string): Promise<void> {
    const r = await this.verify(operatorNo, oldPassword);
    if (!r.ok) throw new OperatorPolicyError('NOT_ALLOWED', `password refused (${r.reason})`);
    checkPassword(operatorNo, newPassword, this.#policy);
    const op = this.#ops.get(operatorNo) as LocalOperator;
    op.passwordHash = await hashPassword(newPassword, this.#scrypt);
  }

  /**
   * Bring numbers, names, status and permissions from the host (e.g. the answer of an operator-list
   * download, or the back office). Local passwords are kept; cashiers missing from the host list are
   * disabled; 00 and 99 always stay.
   */
  syncFromHost(records: readonly HostOperatorRecord[]): { added: string[]; updated: string[]; disabled: string[] } {
    const seen = new Set<string>();
    const added: string[] = [];
    const updated: string[] = [];
    const disabled: string[] = [];
    for (const r of records) {
      checkOperatorNo(r.operatorNo);
      seen.add(r.operatorNo);
      const op = this.#ops.get(r.operatorNo);
      if (!op) {
        const fresh = this.#put(r.operatorNo, r.name, null, 'host');
        fresh.status = r.status;
        fresh.permissions = [...r.permissions];
        added.push(r.operatorNo);
        continue;
      }
      op.name = r.name;
      op.status = r.status;
      op.permissions = [...r.permissions];
      updated.push(r.operatorNo);
    }
    for (const op of this.#ops.values()) {
      if (!seen.has(op.operatorNo) && operatorKind(op.operatorNo) === 'cashier' && op.status === 'active') {
        op.status = 'disabled';
        disabled.push(op.operatorNo);
      }
    }
    if (this.#current !== null && this.#ops.get(this.#current)?.status !== 'active') this.#current = null;
    return { added, updated, disabled };
  }
}
