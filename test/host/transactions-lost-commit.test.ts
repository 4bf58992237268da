/**
 * A final journal write that commits but whose answer never reaches the host (the connection to
 * the database drops after COMMIT): the host must not then reverse at the issuer, because the
 * journal says approved. It answers 96 without a MAC, and the terminal's reversal (0400) undoes
 * the purchase through the journal, exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../src/store/index.js';
import { StoreError } from '../../src/store/errors.js';
import { listJournal } from '../../src/store/journal.js';
import { describeBackends } from '../store/helpers.js';
import { balanceOf, code, newCard, openTill, reversalFields, send, startTxFixture, txFields, type Till, type TxFixture } from './transactions-kit.js';

/** `db`, except that the next final journal write (armed by `arm`) runs and then fails as if the connection dropped. */
function losingFinalAnswer(db: Db): { db: Db; arm(): void } {
  let armed = false;
  const wrapped = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return async (sql: string, params?: readonly unknown[]) => {
          const r = await target.query(sql, params);
          if (armed && /UPDATE journal (AS j )?SET status/.test(sql)) {
            armed = false;
            throw new StoreError('UNAVAILABLE', 'connection terminated unexpectedly');
          }
          return r;
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { db: wrapped, arm: () => (armed = true) };
}

describeBackends('transactions: the final write committed, its answer lost', (backend) => {
  let fx: TxFixture;
  let till: Till;
  let arm: () => void = () => undefined;

  beforeAll(async () => {
    fx = await startTxFixture(backend, {
      hostDb: (db) => {
        const l = losingFinalAnswer(db);
        arm = l.arm;
        return l.db;
      },
    });
    till = await openTill(fx);
  });
  afterAll(async () => {
    await till?.close();
    await fx?.close();
  });

  it('answers 96 without reversing at the issuer; the 0400 then reverses once, through the journal', async () => {
    const card = await newCard(fx, { balance: 10_000, pin: '1234' });
    const fields = txFields(till, 'purchase', { card, amount: 2_500 });
    arm();
    const rsp = await send(till, 'purchase', fields, '000777');
    expect(code(rsp)).toBe('96');
    expect(rsp.message.has(64)).toBe(false);
    // The journal holds the approval and the issuer still holds the debit: they agree.
    const [entry] = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(entry).toMatchObject({ status: 'approved', responseCode: '00' });
    expect(await balanceOf(fx, card)).toBe(7_500);
    expect(fx.logs.some((l) => l.includes('no longer pending: not reversed here'))).toBe(true);

    const rev = reversalFields(fields, '06', card.pan);
    const r1 = await till.client.request('0400', rev, { mac: true, stan: '000777' });
    expect(code(r1)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(10_000);
    const r2 = await till.client.request('0400', rev, { mac: true, stan: '000777' });
    expect(code(r2)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(10_000);
    expect((await fx.issuer.postings(card.cardId)).filter((p) => p.kind === 'reversal')).toHaveLength(1);
    expect((await listJournal(fx.db, { terminalNo: till.terminalNo }))[0]?.status).toBe('reversed');
  });
});
