/**
 * Two host processes on one PostgreSQL (two store handles, two issuer simulators, two host
 * instances; the same schema): host B starting while host A waits for the issuer must not reverse
 * A's pending entry (A then answers 00 and the card is debited once); an entry A left pending is
 * left to A while A's heartbeat is fresh, and B's periodic sweep reverses it once A is declared
 * dead (stale heartbeat); a terminal's 0400 reaching B for an entry of A's is answered 96 (nothing
 * undone) while A is alive, even while A is still waiting for the issuer on it, and honoured once A
 * is dead.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type RunningHost } from '../../src/host/index.js';
import { openIssuerSimulator, type IssuerSimulator } from '../../src/issuer/index.js';
import { openStore, type Db } from '../../src/store/index.js';
import { getEntry, listJournal, listReversals } from '../../src/store/journal.js';
import { getInstance } from '../../src/store/host-instances.js';
import { TerminalClient } from '../../src/terminal/client.js';
import { DATABASE_URL } from '../store/helpers.js';
import { CLEAR_TMK } from './fixture.js';
import {
  balanceOf,
  code,
  newCard,
  openTill,
  reversalFields,
  send,
  startTxFixture,
  txFields,
  type Till,
  type TxFixture,
  sleep,
  waitFor,
} from './transactions-kit.js';

const postgres = {
  name: 'postgres' as const,
  open: () => openStore({ url: DATABASE_URL, schema: `qd_test_${process.pid}_${Math.random().toString(16).slice(2, 10)}` }),
  dispose: async (db: Db) => {
    const { dropSchema } = await import('../../src/store/index.js');
    try {
      await dropSchema(db);
    } finally {
      await db.close();
    }
  },
};

describe.skipIf(!DATABASE_URL)('two host processes on one PostgreSQL', () => {
  // Host A: the fixture's host. Long heartbeat interval, so the test alone decides when A looks dead.
  let a: TxFixture;
  // Host B: its own store handle (pool) and issuer simulator on the same schema.
  let dbB: Db;
  let issuerB: IssuerSimulator;
  let b: RunningHost | undefined;
  let till: Till;

  /** Host B on its own store handle and issuer simulator; recoveryIntervalMs 0: no periodic sweep. */
  const startB = (recoveryIntervalMs: number): Promise<RunningHost> =>
    startHost({ port: 0, db: dbB, hsm: a.hsm, issuer: issuerB, logger: pino({ level: 'silent' }), idleTimeoutMs: 0, recoveryIntervalMs, heartbeatMs: 1_000 });
  const setHeartbeatAge = (id: string, age: string): Promise<unknown> =>
    a.db.query(`UPDATE host_instances SET heartbeat_at = now() - $2::interval WHERE id = $1`, [id, age]);

  beforeAll(async () => {
    a = await startTxFixture(postgres, { issuerTimeoutMs: 4_000, recoveryIntervalMs: 0, heartbeatMs: 60_000 });
    dbB = await openStore({ url: DATABASE_URL, schema: a.db.schema, migrate: false });
    issuerB = await openIssuerSimulator({ db: dbB, hsm: a.hsm });
    till = await openTill(a, '00', a.host.port, 20_000);
  });
  afterAll(async () => {
    await till?.close();
    await b?.close();
    await dbB?.close();
    await a?.close();
  });

  it("B's start-up recovery leaves A's in-flight entry alone; A answers 00 and the card is debited once", async () => {
    const card = await newCard(a, { balance: 20_000 });
    // A's issuer takes 2.5 s (A's limit: 4 s): long enough for B to start in the middle.
    a.issuer.setBehaviour({ delayMs: 2_500 }, card.cardId);
    const answer = send(till, 'purchase', txFields(till, 'purchase', { card, amount: 5_000, cardOptions: { pin: null } }));
    await waitFor(async () => (await listJournal(a.db, { terminalNo: till.terminalNo, status: 'pending' })).length === 1);
    const [pending] = await listJournal(a.db, { terminalNo: till.terminalNo, status: 'pending' });
    expect(pending?.instanceId).toBe(a.host.instanceId);

    b = await startB(200);
    expect(b.instanceId).not.toBe(a.host.instanceId);
    expect(b.recovery).toEqual({ pending: 0, reversed: 0, left: 0 });
    expect((await getEntry(a.db, pending!.id))?.status).toBe('pending');

    const rsp = await answer;
    expect(code(rsp)).toBe('00');
    expect(await getEntry(a.db, pending!.id)).toMatchObject({ status: 'approved', responseCode: '00' });
    expect(await balanceOf(a, card)).toBe(15_000);
    a.issuer.setBehaviour(undefined, card.cardId);
  });

  it("an entry A left pending waits while A's heartbeat is fresh; B's sweep reverses it once A is dead", async () => {
    // Run alone (-t), B was not started by the first test.
    b ??= await startB(200);
    const card = await newCard(a, { balance: 20_000 });
    // The issuer processes A's purchase but never answers, nor the stand-in reversal (processed too,
    // answer lost): A answers 98 and its entry stays pending.
    a.issuer.setBehaviour({ timeout: 'after-processing' }, card.cardId);
    // A waits 4 s for each (its issuer time limit): 98 after the purchase's, entry pending after
    // the stand-in reversal's.
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 4_000, cardOptions: { pin: null } })))).toBe('98');
    a.issuer.setBehaviour(undefined, card.cardId);
    const [entry] = (await listJournal(a.db, { terminalNo: till.terminalNo, status: 'pending' })).filter((e) => e.amount === 4_000);
    expect(entry).toBeDefined();
    expect(entry?.instanceId).toBe(a.host.instanceId);

    // B sweeps every 200 ms; A is alive (heartbeat fresh, interval 60 s): left alone.
    await sleep(1_500);
    expect((await getEntry(a.db, entry!.id))?.status).toBe('pending');

    // A stops beating (as if hung or on a partitioned machine): three intervals and more.
    await a.db.query(`UPDATE host_instances SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [a.host.instanceId]);
    await waitFor(async () => (await getEntry(a.db, entry!.id))?.status === 'reversed');
    expect(await getEntry(a.db, entry!.id)).toMatchObject({ status: 'reversed', responseCode: '96', panCipher: null, instanceId: b.instanceId });
    expect(await balanceOf(a, card)).toBe(20_000);
    expect(await a.issuer.checkLedger()).toEqual([]);
    expect((await getInstance(a.db, b.instanceId))?.stoppedAt).toBeNull();
  });

  it("a 0400 reaching B for A's entry: 96 while A is alive (even mid-purchase), honoured once A is dead", { timeout: 45_000 }, async () => {
    // A alive whatever ran before (the previous test declared it dead; its own beat is 60 s away).
    await setHeartbeatAge(a.host.instanceId, '0 seconds');
    // This test's B does not sweep: only the 0400 may reverse A's entry, never a sweep racing it.
    await b?.close();
    b = undefined;
    const hostB = await startB(0);
    b = hostB;

    // One terminal, signed on at A (its till) and, mid-purchase, at B (failing over).
    const tillA = await openTill(a, '00', a.host.port, 20_000);
    const tillB = new TerminalClient({
      host: '127.0.0.1',
      port: hostB.port,
      terminalNo: tillA.terminalNo,
      merchantNo: tillA.merchantNo,
      tmk: CLEAR_TMK,
      keyScheme: '003',
      reconnect: false,
      requestTimeoutMs: 10_000,
      // Away from the till's STANs: only the 0400s below name a purchase's STAN.
      firstStan: 900,
    });
    try {
      const reversalsOf = async (): Promise<string[]> =>
        (await listReversals(a.db, { merchantNo: tillA.merchantNo, terminalNo: tillA.terminalNo })).map((r) => r.outcome);

      // --- 1. A is waiting for the issuer on the purchase: B must not reverse it. -------------
      const card = await newCard(a, { balance: 20_000 });
      // Under the simulator's 4 s limit: A gets the answer (00), 3 s from now.
      a.issuer.setBehaviour({ delayMs: 3_000 }, card.cardId);
      const fields = txFields(tillA, 'purchase', { card, amount: 5_000, cardOptions: { pin: null } });
      let settled = false;
      const answer = send(tillA, 'purchase', fields, '000123').finally(() => {
        settled = true;
      });
      await waitFor(async () => (await listJournal(a.db, { terminalNo: tillA.terminalNo, status: 'pending' })).length === 1);
      const [inFlight] = await listJournal(a.db, { terminalNo: tillA.terminalNo, status: 'pending' });
      expect(inFlight?.instanceId).toBe(a.host.instanceId);

      // The terminal gives up on A, signs on at B (new working keys; A's till keeps the previous
      // generation, valid in the grace window) and reverses the purchase there.
      await tillB.connect();
      await tillB.signOn();
      const early = await tillB.request('0400', reversalFields(fields, '98', card.pan), { mac: true, stan: '000123' });
      expect(settled).toBe(false); // A really was still waiting when B answered
      expect(early.message.mti).toBe('0410');
      expect(tillB.verifyResponseMac(early)).toBe(true);
      expect(code(early)).toBe('96');
      expect(await getEntry(a.db, inFlight!.id)).toMatchObject({ status: 'pending', instanceId: a.host.instanceId });
      expect(await reversalsOf()).toEqual(['pending']);

      // A's answer arrives: approved, MAC'ed with the key generation the till still holds.
      const rsp = await answer;
      expect(code(rsp)).toBe('00');
      expect(tillA.client.verifyResponseMac(rsp)).toBe(true);
      a.issuer.setBehaviour(undefined, card.cardId);
      expect(await getEntry(a.db, inFlight!.id)).toMatchObject({ status: 'approved', responseCode: '00' });
      expect(await balanceOf(a, card)).toBe(15_000);
      const posted = await a.issuer.postings(card.cardId);
      expect(posted.filter((p) => p.kind === 'reversal')).toHaveLength(0);
      expect(posted.filter((p) => p.kind === 'purchase')).toHaveLength(1);

      // --- 2. An entry A left pending (debited, undo lost): 96 while A lives, reversed once dead. --
      const card2 = await newCard(a, { balance: 20_000 });
      // The purchase posts but its answer is lost; the stand-in reversal then meets a dead link
      // (nothing posted): A answers 98 and leaves the entry pending with the card debited.
      a.issuer.setBehaviour({ timeout: 'after-processing' }, card2.cardId);
      const fields2 = txFields(tillA, 'purchase', { card: card2, amount: 4_000, cardOptions: { pin: null } });
      const lost = send(tillA, 'purchase', fields2, '000124');
      await waitFor(async () => (await balanceOf(a, card2)) === 16_000);
      a.issuer.setBehaviour({ timeout: true }, card2.cardId);
      expect(code(await lost)).toBe('98');
      a.issuer.setBehaviour(undefined, card2.cardId);
      const [left] = (await listJournal(a.db, { terminalNo: tillA.terminalNo, status: 'pending' })).filter((e) => e.amount === 4_000);
      expect(left).toMatchObject({ status: 'pending', instanceId: a.host.instanceId });
      expect(await balanceOf(a, card2)).toBe(16_000);

      const rev2 = reversalFields(fields2, '98', card2.pan);
      // A is alive (fresh heartbeat): B cannot know whether A is about to settle it.
      expect(code(await tillB.request('0400', rev2, { mac: true, stan: '000124' }))).toBe('96');
      expect((await getEntry(a.db, left!.id))?.status).toBe('pending');
      expect(await balanceOf(a, card2)).toBe(16_000);

      // A stops beating: B now honours the terminal's reversal and restores the funds.
      await setHeartbeatAge(a.host.instanceId, '10 minutes');
      const honoured = await tillB.request('0400', rev2, { mac: true, stan: '000124' });
      expect(code(honoured)).toBe('00');
      expect(tillB.verifyResponseMac(honoured)).toBe(true);
      expect(await getEntry(a.db, left!.id)).toMatchObject({ status: 'reversed', responseCode: '96', panCipher: null });
      expect(await balanceOf(a, card2)).toBe(20_000);
      expect((await a.issuer.postings(card2.cardId)).filter((p) => p.kind === 'reversal')).toHaveLength(1);
      expect(await reversalsOf()).toEqual(['pending', 'pending', 'reversed']);
      // The first purchase is untouched by all this: still approved, debited once.
      expect((await getEntry(a.db, inFlight!.id))?.status).toBe('approved');
      expect(await balanceOf(a, card)).toBe(15_000);
      expect(await a.issuer.checkLedger()).toEqual([]);
    } finally {
      await tillB.close();
      await tillA.close();
      await setHeartbeatAge(a.host.instanceId, '0 seconds');
    }
  });
});
