/**
 * The issuer's one-statement purchase (migrations/009_trade_path.sql, qd_issuer_purchase, grouped
 * by src/store/batch.ts on PostgreSQL): the same answers as the general path, no overdraft under
 * concurrency, the PIN tries counter and card status still honoured after the PVV was cached.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { openIssuerSimulator, type IssuerSimulator } from '../../src/issuer/index.js';
import type { Db } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { openHsm, pinBlockForIssuer, reference, request, terminalPik } from './helpers.js';

describeBackends('issuer purchase in one statement', (backend) => {
  let db: Db;
  let hsm: SoftHsm;
  let sim: IssuerSimulator;
  let pik: Awaited<ReturnType<typeof terminalPik>>;

  beforeAll(async () => {
    db = await backend.open();
    hsm = await openHsm();
    sim = await openIssuerSimulator({ db, hsm, timeoutMs: 200 });
    pik = await terminalPik(hsm);
  });

  afterAll(async () => {
    await backend.dispose(db);
    await hsm.close();
  });

  const pinFor = async (pin: string, pan: string): Promise<Buffer> => pinBlockForIssuer(hsm, pik, await sim.pinKey(), pin, pan);

  it('concurrent purchases on one card never overdraw; balance equals postings', async () => {
    const { card, pan } = await sim.addCard({ pin: '2468', balance: 10_500 });
    const block = await pinFor('2468', pan);
    const results = await Promise.all(Array.from({ length: 20 }, () => sim.authorize(request(pan, 'purchase', 1_000, { pinBlock: block }))));
    const approved = results.filter((r) => r.responseCode === '00');
    expect(approved).toHaveLength(10);
    expect(results.filter((r) => r.responseCode === '51')).toHaveLength(10);
    // Each approval reports the balance right after its own posting: 9 500, 8 500, ... 500.
    expect(approved.map((r) => r.balance).sort((a, b) => (b ?? 0) - (a ?? 0))).toEqual([9_500, 8_500, 7_500, 6_500, 5_500, 4_500, 3_500, 2_500, 1_500, 500]);
    expect((await sim.getCard(card.cardId))?.balance).toBe(500);
    expect((await sim.postings(card.cardId)).filter((p) => p.kind === 'purchase')).toHaveLength(10);
    expect(await sim.checkLedger()).toEqual([]);
  });

  it('a retransmission gets the recorded answer and no second posting; other content under the key gets 94', async () => {
    const { card, pan } = await sim.addCard({ pin: '1357', balance: 5_000 });
    const ref = reference();
    const block = await pinFor('1357', pan);
    const first = await sim.authorize(request(pan, 'purchase', 1_200, { reference: ref, pinBlock: block }));
    expect(first.responseCode).toBe('00');
    const again = await sim.authorize(request(pan, 'purchase', 1_200, { reference: ref, pinBlock: block }));
    expect(again).toMatchObject({ responseCode: '00', authCode: first.authCode, balance: 3_800 });
    const other = await sim.authorize(request(pan, 'purchase', 1_300, { reference: ref, pinBlock: block }));
    expect(other.responseCode).toBe('94');
    expect((await sim.getCard(card.cardId))?.balance).toBe(3_800);
    expect(await sim.checkLedger()).toEqual([]);
  });

  it('after the PVV is cached: a blocked card is declined (62) and wrong PINs still count to 75', async () => {
    const { card, pan } = await sim.addCard({ pin: '8642', balance: 5_000 });
    expect((await sim.authorize(request(pan, 'purchase', 100, { pinBlock: await pinFor('8642', pan) }))).responseCode).toBe('00');
    await sim.setCardStatus(card.cardId, 'blocked');
    expect((await sim.authorize(request(pan, 'purchase', 100, { pinBlock: await pinFor('8642', pan) }))).responseCode).toBe('62');
    await sim.setCardStatus(card.cardId, 'active');
    const wrong = await pinFor('0000', pan);
    expect((await sim.authorize(request(pan, 'purchase', 100, { pinBlock: wrong }))).responseCode).toBe('55');
    expect((await sim.authorize(request(pan, 'purchase', 100, { pinBlock: wrong }))).responseCode).toBe('55');
    // One wrong try left: the right PIN resets the counter.
    expect((await sim.authorize(request(pan, 'purchase', 100, { pinBlock: await pinFor('8642', pan) }))).responseCode).toBe('00');
    for (let i = 0; i < 3; i++) await sim.authorize(request(pan, 'purchase', 100, { pinBlock: wrong }));
    expect((await sim.authorize(request(pan, 'purchase', 100, { pinBlock: await pinFor('8642', pan) }))).responseCode).toBe('75');
    expect((await sim.getCard(card.cardId))?.balance).toBe(4_800);
    expect(await sim.checkLedger()).toEqual([]);
  });

  it('declines an expiry that does not match (54), another currency (12) and an unknown card (14)', async () => {
    const { card, pan } = await sim.addCard({ balance: 5_000, expiry: '3012' });
    expect((await sim.authorize(request(pan, 'purchase', 100, { expiry: '3011' }))).responseCode).toBe('54');
    expect((await sim.authorize(request(pan, 'purchase', 100, { currency: '840' }))).responseCode).toBe('12');
    const unknown = pan.slice(0, -2) + (pan.slice(-2) === '00' ? '11' : '00');
    expect((await sim.authorize(request(unknown, 'purchase', 100))).responseCode).toMatch(/^(14|30)$/);
    expect((await sim.getCard(card.cardId))?.balance).toBe(5_000);
  });
});
