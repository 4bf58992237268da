/**
 * Risk rules on the transaction path, end to end over TCP (both stores), with the real engine
 * (src/risk) and rules as data: each rule kind firing and not firing at its boundary. A decline
 * answers the rule's code with no issuer call; every outcome is recorded for the windows.
 */
import { afterEach, expect, it } from 'vitest';
import { createRiskEngine, listFirings, type RuleDefinition } from '../../src/risk/index.js';
import { localTime } from '../../src/risk/local-time.js';
import { describeBackends } from '../store/helpers.js';
import { balanceOf, code, newCard, openTill, send, startTxFixture, txFields, type Till, type TxFixture } from './transactions-kit.js';

/** HH:MM in Asia/Shanghai (the test merchant's zone), `offsetMin` minutes from now. */
function shanghaiClock(offsetMin: number): string {
  const t = localTime(new Date(Date.now() + offsetMin * 60_000), 'Asia/Shanghai');
  return t.time.slice(0, 5);
}

describeBackends('transactions: risk rules', (backend) => {
  let fx: TxFixture;
  let till: Till;

  async function start(rules: RuleDefinition[]): Promise<void> {
    fx = await startTxFixture(backend, { risk: createRiskEngine({ rules, cacheMs: 0 }) });
    till = await openTill(fx);
  }
  afterEach(async () => {
    await till?.close();
    await fx?.close();
  });

  it('velocity: N approved card purchases pass, the N+1st is declined (61) without an issuer call', async () => {
    await start([{ id: 'v', kind: 'velocity', params: { key: 'card', windowSeconds: 600, maxCount: 2, channels: ['card'] }, outcome: 'decline', responseCode: '61' }]);
    const card = await newCard(fx, { balance: 10_000 });
    const buy = () => send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { pin: null } }));
    expect(code(await buy())).toBe('00');
    expect(code(await buy())).toBe('00');
    const third = await buy();
    expect(code(third)).toBe('61');
    expect(till.client.verifyResponseMac(third)).toBe(true);
    expect(await balanceOf(fx, card)).toBe(9_800);
    // Another card is not affected.
    const other = await newCard(fx, { balance: 1_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: other, amount: 100, cardOptions: { pin: null } })))).toBe('00');
    const firings = await listFirings(fx.db, { merchantNo: fx.merchantNo });
    expect(firings.filter((f) => f.ruleId === 'v')).toHaveLength(1);
  });

  it('velocity by amount: the sum may reach the limit, not exceed it', async () => {
    await start([{ id: 'amt', kind: 'velocity', params: { key: 'card', windowSeconds: 600, maxAmount: 1_000 }, outcome: 'decline', responseCode: '61' }]);
    const card = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 600, cardOptions: { pin: null } })))).toBe('00');
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 401, cardOptions: { pin: null } })))).toBe('61');
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 400, cardOptions: { pin: null } })))).toBe('00');
    expect(await balanceOf(fx, card)).toBe(9_000);
  });

  it('trading window: inside the window approved, outside declined with its code', async () => {
    // [now - 1 min, now + 2 min) contains now; [now + 2 min, now + 3 min) does not.
    await start([
      { id: 'open', kind: 'trading-window', params: { start: shanghaiClock(-1), end: shanghaiClock(2) }, outcome: 'decline', responseCode: '58' },
    ]);
    const card = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { pin: null } })))).toBe('00');
    await till.close();
    await fx.close();
    await start([
      { id: 'closed', kind: 'trading-window', params: { start: shanghaiClock(2), end: shanghaiClock(3) }, outcome: 'decline', responseCode: '58' },
    ]);
    const card2 = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card: card2, amount: 100, cardOptions: { pin: null } })))).toBe('58');
    expect(await balanceOf(fx, card2)).toBe(10_000);
    // QR payments are outside a card-only window rule.
    await till.close();
    await fx.close();
    await start([
      { id: 'closed', kind: 'trading-window', params: { start: shanghaiClock(2), end: shanghaiClock(3), channels: ['card'] }, outcome: 'decline', responseCode: '58' },
    ]);
    const payer2 = await newCard(fx, { balance: 1_000 });
    expect(code(await send(till, 'qr-purchase', txFields(till, 'qr-purchase', { qr: payer2.pan, amount: 100 })))).toBe('00');
  });

  it('card-then-qr: a QR payment right after a card payment is flagged (approved), one without is not', async () => {
    await start([{ id: 'ctq', kind: 'card-then-qr', params: { seconds: 120 }, outcome: 'flag' }]);
    const payer = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'qr-purchase', txFields(till, 'qr-purchase', { qr: payer.pan, amount: 100 })))).toBe('00');
    expect((await listFirings(fx.db, { merchantNo: fx.merchantNo })).filter((f) => f.ruleId === 'ctq')).toHaveLength(0);
    const card = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { pin: null } })))).toBe('00');
    expect(code(await send(till, 'qr-purchase', txFields(till, 'qr-purchase', { qr: payer.pan, amount: 100 })))).toBe('00');
    const firings = (await listFirings(fx.db, { merchantNo: fx.merchantNo })).filter((f) => f.ruleId === 'ctq');
    expect(firings).toHaveLength(1);
    expect(firings[0]?.outcome).toBe('flag');
  });

  it('card-then-qr as decline: the QR payment is refused (34) and nothing is debited', async () => {
    await start([{ id: 'ctq', kind: 'card-then-qr', params: { seconds: 120 }, outcome: 'decline' }]);
    const card = await newCard(fx, { balance: 10_000 });
    const payer = await newCard(fx, { balance: 10_000 });
    expect(code(await send(till, 'purchase', txFields(till, 'purchase', { card, amount: 100, cardOptions: { pin: null } })))).toBe('00');
    expect(code(await send(till, 'qr-purchase', txFields(till, 'qr-purchase', { qr: payer.pan, amount: 100 })))).toBe('34');
    expect(await balanceOf(fx, payer)).toBe(10_000);
  });
});
