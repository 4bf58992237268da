/**
 * Crash recovery with host instances (migration 010, src/store/host-instances.ts, both stores):
 * a pending entry is reversed only when the process that wrote it is gone (stopped, heartbeat
 * stale, a dead pid on this machine) or, for an untagged entry or a live process's, once it is
 * older than the safety limit; two recoveries at once reverse an entry once.
 *
 * Each case makes a real pending entry over TCP: the issuer never answers (98) and the stand-in
 * reversal meets the same dead link, so the entry stays pending, tagged with the host's instance.
 * The test then re-tags it with another instance to play the other host process.
 *
 * The pid check is trusted only for an instance of this machine and pid namespace (boot id and
 * pid-namespace inode): two containers with one hostname (host networking) see each other's pids
 * as missing, and Node is often pid 1 in both.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { recoverPending, type RecoverOptions } from '../../src/host/recovery.js';
import { getInstance, instanceGone, machineIdentity, markStopped, registerInstance } from '../../src/store/host-instances.js';
import { getEntry, listJournal, type JournalEntry } from '../../src/store/journal.js';
import { describeBackends } from '../store/helpers.js';
import { balanceOf, code, newCard, openTill, send, startTxFixture, txFields, type PlasticCard, type Till, type TxFixture } from './transactions-kit.js';

const silent = pino({ level: 'silent' });

/** The identity of a machine / pid namespace this process is not in. */
const ELSEWHERE = '00000000-0000-4000-8000-0000000000ff/pid:[4026531999]';
/** The tests that need this process's own identity (Linux with /proc) are skipped without one. */
const HERE = typeof machineIdentity === 'function' ? machineIdentity() : null;

