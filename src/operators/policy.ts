/**
 * Operator numbering and password rules, as on UnionPay terminals: `00` supervisor (6-digit
 * password), `01`-`98` cashiers (4 to 6 digits by default, configurable), `99` system administrator
 * (8 digits). Passwords are digits only: they travel as ISO 9564 PIN blocks (./pin-block.ts).
 */

export type OperatorKind = 'supervisor' | 'cashier' | 'admin';
export type OperatorStatus = 'active' | 'disabled';

export const SUPERVISOR = '00';
export const ADMIN = '99';

/** Lockout: after this many wrong passwords in a row the operator is locked. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** How long a lockout lasts unless a supervisor unlocks sooner. */
export const DEFAULT_LOCK_SECONDS = 30 * 60;
/** How long a supervisor approval stays usable. */
export const DEFAULT_APPROVAL_SECONDS = 120;

export interface PasswordPolicy {
  /** Cashier password length range; the supervisor is fixed at 6 and the administrator at 8. */
  cashierMin: number;
  cashierMax: number;
}

export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({ cashierMin: 4, cashierMax: 6 });

export class OperatorPolicyError extends Error {
  override readonly name = 'OperatorPolicyError';
  /** CLI convention: errors with a reason exit 2 (bad input). */
  readonly reason: 'BAD_OPERATOR_NO' | 'BAD_PASSWORD' | 'BAD_ROLE' | 'BAD_NAME' | 'BAD_PERMISSION' | 'NOT_ALLOWED';
  constructor(reason: OperatorPolicyError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/** True for a two-digit operator number 00-99. */
export function isOperatorNo(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9]{2}$/.test(s);
}

/**
 * Operator number from field 63 or user input: terminals send `"01"`, `"01 "` or `"001"`. Returns
 * the two-digit form, or null when it is not an operator number.
 */
export function normaliseOperatorNo(raw: string | undefined | null): string | null {
  if (typeof raw !== 'string') return null;
  const t = raw.trim();
  if (/^[0-9]{2}$/.test(t)) return t;
  if (/^0[0-9]{2}$/.test(t)) return t.slice(1);
  return null;
}

export function operatorKind(operatorNo: string): OperatorKind {
  if (operatorNo === SUPERVISOR) return 'supervisor';
  if (operatorNo === ADMIN) return 'admin';
  return 'cashier';
}

/** The role an operator number must have (00, 99), or null when any cashier role will do. */
export function fixedRole(operatorNo: string): string | null {
  const k = operatorKind(operatorNo);
  return k === 'cashier' ? null : k;
}

/** Allowed password lengths for an operator number. */
export function passwordLengths(operatorNo: string, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY): { min: number; max: number } {
  const k = operatorKind(operatorNo);
  if (k === 'supervisor') return { min: 6, max: 6 };
  if (k === 'admin') return { min: 8, max: 8 };
  return { min: policy.cashierMin, max: policy.cashierMax };
}

/** Throw OperatorPolicyError BAD_PASSWORD unless `password` suits `operatorNo`. Never echoes it. */
export function checkPassword(operatorNo: string, password: string, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY): void {
  const { min, max } = passwordLengths(operatorNo, policy);
  const what = min === max ? `${min}` : `${min} to ${max}`;
  if (typeof password !== 'string' || !/^[0-9]+$/.test(password) || password.length < min || password.length > max) {
    throw new OperatorPolicyError('BAD_PASSWORD', `operator ${operatorNo} password must be ${what} digits`);
  }
}

export function checkOperatorNo(operatorNo: unknown): asserts operatorNo is string {
  if (!isOperatorNo(operatorNo)) throw new OperatorPolicyError('BAD_OPERATOR_NO', 'operator number must be two digits 00-99');
}

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim().length < 1 || name.length > 60) {
    throw new OperatorPolicyError('BAD_NAME', 'operator name must be 1 to 60 characters');
  }
}

/** The role to store for `operatorNo`: 00 and 99 are fixed, cashiers default to `cashier`. */
export function roleFor(operatorNo: string, requested?: string): string {
  const fixed = fixedRole(operatorNo);
  if (fixed !== null) {
    if (requested !== undefined && requested !== fixed) {
      throw new OperatorPolicyError('BAD_ROLE', `operator ${operatorNo} always has role ${fixed}`);
    }
    return fixed;
  }
  const role = requested ?? 'cashier';
  if (role === 'supervisor' || role === 'admin') throw new OperatorPolicyError('BAD_ROLE', `role ${role} belongs to operator ${role === 'supervisor' ? SUPERVISOR : ADMIN} only`);
  if (!/^[a-z][a-z0-9-]{1,39}$/.test(role)) throw new OperatorPolicyError('BAD_ROLE', 'role must be lower-case letters, digits and -');
  return role;
}

/**
 * Who may manage whom from a terminal or the API on behalf of an operator: the administrator (99)
 * manages everyone but itself, any other holder of `manage-operators` manages cashiers (01-98)
 * other than itself.
 */
export function mayManage(actorNo: string, targetNo: string): boolean {
  if (actorNo === targetNo) return false;
  if (actorNo === ADMIN) return true;
  return operatorKind(targetNo) === 'cashier';
}
