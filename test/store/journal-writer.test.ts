/**
 * finalizeEntry with `writer`: an entry another host process claimed for recovery (claimPending
 * wrote its own instance id) is not made final by its original writer — alone or grouped.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../src/store/index.js';
import { claimPending, finalizeEntry, getEntry, insertPending, type NewJournalEntry } from '../../src/store/journal.js';
import { describeBackends, merchantNo } from './helpers.js';

describeBackends('journal: finalise only by the writer', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  let stan = 0;
  const mid = merchantNo();
  const entry = (instanceId: string): NewJournalEntry => ({
    merchantNo: mid, terminalNo: '10000001', batchNo: '000001', stan: String(++stan).padStart(6, '0'), localDate: '20261124',
    kind: 'purchase', mti: '0200', processingCode: '000000', amount: 1234, currency: '156', channel: 'card', cardClass: 'domestic',
    panFingerprint: 'f'.repeat(64), maskedPan: '629990******0018', panCipher: null, rrn: String(100000000000 + stan), acquirerId: '00000000001',
    operatorNo: '01', contentHash: 'a'.repeat(64), receivedAt: new Date(), instanceId,
  });
  const final = (writer: string) => ({ status: 'approved' as const, responseCode: '00', authCode: '123456', response: { responseCode: '00' }, writer });
  const insert = async (instanceId: string): Promise<string> => {
    const r = await insertPending(db, entry(instanceId));
    if (!('entry' in r)) throw new Error('not inserted');
    return r.entry.id;
  };

  it('the writer finalises its own entry; once another host has claimed it, the writer gets null and the entry stays as the claimer left it', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const mine = await insert(a);
    expect(await finalizeEntry(db, mine, final(a))).toMatchObject({ status: 'approved', instanceId: a });

    const claimed = await insert(a);
    expect(await claimPending(db, claimed, a, b)).toBe(true);
    expect(await finalizeEntry(db, claimed, final(a))).toBeNull();
    expect(await getEntry(db, claimed)).toMatchObject({ status: 'pending', instanceId: b });
  });

  it('the same holds when several finalisations are sent together', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const ids = await Promise.all([insert(a), insert(a), insert(a), insert(a)]);
    expect(await claimPending(db, ids[1]!, a, b)).toBe(true);
    expect(await claimPending(db, ids[3]!, a, b)).toBe(true);
    const done = await Promise.all(ids.map((id) => finalizeEntry(db, id, final(a))));
    expect(done.map((d) => d?.status ?? null)).toEqual(['approved', null, 'approved', null]);
    for (const id of [ids[1]!, ids[3]!]) expect((await getEntry(db, id))?.status).toBe('pending');
  });
});
