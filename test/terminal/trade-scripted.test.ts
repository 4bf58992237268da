/**
 * TradeTerminal against a scripted host (real TCP, real framing and codec): the exact requests a
 * terminal sends, MAC checks on both sides, automatic reversal after a timeout or a bad response
 * MAC, pending reversals going first, batch totals and settlement. The real host is exercised in
 * trade.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMessage, pack } from '../../src/iso8583/index.js';
import { cupPos } from '../../src/specs/cup-pos.js';
import { CUP_POS_FRAME, encodeFrame, swapTpdu } from '../../src/framing/index.js';
import { unionPayMac } from '../../src/crypto/mac.js';
import { decryptPinBlock } from '../../src/crypto/pinblock.js';
import { TerminalClient, isTerminalError, type CupFieldValues } from '../../src/terminal/index.js';
import { TradeTerminal, type TradeEvent } from '../../src/terminal/trade.js';
import { decodeBatchRecords, decodeSettlementTotals } from '../../src/transactions/messages.js';
import { CLEAR_KEYS, MERCHANT_NO, ScriptedHost, TERMINAL_NO, TEST_TMK, responseFrame, signOnFields, type ReceivedRequest } from './scripted-host.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** ANSI X9.24 annex example also quoted in the facts file: PIN 1234, PAN 4012345678909 → 041274EDCBA9876F. */
const VECTOR_PAN = '4012345678909';
const VECTOR_BLOCK = '041274EDCBA9876F';
const CARD = { pan: '6229990000000000018', expiry: '3012', track2: '6229990000000000018=3012120' };
const MAK = CLEAR_KEYS.mak8;

/** A response frame for `req` with field 64 = the UnionPay MAC under `mak` (or `badMac` bytes). */
function macResponse(req: ReceivedRequest, fields: CupFieldValues, opts: { mak?: Buffer; badMac?: boolean } = {}): Buffer {
  const m = req.message;
  const mti = m.mti.slice(0, 2) + String(Number(m.mti[2]) + 1) + m.mti[3];
  const msg = createMessage(cupPos, mti, { 11: m.get(11)!, 41: m.get(41)!, 42: m.get(42)!, ...fields, 64: Buffer.alloc(8) });
  const body = pack(cupPos, msg);
  const mac = unionPayMac(opts.mak ?? MAK, body.subarray(0, body.length - 8));
  if (opts.badMac === true) mac[0]! ^= 0x01;
  mac.copy(body, body.length - 8);
  return encodeFrame(CUP_POS_FRAME, { tpdu: swapTpdu(req.tpdu), header: { ...req.header, processingRequirement: 0 }, body });
}

/** True when the request's field 64 is the UnionPay MAC of the rest under the test MAK. */
function requestMacOk(req: ReceivedRequest): boolean {
  const body = pack(cupPos, req.message);
  return unionPayMac(MAK, body.subarray(0, body.length - 8)).equals(req.message.get(64)!);
}

async function setup(timeoutMs = 2000): Promise<{ host: ScriptedHost; client: TerminalClient; trade: TradeTerminal; events: TradeEvent[] }> {
  const host = await new ScriptedHost().start();
  cleanup.push(() => host.stop());
  const client = new TerminalClient({
    host: '127.0.0.1',
    port: host.port,
    terminalNo: TERMINAL_NO,
    merchantNo: MERCHANT_NO,
    tmk: TEST_TMK,
    keyScheme: '004',
    requestTimeoutMs: timeoutMs,
    reconnect: false,
    autoSignOn: false,
  });
  cleanup.push(() => client.close());
  await client.connect();
  const events: TradeEvent[] = [];
  const trade = new TradeTerminal(client, { onEvent: (e) => events.push(e), reversalAttempts: 1, reversalRetryDelayMs: 0 });
  const signOn = client.signOn();
  const req = await host.next();
  req.conn.write(responseFrame(req, signOnFields('004')));
  await signOn;
  return { host, client, trade, events };
}

