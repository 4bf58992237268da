/**
 * PCI DSS 8.2.6: accounts inactive for more than 90 days are disabled. Run hourly by
 * startConsole; safe to run any time (idempotent). Activity = last sign-in or authenticated
 * request; an account never used counts from its creation.
 */
import type { Db } from '../../store/index.js';
import { audit, userResource } from '../audit.js';
import { revokeUserSessions } from '../store/sessions.js';

export const ACCOUNT_IDLE_DAYS = 90;

export function idleCutoff(now: Date, idleDays = ACCOUNT_IDLE_DAYS): Date {
  return new Date(now.getTime() - idleDays * 86_400_000);
}

/** Disable active accounts idle for more than `idleDays`; returns the usernames disabled. */
export async function disableIdleAccounts(db: Db, now: Date, idleDays = ACCOUNT_IDLE_DAYS): Promise<string[]> {
  return db.transaction(async (tx) => {
    const r = await tx.query<{ username: string; last: Date }>(
      `UPDATE console_users SET status = 'disabled', disabled_reason = 'idle for more than ' || $3 || ' days', updated_at = $1
        WHERE status = 'active' AND coalesce(last_activity_at, created_at) < $2
        RETURNING username, coalesce(last_activity_at, created_at) AS last`,
      [now, idleCutoff(now, idleDays), String(idleDays)],
    );
    for (const row of r.rows) {
      await revokeUserSessions(tx, row.username, now);
      await audit(tx, {
        type: 'console.user.disabled-idle',
        ok: true,
        actor: 'system',
        origin: 'scheduler',
        resource: userResource(row.username),
        detail: { lastActivityAt: new Date(row.last).toISOString(), idleDays },
      });
    }
    return r.rows.map((x) => x.username).sort();
  });
}
