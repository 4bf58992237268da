/**
 * Random sequences of purchases, retransmissions, voids and (repeated, concurrent) reversals on one
 * card: the balance always equals its postings, never goes below zero, and equals the opening
 * balance minus the approved purchases that were undone at most once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import type { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { openIssuerSimulator, type IssuerSimulator } from '../../src/issuer/index.js';
import type { IssuerRequest } from '../../src/issuer/issuer.js';
import type { Db } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { openHsm, request } from './helpers.js';

type Op =
  | { t: 'purchase'; amount: number }
  | { t: 'retransmit'; i: number }
  | { t: 'void'; i: number }
  | { t: 'reverse'; i: number; copies: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('purchase' as const), amount: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ t: fc.constant('retransmit' as const), i: fc.nat() }),
  fc.record({ t: fc.constant('void' as const), i: fc.nat() }),
  fc.record({ t: fc.constant('reverse' as const), i: fc.nat(), copies: fc.integer({ min: 1, max: 3 }) }),
);

describeBackends('issuer ledger under random operations', (backend) => {
  let db: Db;
  let hsm: SoftHsm;
  let sim: IssuerSimulator;

  beforeAll(async () => {
    db = await backend.open();
    hsm = await openHsm();
    sim = await openIssuerSimulator({ db, hsm });
  });

  afterAll(async () => {
    await backend.dispose(db);
    await hsm.close();
  });

  it('balance = postings = opening − purchases approved and not undone; each undone once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        const opening = 1_000;
        const { card, pan } = await sim.addCard({ balance: opening });
        const purchases: { req: IssuerRequest; approved: boolean; undone: number }[] = [];
        for (const o of ops) {
          if (o.t === 'purchase') {
            const req = request(pan, 'purchase', o.amount);
            const r = await sim.authorize(req);
            purchases.push({ req, approved: r.responseCode === '00', undone: 0 });
            continue;
          }
          const p = purchases.length > 0 ? purchases[o.i % purchases.length] : undefined;
          if (!p) continue;
          if (o.t === 'retransmit') {
            await sim.authorize({ ...p.req });
          } else if (o.t === 'void') {
            const r = await sim.authorize(request(pan, 'void', p.req.amount, { original: { rrn: p.req.reference.rrn } }));
            if (r.responseCode === '00') p.undone += 1;
          } else {
            const rev = { original: p.req.reference, kind: 'purchase' as const, amount: p.req.amount, currency: '156', pan, reasonCode: '98' };
            const rs = await Promise.all(Array.from({ length: o.copies }, () => sim.reverse(rev)));
            for (const r of rs) {
              expect(r.responseCode).toBe('00');
              if (r.reason === 'reversed') p.undone += 1;
            }
          }
        }
        for (const p of purchases) expect(p.undone).toBeLessThanOrEqual(p.approved ? 1 : 0);
        const expected = opening - purchases.filter((p) => p.approved && p.undone === 0).reduce((s, p) => s + p.req.amount, 0);
        const now = await sim.getCard(card.cardId);
        expect(now?.balance).toBe(expected);
        expect(expected).toBeGreaterThanOrEqual(0);
        expect(await sim.checkLedger()).toEqual([]);
      }),
      { numRuns: 12 },
    );
  }, 120_000);
});
