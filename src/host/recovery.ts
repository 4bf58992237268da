/**
 * Crash recovery at host start: journal entries left 'pending' by a host process that is gone (it
 * died between writing the entry and making it final) may or may not have been posted by the
 * issuer. Each is reversed with the issuer — the issuer undoes a posting exactly once and treats a
 * reversal of something it never saw as a no-op — and marked 'reversed' with 39 = 96 (what a
 * retransmission of it is answered). Afterwards every approved entry was answered to the terminal
 * and every issuer posting belongs to an approved entry.
 *
 * The running host also sweeps periodically (HostOptions.recoveryIntervalMs) for entries left
 * pending by a stand-in reversal that could not reach the issuer: the terminal was answered 98
 * and will not reverse, so the host must.
 *
 * Several host processes may share one PostgreSQL. Each registers an instance
 * (src/store/host-instances.ts) and tags the pending entries it writes; an entry is reversed here
 * only when
 * - its writer is gone: instance stopped, heartbeat stale (`staleBeats` of its own intervals),
 *   unknown, or a previous run on this machine (same host name, pid no longer running);
 * - it is this process's own and not in flight (`skip`), once `olderThanMs` old (the sweep);
 * - it is untagged (written before migration 010) or a live other process's, once `liveAgeMs`
 *   old: a safety net for entries stuck far beyond the issuer time limit, never for one that
 *   process is still waiting on.
 * Before reversing, the entry is taken over by a compare-and-set of its instance (claimPending):
 * of two hosts recovering at once only one reverses it. That is the first line of defence; the
 * issuer's exactly-once undo is the second. Unlike a row lock held across the issuer call, the
 * claim needs no long transaction (on PGlite the issuer shares the one connection) and survives a
 * crash of the claimant: the entry is then tagged with a dead instance and recovered again.
 */
import type { Logger } from 'pino';
import type { Hsm } from '../crypto/hsm/hsm.js';
import { IssuerUnavailableError, type Issuer } from '../issuer/issuer.js';
import type { Db } from '../store/db.js';
import { deadHere } from '../store/host-instances.js';
import { claimPending, getEntry, markReversed, pendingEntries, pendingWithWriters, type JournalEntry } from '../store/journal.js';
import { appendEvent } from '../store/events.js';
import { openPan } from '../transactions/pan-vault.js';
import { reverseWithIssuer } from './handlers/transactions/issuer-link.js';

export interface RecoveryReport {
  /** Pending entries this process took on (not those left to a live host process, nor those another recovery took first). */
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
  /** This process's own entries only when received at least this long ago (the periodic sweep). Default 0. */
  olderThanMs?: number;
  /**
   * This host process's instance (src/store/host-instances.ts). Without it every pending entry
   * older than `olderThanMs` is reversed, whoever wrote it: for an operator's manual recovery
   * when no host is running.
   */
  instanceId?: string;
  /** Heartbeat intervals an instance may miss before it counts as dead. Default 3. */
  staleBeats?: number;
  /** Untagged entries and a live other process's entries only past this age. Default 120 000 ms. */
  liveAgeMs?: number;
}

export const DEFAULT_STALE_BEATS = 3;

/**
 * Entries being recovered in this process, by `instance|entry`. The claim (compare-and-set of the
 * instance) cannot tell two recoveries of one instance apart — the start-up recovery and a sweep,
 * or a manual call — so they are kept apart here.
 */
const recovering = new Set<string>();
export const DEFAULT_LIVE_AGE_MS = 120_000;

