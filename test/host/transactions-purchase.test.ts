/**
 * Purchases and balance inquiries end to end over TCP (both stores): approval, issuer declines
 * (55, 51), MAC failure (A0, then a new sign-on works), duplicate retransmission (same answer, no
 * second debit) and STAN reuse with other content (94), no issuer (91).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { unionPayMac } from '../../src/crypto/mac.js';
import { createMessage, pack } from '../../src/iso8583/index.js';
import { CUP_POS_FRAME, encodeFrame } from '../../src/framing/index.js';
import { cupPos } from '../../src/specs/cup-pos.js';
import { listEvents } from '../../src/store/index.js';
import { listJournal } from '../../src/store/journal.js';
import { decodeBalance } from '../../src/transactions/messages.js';
import { describeBackends } from '../store/helpers.js';
import { REQUEST_HEADER, REQUEST_TPDU, TestTerminal } from './test-terminal.js';
import { amount12, balanceOf, code, newCard, openTill, send, startTxFixture, txFields, type Till, type TxFixture } from './transactions-kit.js';

describeBackends('transactions: purchase and balance', (backend) => {
  let fx: TxFixture;
  let till: Till;

  beforeEach(async () => {
    fx = await startTxFixture(backend);
    till = await openTill(fx);
  });
  afterEach(async () => {
    await till?.close();
    await fx?.close();
  });

  it('approves a swiped purchase with PIN, debits once, journals it and MACs the response', async () => {
    const card = await newCard(fx, { balance: 50_000, pin: '1234' });
    const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 1234 }));
    expect(code(rsp)).toBe('00');
    expect(rsp.message.mti).toBe('0210');
    expect(till.client.verifyResponseMac(rsp)).toBe(true);
    expect(rsp.message.get(4)).toBe(amount12(1234));
    expect(rsp.message.get(37)).toMatch(/^[0-9]{12}$/);
    expect(rsp.message.get(38)).toMatch(/^[0-9A-Z]{6}$/);
    expect(rsp.message.has(2)).toBe(false);
    expect(await balanceOf(fx, card)).toBe(50_000 - 1234);
    const [entry] = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(entry).toMatchObject({ kind: 'purchase', status: 'approved', amount: 1234, responseCode: '00', channel: 'card', operatorNo: '00' });
    expect(entry?.rrn).toBe(rsp.message.get(37));
    expect(entry?.maskedPan).toContain('*');
    expect(entry?.panCipher).toBeNull();
    // No clear PAN anywhere in the journal row.
    expect(JSON.stringify(entry)).not.toContain(card.pan);
    expect(await fx.issuer.checkLedger()).toEqual([]);
  });

  it('approves a keyed purchase without PIN on a card without PIN', async () => {
    const card = await newCard(fx, { balance: 10_000 });
    const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 500, cardOptions: { keyed: true, pin: null } }));
    expect(code(rsp)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(9_500);
  });

  it('declines a wrong PIN with 55 and debits nothing', async () => {
    const card = await newCard(fx, { balance: 50_000, pin: '1234' });
    const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { pin: '9999' } }));
    expect(code(rsp)).toBe('55');
    expect(till.client.verifyResponseMac(rsp)).toBe(true);
    expect(rsp.message.has(38)).toBe(false);
    expect(await balanceOf(fx, card)).toBe(50_000);
    const [entry] = await listJournal(fx.db, { terminalNo: till.terminalNo });
    expect(entry).toMatchObject({ status: 'declined', responseCode: '55' });
  });

  it('declines insufficient funds with 51; the exact balance is approved (boundary)', async () => {
    const card = await newCard(fx, { balance: 1_000, pin: '1234' });
    const over = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 1_001 }));
    expect(code(over)).toBe('51');
    expect(await balanceOf(fx, card)).toBe(1_000);
    const exact = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 1_000 }));
    expect(code(exact)).toBe('00');
    expect(await balanceOf(fx, card)).toBe(0);
  });

  it('answers A0 to a bad MAC (no MAC on the answer, sign on again), and works after a new sign-on', async () => {
    const card = await newCard(fx, { balance: 5_000, pin: '1234' });
    const fields = { ...txFields(till, 'purchase', { card, amount: 100 }), 11: '000777', 64: Buffer.from('DEADBEEFDEADBEEF', 'hex') };
    // A raw request with a wrong field 64 over the client's socket: request() without mac keeps our 64.
    const rsp = await till.client.request('0200', fields);
    expect(code(rsp)).toBe('A0');
    expect(rsp.message.has(64)).toBe(false);
    expect(rsp.header.processingRequirement).toBe(3);
    expect(await balanceOf(fx, card)).toBe(5_000);
    expect(await listJournal(fx.db, { terminalNo: till.terminalNo })).toHaveLength(0);
    const events = await listEvents(fx.db, { type: 'transaction.mac-failed' });
    expect(events.length).toBe(1);
    // The client drops its keys on A0; sign on again and the purchase goes through.
    await till.client.signOn();
    const ok = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100 }));
    expect(code(ok)).toBe('00');
    expect(ok.header.processingRequirement).not.toBe(3);
    expect(await balanceOf(fx, card)).toBe(4_900);
  });

  it('a MAC made with a key from before the last sign-on is accepted within the grace window', async () => {
    const card = await newCard(fx, { balance: 5_000 });
    const oldMak = Buffer.from(till.client.workingKeys!.mak);
    await till.client.signOn();
    const fields = { ...txFields(till, 'purchase', { card, amount: 10, cardOptions: { pin: null } }), 11: '000555', 64: Buffer.alloc(8) };
    const body = pack(cupPos, createMessage(cupPos, '0200', fields));
    const mac = unionPayMac(oldMak, body.subarray(0, body.length - 8));
    const rsp = await till.client.request('0200', { ...fields, 64: mac }, { stan: '000555' });
    expect(code(rsp)).toBe('00');
  });

  it('replays the stored answer to a retransmission (same STAN) without a second debit', async () => {
    const card = await newCard(fx, { balance: 10_000, pin: '1234' });
    const fields = txFields(till, 'purchase', { card, amount: 700 });
    const first = await send(till, 'purchase', fields, '000321');
    expect(code(first)).toBe('00');
    const again = await send(till, 'purchase', fields, '000321');
    expect(code(again)).toBe('00');
    expect(till.client.verifyResponseMac(again)).toBe(true);
    expect(again.message.get(37)).toBe(first.message.get(37));
    expect(again.message.get(38)).toBe(first.message.get(38));
    expect(await balanceOf(fx, card)).toBe(9_300);
    expect(await listJournal(fx.db, { terminalNo: till.terminalNo })).toHaveLength(1);
    expect((await fx.issuer.postings(card.cardId)).filter((p) => p.kind === 'purchase')).toHaveLength(1);
  });

  it('two copies of one request arriving together debit once: one is processed, the other answered 96 or replayed', async () => {
    const card = await newCard(fx, { balance: 10_000 });
    const fields = { ...txFields(till, 'purchase', { card, amount: 800, cardOptions: { pin: null } }), 11: '000888', 64: Buffer.alloc(8) };
    const body = pack(cupPos, createMessage(cupPos, '0200', fields));
    unionPayMac(till.client.workingKeys!.mak, body.subarray(0, body.length - 8)).copy(body, body.length - 8);
    const frame = encodeFrame(CUP_POS_FRAME, { tpdu: REQUEST_TPDU, header: REQUEST_HEADER, body });
    const raw = await TestTerminal.connect(fx.host.port);
    try {
      raw.write(Buffer.concat([frame, frame]));
      const a = await raw.receive();
      const b = await raw.receive();
      const codes = [a.message.get(39), b.message.get(39)].sort();
      expect(codes[0]).toBe('00');
      expect(['00', '96']).toContain(codes[1]);
      if (codes[1] === '00') expect(a.message.get(37)).toBe(b.message.get(37));
    } finally {
      await raw.close();
    }
    expect(await balanceOf(fx, card)).toBe(9_200);
    expect(await listJournal(fx.db, { terminalNo: till.terminalNo })).toHaveLength(1);
  });

  it('a retransmission that crosses local midnight is still a duplicate (replayed, one debit)', async () => {
    const card = await newCard(fx, { balance: 10_000 });
    const fields = txFields(till, 'purchase', { card, amount: 250, cardOptions: { pin: null } });
    const first = await send(till, 'purchase', fields, '000654');
    expect(code(first)).toBe('00');
    // As if the first copy had been received yesterday (local date), a minute ago.
    await fx.db.query(`UPDATE journal SET local_date = '20000101', received_at = now() - interval '1 minute' WHERE terminal_no = $1`, [till.terminalNo]);
    const again = await send(till, 'purchase', fields, '000654');
    expect(code(again)).toBe('00');
    expect(again.message.get(37)).toBe(first.message.get(37));
    expect(await balanceOf(fx, card)).toBe(9_750);
    expect(await listJournal(fx.db, { terminalNo: till.terminalNo })).toHaveLength(1);
  });

  it('answers 94 when the same STAN comes with different content', async () => {
    const card = await newCard(fx, { balance: 10_000, pin: '1234' });
    const first = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 700 }), '000400');
    expect(code(first)).toBe('00');
    const other = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 701 }), '000400');
    expect(code(other)).toBe('94');
    expect(till.client.verifyResponseMac(other)).toBe(true);
    expect(await balanceOf(fx, card)).toBe(9_300);
  });

  it('answers a balance inquiry with field 54', async () => {
    const card = await newCard(fx, { balance: 123_456, pin: '1234' });
    const rsp = await send(till, 'balance', txFields(till, 'balance', { card }));
    expect(code(rsp)).toBe('00');
    expect(decodeBalance(rsp.message.get(54)!)).toEqual({ currency: '156', balance: 123_456 });
    expect(rsp.message.has(38)).toBe(false);
    expect(await balanceOf(fx, card)).toBe(123_456);
  });

  it('refuses a zero amount (13), a missing field (30), and an unknown card (14)', async () => {
    const card = await newCard(fx, { balance: 1_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 0, cardOptions: { pin: null } })))).toBe('13');
    const noCurrency = txFields(till, 'purchase', { card, amount: 10, cardOptions: { pin: null } });
    delete noCurrency[49];
    expect(code(await send(till, 'purchase', noCurrency))).toBe('30');
    const stranger = { pan: '6299901234567890', expiry: '3012', cardId: 'none' };
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: stranger, amount: 10, cardOptions: { pin: null } })))).toBe('14');
  });

  it('refuses with the operator gate code when no operator is signed on', async () => {
    const { endOperatorSessions } = await import('../../src/host/operator-gate.js');
    await endOperatorSessions(fx.db, fx.merchantNo, till.terminalNo, 'sign-off');
    const card = await newCard(fx, { balance: 1_000 });
    const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 10, cardOptions: { pin: null } }));
    expect(code(rsp)).toBe('Q1');
    expect(await balanceOf(fx, card)).toBe(1_000);
  });
});

describeBackends('transactions: no issuer', (backend) => {
  it('answers 91 when no issuer is configured', async () => {
    const fx = await startTxFixture(backend, { noIssuer: true });
    const till = await openTill(fx);
    try {
      const card = await newCard(fx, { balance: 1_000 });
      const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 10, cardOptions: { pin: null } }));
      expect(code(rsp)).toBe('91');
      expect(await balanceOf(fx, card)).toBe(1_000);
    } finally {
      await till.close();
      await fx.close();
    }
  });
});
