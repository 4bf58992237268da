/**
 * Roles and what each may do (PCI DSS 7.2.1–7.2.3: least privilege, by job function).
 *
 *   platform-admin  everything: merchants, terminals, operators, users, audit log, access review
 *   merchant-admin  terminals and operators (not the operator roles shared by all merchants) of the merchants assigned to them, read their merchants
 *   auditor         read-only: audit log (view, export), the access-review report and monitoring alerts
 */
export type Role = 'platform-admin' | 'merchant-admin' | 'auditor';
export const ROLES: readonly Role[] = ['platform-admin', 'merchant-admin', 'auditor'];

export type Permission =
  | 'merchant.read'
  | 'merchant.write'
  | 'terminal.read'
  | 'terminal.write'
  | 'alert.read'
  | 'alert.ack'
  | 'operator.read'
  | 'operator.write'
  | 'operator-role.write'
  | 'user.read'
  | 'user.write'
  | 'audit.read'
  | 'review.read'
  | 'review.write';

export const PERMISSIONS: Record<Role, readonly Permission[]> = {
  'platform-admin': [
    'merchant.read',
    'merchant.write',
    'terminal.read',
    'terminal.write',
    'alert.read',
    'alert.ack',
    'operator.read',
    'operator.write',
    'operator-role.write',
    'user.read',
    'user.write',
    'audit.read',
    'review.read',
    'review.write',
  ],
  'merchant-admin': ['merchant.read', 'terminal.read', 'terminal.write', 'alert.read', 'alert.ack', 'operator.read', 'operator.write'],
  auditor: ['audit.read', 'review.read', 'alert.read'],
};

/** Roles whose sign-in needs a TOTP code (PCI DSS 8.4.1/8.4.2: administrative access). */
export function mfaRequired(role: Role): boolean {
  return role === 'platform-admin' || role === 'merchant-admin';
}

export function hasPermission(role: Role, permission: Permission): boolean {
  return PERMISSIONS[role].includes(permission);
}

/** Merchant-scoped roles: only merchants listed for the user. */
export function isMerchantScoped(role: Role): boolean {
  return role === 'merchant-admin';
}
