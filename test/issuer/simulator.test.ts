import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { openIssuerSimulator, type IssuerSimulator } from '../../src/issuer/index.js';
import { IssuerUnavailableError, type IssuerReversal } from '../../src/issuer/issuer.js';
import { listEvents, type Db } from '../../src/store/index.js';
import { generateTestPan, isLuhnValid } from '../../src/terminal/card.js';
import { describeBackends } from '../store/helpers.js';
import { openHsm, pinBlockForIssuer, request, terminalPik } from './helpers.js';

describeBackends('issuer simulator', (backend) => {
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

  async function ledgerSound(): Promise<void> {
    expect(await sim.checkLedger()).toEqual([]);
  }

  it('keeps its keys across opens and stores no clear PAN', async () => {
    const again = await openIssuerSimulator({ db, hsm });
    expect(again.keys.zpk.block).toBe(sim.keys.zpk.block);
    expect(again.keys.pvk.block).toBe(sim.keys.pvk.block);
    const { card, pan } = await sim.addCard({ pin: '1234', balance: 500 });
    expect(isLuhnValid(pan)).toBe(true);
    expect(card.maskedPan).toBe(pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4));
    const dump = JSON.stringify((await db.query('SELECT * FROM issuer_cards')).rows) + JSON.stringify((await db.query('SELECT * FROM issuer_requests')).rows);
    expect(dump).not.toContain(pan);
    expect(dump).not.toContain('1234"');
    await expect(sim.addCard({ pan })).rejects.toMatchObject({ reason: 'DUPLICATE' });
    await expect(sim.addCard({ pan: pan.slice(0, -1) + String((Number(pan.slice(-1)) + 1) % 10) })).rejects.toMatchObject({ reason: 'BAD_INPUT' });
    const ev = await listEvents(db, { type: 'issuer.card_added', resource: `card:${card.cardId}` });
    expect(ev).toHaveLength(1);
    expect(JSON.stringify(ev)).not.toContain(pan);
  });

  it('approves a purchase with the right PIN and debits the card', async () => {
    const { card, pan } = await sim.addCard({ pin: '4321', balance: 10_000 });
    const r = await sim.authorize(request(pan, 'purchase', 2_500, { pinBlock: await pinFor('4321', pan) }));
    expect(r.responseCode).toBe('00');
    expect(r.authCode).toMatch(/^[0-9]{6}$/);
    expect(r.balance).toBe(7_500);
    expect((await sim.getCard(card.cardId))?.balance).toBe(7_500);
    const postings = await sim.postings(card.cardId);
    expect(postings.map((p) => [p.kind, p.amount])).toEqual([
      ['deposit', 10_000],
      ['purchase', -2_500],
    ]);
    await ledgerSound();
  });

  it('answers 14 for an unknown card, 30 for a malformed request', async () => {
    expect((await sim.authorize(request('6299900000000000001', 'purchase', 100))).responseCode).toBe('14');
    expect((await sim.authorize(request('12ab', 'purchase', 100))).responseCode).toBe('14');
    const { pan } = await sim.addCard({ balance: 100 });
    expect((await sim.authorize(request(pan, 'purchase', -1))).responseCode).toBe('30');
    expect((await sim.authorize(request(pan, 'purchase', 1.5))).responseCode).toBe('30');
    expect((await sim.authorize(request(pan, 'purchase', 1, { currency: 'CNY' }))).responseCode).toBe('30');
    expect((await sim.authorize(request(pan, 'purchase', 1, { pinBlock: Buffer.alloc(7) }))).responseCode).toBe('30');
  });

  it('answers 41, 43, 62 by status and 54 when expired', async () => {
    for (const [status, code] of [
      ['lost', '41'],
      ['stolen', '43'],
      ['blocked', '62'],
    ] as const) {
      const { card, pan } = await sim.addCard({ balance: 1_000, status });
      expect((await sim.authorize(request(pan, 'purchase', 100))).responseCode).toBe(code);
      expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
    }
    const expired = await sim.addCard({ balance: 1_000, expiry: '2001' });
    expect((await sim.authorize(request(expired.pan, 'purchase', 100))).responseCode).toBe('54');
    const valid = await sim.addCard({ balance: 1_000, expiry: '9912' });
    expect((await sim.authorize(request(valid.pan, 'purchase', 100, { expiry: '9911' }))).responseCode).toBe('54');
    expect((await sim.authorize(request(valid.pan, 'purchase', 100, { expiry: '9912' }))).responseCode).toBe('00');
    await ledgerSound();
  });

  it('answers 55 for a wrong PIN, 75 from the third wrong try on, resets on a right PIN', async () => {
    const { card, pan } = await sim.addCard({ pin: '1111', balance: 1_000 });
    const wrong = async () => (await sim.authorize(request(pan, 'purchase', 10, { pinBlock: await pinFor('2222', pan) }))).responseCode;
    const right = async () => (await sim.authorize(request(pan, 'purchase', 10, { pinBlock: await pinFor('1111', pan) }))).responseCode;
    expect(await wrong()).toBe('55');
    expect(await right()).toBe('00');
    expect((await sim.getCard(card.cardId))?.pinTries).toBe(0);
    expect(await wrong()).toBe('55');
    expect(await wrong()).toBe('55');
    expect(await wrong()).toBe('75');
    expect(await right()).toBe('75');
    expect((await listEvents(db, { type: 'issuer.pin_tries_exceeded', resource: `card:${card.cardId}` })).length).toBe(1);
    // A PIN block under another key decrypts to garbage: a wrong PIN, not a crash.
    const other = await sim.addCard({ pin: '1111', balance: 1_000 });
    const garbage = (await sim.authorize(request(other.pan, 'purchase', 10, { pinBlock: Buffer.alloc(8, 0x5a) }))).responseCode;
    expect(garbage).toBe('55');
    // Unblock resets the counter.
    await sim.setCardStatus(card.cardId, 'active');
    expect(await right()).toBe('00');
    expect((await sim.getCard(card.cardId))?.balance).toBe(980);
    // A card without a PIN refuses any PIN.
    const nopin = await sim.addCard({ balance: 100 });
    expect((await sim.authorize(request(nopin.pan, 'purchase', 10, { pinBlock: await pinFor('1111', nopin.pan) }))).responseCode).toBe('55');
  });

  it('answers 51 for insufficient funds and 61 over the daily limit', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000, dailyLimit: 700 });
    expect((await sim.authorize(request(pan, 'purchase', 1_001))).responseCode).toBe('51');
    expect((await sim.authorize(request(pan, 'purchase', 500))).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'purchase', 201))).responseCode).toBe('61');
    expect((await sim.authorize(request(pan, 'purchase', 200))).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'purchase', 1))).responseCode).toBe('61');
    expect((await sim.getCard(card.cardId))?.balance).toBe(300);
    await ledgerSound();
  });

  it('daily limit usage is derived from postings: voids and reversals give it back, holds use it', async () => {
    const { pan } = await sim.addCard({ balance: 10_000, dailyLimit: 1_000 });
    const p = request(pan, 'purchase', 800);
    expect((await sim.authorize(p)).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'purchase', 300))).responseCode).toBe('61');
    await sim.reverse({ original: p.reference, kind: 'purchase', amount: 800, currency: '156', pan, reasonCode: '98' });
    const p2 = request(pan, 'purchase', 900);
    expect((await sim.authorize(p2)).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'void', 900, { original: { rrn: p2.reference.rrn } }))).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'preauth', 700))).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'purchase', 301))).responseCode).toBe('61');
    expect((await sim.authorize(request(pan, 'purchase', 300))).responseCode).toBe('00');
    await ledgerSound();
  });

  it('administration: typed errors for bad input and unknown cards', async () => {
    await expect(sim.setCardStatus('card_000000000000', 'blocked')).rejects.toMatchObject({ reason: 'NOT_FOUND' });
    await expect(sim.adjustBalance('card_000000000000', 5)).rejects.toMatchObject({ reason: 'NOT_FOUND' });
    const { card, pan } = await sim.addCard();
    await expect(sim.adjustBalance(card.cardId, 0)).rejects.toMatchObject({ reason: 'BAD_INPUT' });
    await expect(sim.addCard({ balance: -1 })).rejects.toMatchObject({ reason: 'BAD_INPUT' });
    await expect(sim.addCard({ expiry: '2913' })).rejects.toMatchObject({ reason: 'BAD_INPUT' });
    await expect(sim.addCard({ pin: '12' })).rejects.toMatchObject({ reason: 'BAD_INPUT' });
    await expect(sim.addCard({ currency: 'CNY' })).rejects.toMatchObject({ reason: 'BAD_INPUT' });
    expect((await sim.findCardByPan(pan))?.cardId).toBe(card.cardId);
    expect(await sim.findCardByPan(generateTestPan())).toBeUndefined();
    expect((await sim.listCards({ maskedPan: card.maskedPan })).map((c) => c.cardId)).toContain(card.cardId);
    const blocked = await sim.setCardStatus(card.cardId, 'blocked', { actor: 'cli:test', origin: 'cli' });
    expect(blocked.status).toBe('blocked');
    const ev = await listEvents(db, { type: 'issuer.card_status', resource: `card:${card.cardId}` });
    expect(ev[0]).toMatchObject({ actor: 'cli:test', origin: 'cli', detail: { from: 'active', to: 'blocked' } });
    expect(await sim.listCards({ status: 'blocked' })).toEqual(expect.arrayContaining([expect.objectContaining({ cardId: card.cardId })]));
  });

  it('requirePin: a purchase without a PIN on a PIN card gets 55; the clock decides expiry', async () => {
    const strict = await openIssuerSimulator({ db, hsm, requirePin: true, now: () => new Date('2031-01-15T00:00:00Z') });
    const { pan } = await strict.addCard({ pin: '9999', balance: 1_000, expiry: '3101' });
    expect((await strict.authorize(request(pan, 'purchase', 10))).responseCode).toBe('55');
    expect((await strict.authorize(request(pan, 'purchase', 10, { pinBlock: await pinFor('9999', pan) }))).responseCode).toBe('00');
    const nopin = await strict.addCard({ balance: 1_000, expiry: '3101' });
    expect((await strict.authorize(request(nopin.pan, 'purchase', 10))).responseCode).toBe('00');
    const old = await strict.addCard({ balance: 1_000, expiry: '3012' });
    expect((await strict.authorize(request(old.pan, 'purchase', 10))).responseCode).toBe('54');
    // The default simulator leaves a missing PIN to the acquirer.
    expect((await sim.authorize(request(pan, 'purchase', 10))).responseCode).toBe('00');
  });

  it('balance inquiry returns the available balance', async () => {
    const { pan } = await sim.addCard({ pin: '0000', balance: 12_345 });
    const r = await sim.authorize(request(pan, 'balance', 0, { pinBlock: await pinFor('0000', pan) }));
    expect(r).toMatchObject({ responseCode: '00', balance: 12_345 });
  });

  it('is idempotent per reference: a retransmission never debits twice; a reused reference with other content gets 94', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const req = request(pan, 'purchase', 300);
    const first = await sim.authorize(req);
    const again = await sim.authorize({ ...req });
    expect(first.responseCode).toBe('00');
    expect(again.responseCode).toBe('00');
    expect(again.authCode).toBe(first.authCode);
    expect(again.balance).toBe(700);
    expect((await sim.getCard(card.cardId))?.balance).toBe(700);
    expect((await sim.authorize({ ...req, amount: 301 })).responseCode).toBe('94');
    // Concurrent retransmissions of one request: still one posting.
    const req2 = request(pan, 'purchase', 100);
    const all = await Promise.all([1, 2, 3, 4].map(() => sim.authorize({ ...req2 })));
    expect(new Set(all.map((r) => r.authCode)).size).toBe(1);
    expect((await sim.getCard(card.cardId))?.balance).toBe(600);
    // A declined request is answered the same way again, too.
    const big = request(pan, 'purchase', 5_000);
    expect((await sim.authorize(big)).responseCode).toBe('51');
    await sim.adjustBalance(card.cardId, 10_000);
    expect((await sim.authorize({ ...big })).responseCode).toBe('51');
    await ledgerSound();
  });

  it('never overdraws under concurrent debits', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const results = await Promise.all(Array.from({ length: 12 }, () => sim.authorize(request(pan, 'purchase', 100))));
    expect(results.filter((r) => r.responseCode === '00')).toHaveLength(10);
    expect(results.filter((r) => r.responseCode === '51')).toHaveLength(2);
    expect((await sim.getCard(card.cardId))?.balance).toBe(0);
    await ledgerSound();
  });

  it('reversal restores the funds exactly once', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const req = request(pan, 'purchase', 400);
    expect((await sim.authorize(req)).responseCode).toBe('00');
    const rev: IssuerReversal = { original: req.reference, kind: 'purchase', amount: 400, currency: '156', pan, reasonCode: '98' };
    const results = await Promise.all([sim.reverse(rev), sim.reverse(rev), sim.reverse(rev)]);
    expect(results.map((r) => r.responseCode)).toEqual(['00', '00', '00']);
    expect(results.filter((r) => r.reason === 'reversed')).toHaveLength(1);
    expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
    expect((await sim.reverse(rev)).reason).toBe('already reversed');
    expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
    // The original retransmitted after its reversal is refused, not posted again.
    expect((await sim.authorize({ ...req })).responseCode).toBe('12');
    expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
    await ledgerSound();
  });

  it('reversal of an unknown request is approved without effect, and refuses the original arriving late', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const req = request(pan, 'purchase', 100);
    const r = await sim.reverse({ original: req.reference, kind: 'purchase', amount: 100, currency: '156', pan, reasonCode: '98' });
    expect(r.responseCode).toBe('00');
    expect(r.reason).toMatch(/not seen/);
    expect((await sim.authorize(req)).responseCode).toBe('12');
    expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
  });

  it('reversal of a declined request has no effect; a mismatched reversal is refused', async () => {
    const { card, pan } = await sim.addCard({ balance: 100 });
    const declined = request(pan, 'purchase', 1_000);
    expect((await sim.authorize(declined)).responseCode).toBe('51');
    expect((await sim.reverse({ original: declined.reference, kind: 'purchase', amount: 1_000, currency: '156', pan, reasonCode: '98' })).reason).toMatch(/declined/);
    const ok = request(pan, 'purchase', 50);
    expect((await sim.authorize(ok)).responseCode).toBe('00');
    expect((await sim.reverse({ original: ok.reference, kind: 'purchase', amount: 49, currency: '156', pan, reasonCode: '98' })).responseCode).toBe('13');
    expect((await sim.reverse({ original: ok.reference, kind: 'refund', amount: 50, currency: '156', pan, reasonCode: '98' })).responseCode).toBe('12');
    expect((await sim.getCard(card.cardId))?.balance).toBe(50);
  });

  it('void credits back the original once; 25 when the original is unknown; reversal of a voided purchase has no effect', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const p = request(pan, 'purchase', 300);
    const pr = await sim.authorize(p);
    expect((await sim.authorize(request(pan, 'void', 300, { original: { rrn: 'nope' } }))).responseCode).toBe('25');
    expect((await sim.authorize(request(pan, 'void', 300))).responseCode).toBe('25');
    expect((await sim.authorize(request(pan, 'void', 299, { original: { rrn: p.reference.rrn } }))).responseCode).toBe('13');
    const v = request(pan, 'void', 300, { original: { rrn: p.reference.rrn, ...(pr.authCode ? { authCode: pr.authCode } : {}) } });
    expect((await sim.authorize(v)).responseCode).toBe('00');
    expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
    expect((await sim.authorize(request(pan, 'void', 300, { original: { rrn: p.reference.rrn } }))).responseCode).toBe('12');
    const rev = await sim.reverse({ original: p.reference, kind: 'purchase', amount: 300, currency: '156', pan, reasonCode: '98' });
    expect(rev.responseCode).toBe('00');
    expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
    // Reversing the void debits again.
    await sim.reverse({ original: v.reference, kind: 'void', amount: 300, currency: '156', pan, reasonCode: '98' });
    expect((await sim.getCard(card.cardId))?.balance).toBe(700);
    await ledgerSound();
  });

  it('refund credits, at most the original amount in total', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const p = request(pan, 'purchase', 500);
    await sim.authorize(p);
    expect((await sim.authorize(request(pan, 'refund', 200, { original: { rrn: p.reference.rrn } }))).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'refund', 301, { original: { rrn: p.reference.rrn } }))).responseCode).toBe('13');
    expect((await sim.authorize(request(pan, 'refund', 300, { original: { rrn: p.reference.rrn } }))).responseCode).toBe('00');
    expect((await sim.authorize(request(pan, 'refund', 1, { original: { rrn: 'unknown' } }))).responseCode).toBe('25');
    expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
    await ledgerSound();
  });

  it('pre-authorisation holds funds; completion captures; voids and reversals release or restore', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const pa = request(pan, 'preauth', 600);
    expect((await sim.authorize(pa)).responseCode).toBe('00');
    let c = await sim.getCard(card.cardId);
    expect([c?.balance, c?.available]).toEqual([1_000, 400]);
    expect((await sim.authorize(request(pan, 'purchase', 401))).responseCode).toBe('51');
    expect((await sim.authorize(request(pan, 'preauth-completion', 601, { original: { rrn: pa.reference.rrn } }))).responseCode).toBe('13');
    const comp = request(pan, 'preauth-completion', 550, { original: { rrn: pa.reference.rrn } });
    expect((await sim.authorize(comp)).responseCode).toBe('00');
    c = await sim.getCard(card.cardId);
    expect([c?.balance, c?.available]).toEqual([450, 450]);
    expect((await sim.authorize(request(pan, 'preauth-completion', 10, { original: { rrn: pa.reference.rrn } }))).responseCode).toBe('12');
    // Completion void: money back, the hold is active again.
    const cv = request(pan, 'completion-void', 550, { original: { rrn: comp.reference.rrn } });
    expect((await sim.authorize(cv)).responseCode).toBe('00');
    c = await sim.getCard(card.cardId);
    expect([c?.balance, c?.available]).toEqual([1_000, 400]);
    // Pre-auth void releases it.
    const pv = request(pan, 'preauth-void', 600, { original: { rrn: pa.reference.rrn } });
    expect((await sim.authorize(pv)).responseCode).toBe('00');
    c = await sim.getCard(card.cardId);
    expect([c?.balance, c?.available]).toEqual([1_000, 1_000]);
    // Reversing the pre-auth void holds again; reversing the pre-auth releases.
    await sim.reverse({ original: pv.reference, kind: 'preauth-void', amount: 600, currency: '156', pan, reasonCode: '98' });
    expect((await sim.getCard(card.cardId))?.available).toBe(400);
    await sim.reverse({ original: pa.reference, kind: 'preauth', amount: 600, currency: '156', pan, reasonCode: '98' });
    expect((await sim.getCard(card.cardId))?.available).toBe(1_000);
    expect((await sim.authorize(request(pan, 'preauth-void', 600, { original: { rrn: 'x' } }))).responseCode).toBe('25');
    await ledgerSound();
  });

  it('reversing a completion restores the hold', async () => {
    const { card, pan } = await sim.addCard({ balance: 1_000 });
    const pa = request(pan, 'preauth', 300);
    await sim.authorize(pa);
    const comp = request(pan, 'preauth-completion', 300, { original: { rrn: pa.reference.rrn } });
    await sim.authorize(comp);
    await sim.reverse({ original: comp.reference, kind: 'preauth-completion', amount: 300, currency: '156', pan, reasonCode: '98' });
    const c = await sim.getCard(card.cardId);
    expect([c?.balance, c?.available]).toEqual([1_000, 700]);
    await ledgerSound();
  });

  describe('behaviours', () => {
    it('failWith answers that code without effect, per simulator and per card', async () => {
      const { card, pan } = await sim.addCard({ balance: 1_000 });
      const other = await sim.addCard({ balance: 1_000 });
      sim.setBehaviour({ failWith: '96' }, card.cardId);
      expect((await sim.authorize(request(pan, 'purchase', 100))).responseCode).toBe('96');
      expect((await sim.authorize(request(other.pan, 'purchase', 100))).responseCode).toBe('00');
      sim.setBehaviour(undefined, card.cardId);
      sim.setBehaviour({ failWith: '91' });
      expect((await sim.authorize(request(other.pan, 'purchase', 100))).responseCode).toBe('91');
      sim.setBehaviour(undefined);
      expect((await sim.getCard(card.cardId))?.balance).toBe(1_000);
      expect(() => sim.setBehaviour({ failWith: 'bad' })).toThrow(/response code/);
    });

    it('timeout: IssuerUnavailableError after timeoutMs, nothing posted', async () => {
      const { card, pan } = await sim.addCard({ balance: 1_000 });
      sim.setBehaviour({ timeout: true }, card.cardId);
      const t0 = Date.now();
      await expect(sim.authorize(request(pan, 'purchase', 100))).rejects.toBeInstanceOf(IssuerUnavailableError);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      sim.setBehaviour({ delayMs: 500 }, card.cardId);
      await expect(sim.authorize(request(pan, 'purchase', 100))).rejects.toBeInstanceOf(IssuerUnavailableError);
      sim.setBehaviour({ delayMs: 50 }, card.cardId);
      expect((await sim.authorize(request(pan, 'purchase', 100))).responseCode).toBe('00');
      sim.setBehaviour(undefined, card.cardId);
      expect((await sim.getCard(card.cardId))?.balance).toBe(900);
    });

    it("timeout 'after-processing' posts but loses the answer; the reversal undoes it", async () => {
      const { card, pan } = await sim.addCard({ balance: 1_000 });
      sim.setBehaviour({ timeout: 'after-processing' }, card.cardId);
      const req = request(pan, 'purchase', 100);
      await expect(sim.authorize(req)).rejects.toBeInstanceOf(IssuerUnavailableError);
      expect((await sim.getCard(card.cardId))?.balance).toBe(900);
      sim.setBehaviour(undefined, card.cardId);
      const r = await sim.reverse({ original: req.reference, kind: 'purchase', amount: 100, currency: '156', pan, reasonCode: '98' });
      expect(r).toMatchObject({ responseCode: '00', reason: 'reversed', balance: 1_000 });
      await ledgerSound();
    });
  });

  it('every account balance equals its journal', async () => {
    await ledgerSound();
    const r = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM issuer_cards');
    expect(Number(r.rows[0]?.n)).toBeGreaterThan(10);
    // The ledger is append-only.
    await expect(db.query('UPDATE issuer_postings SET amount = 1')).rejects.toThrow();
  });
});
