/**
 * Transactions that refer to an original, end to end over TCP (both stores): purchase void (same
 * batch, exactly once, amount must match), refund (partial, not above the original), pre-auth,
 * completion, pre-auth void, completion void, QR purchase and its void, operator permissions.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startOperatorSession } from '../../src/store/operators.js';
import { listJournal, listReversals } from '../../src/store/journal.js';
import { endOperatorSessions } from '../../src/host/operator-gate.js';
import { describeBackends } from '../store/helpers.js';
import { balanceOf, code, newCard, openTill, reversalFields, send, startTxFixture, txFields, type PlasticCard, type Till, type TxFixture } from './transactions-kit.js';

describeBackends('transactions: void, refund, pre-authorisation, QR', (backend) => {
  let fx: TxFixture;
  let till: Till;
  let card: PlasticCard;

  beforeEach(async () => {
    fx = await startTxFixture(backend);
    till = await openTill(fx);
    card = await newCard(fx, { balance: 100_000, pin: '1234' });
  });
  afterEach(async () => {
    await till?.close();
    await fx?.close();
  });

  async function purchase(amount: number): Promise<{ stan: string; rrn: string; auth: string }> {
    const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount }));
    expect(code(rsp)).toBe('00');
    return { stan: rsp.message.get(11)!, rrn: rsp.message.get(37)!, auth: rsp.message.get(38)! };
  }

  it('voids a purchase exactly once and restores the funds', async () => {
    const p = await purchase(2_500);
    expect(await balanceOf(fx, card)).toBe(97_500);
    const original = { batchNo: till.client.batchNo, stan: p.stan, rrn: p.rrn };
    const v = await send(till, 'void', txFields(till, 'void', { card, amount: 2_500, original }));
    expect(code(v)).toBe('00');
    expect(v.message.mti).toBe('0210');
    expect(till.client.verifyResponseMac(v)).toBe(true);
    expect(await balanceOf(fx, card)).toBe(100_000);
    // A second void (new STAN) of the same purchase: original not voidable any more.
    const again = await send(till, 'void', txFields(till, 'void', { card, amount: 2_500, original }));
    expect(code(again)).toBe('25');
    expect(await balanceOf(fx, card)).toBe(100_000);
    const rows = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(rows.map((r) => [r.kind, r.status])).toEqual([
      ['purchase', 'voided'],
      ['void', 'approved'],
      ['void', 'declined'],
    ]);
    expect(rows[1]?.originalId).toBe(rows[0]?.id);
  });

  it('refuses a void with another amount (13), of an unknown STAN (25), or with another RRN (25)', async () => {
    const p = await purchase(1_000);
    const batchNo = till.client.batchNo;
    expect(code(await send(till, 'void', txFields(till, 'void', { card, amount: 999, original: { batchNo, stan: p.stan } })))).toBe('13');
    expect(code(await send(till, 'void', txFields(till, 'void', { card, amount: 1_000, original: { batchNo, stan: '999999' } })))).toBe('25');
    expect(code(await send(till, 'void', txFields(till, 'void', { card, amount: 1_000, original: { batchNo, stan: p.stan, rrn: '000000000001' } })))).toBe(
      '25',
    );
    expect(await balanceOf(fx, card)).toBe(99_000);
  });

  it('refunds partially, up to the original amount, by the original RRN', async () => {
    const p = await purchase(3_000);
    const original = { batchNo: till.client.batchNo, stan: p.stan, rrn: p.rrn, date: '0101' };
    const r1 = await send(till, 'refund', txFields(till, 'refund', { card, amount: 1_000, original }));
    expect(code(r1)).toBe('00');
    expect(r1.message.mti).toBe('0230');
    expect(till.client.verifyResponseMac(r1)).toBe(true);
    expect(await balanceOf(fx, card)).toBe(98_000);
    // 2 000 remain: 2 001 is too much, 2 000 is fine (boundary).
    expect(code(await send(till, 'refund', txFields(till, 'refund', { card, amount: 2_001, original })))).toBe('13');
    expect(code(await send(till, 'refund', txFields(till, 'refund', { card, amount: 2_000, original })))).toBe('00');
    expect(await balanceOf(fx, card)).toBe(100_000);
    expect(code(await send(till, 'refund', txFields(till, 'refund', { card, amount: 1, original })))).toBe('13');
    expect(code(await send(till, 'refund', txFields(till, 'refund', { card, amount: 1, original: { ...original, rrn: '123456789012' } })))).toBe('25');
  });

  it('refuses to void a purchase that was partly refunded (25): no double credit', async () => {
    const p = await purchase(3_000);
    const original = { batchNo: till.client.batchNo, stan: p.stan, rrn: p.rrn };
    expect(code(await send(till, 'refund', txFields(till, 'refund', { card, amount: 1_000, original })))).toBe('00');
    expect(code(await send(till, 'void', txFields(till, 'void', { card, amount: 3_000, original })))).toBe('25');
    expect(await balanceOf(fx, card)).toBe(98_000);
  });

  it('a 0400 for a purchase that was refunded is acknowledged without crediting the card again', async () => {
    const fields = txFields(till, 'purchase', { card, amount: 3_000 });
    const rsp = await send(till, 'purchase', fields);
    expect(code(rsp)).toBe('00');
    const stan = rsp.message.get(11)!;
    const original = { batchNo: till.client.batchNo, stan, rrn: rsp.message.get(37)! };
    expect(code(await send(till, 'refund', txFields(till, 'refund', { card, amount: 1_000, original })))).toBe('00');
    expect(await balanceOf(fx, card)).toBe(98_000);
    const r = await till.client.request('0400', reversalFields(fields, '98', card.pan), { mac: true, stan });
    expect(code(r)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(98_000);
    const recs = await listReversals(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo });
    expect(recs.at(-1)).toMatchObject({ outcome: 'mismatch', stan });
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it('a retransmission gets its stored answer even when the operator has signed off since', async () => {
    const fields = txFields(till, 'purchase', { card, amount: 700 });
    const first = await send(till, 'purchase', fields);
    expect(code(first)).toBe('00');
    const stan = first.message.get(11)!;
    await endOperatorSessions(fx.db, fx.merchantNo, till.terminalNo, 'terminal-sign-off');
    const again = await till.client.request('0200', fields, { mac: true, stan });
    expect(code(again)).toBe('00');
    expect(again.message.get(37)).toBe(first.message.get(37));
    expect(await balanceOf(fx, card)).toBe(99_300);
    // A new request (new STAN) is refused: no operator signed on.
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 700 })))).toBe('Q1');
  });

  it('refuses a refund with another card (25)', async () => {
    const p = await purchase(3_000);
    const other = await newCard(fx, { balance: 0 });
    const rsp = await send(till, 'refund', txFields(till, 'refund', { card: other, amount: 100, original: { batchNo: till.client.batchNo, stan: p.stan, rrn: p.rrn } }));
    expect(code(rsp)).toBe('25');
    expect(await balanceOf(fx, other)).toBe(0);
  });

  it('pre-authorises, completes below the held amount, and refuses a second completion', async () => {
    const pa = await send(till, 'preauth', txFields(till, 'preauth', { card, amount: 5_000 }));
    expect(code(pa)).toBe('00');
    expect(pa.message.mti).toBe('0110');
    const auth = pa.message.get(38)!;
    const stan = pa.message.get(11)!;
    expect((await fx.issuer.getCard(card.cardId))?.available).toBe(95_000);
    const over = await send(till, 'preauth-completion', txFields(till, 'preauth-completion', { card, amount: 5_001, original: { batchNo: till.client.batchNo, stan, authCode: auth } }));
    expect(code(over)).toBe('13');
    const done = await send(till, 'preauth-completion', txFields(till, 'preauth-completion', { card, amount: 4_000, original: { batchNo: till.client.batchNo, stan, authCode: auth } }));
    expect(code(done)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(96_000);
    const twice = await send(till, 'preauth-completion', txFields(till, 'preauth-completion', { card, amount: 1_000, original: { batchNo: '000000', stan: '000000', authCode: auth } }));
    expect(code(twice)).toBe('25');
    // Completion void restores the completed amount.
    const cv = await send(
      till,
      'completion-void',
      txFields(till, 'completion-void', { card, amount: 4_000, original: { batchNo: till.client.batchNo, stan: done.message.get(11)! } }),
    );
    expect(code(cv)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(100_000);
  });

  it('voids a pre-authorisation, releasing the hold; a completion afterwards finds nothing (25)', async () => {
    const pa = await send(till, 'preauth', txFields(till, 'preauth', { card, amount: 5_000 }));
    const auth = pa.message.get(38)!;
    const stan = pa.message.get(11)!;
    const pv = await send(till, 'preauth-void', txFields(till, 'preauth-void', { card, amount: 5_000, original: { batchNo: till.client.batchNo, stan, authCode: auth } }));
    expect(code(pv)).toBe('00');
    expect((await fx.issuer.getCard(card.cardId))?.available).toBe(100_000);
    const c = await send(till, 'preauth-completion', txFields(till, 'preauth-completion', { card, amount: 100, original: { batchNo: till.client.batchNo, stan, authCode: auth } }));
    expect(code(c)).toBe('25');
  });

  it('takes a QR purchase (22 = 032, code in 59, no card, no PIN) and voids it', async () => {
    const payer = await newCard(fx, { balance: 10_000 });
    const q = await send(till, 'qr-purchase', txFields(till, 'qr-purchase', { qr: payer.pan, amount: 1_500 }));
    expect(code(q)).toBe('00');
    expect(await balanceOf(fx, payer)).toBe(8_500);
    const [entry] = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(entry).toMatchObject({ kind: 'qr-purchase', channel: 'qr', status: 'approved' });
    const v = await send(till, 'void', txFields(till, 'void', { qr: payer.pan, amount: 1_500, original: { batchNo: till.client.batchNo, stan: q.message.get(11)! } }));
    expect(code(v)).toBe('00');
    expect(await balanceOf(fx, payer)).toBe(10_000);
    // A QR purchase with a PIN block is malformed.
    const withPin = { ...txFields(till, 'qr-purchase', { qr: payer.pan, amount: 10 }), 52: Buffer.alloc(8) };
    expect(code(await send(till, 'qr-purchase', withPin))).toBe('30');
  });

  it('refuses a void to a cashier without the void permission (Q2) and lets the supervisor void', async () => {
    const p = await purchase(700);
    await startOperatorSession(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo, operatorNo: '01' });
    const original = { batchNo: till.client.batchNo, stan: p.stan };
    expect(code(await send(till, 'void', txFields(till, 'void', { card, amount: 700, original })))).toBe('Q2');
    await startOperatorSession(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo, operatorNo: '00' });
    expect(code(await send(till, 'void', txFields(till, 'void', { card, amount: 700, original })))).toBe('00');
  });
});
