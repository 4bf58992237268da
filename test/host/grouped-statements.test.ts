/**
 * The grouped statements of sign-on and of the purchase path on PostgreSQL (src/store/batch.ts):
 * concurrent sign-ons and purchases from several terminals go out as shared statements — terminal and gate reads, pending
 * journal rows, risk windows, the issuer's purchase, the final journal rows with their risk
 * observations — and none of those statements fails. A grouped statement that failed would go
 * unnoticed otherwise: its calls are retried one at a time and succeed alone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRiskEngine, setRule } from '../../src/risk/index.js';
import { batchStats } from '../../src/store/batch.js';
import { listJournal } from '../../src/store/journal.js';
import { describePostgres } from '../store/helpers.js';
import { balanceOf, code, newCard, openTill, send, startTxFixture, txFields, type Till, type TxFixture } from './transactions-kit.js';

const TILLS = 8;
const ROUNDS = 5;

describePostgres('grouped statements of the purchase path', (backend) => {
  let fx: TxFixture;
  const tills: Till[] = [];

  beforeAll(async () => {
    fx = await startTxFixture(backend, { risk: createRiskEngine({ cacheMs: 0 }) });
    await setRule(fx.db, { scope: fx.merchantNo, ruleId: 'trading-window', patch: { params: { start: '00:00', end: '00:00' } }, actor: 'user:test' });
    for (let i = 0; i < TILLS; i++) tills.push(await openTill(fx));
  });
  afterAll(async () => {
    for (const t of tills) await t.close();
    await fx?.close();
  });

  it('signs many terminals on at once with shared statements, none of which falls back', async () => {
    const before = batchStats();
    const storm = await Promise.all(Array.from({ length: 24 }, () => openTill(fx)));
    try {
      const after = batchStats();
      expect(after.grouped).toBeGreaterThan(before.grouped);
      expect(after.fallbacks).toBe(before.fallbacks);
      // Each got its own fresh keys (generation 1), recorded once.
      const r = await fx.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM key_generations WHERE merchant_no = $1 AND terminal_no = ANY($2::text[]) AND generation = 1`,
        [fx.merchantNo, storm.map((t) => t.terminalNo)],
      );
      expect(Number(r.rows[0]?.n)).toBe(storm.length);
    } finally {
      for (const t of storm) await t.close();
    }
  });

  it('serves concurrent purchases with shared statements, none of which falls back', async () => {
    const cards = await Promise.all(tills.map(() => newCard(fx, { balance: 100_000, pin: '1234' })));
    const before = batchStats();
    const codes = await Promise.all(
      tills.map(async (till, i) => {
        const out: (string | undefined)[] = [];
        for (let r = 0; r < ROUNDS; r++) out.push(code(await send(till, 'purchase', txFields(till, 'purchase', { card: cards[i]!, amount: 1_000 + r }))));
        return out;
      }),
    );
    const after = batchStats();
    expect(codes.flat()).toEqual(new Array<string>(TILLS * ROUNDS).fill('00'));
    expect(after.grouped).toBeGreaterThan(before.grouped);
    expect(after.fallbacks).toBe(before.fallbacks);
    // Every purchase is in the journal, approved, with one observation; every card paid its five.
    for (const [i, till] of tills.entries()) {
      const entries = await listJournal(fx.db, { terminalNo: till.terminalNo });
      expect(entries.map((e) => e.status)).toEqual(new Array<string>(ROUNDS).fill('approved'));
      expect(await balanceOf(fx, cards[i]!)).toBe(100_000 - (5 * 1_000 + 0 + 1 + 2 + 3 + 4));
    }
    const obs = await fx.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM risk_observations o JOIN journal j ON o.reference = j.id::text AND o.at = j.received_at AND o.result = 'approved'
        WHERE j.merchant_no = $1`,
      [fx.merchantNo],
    );
    expect(Number(obs.rows[0]?.n)).toBe(TILLS * ROUNDS);
  });
});
