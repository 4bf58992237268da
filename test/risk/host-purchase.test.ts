/**
 * The risk engine on the real purchase path: host over TCP, issuer simulator, MAC'ed requests
 * from a signed-on terminal (test/host/transactions-kit.ts). The request time is the real clock,
 * so the trading-window case sets the merchant's window relative to "now" in its time zone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRiskEngine, listFirings, localTime, resetRules, setRule, type RiskEngine } from '../../src/risk/index.js';
import { describeBackends } from '../store/helpers.js';
import { code, newCard, openTill, send, startTxFixture, txFields, type Till, type TxFixture } from '../host/transactions-kit.js';

/** "HH:MM" local, `hours` from now (wrapping at midnight). */
function localClockIn(hours: number, timeZone: string): string {
  const lt = localTime(new Date(Date.now() + hours * 3_600_000), timeZone);
  return lt.time.slice(0, 5);
}

describeBackends('risk rules on the purchase path', (backend) => {
  let fx: TxFixture;
  let till: Till;
  const actor = 'user:test';

  beforeAll(async () => {
    fx = await startTxFixture(backend, { risk: createRiskEngine({ cacheMs: 0 }) });
    till = await openTill(fx);
    // Trading all day unless a test says otherwise (start == end), so the real clock does not matter.
    await setRule(fx.db, { scope: fx.merchantNo, ruleId: 'trading-window', patch: { params: { start: '00:00', end: '00:00' } }, actor });
  });
  afterAll(async () => {
    await till?.close();
    await fx?.close();
  });

  it('declines a card purchase outside the trading window with 58, and records why', async () => {
    await setRule(fx.db, {
      scope: fx.merchantNo,
      ruleId: 'trading-window',
      patch: { params: { start: localClockIn(2, 'Asia/Shanghai'), end: localClockIn(3, 'Asia/Shanghai') } },
      actor,
    });
    try {
      const card = await newCard(fx, { balance: 10_000 });
      const rsp = await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { keyed: true, pin: null } }));
      expect(code(rsp)).toBe('58');
      const [firing] = await listFirings(fx.db, { merchantNo: fx.merchantNo, ruleId: 'trading-window' });
      expect(firing).toMatchObject({ outcome: 'decline', responseCode: '58', terminalNo: till.terminalNo });
      expect(firing?.reason).toMatch(/^local time \d\d:\d\d:\d\d \(Asia\/Shanghai\) is outside trading hours/);
      // The decline is observed once, with the final journal row.
      const obs = await fx.db.query(
        `SELECT o.result FROM risk_observations o JOIN journal j ON o.reference = j.id::text WHERE j.terminal_no = $1 AND j.response_code = '58'`,
        [till.terminalNo],
      );
      expect(obs.rows).toEqual([{ result: 'declined' }]);
    } finally {
      await setRule(fx.db, { scope: fx.merchantNo, ruleId: 'trading-window', patch: { params: { start: '00:00', end: '00:00' } }, actor });
    }
  });

  it('declines the card purchase over the merchant velocity limit with 61 (N approved, N+1 declined)', async () => {
    await setRule(fx.db, { scope: fx.merchantNo, ruleId: 'velocity-card-count', patch: { params: { maxCount: 2 } }, actor });
    try {
      const card = await newCard(fx, { balance: 10_000 });
      const buy = () => send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { keyed: true, pin: null } }));
      expect(code(await buy())).toBe('00');
      expect(code(await buy())).toBe('00');
      expect(code(await buy())).toBe('61');
      const [f] = await listFirings(fx.db, { merchantNo: fx.merchantNo, ruleId: 'velocity-card-count' });
      expect(f?.reason).toBe('card: 3 requests in 600 s (limit 2)');
      // Another card is unaffected.
      const other = await newCard(fx, { balance: 10_000 });
      expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: other, amount: 100, cardOptions: { keyed: true, pin: null } })))).toBe('00');
    } finally {
      await resetRules(fx.db, { scope: fx.merchantNo, ruleId: 'velocity-card-count', actor });
    }
  });

  it('records each outcome as one observation, written with the final journal row and matching it', async () => {
    const card = await newCard(fx, { balance: 150 });
    const buy = () => send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { keyed: true, pin: null } }));
    const approved = await buy();
    const declined = await buy();
    expect([code(approved), code(declined)]).toEqual(['00', '51']);
    const rrns = [approved.message.get(37), declined.message.get(37)];
    const r = await fx.db.query<Record<string, unknown>>(
      `SELECT j.status, o.result, o.at = j.received_at AS same_time, o.amount::int AS amount, o.kind, o.channel,
              o.terminal_no = j.terminal_no AND o.operator_no IS NOT DISTINCT FROM j.operator_no AS same_place,
              o.card_fingerprint = j.pan_fingerprint AS same_card
         FROM journal j LEFT JOIN risk_observations o ON o.reference = j.id::text
        WHERE j.merchant_no = $1 AND j.rrn = ANY($2::text[]) ORDER BY j.id`,
      [fx.merchantNo, rrns],
    );
    expect(r.rows).toEqual([
      { status: 'approved', result: 'approved', same_time: true, amount: 100, kind: 'purchase', channel: 'card', same_place: true, same_card: true },
      { status: 'declined', result: 'declined', same_time: true, amount: 100, kind: 'purchase', channel: 'card', same_place: true, same_card: true },
    ]);
  });

  it('flags a QR purchase right after a card purchase at the merchant (approved, firing recorded)', async () => {
    const card = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 700, cardOptions: { keyed: true, pin: null } })))).toBe('00');
    const payer = await newCard(fx, { balance: 10_000 });
    const q = await send(till, 'qr-purchase', txFields(till, 'qr-purchase', { qr: payer.pan, amount: 700 }));
    expect(code(q)).toBe('00');
    const [f] = await listFirings(fx.db, { merchantNo: fx.merchantNo, ruleId: 'card-then-qr' });
    expect(f).toMatchObject({ outcome: 'flag', responseCode: null, terminalNo: till.terminalNo });
    expect(f?.reason).toMatch(/^QR payment \d+ s after a card payment at merchant \d{15} \(within 120 s\)$/);
    // The QR payment is recorded like the card payments: merchant QR observations exist, never a PAN.
    const r = await fx.db.query<{ channel: string; card_fingerprint: string | null }>(
      `SELECT channel, card_fingerprint FROM risk_observations WHERE merchant_no = $1 AND channel = 'qr'`,
      [fx.merchantNo],
    );
    expect(r.rows).toEqual([{ channel: 'qr', card_fingerprint: null }]);
    const pans = await fx.db.query(`SELECT 1 FROM risk_observations WHERE card_fingerprint = $1 OR reference = $1`, [card.pan]);
    expect(pans.rowCount).toBe(0);
  });
});

describeBackends('a risk engine without observed()', (backend) => {
  let fx: TxFixture;
  let till: Till;
  const recorded: string[] = [];

  beforeAll(async () => {
    const inner = createRiskEngine({ cacheMs: 0 });
    // Another implementation of the interface: evaluate and record only.
    const engine: RiskEngine = {
      evaluate: (db, tx) => inner.evaluate(db, tx),
      record: async (_db, tx, result) => {
        recorded.push(`${tx.kind}:${result}`);
      },
    };
    fx = await startTxFixture(backend, { risk: engine });
    till = await openTill(fx);
    await setRule(fx.db, { scope: fx.merchantNo, ruleId: 'trading-window', patch: { params: { start: '00:00', end: '00:00' } }, actor: 'user:test' });
  });
  afterAll(async () => {
    await till?.close();
    await fx?.close();
  });

  it('is told the outcome through record(), and the final journal write adds no observation of its own', async () => {
    const card = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { keyed: true, pin: null } })))).toBe('00');
    expect(recorded).toEqual(['purchase:approved']);
    const r = await fx.db.query('SELECT 1 FROM risk_observations WHERE merchant_no = $1', [fx.merchantNo]);
    expect(r.rowCount).toBe(0);
  });
});