/** The pending entries this process may reverse now, and how many it must leave to their writers. */
async function eligible(opts: RecoverOptions): Promise<{ entries: JournalEntry[]; notOurs: number }> {
  const now = Date.now();
  const olderThan = opts.olderThanMs ?? 0;
  const skipped = (e: JournalEntry): boolean => opts.skip?.has(e.id) ?? false;
  const me = opts.instanceId;
  if (me === undefined) {
    const all = await pendingEntries(opts.db);
    return { entries: all.filter((e) => !skipped(e) && now - e.receivedAt.getTime() >= olderThan), notOurs: 0 };
  }
  const liveAge = opts.liveAgeMs ?? DEFAULT_LIVE_AGE_MS;
  const rows = await pendingWithWriters(opts.db, opts.staleBeats ?? DEFAULT_STALE_BEATS);
  // Writers whose heartbeat is fresh but that this process can tell are dead (a previous run in
  // this machine and pid namespace): judged on their machine identity, not their hostname.
  const dead = await deadHere(
    opts.db,
    rows.flatMap((r) => (r.writer === 'alive' && r.entry.instanceId !== null && r.entry.instanceId !== me ? [r.entry.instanceId] : [])),
  );
  const entries: JournalEntry[] = [];
  let notOurs = 0;
  for (const r of rows) {
    const e = r.entry;
    if (skipped(e)) continue;
    const age = now - e.receivedAt.getTime();
    let take: boolean;
    if (e.instanceId === me) take = age >= olderThan;
    else if (r.writer === 'gone') take = true;
    else if (r.writer === 'alive' && e.instanceId !== null && dead.has(e.instanceId)) take = true;
    else take = age >= liveAge;
    if (take) entries.push(e);
    else if (e.instanceId !== me) notOurs += 1;
  }
  return { entries, notOurs };
}

export async function recoverPending(opts: RecoverOptions): Promise<RecoveryReport> {
  const { db, issuer, logger } = opts;
  const { entries: pending, notOurs } = await eligible(opts);
  // Entries a live other host process is working on are not this process's to count or touch.
  if (notOurs > 0) logger.info({ entries: notOurs }, 'pending journal entries of live host processes left to them');
  const report: RecoveryReport = { pending: pending.length, reversed: 0, left: 0 };
  if (pending.length === 0) return report;
  if (issuer === undefined) {
    logger.warn({ pending: pending.length }, 'pending journal entries but no issuer configured: left pending');
    report.left = pending.length;
    return report;
  }
  for (const e of pending) {
    const key = `${opts.instanceId ?? ''}|${e.id}`;
    if (recovering.has(key)) {
      report.pending -= 1;
      continue;
    }
    recovering.add(key);
    try {
      // Take the entry over first; another host that got there first (or the writer finalising
      // it meanwhile) makes the claim fail, and the entry is not counted here.
      if (opts.instanceId !== undefined && e.instanceId !== opts.instanceId && !(await claimPending(db, e.id, e.instanceId, opts.instanceId))) {
        report.pending -= 1;
        continue;
      }
      // The list is a snapshot: a recovery that finished just before may have settled the entry.
      const now = await getEntry(db, e.id);
      if (now?.status !== 'pending') {
        report.pending -= 1;
        continue;
      }
      await recoverOne(opts, issuer, now, report);
    } finally {
      recovering.delete(key);
    }
  }
  logger.info(report, 'pending journal entries recovered');
  return report;
}

/** Reverse one claimed entry with the issuer and mark it reversed; a failure leaves it pending. */
async function recoverOne(opts: RecoverOptions, issuer: Issuer, e: JournalEntry, report: RecoveryReport): Promise<void> {
  const { db, hsm, logger } = opts;
  try {
    if (e.panCipher === null || e.panFingerprint === null) throw new Error('no sealed PAN');
    const pan = await openPan(db, hsm, e.panCipher, e.panFingerprint);
    const r = await reverseWithIssuer(issuer, e, pan, '06');
    if (r.responseCode !== '00') throw new Error(`issuer answered ${r.responseCode}: ${r.reason ?? ''}`);
    const stored = { responseCode: '96' };
    const marked = await markReversed(db, e.id, 'recovery: host restarted with the entry pending', { from: ['pending'], responseCode: '96', response: stored });
    if (marked === null) {
      // Settled meanwhile (a 0400 reversed it, or its writer, declared dead while it was only
      // stalled, finalised it): not this recovery's to count. An approved entry now lacks its
      // issuer posting, which an operator must know about.
      const after = await getEntry(db, e.id);
      if (after?.status === 'approved') logger.error({ journalId: e.id }, 'entry finalised approved while recovery reversed it at the issuer');
      report.pending -= 1;
      return;
    }
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
