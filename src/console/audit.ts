/**
 * Audit trail entries for console actions (PCI DSS 10.2.1, 10.2.2): every entry carries the user
 * ID (actor), event type, time, success or failure, origin (client IP) and affected resource.
 * Event types start with `console.`. Details never carry passwords, hashes, tokens or secrets.
 */
import { appendEvent, type Db } from '../store/index.js';

export interface AuditEntry {
  type: string;
  ok: boolean;
  /** `user:<username>`, `cli`, `system`. */
  actor: string;
  /** Client IP, `cli` or `scheduler`. */
  origin: string;
  resource?: string;
  merchantNo?: string | null;
  terminalNo?: string | null;
  operatorNo?: string | null;
  detail?: Record<string, unknown>;
}

export async function audit(db: Db, e: AuditEntry): Promise<void> {
  await appendEvent(db, {
    type: e.type,
    ok: e.ok,
    actor: e.actor.slice(0, 200),
    origin: e.origin.slice(0, 200),
    resource: e.resource?.slice(0, 200) ?? null,
    merchantNo: e.merchantNo ?? null,
    terminalNo: e.terminalNo ?? null,
    operatorNo: e.operatorNo ?? null,
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  });
}

export const userActor = (username: string): string => `user:${username}`;
export const userResource = (username: string): string => `user:${username}`;
