/**
 * Operator permissions. The list and the role defaults live in the store (role_permissions, seeded
 * by migrations/004_operators.sql); this module names them and combines role and per-operator
 * overrides.
 */
/** What an operator may do; the gate (src/host/operator-gate.ts) asks for one per request. */
export type OperatorPermission = 'sale' | 'balance' | 'void' | 'refund' | 'settle' | 'manage-operators' | 'reprint' | 'preauth';

export const PERMISSIONS: readonly OperatorPermission[] = ['sale', 'balance', 'void', 'refund', 'settle', 'manage-operators', 'reprint', 'preauth'];

export function isPermission(s: unknown): s is OperatorPermission {
  return typeof s === 'string' && (PERMISSIONS as readonly string[]).includes(s);
}

export interface PermissionOverride {
  permission: string;
  effect: 'grant' | 'revoke';
}

/** Role permissions plus grants, minus revokes; sorted. */
export function effectivePermissions(rolePermissions: readonly string[], overrides: readonly PermissionOverride[]): string[] {
  const set = new Set(rolePermissions);
  for (const o of overrides) {
    if (o.effect === 'grant') set.add(o.permission);
    else set.delete(o.permission);
  }
  return [...set].sort();
}
