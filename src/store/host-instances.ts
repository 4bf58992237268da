/**
 * Host processes sharing one store (migration 010_host_instances.sql): each registers at start
 * under a random id, refreshes its heartbeat every `heartbeatMs` and marks itself stopped on a
 * graceful close. Crash recovery (src/host/recovery.ts) asks whether the process that wrote a
 * pending journal row is still alive before reversing that row.
 */
import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { Db } from './db.js';
import { StoreError } from './errors.js';

export interface HostInstance {
  id: string;
  hostname: string;
  pid: number;
  heartbeatMs: number;
  startedAt: Date;
  heartbeatAt: Date;
  stoppedAt: Date | null;
}

interface InstanceRow {
  id: string;
  hostname: string;
  pid: number | string;
  heartbeat_ms: number | string;
  started_at: Date;
  heartbeat_at: Date;
  stopped_at: Date | null;
}

const COLUMNS = 'id, hostname, pid, heartbeat_ms, started_at, heartbeat_at, stopped_at';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function toInstance(r: InstanceRow): HostInstance {
  return {
    id: r.id,
    hostname: r.hostname,
    pid: Number(r.pid),
    heartbeatMs: Number(r.heartbeat_ms),
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    stoppedAt: r.stopped_at,
  };
}

export function isInstanceId(v: unknown): v is string {
  return typeof v === 'string' && UUID_RE.test(v);
}

/** Ids of the host instances registered by this process and not yet stopped (see `isPreviousIncarnation`). */
const liveHere = new Set<string>();

export interface RegisterOptions {
  /** Heartbeat interval in ms (what others judge staleness against). */
  heartbeatMs: number;
  /** Tests: register under this id instead of a random one. */
  id?: string;
  /** Tests: pretend to run on another machine / as another process. */
  hostname?: string;
  pid?: number;
}

/** Register a new host instance (status: alive, heartbeat now). */
export async function registerInstance(db: Db, opts: RegisterOptions): Promise<HostInstance> {
  if (!Number.isInteger(opts.heartbeatMs) || opts.heartbeatMs <= 0) throw new StoreError('CONSTRAINT', 'heartbeatMs must be a positive whole number');
  const id = opts.id ?? randomUUID();
  if (!isInstanceId(id)) throw new StoreError('CONSTRAINT', 'instance id must be a lower-case UUID');
  const host = (opts.hostname ?? osHostname()).slice(0, 255) || 'unknown';
  const pid = opts.pid ?? process.pid;
  const r = await db.query<InstanceRow>(
    `INSERT INTO host_instances (id, hostname, pid, heartbeat_ms) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [id, host, pid, opts.heartbeatMs],
  );
  const row = r.rows[0];
  if (row === undefined) throw new StoreError('INTERNAL', 'host instance insert returned no row');
  if (opts.hostname === undefined && opts.pid === undefined) liveHere.add(id);
  return toInstance(row);
}

/** Refresh the heartbeat; false when the row is gone or stopped (nothing refreshed). */
export async function heartbeat(db: Db, id: string): Promise<boolean> {
  const r = await db.query(`UPDATE host_instances SET heartbeat_at = now() WHERE id = $1 AND stopped_at IS NULL`, [id]);
  return r.rowCount > 0;
}

/** Mark the instance stopped (graceful close): its pending entries may be recovered at once. */
export async function markStopped(db: Db, id: string): Promise<void> {
  liveHere.delete(id);
  await db.query(`UPDATE host_instances SET stopped_at = COALESCE(stopped_at, now()) WHERE id = $1`, [id]);
}

export async function getInstance(db: Db, id: string): Promise<HostInstance | null> {
  const r = await db.query<InstanceRow>(`SELECT ${COLUMNS} FROM host_instances WHERE id = $1`, [id]);
  const row = r.rows[0];
  return row === undefined ? null : toInstance(row);
}

/**
 * Whether the host process `id` is gone: stopped, unknown, its heartbeat more than `staleBeats`
 * of its own intervals old (database clock), or known dead on this machine (isPreviousIncarnation).
 */
export async function instanceGone(db: Db, id: string, staleBeats = 3): Promise<boolean> {
  const r = await db.query<InstanceRow & { stale: boolean }>(
    `SELECT ${COLUMNS}, (stopped_at IS NOT NULL OR heartbeat_at < now() - $2 * heartbeat_ms * interval '1 millisecond') AS stale
       FROM host_instances WHERE id = $1`,
    [id, staleBeats],
  );
  const row = r.rows[0];
  if (row === undefined || row.stale) return true;
  return isPreviousIncarnation({ id: row.id, hostname: row.hostname, pid: Number(row.pid) });
}

/**
 * Forget instances stopped or silent for longer than `olderThanMs` that no pending journal row
 * names (the table would otherwise grow by one row per start). Returns how many were removed.
 */
export async function pruneInstances(db: Db, olderThanMs: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM host_instances h
      WHERE COALESCE(h.stopped_at, h.heartbeat_at) < now() - $1 * interval '1 millisecond'
        AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.status = 'pending' AND j.instance_id = h.id)`,
    [olderThanMs],
  );
  return r.rowCount;
}

/**
 * Whether the process behind an instance row is known dead from this machine alone: same hostname
 * and its pid is not running (or is this very process, which did not register that instance:
 * a restarted container gets the same pid again). False when it may be alive or runs elsewhere;
 * the heartbeat decides then.
 */
export function isPreviousIncarnation(i: { id: string; hostname: string; pid: number }): boolean {
  if (i.hostname !== osHostname()) return false;
  if (i.pid === process.pid) return !liveHere.has(i.id);
  try {
    process.kill(i.pid, 0);
    return false;
  } catch (e) {
    // EPERM: the pid exists (another user's process): maybe our host under another uid — alive.
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