const approved = (extra: CupFieldValues = {}): CupFieldValues => ({ 12: '101112', 13: '1124', 37: '000000000101', 38: 'A1B2C3', 39: '00', ...extra });

describe('TradeTerminal on a scripted host', () => {
  it('purchase: a MAC\'ed 0200 with the contract fields, PIN block under the PIK, counted in the batch', async () => {
    const { host, trade } = await setup();
    const done = trade.purchase({ card: { pan: VECTOR_PAN, expiry: '3012' }, amount: 12_345, pin: '1234' });
    const req = await host.next();
    const m = req.message;
    expect(m.mti).toBe('0200');
    expect(m.fields()).toEqual([2, 3, 4, 11, 14, 22, 25, 26, 41, 42, 49, 52, 53, 60, 64]);
    expect(m.get(3)).toBe('000000');
    expect(m.get(4)).toBe('000000012345');
    expect(m.get(22)).toBe('011');
    expect(m.get(25)).toBe('00');
    expect(m.get(26)).toBe('12');
    expect(m.get(49)).toBe('156');
    expect(m.get(53)).toBe('2600000000000000');
    // the batch followed the host's 60.2 at sign-on (000519)
    expect(m.get(60)).toEqual({ 1: '22', 2: '000519', 3: '000', 4: '6', 5: '0' });
    expect(decryptPinBlock(CLEAR_KEYS.pik16, m.get(52)!).toString('hex').toUpperCase()).toBe(VECTOR_BLOCK);
    expect(requestMacOk(req)).toBe(true);
    req.conn.write(macResponse(req, approved()));
    const r = await done;
    expect(r).toMatchObject({ kind: 'purchase', approved: true, responseCode: '00', rrn: '000000000101', authCode: 'A1B2C3', amount: 12_345, stan: m.get(11), batchNo: '000519' });
    expect(r.maskedPan).toBe('401234***8909');
    expect(trade.batch.totals.foreign).toEqual({ debitAmount: 12_345, debitCount: 1, creditAmount: 0, creditCount: 0 });
    expect(trade.pendingReversals).toEqual([]);
  });

  it('a swiped card goes as track 2 (35) with 22 = 022 and no PAN field', async () => {
    const { host, trade } = await setup();
    const done = trade.purchase({ card: CARD, amount: 100 });
    const req = await host.next();
    expect(req.message.get(35)).toBe(CARD.track2);
    expect(req.message.has(2)).toBe(false);
    expect(req.message.has(52)).toBe(false);
    expect(req.message.get(22)).toBe('022');
    req.conn.write(macResponse(req, approved()));
    expect((await done).approved).toBe(true);
    expect(trade.batch.totals.domestic.debitCount).toBe(1);
  });

  it('a decline is a result, not counted; a decline without MAC is accepted', async () => {
    const { host, trade } = await setup();
    const done = trade.purchase({ card: CARD, amount: 100 });
    const req = await host.next();
    req.conn.write(responseFrame(req, { 39: '51' }));
    const r = await done;
    expect(r).toMatchObject({ approved: false, responseCode: '51', meaning: 'insufficient funds' });
    expect(trade.batch.empty).toBe(true);
    expect(trade.pendingReversals).toEqual([]);
  });

  it('no reply: 0400 with the original STAN and 39 = 98, without track, PIN or MAC of the original', async () => {
    const { host, trade, events } = await setup(300);
    const done = trade.purchase({ card: CARD, amount: 700, pin: '1234' });
    const original = await host.next();
    const stan = original.message.get(11)!;
    // no answer to the 0200: the client times out and the reversal follows at once
    const rev = await host.next();
    expect(rev.message.mti).toBe('0400');
    expect(rev.message.get(11)).toBe(stan);
    expect(rev.message.get(39)).toBe('98');
    expect(rev.message.get(2)).toBe(CARD.pan);
    expect(rev.message.get(4)).toBe('000000000700');
    expect(rev.message.get(60)).toEqual(original.message.get(60));
    for (const f of [26, 35, 36, 37, 52, 53] as const) expect(rev.message.has(f)).toBe(false);
    expect(requestMacOk(rev)).toBe(true);
    rev.conn.write(macResponse(rev, { 39: '00' }));
    // the purchase fails with the timeout once its reversal has been acknowledged
    const failure = await done.catch((e: unknown) => e);
    expect(isTerminalError(failure, 'TIMEOUT')).toBe(true);
    expect(trade.pendingReversals).toEqual([]);
    expect(events).toEqual([
      { type: 'reversal-queued', stan, kind: 'purchase', reason: '98' },
      { type: 'reversal-sent', stan, responseCode: '00', acknowledged: true },
    ]);
    expect(trade.batch.empty).toBe(true);
  });

  it('an unacknowledged reversal is kept and goes first, before the next transaction', async () => {
    const { host, trade } = await setup(250);
    const first = trade.purchase({ card: CARD, amount: 500 });
    const original = await host.next();
    const stan = original.message.get(11)!;
    await expect(first).rejects.toMatchObject({ reason: 'TIMEOUT' });
    const rev1 = await host.next(); // the immediate attempt: left unanswered
    expect(rev1.message.mti).toBe('0400');
    await new Promise((r) => setTimeout(r, 350));
    expect(trade.pendingReversals).toMatchObject([{ stan, reason: '98', attempts: 1 }]);

    const second = trade.purchase({ card: CARD, amount: 800 });
    const rev2 = await host.next();
    expect(rev2.message.mti).toBe('0400');
    expect(rev2.message.get(11)).toBe(stan);
    rev2.conn.write(macResponse(rev2, { 39: '00' }));
    const next = await host.next();
    expect(next.message.mti).toBe('0200');
    expect(next.message.get(4)).toBe('000000000800');
    expect(next.message.get(11)).not.toBe(stan);
    next.conn.write(macResponse(next, approved({ 37: '000000000202' })));
    expect((await second).approved).toBe(true);
    expect(trade.pendingReversals).toEqual([]);
  });

  it('no new transaction while a reversal stays unacknowledged', async () => {
    const { host, trade } = await setup(200);
    const first = trade.purchase({ card: CARD, amount: 500 });
    await host.next();
    await expect(first).rejects.toMatchObject({ reason: 'TIMEOUT' });
    await host.next(); // reversal attempt 1, unanswered
    const second = trade.purchase({ card: CARD, amount: 600 });
    const rev = await host.next(); // reversal attempt 2, unanswered too
    expect(rev.message.mti).toBe('0400');
    const e = await second.catch((x: unknown) => x);
    expect(isTerminalError(e, 'TIMEOUT')).toBe(true);
    expect((e as Error).message).toMatch(/reversal of STAN \d{6} is not acknowledged/);
    // nothing else was sent
    await expect(host.next(300)).rejects.toThrow(/no request/);
    expect(trade.pendingReversals[0]!.attempts).toBe(2);
  });

  it('a pending reversal survives a restart without the card number and still goes first', async () => {
    const { host, client, trade } = await setup(200);
    const first = trade.purchase({ card: CARD, amount: 450 });
    const original = await host.next();
    const stan = original.message.get(11)!;
    await expect(first).rejects.toMatchObject({ reason: 'TIMEOUT' });
    await host.next(); // the immediate reversal attempt, unanswered
    const saved = trade.exportReversals();
    expect(saved).toMatchObject([{ stan, kind: 'purchase', reason: '98', amount: 450, attempts: 1 }]);
    expect(JSON.stringify(saved)).not.toContain(CARD.pan);
    trade.detach();

    // "restart": a new TradeTerminal on the same signed-on client, from the saved JSON
    const again = new TradeTerminal(client, { pendingReversals: JSON.parse(JSON.stringify(saved)) as typeof saved, reversalRetryDelayMs: 0 });
    const next = again.purchase({ card: CARD, amount: 800 });
    const rev = await host.next();
    expect(rev.message.mti).toBe('0400');
    expect(rev.message.get(11)).toBe(stan);
    expect(rev.message.get(39)).toBe('98');
    expect(rev.message.get(4)).toBe('000000000450');
    expect(rev.message.has(2)).toBe(false);
    expect(rev.message.get(60)).toEqual(original.message.get(60));
    expect(requestMacOk(rev)).toBe(true);
    rev.conn.write(macResponse(rev, { 39: '00' }));
    const p = await host.next();
    expect(p.message.mti).toBe('0200');
    p.conn.write(macResponse(p, approved()));
    expect((await next).approved).toBe(true);
    expect(again.exportReversals()).toEqual([]);
    // with a sealer the card number travels sealed and the restored reversal carries it again
    const third = again.purchase({ card: CARD, amount: 300 });
    const o3 = await host.next();
    await expect(third).rejects.toMatchObject({ reason: 'TIMEOUT' });
    await host.next(); // its reversal, unanswered
    const sealer = { seal: (t: string) => Buffer.from(t).reverse().toString('hex'), open: (x: string) => Buffer.from(x, 'hex').reverse().toString() };
    const sealed = again.exportReversals(sealer);
    expect(JSON.stringify(sealed)).not.toContain(CARD.pan);
    expect(sealed[0]!.sealedCard).toMatch(/^[0-9a-f]+$/);
    again.detach();
    expect(() => new TradeTerminal(client, { pendingReversals: sealed })).toThrow(/no sealer/);
    const third2 = new TradeTerminal(client, { pendingReversals: sealed, cardSealer: sealer, reversalRetryDelayMs: 0 });
    const flushed = third2.flushReversals();
    const rev3 = await host.next();
    expect(rev3.message.get(11)).toBe(o3.message.get(11));
    expect(rev3.message.get(2)).toBe(CARD.pan);
    rev3.conn.write(macResponse(rev3, { 39: '00' }));
    await flushed;
    expect(third2.pendingReversals).toEqual([]);
    // a saved reversal of another terminal, or a malformed one, is refused
    expect(() => new TradeTerminal(client, { pendingReversals: [{ ...saved[0]!, fields: { ...saved[0]!.fields, 41: '99999999' } }] })).toThrow(/another terminal/);
    expect(() => new TradeTerminal(client, { pendingReversals: [{ ...saved[0]!, kind: 'balance' }] })).toThrow(/malformed/);
  });

  it('a wrong response MAC: MAC_MISMATCH, not counted, reversal with 39 = A0 and the auth code received', async () => {
    const { host, trade } = await setup();
    const done = trade.purchase({ card: CARD, amount: 900 });
    const req = await host.next();
    req.conn.write(macResponse(req, approved(), { badMac: true }));
    const rev = await host.next();
    expect(rev.message.mti).toBe('0400');
    expect(rev.message.get(11)).toBe(req.message.get(11));
    expect(rev.message.get(39)).toBe('A0');
    expect(rev.message.get(38)).toBe('A1B2C3');
    rev.conn.write(macResponse(rev, { 39: '00' }));
    await expect(done).rejects.toMatchObject({ reason: 'MAC_MISMATCH' });
    expect(trade.batch.empty).toBe(true);
    expect(trade.pendingReversals).toEqual([]);
  });

  it('an approval without a MAC is not trusted and is reversed', async () => {
    const { host, trade } = await setup();
    const done = trade.purchase({ card: CARD, amount: 900 });
    const req = await host.next();
    req.conn.write(responseFrame(req, approved()));
    const rev = await host.next();
    expect(rev.message.get(39)).toBe('A0');
    rev.conn.write(macResponse(rev, { 39: '00' }));
    await expect(done).rejects.toMatchObject({ reason: 'MAC_MISMATCH' });
  });

  it('a response MAC made with another key is refused', async () => {
    const { host, trade } = await setup();
    const done = trade.balance({ card: CARD, pin: '1234' });
    const req = await host.next();
    req.conn.write(macResponse(req, approved({ 54: '1002156C000000012345' }), { mak: Buffer.from('0807060504030201', 'hex') }));
    await expect(done).rejects.toMatchObject({ reason: 'MAC_MISMATCH' });
    // a balance inquiry moves no money: no reversal
    await expect(host.next(200)).rejects.toThrow(/no request/);
  });

  it('balance: 0200 310000 60.1 = 01 without amount; field 54 read', async () => {
    const { host, trade } = await setup();
    const done = trade.balance({ card: CARD, pin: '1234' });
    const req = await host.next();
    expect(req.message.get(3)).toBe('310000');
    expect(req.message.has(4)).toBe(false);
    expect(req.message.get(60)?.[1]).toBe('01');
    req.conn.write(macResponse(req, approved({ 54: '1002156C000000012345' })));
    expect(await done).toMatchObject({ approved: true, balance: 12_345 });
    expect(trade.batch.empty).toBe(true);
  });

  it('void by STAN: 200000, 60.1 = 23, 37/38/61 of the original; counted on the credit side once', async () => {
    const { host, trade } = await setup();
    const p = trade.purchase({ card: CARD, amount: 1_000 });
    const preq = await host.next();
    preq.conn.write(macResponse(preq, approved({ 37: '000000000777', 38: 'AUTH01' })));
    const pr = await p;
    const v = trade.voidPurchase({ card: CARD, original: pr.stan });
    const vreq = await host.next();
    const m = vreq.message;
    expect(m.mti).toBe('0200');
    expect(m.get(3)).toBe('200000');
    expect(m.get(4)).toBe('000000001000');
    expect(m.get(37)).toBe('000000000777');
    expect(m.get(38)).toBe('AUTH01');
    expect(m.get(61)).toEqual({ 1: '000519', 2: pr.stan });
    expect(m.get(60)?.[1]).toBe('23');
    vreq.conn.write(macResponse(vreq, approved({ 37: '000000000778' })));
    expect((await v).approved).toBe(true);
    expect(trade.batch.totals.domestic).toEqual({ debitAmount: 1_000, debitCount: 1, creditAmount: 1_000, creditCount: 1 });
    await expect(trade.voidPurchase({ card: CARD, original: pr.stan })).rejects.toMatchObject({ reason: 'BAD_ARGUMENT' });
    await expect(trade.voidPurchase({ card: CARD, original: '999999' })).rejects.toThrow(/no approved transaction/);
  });

  it('refund: 0220 with the original RRN and date, not reversed on a timeout', async () => {
    const { host, trade } = await setup(200);
    const done = trade.refund({ card: CARD, amount: 300, original: { rrn: '000000000777', stan: '000010', date: '1123' } });
    const req = await host.next();
    expect(req.message.mti).toBe('0220');
    expect(req.message.get(3)).toBe('200000');
    expect(req.message.get(37)).toBe('000000000777');
    expect(req.message.get(61)).toEqual({ 1: '000000', 2: '000010', 3: '1123' });
    await expect(done).rejects.toMatchObject({ reason: 'TIMEOUT' });
    await expect(host.next(200)).rejects.toThrow(/no request/);
    expect(trade.pendingReversals).toEqual([]);
  });

  it('settlement: 0500 with field 48 totals; batch advances after the answer', async () => {
    const { host, trade, events } = await setup();
    const p = trade.purchase({ card: CARD, amount: 2_500 });
    const preq = await host.next();
    preq.conn.write(macResponse(preq, approved()));
    await p;
    const s = trade.settle();
    const req = await host.next();
    expect(req.message.mti).toBe('0500');
    expect(req.message.get(60)).toEqual({ 1: '00', 2: '000519', 3: '201' });
    expect(req.message.get(63)).toBe('01 ');
    const sent = decodeSettlementTotals(req.message.get(48)!);
    expect(sent.domestic).toEqual({ debitAmount: 2_500, debitCount: 1, creditAmount: 0, creditCount: 0 });
    expect(sent.codes).toEqual({ domestic: '0', foreign: '0' });
    const answer = req.message.get(48)!.slice(0, 30) + '1' + req.message.get(48)!.slice(31, 61) + '1';
    req.conn.write(macResponse(req, { 39: '00', 48: answer, 60: req.message.get(60)! }));
    // totals agree: nothing to upload, the batch-upload end (207, count 0) closes the batch
    const end = await host.next();
    expect(end.message.mti).toBe('0320');
    expect(end.message.get(60)).toEqual({ 1: '00', 2: '000519', 3: '207' });
    expect(end.message.get(48)).toBe('0000');
    expect(trade.batch.batchNo).toBe('000519');
    end.conn.write(macResponse(end, { 39: '00', 48: '0000', 60: end.message.get(60)! }));
    const r = await s;
    expect(r.settlement).toMatchObject({ domestic: '1', foreign: '1', agreed: true, closedBatchNo: '000519', nextBatchNo: '000520', uploaded: 0 });
    expect(trade.batch.batchNo).toBe('000520');
    expect(trade.batch.empty).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'settled', batchNo: '000519', nextBatchNo: '000520', agreed: true });
  });

  it('settlement that does not agree: magstripe records uploaded (0320/201), then 202 with the count', async () => {
    const { host, trade } = await setup();
    for (const amount of [100, 200]) {
      const p = trade.purchase({ card: CARD, amount });
      const req = await host.next();
      req.conn.write(macResponse(req, approved({ 37: `00000000010${amount / 100}` })));
      await p;
    }
    const stans = trade.batch.list().map((r) => r.stan);
    const s = trade.settle();
    const req = await host.next();
    const hostTotals = '000000000100001' + '000000000000000' + '2' + '0'.repeat(30) + '1';
    req.conn.write(macResponse(req, { 39: '00', 48: hostTotals, 60: req.message.get(60)! }));
    const upload = await host.next();
    expect(upload.message.mti).toBe('0320');
    expect(upload.message.get(60)).toEqual({ 1: '00', 2: '000519', 3: '201' });
    expect(decodeBatchRecords(upload.message.get(48)!)).toEqual([
      { cardClass: 'domestic', stan: stans[0], pan: CARD.pan, amount: 100 },
      { cardClass: 'domestic', stan: stans[1], pan: CARD.pan, amount: 200 },
    ]);
    upload.conn.write(macResponse(upload, { 39: '00', 48: '02', 60: upload.message.get(60)! }));
    const end = await host.next();
    expect(end.message.get(60)).toEqual({ 1: '00', 2: '000519', 3: '202' });
    expect(end.message.get(48)).toBe('0002');
    end.conn.write(macResponse(end, { 39: '00', 48: '0002', 60: end.message.get(60)! }));
    const r = await s;
    expect(r.settlement).toMatchObject({ domestic: '2', agreed: false, uploaded: 2, notUploaded: 0, nextBatchNo: '000520' });
    expect(r.settlement!.totals.domestic).toEqual({ debitAmount: 300, debitCount: 2, creditAmount: 0, creditCount: 0 });
  });

  it('bad input is a BAD_ARGUMENT before anything is sent', async () => {
    const { host, trade } = await setup();
    await expect(trade.purchase({ card: { pan: '12' }, amount: 1 })).rejects.toMatchObject({ reason: 'BAD_ARGUMENT' });
    await expect(trade.purchase({ card: CARD, amount: 0 })).rejects.toMatchObject({ reason: 'BAD_ARGUMENT' });
    await expect(trade.purchase({ card: CARD, amount: 1.5 })).rejects.toMatchObject({ reason: 'BAD_ARGUMENT' });
    await expect(trade.purchase({ card: CARD, amount: 1, pin: '12' })).rejects.toMatchObject({ reason: 'BAD_ARGUMENT' });
    await expect(trade.purchase({ card: { ...CARD, track2: '6229990000000000026=3012' }, amount: 1 })).rejects.toThrow(/track 2 does not hold/);
    await expect(host.next(150)).rejects.toThrow(/no request/);
  });
});
