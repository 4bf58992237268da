/**
 * Crash recovery at host start: journal entries left 'pending' by a previous run (the host died
 * between writing the entry and making it final) may or may not have been posted by the issuer.
 * Each is reversed with the issuer — the issuer undoes a posting exactly once and treats a
 * reversal of something it never saw as a no-op — and marked 'reversed' with 39 = 96 (what a
 * retransmission of it is answered). Afterwards every approved entry was answered to the terminal
 * and every issuer posting belongs to an approved entry.
 *
 * The running host also sweeps periodically (HostOptions.recoveryIntervalMs) for entries left
 * pending by a stand-in reversal that could not reach the issuer: the terminal was answered 98
 * and will not reverse, so the host must. The sweep skips entries this process is working on and
 * entries younger than `olderThanMs` (keep it above the issuer timeout when several host
 * processes share one store).
 */
import type { Logger } from 'pino';
import type { Hsm } from '../crypto/hsm/hsm.js';
import { IssuerUnavailableError, type Issuer } from '../issuer/issuer.js';
import type { Db } from '../store/db.js';
import { markReversed, pendingEntries } from '../store/journal.js';
import { appendEvent } from '../store/events.js';
import { openPan } from '../transactions/pan-vault.js';
import { reverseWithIssuer } from './handlers/transactions/issuer-link.js';

export interface RecoveryReport {
  /** Pending entries found. */
  pending: number;
  /** Reversed with the issuer and marked reversed. */
  reversed: number;
  /** Left pending (no issuer, issuer unavailable or refusing): retried at the next start. */
  left: number;
}

export interface RecoverOptions {
  db: Db;
  hsm: Hsm;
  issuer: Issuer | undefined;
  logger: Logger;
  /** Entries to leave alone (this process is working on them). */
  skip?: ReadonlySet<string>;
  /** Only entries received at least this long ago (the periodic sweep). Default 0. */
  olderThanMs?: number;
}

export async function recoverPending(opts: RecoverOptions): Promise<RecoveryReport> {
  const { db, hsm, issuer, logger } = opts;
  const cutoff = Date.now() - (opts.olderThanMs ?? 0);
  const pending = (await pendingEntries(db)).filter((e) => !(opts.skip?.has(e.id) ?? false) && e.receivedAt.getTime() <= cutoff);
  const report: RecoveryReport = { pending: pending.length, reversed: 0, left: 0 };
  if (pending.length === 0) return report;
  if (issuer === undefined) {
    logger.warn({ pending: pending.length }, 'pending journal entries but no issuer configured: left pending');
    report.left = pending.length;
    return report;
  }
  for (const e of pending) {
    try {
      if (e.panCipher === null) throw new Error('no sealed PAN');
      const pan = await openPan(db, hsm, e.panCipher);
      const r = await reverseWithIssuer(issuer, e, pan, '06');
      if (r.responseCode !== '00') throw new Error(`issuer answered ${r.responseCode}: ${r.reason ?? ''}`);
      const stored = { responseCode: '96' };
      await markReversed(db, e.id, 'recovery: host restarted with the entry pending', { from: ['pending'], responseCode: '96', response: stored });
      report.reversed += 1;
      await appendEvent(db, {
        type: 'transaction.recovered',
        ok: true,
        merchantNo: e.merchantNo,
        terminalNo: e.terminalNo,
        operatorNo: e.operatorNo,
        detail: { journalId: e.id, kind: e.kind, amount: e.amount, stan: e.stan, batchNo: e.batchNo, issuer: r.reason ?? null },
        actor: 'system',
        origin: 'recovery',
        resource: `terminal:${e.merchantNo}/${e.terminalNo}`,
      });
    } catch (err) {
      report.left += 1;
      const why = err instanceof IssuerUnavailableError ? 'issuer unavailable' : err instanceof Error ? err.message : String(err);
      logger.error({ journalId: e.id, why }, 'could not recover a pending journal entry: left pending');
    }
  }
  logger.info(report, 'pending journal entries recovered');
  return report;
}
