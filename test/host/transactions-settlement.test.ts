/**
 * Settlement and batch upload end to end over TCP (both stores): totals per card class agree and
 * disagree, batch upload records, batch-upload end closes the batch (batch number advances,
 * operator sessions end, the closed batch refuses new requests), repeated end is harmless.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { getTerminal, listEvents } from '../../src/store/index.js';
import { getOpenSession, startOperatorSession } from '../../src/store/operators.js';
import { countBatchUploads, getSettlement } from '../../src/store/settlement.js';
import { generateTestPan } from '../../src/terminal/card.js';
import {
  controlField60,
  CURRENCY_CNY,
  decodeSettlementTotals,
  emptyTotals,
  encodeBatchEndCount,
  encodeBatchRecords,
  encodeSettlementTotals,
  type SettlementTotals,
} from '../../src/transactions/messages.js';
import { describeBackends } from '../store/helpers.js';
import { code, newCard, openTill, send, startTxFixture, txFields, type PlasticCard, type Till, type TxFixture } from './transactions-kit.js';

describeBackends('transactions: settlement and batch upload', (backend) => {
  let fx: TxFixture;
  let till: Till;
  let dom: PlasticCard;
  let foreign: PlasticCard;

  beforeEach(async () => {
    fx = await startTxFixture(backend);
    till = await openTill(fx);
    dom = await newCard(fx, { balance: 100_000, pin: '1234' });
    foreign = await newCard(fx, { balance: 100_000, pan: generateTestPan({ bin: '411111' }) });
  });
  afterEach(async () => {
    await till?.close();
    await fx?.close();
  });

  /** Domestic: 3 purchases (6 000), a void (2 000) and a refund (500); foreign: one purchase (700); plus non-counted traffic. */
  async function tradeABatch(): Promise<SettlementTotals> {
    const stans: Record<number, { stan: string; rrn: string }> = {};
    for (const amount of [1_000, 2_000, 3_000]) {
      const r = await send(till, 'purchase', txFields(till, 'purchase', { card: dom, amount }));
      expect(code(r)).toBe('00');
      stans[amount] = { stan: r.message.get(11)!, rrn: r.message.get(37)! };
    }
    const batchNo = till.client.batchNo;
    expect(code(await send(till, 'void', txFields(till, 'void', { card: dom, amount: 2_000, original: { batchNo, ...stans[2_000]! } })))).toBe('00');
    expect(code(await send(till, 'refund', txFields(till, 'refund', { card: dom, amount: 500, original: { batchNo, ...stans[3_000]! } })))).toBe('00');
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: foreign, amount: 700, cardOptions: { pin: null } })))).toBe('00');
    // Not counted: a decline, a balance inquiry, a pre-authorisation.
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: dom, amount: 10, cardOptions: { pin: '0000' } })))).toBe('55');
    expect(code(await send(till, 'balance', txFields(till, 'balance', { card: dom })))).toBe('00');
    expect(code(await send(till, 'preauth', txFields(till, 'preauth', { card: dom, amount: 100 })))).toBe('00');
    const t = emptyTotals();
    t.domestic = { debitAmount: 6_000, debitCount: 3, creditAmount: 2_500, creditCount: 2 };
    t.foreign = { debitAmount: 700, debitCount: 1, creditAmount: 0, creditCount: 0 };
    return t;
  }

  function settle(totals: SettlementTotals | string, batchNo = till.client.batchNo) {
    return till.client.request(
      '0500',
      {
        41: till.terminalNo,
        42: till.merchantNo,
        48: typeof totals === 'string' ? totals : encodeSettlementTotals(totals),
        49: CURRENCY_CNY,
        60: controlField60('settlement', batchNo),
        63: '00 ',
      },
      { mac: true },
    );
  }

  function upload(fields48: string, networkKind: 'batch-upload' | 'batch-upload-end', agreed = true, batchNo = till.client.batchNo) {
    return till.client.request('0320', { 41: till.terminalNo, 42: till.merchantNo, 48: fields48, 60: controlField60(networkKind, batchNo, agreed) }, { mac: true });
  }

  it('agrees when the totals match, uploads, closes the batch and advances it', async () => {
    const totals = await tradeABatch();
    const batchNo = till.client.batchNo;
    const rsp = await settle(totals);
    expect(code(rsp)).toBe('00');
    expect(rsp.message.mti).toBe('0510');
    expect(till.client.verifyResponseMac(rsp)).toBe(true);
    const back = decodeSettlementTotals(rsp.message.get(48)!);
    expect(back.codes).toEqual({ domestic: '1', foreign: '1' });
    expect(back.domestic).toEqual(totals.domestic);
    expect(back.foreign).toEqual(totals.foreign);
    expect(await getSettlement(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo, batchNo })).toMatchObject({ domesticAgreed: true, foreignAgreed: true, closedAt: null });

    const up = await upload(encodeBatchRecords([{ cardClass: 'foreign', stan: '000004', pan: foreign.pan, amount: 700 }, { cardClass: 'domestic', stan: '999999', pan: dom.pan, amount: 1 }]), 'batch-upload');
    expect(code(up)).toBe('00');
    expect(up.message.mti).toBe('0330');
    const counted = await countBatchUploads(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo, batchNo });
    expect(counted.records).toBe(2);

    const end = await upload(encodeBatchEndCount(2), 'batch-upload-end', true);
    expect(code(end)).toBe('00');
    expect((await getTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo }))?.batchNo).toBe('000002');
    expect(await getOpenSession(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo })).toBeNull();
    expect(await listEvents(fx.db, { type: 'settlement.closed' })).toHaveLength(1);

    // The end again (lost 0330): 00, the batch does not advance twice.
    expect(code(await upload(encodeBatchEndCount(2), 'batch-upload-end', true, batchNo))).toBe('00');
    expect((await getTerminal(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo }))?.batchNo).toBe('000002');

    // The closed batch takes nothing more (after an operator signs on again).
    await startOperatorSession(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo, operatorNo: '00' });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: dom, amount: 10, batchNo })))).toBe('12');
    expect(code(await settle(totals, batchNo))).toBe('12');
    // Sign-on hands out the new batch; trading goes on there.
    await till.client.signOn();
    expect(till.client.batchNo).toBe('000002');
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: dom, amount: 10 })))).toBe('00');
  });

  it('says which class disagrees, still answers 00, and closes with 202', async () => {
    const totals = await tradeABatch();
    totals.domestic.creditCount = 1;
    const rsp = await settle(totals);
    expect(code(rsp)).toBe('00');
    expect(decodeSettlementTotals(rsp.message.get(48)!).codes).toEqual({ domestic: '2', foreign: '1' });
    const end = await upload(encodeBatchEndCount(0), 'batch-upload-end', false);
    expect(code(end)).toBe('00');
    expect(await getSettlement(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo, batchNo: '000001' })).toMatchObject({
      domesticAgreed: false,
      foreignAgreed: true,
      endCode: '202',
      uploadedCount: 0,
    });
  });

  it('accepts 31-digit totals (domestic only) and disagrees on the foreign class when the host has foreign sales', async () => {
    const totals = await tradeABatch();
    const rsp = await settle(encodeSettlementTotals(totals).slice(0, 31));
    expect(code(rsp)).toBe('00');
    expect(rsp.message.get(48)).toHaveLength(62);
    expect(decodeSettlementTotals(rsp.message.get(48)!).codes).toEqual({ domestic: '1', foreign: '2' });
  });

  it('agrees on an empty batch (boundary: all zero)', async () => {
    const rsp = await settle(emptyTotals());
    expect(decodeSettlementTotals(rsp.message.get(48)!).codes).toEqual({ domestic: '1', foreign: '1' });
  });

  it('refuses malformed totals (30), uploads before settlement (12), and settlement without the settle permission (Q2)', async () => {
    expect(code(await settle('12345'))).toBe('30');
    expect(code(await upload(encodeBatchEndCount(0), 'batch-upload-end'))).toBe('12');
    expect(code(await upload('01', 'batch-upload'))).toBe('30');
    await startOperatorSession(fx.db, { merchantNo: fx.merchantNo, terminalNo: till.terminalNo, operatorNo: '01' });
    expect(code(await settle(emptyTotals()))).toBe('Q2');
  });
});
