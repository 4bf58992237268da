/**
 * TradeTerminal against the real host (real TCP, real handlers, issuer simulator, both stores):
 * purchase, declines, balance, void, refund, automatic reversal after a timeout with the funds
 * restored exactly once, and settlement (agreeing and disagreeing) with the batch advancing on
 * both sides. The exact bytes and the MAC failure paths are in trade-scripted.test.ts.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { getTerminal } from '../../src/store/index.js';
import { operatorSignOn } from '../../src/terminal/operators.js';
import { TradeTerminal, type Card, type TradeEvent } from '../../src/terminal/trade.js';
import { buildTrack2 } from '../../src/terminal/card.js';
import { TerminalClient, isTerminalError } from '../../src/terminal/index.js';
import { addKeyedTerminal, CLEAR_TMK } from '../host/fixture.js';
import { balanceOf, newCard, startTxFixture, type PlasticCard, type TxFixture } from '../host/transactions-kit.js';
import { describeBackends } from '../store/helpers.js';

const swiped = (c: PlasticCard): Card => ({ pan: c.pan, expiry: c.expiry, track2: buildTrack2({ pan: c.pan, expiry: c.expiry }) });

describeBackends('terminal transactions against the real host', (backend) => {
  let fx: TxFixture;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    fx = await startTxFixture(backend, { issuerTimeoutMs: 6000 });
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
    await fx.close();
  });

  /** A new terminal signed on, with the supervisor (all permissions) signed on by a real 0800/901. */
  async function till(o: { timeoutMs?: number; events?: TradeEvent[]; operator?: [string, string] } = {}): Promise<{ trade: TradeTerminal; client: TerminalClient; terminalNo: string }> {
    const terminalNo = await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo);
    const client = new TerminalClient({
      host: '127.0.0.1',
      port: fx.host.port,
      terminalNo,
      merchantNo: fx.merchantNo,
      tmk: CLEAR_TMK,
      keyScheme: '004',
      reconnect: false,
      requestTimeoutMs: o.timeoutMs ?? 10_000,
    });
    closers.push(() => client.close());
    await client.connect();
    await client.signOn();
    const [op, password] = o.operator ?? ['00', '123456'];
    const a = await operatorSignOn(client, op, password);
    expect(a.responseCode).toBe('00');
    expect(a.macValid).toBe(true);
    const trade = new TradeTerminal(client, { reversalAttempts: 10, reversalRetryDelayMs: 200, ...(o.events !== undefined ? { onEvent: (e) => o.events!.push(e) } : {}) });
    return { trade, client, terminalNo };
  }

  it('purchase with PIN: approved, MAC verified, card debited once, counted in the batch', async () => {
    const card = await newCard(fx, { balance: 50_000, pin: '246810' });
    const { trade } = await till();
    const r = await trade.purchase({ card: swiped(card), amount: 12_345, pin: '246810' });
    expect(r).toMatchObject({ kind: 'purchase', approved: true, responseCode: '00', amount: 12_345 });
    expect(r.rrn).toMatch(/^\d{12}$/);
    expect(r.authCode).toMatch(/^[0-9A-Z]{6}$/);
    expect(r.maskedPan).toBe(card.pan.slice(0, 6) + '*'.repeat(card.pan.length - 10) + card.pan.slice(-4));
    expect(await balanceOf(fx, card)).toBe(50_000 - 12_345);
    expect(trade.batch.totals.domestic).toEqual({ debitAmount: 12_345, debitCount: 1, creditAmount: 0, creditCount: 0 });
  });

  it('declines are results: wrong PIN 55, insufficient funds 51; nothing debited or counted', async () => {
    const card = await newCard(fx, { balance: 1_000, pin: '246810' });
    const { trade } = await till();
    expect(await trade.purchase({ card: swiped(card), amount: 500, pin: '111111' })).toMatchObject({ approved: false, responseCode: '55' });
    expect(await trade.purchase({ card: swiped(card), amount: 5_000, pin: '246810' })).toMatchObject({ approved: false, responseCode: '51' });
    expect(await balanceOf(fx, card)).toBe(1_000);
    expect(trade.batch.empty).toBe(true);
  });

  it('balance inquiry returns the issuer balance', async () => {
    const card = await newCard(fx, { balance: 77_700, pin: '246810' });
    const { trade } = await till();
    expect(await trade.balance({ card: { pan: card.pan, expiry: card.expiry }, pin: '246810' })).toMatchObject({ approved: true, balance: 77_700 });
  });

  it('void by STAN restores the funds; refund of part of another purchase; settlement agrees and the batch advances on both sides', async () => {
    const card = await newCard(fx, { balance: 100_000, pin: '246810' });
    const { trade, terminalNo } = await till();
    const p1 = await trade.purchase({ card: swiped(card), amount: 10_000, pin: '246810' });
    const p2 = await trade.purchase({ card: swiped(card), amount: 20_000, pin: '246810' });
    expect(await balanceOf(fx, card)).toBe(70_000);
    const v = await trade.voidPurchase({ card: swiped(card), original: p1.stan, pin: '246810' });
    expect(v).toMatchObject({ approved: true, kind: 'void', amount: 10_000 });
    expect(await balanceOf(fx, card)).toBe(80_000);
    const rf = await trade.refund({ card: swiped(card), amount: 5_000, original: { rrn: p2.rrn!, stan: p2.stan, date: p2.hostDate!, batchNo: p2.batchNo } });
    expect(rf).toMatchObject({ approved: true, kind: 'refund' });
    expect(await balanceOf(fx, card)).toBe(85_000);
    // a second void of the same purchase is refused by the terminal itself
    await expect(trade.voidPurchase({ card: swiped(card), original: p1.stan })).rejects.toMatchObject({ reason: 'BAD_ARGUMENT' });

    const before = trade.batch.batchNo;
    expect(trade.batch.totals.domestic).toEqual({ debitAmount: 30_000, debitCount: 2, creditAmount: 15_000, creditCount: 2 });
    const s = await trade.settle();
    expect(s.approved).toBe(true);
    expect(s.settlement).toMatchObject({ domestic: '1', agreed: true, closedBatchNo: before, uploaded: 0 });
    expect(trade.batch.batchNo).not.toBe(before);
    expect(trade.batch.empty).toBe(true);
    const t = await getTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo });
    expect(t?.batchNo).toBe(trade.batch.batchNo);
  });

  it('settlement that disagrees uploads the batch (0320/201) and ends with 202; the batch still advances', async () => {
    const card = await newCard(fx, { balance: 100_000, pin: '246810' });
    const { trade } = await till();
    await trade.purchase({ card: swiped(card), amount: 1_000, pin: '246810' });
    // the terminal believes in one more purchase than the host approved
    trade.batch.record({ kind: 'purchase', stan: '999990', rrn: '000000000000', amount: 1, date: '0101', cardClass: 'domestic' }, card.pan);
    const before = trade.batch.batchNo;
    const s = await trade.settle();
    expect(s.settlement).toMatchObject({ domestic: '2', agreed: false, uploaded: 2, closedBatchNo: before });
    expect(trade.batch.batchNo).not.toBe(before);
  });

  it('no answer in time: automatic 0400 with 39 = 98 until acknowledged; the funds come back exactly once', async () => {
    const card = await newCard(fx, { balance: 40_000, pin: '246810' });
    const events: TradeEvent[] = [];
    const { trade } = await till({ timeoutMs: 2000, events });
    // the issuer answers after 3.5 s (within the host's 6 s issuer timeout): the terminal gives up
    // at 2 s, the host still approves
    fx.issuer.setBehaviour({ delayMs: 3500 });
    const e = await trade.purchase({ card: swiped(card), amount: 9_000, pin: '246810' }).catch((x: unknown) => x);
    expect(isTerminalError(e, 'TIMEOUT')).toBe(true);
    fx.issuer.setBehaviour(undefined);
    // the reversal went out at once; while the original was still being processed the host said 96
    // and the terminal tried again (every 200 ms here) until the 0410 said 00
    expect(trade.pendingReversals).toEqual([]);
    expect(events.some((x) => x.type === 'reversal-sent' && x.acknowledged)).toBe(true);
    expect(events[0]).toMatchObject({ type: 'reversal-queued', reason: '98' });
    expect(await balanceOf(fx, card)).toBe(40_000);
    // the next purchase goes through normally and the batch holds only it
    const r = await trade.purchase({ card: swiped(card), amount: 1_000, pin: '246810' });
    expect(r.approved).toBe(true);
    expect(await balanceOf(fx, card)).toBe(39_000);
    expect(trade.batch.list()).toHaveLength(1);
  });

  it('pre-authorisation holds funds; its completion (by auth code and 61) is counted as a debit', async () => {
    const card = await newCard(fx, { balance: 30_000, pin: '246810' });
    const { trade } = await till();
    const pa = await trade.preauth({ card: swiped(card), amount: 8_000, pin: '246810' });
    expect(pa).toMatchObject({ approved: true, kind: 'preauth' });
    expect(pa.authCode).toMatch(/^[0-9A-Z]{6}$/);
    expect(trade.batch.empty).toBe(false);
    expect(trade.batch.totals.domestic).toEqual({ debitAmount: 0, debitCount: 0, creditAmount: 0, creditCount: 0 });
    const c = await trade.completion({
      card: swiped(card),
      amount: 7_500,
      original: { rrn: pa.rrn!, stan: pa.stan, batchNo: pa.batchNo, date: pa.hostDate!, authCode: pa.authCode! },
    });
    expect(c).toMatchObject({ approved: true, kind: 'preauth-completion', amount: 7_500 });
    expect(await balanceOf(fx, card)).toBe(30_000 - 7_500);
    expect(trade.batch.totals.domestic).toEqual({ debitAmount: 7_500, debitCount: 1, creditAmount: 0, creditCount: 0 });
    // a completion above the pre-authorised amount is refused (13)
    const pa2 = await trade.preauth({ card: swiped(card), amount: 1_000, pin: '246810' });
    const over = await trade.completion({ card: swiped(card), amount: 1_001, original: { rrn: pa2.rrn!, stan: pa2.stan, batchNo: pa2.batchNo, authCode: pa2.authCode! } });
    expect(over).toMatchObject({ approved: false, responseCode: '13' });
  });

  it('pre-auth void releases the hold; completion void by STAN gives the money back and counts as a credit', async () => {
    const card = await newCard(fx, { balance: 20_000, pin: '246810' });
    const { trade } = await till();
    const pa = await trade.preauth({ card: swiped(card), amount: 15_000, pin: '246810' });
    // the hold leaves too little for a second pre-auth of the same size
    expect(await trade.preauth({ card: swiped(card), amount: 15_000, pin: '246810' })).toMatchObject({ approved: false, responseCode: '51' });
    const pv = await trade.preauthVoid({ card: swiped(card), amount: 15_000, original: { rrn: pa.rrn!, stan: pa.stan, batchNo: pa.batchNo, date: pa.hostDate!, authCode: pa.authCode! } });
    expect(pv).toMatchObject({ approved: true, kind: 'preauth-void' });
    expect(trade.batch.find(pa.stan)?.voided).toBe(true);
    const pa2 = await trade.preauth({ card: swiped(card), amount: 15_000, pin: '246810' });
    expect(pa2.approved).toBe(true);
    const c = await trade.completion({ card: swiped(card), amount: 12_000, original: { rrn: pa2.rrn!, stan: pa2.stan, batchNo: pa2.batchNo, authCode: pa2.authCode! } });
    expect(c.approved).toBe(true);
    expect(await balanceOf(fx, card)).toBe(8_000);
    const cv = await trade.completionVoid({ card: swiped(card), original: c.stan, pin: '246810' });
    expect(cv).toMatchObject({ approved: true, kind: 'completion-void', amount: 12_000 });
    expect(await balanceOf(fx, card)).toBe(20_000);
    expect(trade.batch.totals.domestic).toEqual({ debitAmount: 12_000, debitCount: 1, creditAmount: 12_000, creditCount: 1 });
    await expect(trade.completionVoid({ card: swiped(card), original: pa2.stan })).rejects.toThrow(/is a preauth, not a preauth-completion/);
  });

  it('QR purchase: 22 = 032, the payment code in 59; counted as domestic debit', async () => {
    const card = await newCard(fx, { balance: 10_000 });
    const { trade } = await till();
    const r = await trade.qrPurchase({ qr: card.pan, amount: 2_500 });
    expect(r).toMatchObject({ approved: true, kind: 'qr-purchase' });
    expect(await balanceOf(fx, card)).toBe(7_500);
    expect(trade.batch.totals.domestic).toMatchObject({ debitAmount: 2_500, debitCount: 1 });
  });
});