/** The pid of a process that has exited (so no process has it now, barring reuse). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  await new Promise<void>((r) => child.once('exit', () => r()));
  if (pid === undefined) throw new Error('no pid');
  return pid;
}

describeBackends('recovery with several host processes', (backend) => {
  let fx: TxFixture;
  let till: Till;
  let card: PlasticCard;

  beforeEach(async () => {
    // No periodic sweep: only the recoveries the test runs touch the entries.
    fx = await startTxFixture(backend, { issuerTimeoutMs: 300, recoveryIntervalMs: 0 });
    card = await newCard(fx, { balance: 20_000 });
    till = await openTill(fx);
  });
  afterEach(async () => {
    await till?.close();
    await fx?.close();
  });

  /** A purchase answered 98 whose entry stays pending (issuer silent, stand-in reversal failed). */
  async function leavePending(amount = 5_000): Promise<JournalEntry> {
    fx.issuer.setBehaviour({ timeout: true }, card.cardId);
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount, cardOptions: { pin: null } })))).toBe('98');
    fx.issuer.setBehaviour(undefined, card.cardId);
    const pending = (await listJournal(fx.db, { terminalNo: till.terminalNo, status: 'pending' })).at(-1);
    expect(pending).toBeDefined();
    return pending!;
  }

  async function retag(id: string, instanceId: string | null): Promise<void> {
    await fx.db.query('UPDATE journal SET instance_id = $2 WHERE id = $1', [id, instanceId]);
  }

  const recover = (o: Partial<RecoverOptions> = {}): ReturnType<typeof recoverPending> =>
    recoverPending({ db: fx.db, hsm: fx.hsm, issuer: fx.issuer, logger: silent, instanceId: fx.host.instanceId, liveAgeMs: 60_000, ...o });

  it('registers the host instance with a heartbeat and tags its pending entries with it', async () => {
    const me = await getInstance(fx.db, fx.host.instanceId);
    expect(me).toMatchObject({ hostname: hostname(), pid: process.pid, machine: HERE, heartbeatMs: 5000, stoppedAt: null });
    const e = await leavePending();
    expect(e.instanceId).toBe(fx.host.instanceId);
    // Its own entry, not in flight: the sweep's rule (olderThanMs) decides, not the liveness.
    expect(await recover({ olderThanMs: 60_000 })).toEqual({ pending: 0, reversed: 0, left: 0 });
    expect(await recover({ olderThanMs: 0 })).toEqual({ pending: 1, reversed: 1, left: 0 });
    expect((await getEntry(fx.db, e.id))?.status).toBe('reversed');
  });

  it("leaves a live other process's entry alone, and reverses it once that process's heartbeat is stale", async () => {
    const e = await leavePending();
    const other = await registerInstance(fx.db, { heartbeatMs: 1000, hostname: 'other-machine.example', pid: 4242 });
    await retag(e.id, other.id);
    expect(await recover()).toEqual({ pending: 0, reversed: 0, left: 0 });
    expect(await getEntry(fx.db, e.id)).toMatchObject({ status: 'pending', instanceId: other.id });
    // Two beats missed: still alive (3 are allowed).
    await fx.db.query(`UPDATE host_instances SET heartbeat_at = now() - interval '2 seconds' WHERE id = $1`, [other.id]);
    expect(await recover()).toEqual({ pending: 0, reversed: 0, left: 0 });
    await fx.db.query(`UPDATE host_instances SET heartbeat_at = now() - interval '4 seconds' WHERE id = $1`, [other.id]);
    expect(await recover()).toEqual({ pending: 1, reversed: 1, left: 0 });
    // Taken over by this process before it was reversed.
    expect(await getEntry(fx.db, e.id)).toMatchObject({ status: 'reversed', responseCode: '96', panCipher: null, instanceId: fx.host.instanceId });
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it("a live other process's entry is reversed past the safety limit (liveAgeMs), a stopped process's at once", async () => {
    const e1 = await leavePending(1_000);
    const e2 = await leavePending(2_000);
    const alive = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: 'other-machine.example', pid: 4242 });
    const stopped = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: 'other-machine.example', pid: 4243 });
    await retag(e1.id, alive.id);
    await retag(e2.id, stopped.id);
    expect(await recover()).toEqual({ pending: 0, reversed: 0, left: 0 });
    await markStopped(fx.db, stopped.id);
    expect(await recover()).toEqual({ pending: 1, reversed: 1, left: 0 });
    expect((await getEntry(fx.db, e1.id))?.status).toBe('pending');
    expect((await getEntry(fx.db, e2.id))?.status).toBe('reversed');
    expect(await recover({ liveAgeMs: 0 })).toEqual({ pending: 1, reversed: 1, left: 0 });
    expect((await getEntry(fx.db, e1.id))?.status).toBe('reversed');
  });

  it.skipIf(HERE === null)('a previous run on this machine (its pid gone) is dead at once, whatever its heartbeat says', async () => {
    const e = await leavePending();
    const previous = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: hostname(), pid: await deadPid() });
    await retag(e.id, previous.id);
    expect(await recover()).toEqual({ pending: 1, reversed: 1, left: 0 });
    expect((await getEntry(fx.db, e.id))?.status).toBe('reversed');
  });

  it('another pid namespace with this hostname (shared host network): its fresh heartbeat decides, not the missing pid', async () => {
    const e1 = await leavePending(1_000);
    const e2 = await leavePending(2_000);
    // A pid no process has here (above any pid_max) and this very pid (Node as pid 1 in both
    // containers): neither says anything about a process in another pid namespace.
    const far = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: hostname(), pid: 4_000_000, machine: ELSEWHERE });
    const twin = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: hostname(), pid: process.pid, machine: ELSEWHERE });
    expect(await instanceGone(fx.db, far.id)).toBe(false);
    expect(await instanceGone(fx.db, twin.id)).toBe(false);
    expect(await getInstance(fx.db, far.id)).toMatchObject({ hostname: hostname(), pid: 4_000_000, machine: ELSEWHERE });
    await retag(e1.id, far.id);
    await retag(e2.id, twin.id);
    expect(await recover()).toEqual({ pending: 0, reversed: 0, left: 0 });
    expect((await getEntry(fx.db, e1.id))?.status).toBe('pending');
    expect((await getEntry(fx.db, e2.id))?.status).toBe('pending');
    // Once their heartbeats are stale they are dead like any other.
    await fx.db.query(`UPDATE host_instances SET heartbeat_at = now() - interval '1 hour' WHERE id = ANY($1::uuid[])`, [[far.id, twin.id]]);
    expect(await instanceGone(fx.db, far.id)).toBe(true);
    expect(await recover()).toEqual({ pending: 2, reversed: 2, left: 0 });
    expect(await balanceOf(fx, card)).toBe(20_000);
  });

  it('no machine identity recorded (not Linux, /proc unreadable): heartbeat only', async () => {
    const e = await leavePending();
    const unknown = await registerInstance(fx.db, { heartbeatMs: 1000, hostname: hostname(), pid: await deadPid(), machine: null });
    await retag(e.id, unknown.id);
    expect(await instanceGone(fx.db, unknown.id)).toBe(false);
    expect((await getInstance(fx.db, unknown.id))?.machine).toBeNull();
    expect(await recover()).toEqual({ pending: 0, reversed: 0, left: 0 });
    await fx.db.query(`UPDATE host_instances SET heartbeat_at = now() - interval '4 seconds' WHERE id = $1`, [unknown.id]);
    expect(await instanceGone(fx.db, unknown.id)).toBe(true);
    expect(await recover()).toEqual({ pending: 1, reversed: 1, left: 0 });
  });

  it.skipIf(HERE === null)('this machine and pid namespace: a dead pid, or this pid registered by another run, is dead at once; a running pid is alive', async () => {
    const e1 = await leavePending(1_000);
    const e2 = await leavePending(2_000);
    const dead = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: hostname(), pid: await deadPid(), machine: HERE });
    // A restarted process that got its predecessor's pid again (this process, but not its registration).
    const earlier = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: hostname(), pid: process.pid, machine: HERE });
    // A process that runs here (this one's parent): alive while its heartbeat is fresh.
    const running = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: hostname(), pid: process.ppid, machine: HERE });
    expect(await instanceGone(fx.db, dead.id)).toBe(true);
    expect(await instanceGone(fx.db, earlier.id)).toBe(true);
    expect(await instanceGone(fx.db, running.id)).toBe(false);
    expect(await instanceGone(fx.db, fx.host.instanceId)).toBe(false);
    await retag(e1.id, dead.id);
    await retag(e2.id, running.id);
    expect(await recover()).toEqual({ pending: 1, reversed: 1, left: 0 });
    expect((await getEntry(fx.db, e1.id))?.status).toBe('reversed');
    expect((await getEntry(fx.db, e2.id))?.status).toBe('pending');
  });

  it('rejects a malformed machine identity or pid with a typed error', async () => {
    await expect(registerInstance(fx.db, { heartbeatMs: 1000, machine: '' })).rejects.toMatchObject({ name: 'StoreError', reason: 'CONSTRAINT' });
    await expect(registerInstance(fx.db, { heartbeatMs: 1000, machine: 'x'.repeat(256) })).rejects.toMatchObject({ name: 'StoreError', reason: 'CONSTRAINT' });
    await expect(registerInstance(fx.db, { heartbeatMs: 1000, pid: 0 })).rejects.toMatchObject({ name: 'StoreError', reason: 'CONSTRAINT' });
    await expect(registerInstance(fx.db, { heartbeatMs: 1000, pid: 1.5 })).rejects.toMatchObject({ name: 'StoreError', reason: 'CONSTRAINT' });
  });

  it('an entry of an unknown instance counts as dead; an untagged one waits for liveAgeMs', async () => {
    const e1 = await leavePending(1_000);
    const e2 = await leavePending(2_000);
    await retag(e1.id, '00000000-0000-4000-8000-000000000001');
    await retag(e2.id, null);
    expect(await recover()).toEqual({ pending: 1, reversed: 1, left: 0 });
    expect((await getEntry(fx.db, e1.id))?.status).toBe('reversed');
    expect((await getEntry(fx.db, e2.id))?.status).toBe('pending');
    expect(await recover({ liveAgeMs: 0 })).toEqual({ pending: 1, reversed: 1, left: 0 });
    expect((await getEntry(fx.db, e2.id))?.status).toBe('reversed');
  });

  it('two processes recovering at once reverse a dead process’s entry once', async () => {
    const entries = [await leavePending(1_000), await leavePending(2_000), await leavePending(3_000)];
    const dead = await registerInstance(fx.db, { heartbeatMs: 1000, hostname: 'other-machine.example', pid: 4242 });
    await markStopped(fx.db, dead.id);
    for (const e of entries) await retag(e.id, dead.id);
    const b = await registerInstance(fx.db, { heartbeatMs: 60_000, hostname: 'third-machine.example', pid: 4244 });
    const reports = await Promise.all([recover(), recover({ instanceId: b.id }), recover()]);
    expect(reports.reduce((n, r) => n + r.reversed, 0)).toBe(3);
    expect(reports.reduce((n, r) => n + r.left, 0)).toBe(0);
    for (const e of entries) expect((await getEntry(fx.db, e.id))?.status).toBe('reversed');
    // Each reversal reached the issuer once: one tombstone per entry, nothing posted.
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it('marks the instance stopped on close', async () => {
    const id = fx.host.instanceId;
    await till.close();
    await fx.host.close();
    const row = await getInstance(fx.db, id);
    expect(row?.stoppedAt).toBeInstanceOf(Date);
  });
});
