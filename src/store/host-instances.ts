/**
 * Host processes sharing one store (migration 010_host_instances.sql): each registers at start
 * under a random id, refreshes its heartbeat every `heartbeatMs` and marks itself stopped on a
 * graceful close. Crash recovery (src/host/recovery.ts) asks whether the process that wrote a
 * pending journal row is still alive before reversing that row.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { Db } from './db.js';
import { StoreError } from './errors.js';

export interface HostInstance {
  id: string;
  hostname: string;
  pid: number;
  /** Machine and pid namespace of `pid` (see `machineIdentity`); null: unknown, the pid is never checked. */
  machine: string | null;
  heartbeatMs: number;
  startedAt: Date;
  heartbeatAt: Date;
  stoppedAt: Date | null;
}

interface InstanceRow {
  id: string;
  hostname: string;
  pid: number | string;
  machine: string | null;
  heartbeat_ms: number | string;
  started_at: Date;
  heartbeat_at: Date;
  stopped_at: Date | null;
}

const COLUMNS = 'id, hostname, pid, machine, heartbeat_ms, started_at, heartbeat_at, stopped_at';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function toInstance(r: InstanceRow): HostInstance {
  return {
    id: r.id,
    hostname: r.hostname,
    pid: Number(r.pid),
    machine: r.machine,
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

const BOOT_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PID_NS_RE = /^pid:\[[0-9]+\]$/;
const MACHINE_MAX = 255;
const PID_MAX = 2 ** 31 - 1; // the column is a PostgreSQL integer

/** undefined: not read yet. Neither part can change while the process runs, so it is read once. */
let identity: string | null | undefined;

/**
 * The machine and pid namespace this process's pids are meaningful in: on Linux the boot id
 * (/proc/sys/kernel/random/boot_id, new at every boot) and the pid namespace (/proc/self/ns/pid,
 * e.g. 'pid:[4026531836]'), as '<boot id>/pid:[<inode>]'; null elsewhere or when either is
 * unreadable (then no pid check is ever trusted). Two processes with equal identities see the
 * same pids, so one can tell from `kill(pid, 0)` whether the other still runs; the hostname
 * cannot tell that (containers on the host's network share it, each with its own pids).
 * A namespace's inode is only reused once that namespace is gone, and with it every process in
 * it, so a row naming a reused identity names a dead process and the pid check is still right.
 */
export function machineIdentity(): string | null {
  if (identity === undefined) identity = readIdentity();
  return identity;
}

function readIdentity(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    // Anything unexpected (a sandbox's fake /proc) is no identity rather than a wrong one.
    if (!BOOT_ID_RE.test(boot) || !PID_NS_RE.test(ns)) return null;
    return `${boot}/${ns}`;
  } catch {
    return null;
  }
}

export interface RegisterOptions {
  /** Heartbeat interval in ms (what others judge staleness against). */
  heartbeatMs: number;
  /** Tests: register under this id instead of a random one. */
  id?: string;
  /** Tests: pretend to run on another machine / as another process / in another pid namespace
   * (machine null: no identity, as on a platform without /proc). */
  hostname?: string;
  pid?: number;
  machine?: string | null;
}

/** Register a new host instance (status: alive, heartbeat now). */
export async function registerInstance(db: Db, opts: RegisterOptions): Promise<HostInstance> {
  if (!Number.isInteger(opts.heartbeatMs) || opts.heartbeatMs <= 0) throw new StoreError('CONSTRAINT', 'heartbeatMs must be a positive whole number');
  const id = opts.id ?? randomUUID();
  if (!isInstanceId(id)) throw new StoreError('CONSTRAINT', 'instance id must be a lower-case UUID');
  const host = (opts.hostname ?? osHostname()).slice(0, 255) || 'unknown';
  const pid = opts.pid ?? process.pid;
  if (!Number.isInteger(pid) || pid <= 0 || pid > PID_MAX) throw new StoreError('CONSTRAINT', 'pid must be a positive whole number');
  const machine = opts.machine === undefined ? machineIdentity() : opts.machine;
  if (machine !== null && (typeof machine !== 'string' || machine.length === 0 || machine.length > MACHINE_MAX)) {
    throw new StoreError('CONSTRAINT', `machine identity must be null or 1 to ${MACHINE_MAX} characters`);
  }
  const r = await db.query<InstanceRow>(
    `INSERT INTO host_instances (id, hostname, pid, machine, heartbeat_ms) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [id, host, pid, machine, opts.heartbeatMs],
  );
  const row = r.rows[0];
  if (row === undefined) throw new StoreError('INTERNAL', 'host instance insert returned no row');
  if (opts.hostname === undefined && opts.pid === undefined && opts.machine === undefined) liveHere.add(id);
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
  return isPreviousIncarnation(toInstance(row));
}

/**
 * Of the instances `ids`, those this process knows are dead although their heartbeat may be
 * fresh (isPreviousIncarnation): one query for a whole recovery pass, none when this process has
 * no machine identity (no pid check is trusted then). Ids not registered are left out (the
 * caller has their state from the journal).
 */
export async function deadHere(db: Db, ids: readonly string[]): Promise<Set<string>> {
  const dead = new Set<string>();
  const here = machineIdentity();
  const wanted = [...new Set(ids)].filter(isInstanceId);
  if (here === null || wanted.length === 0) return dead;
  const r = await db.query<InstanceRow>(`SELECT ${COLUMNS} FROM host_instances WHERE id = ANY($1::uuid[]) AND machine = $2`, [wanted, here]);
  for (const row of r.rows) if (isPreviousIncarnation(toInstance(row))) dead.add(row.id);
  return dead;
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
 * Whether the process behind an instance row is known dead from this process alone: it ran in
 * this machine and pid namespace (same `machineIdentity()`, and same hostname for good measure)
 * and its pid is not running, or is this very process, which did not register that instance (a
 * restarted process that got its predecessor's pid again). False when it may be alive, runs
 * elsewhere, or either identity is unknown: the heartbeat decides then. A matching hostname alone
 * proves nothing: containers on the host's network share it, and a pid of theirs is missing here.
 */
export function isPreviousIncarnation(i: { id: string; hostname: string; pid: number; machine: string | null }): boolean {
  const here = machineIdentity();
  if (here === null || i.machine !== here || i.hostname !== osHostname()) return false;
  // kill() with 0 or a negative pid addresses process groups: never a dead-or-alive answer.
  if (!Number.isInteger(i.pid) || i.pid <= 0) return false;
  if (i.pid === process.pid) return !liveHere.has(i.id);
  try {
    process.kill(i.pid, 0);
    return false;
  } catch (e) {
    // Only ESRCH (no such process) means dead. EPERM: the pid exists but belongs to another user
    // (maybe our host under another uid): alive. Anything else: unknown, so not dead.
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
