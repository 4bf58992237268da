import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import {
  createRiskEngine,
  DEFAULT_RULES,
  listAlerts,
  listFirings,
  resetRules,
  RiskError,
  setRule,
  strongestOutcome,
  type RuleDefinition,
} from '../../src/risk/index.js';
import type { Db } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { newMerchant, plusSeconds, purchase, qr } from './helpers.js';

/** Instant of a local Shanghai wall-clock time on 2026-06-15 (UTC+8 all year, no DST). */
function shanghai(hms: string): Date {
  return new Date(`2026-06-15T${hms}+08:00`);
}

const TRADING: RuleDefinition = { id: 'tw', kind: 'trading-window', params: { start: '08:00', end: '21:00' }, outcome: 'decline', responseCode: '58' };

describe('strongestOutcome', () => {
  it('orders decline > review > flag > allow', () => {
    expect(strongestOutcome([])).toBe('allow');
    expect(strongestOutcome(['flag', 'allow'])).toBe('flag');
    expect(strongestOutcome(['flag', 'review', 'flag'])).toBe('review');
    expect(strongestOutcome(['review', 'decline', 'flag'])).toBe('decline');
  });
});

for (const windows of ['database', 'memory'] as const) {
describeBackends(`risk engine (${windows} windows)`, (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  describe('trading window', () => {
    it('fires at 07:59:59 and 21:00:00 local, not at 08:00:00 or 20:59:59 (Asia/Shanghai)', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({ windows, rules: [TRADING], cacheMs: 0 });
      const before = await engine.evaluate(db, purchase(m, shanghai('07:59:59')));
      expect(before.outcome).toBe('decline');
      expect(before.responseCode).toBe('58');
      expect(before.firings).toEqual([
        { ruleId: 'tw', outcome: 'decline', responseCode: '58', reason: 'local time 07:59:59 (Asia/Shanghai) is outside trading hours 08:00-21:00' },
      ]);
      expect(await engine.evaluate(db, purchase(m, shanghai('08:00:00')))).toEqual({ outcome: 'allow', firings: [] });
      expect(await engine.evaluate(db, purchase(m, shanghai('20:59:59')))).toEqual({ outcome: 'allow', firings: [] });
      const at21 = await engine.evaluate(db, purchase(m, shanghai('21:00:00')));
      expect(at21).toMatchObject({ outcome: 'decline', responseCode: '58' });
    });

    it('applies to card payments only by default (a QR payment at 23:00 is allowed)', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({ windows, rules: [TRADING], cacheMs: 0 });
      expect((await engine.evaluate(db, qr(m, shanghai('23:00:00')))).outcome).toBe('allow');
      expect((await engine.evaluate(db, purchase(m, shanghai('23:00:00')))).outcome).toBe('decline');
    });

    it('follows daylight saving in the merchant zone (America/New_York, DST from 2026-03-08)', async () => {
      const m = await newMerchant(db, 'America/New_York');
      const engine = createRiskEngine({ windows, rules: [TRADING], cacheMs: 0 });
      // 12:30Z is 07:30 EST (UTC-5) the day before the change, 08:30 EDT (UTC-4) the day after.
      const winter = await engine.evaluate(db, purchase(m, new Date('2026-03-07T12:30:00Z')));
      expect(winter.outcome).toBe('decline');
      expect(winter.firings[0]?.reason).toContain('07:30:00 (America/New_York)');
      expect((await engine.evaluate(db, purchase(m, new Date('2026-03-09T12:30:00Z')))).outcome).toBe('allow');
      // The boundary itself, in summer time: 08:00:00 EDT = 12:00:00Z; one second earlier fires.
      expect((await engine.evaluate(db, purchase(m, new Date('2026-03-09T12:00:00Z')))).outcome).toBe('allow');
      expect((await engine.evaluate(db, purchase(m, new Date('2026-03-09T11:59:59Z')))).outcome).toBe('decline');
      // The same instant is inside hours for a Shanghai merchant (19:59:59 local).
      const sh = await newMerchant(db);
      expect((await engine.evaluate(db, purchase(sh, new Date('2026-03-09T11:59:59Z')))).outcome).toBe('allow');
    });

    it('supports an overnight window (22:00-06:00)', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({ windows, rules: [{ ...TRADING, params: { start: '22:00', end: '06:00' } }], cacheMs: 0 });
      expect((await engine.evaluate(db, purchase(m, shanghai('23:30:00')))).outcome).toBe('allow');
      expect((await engine.evaluate(db, purchase(m, shanghai('05:59:59')))).outcome).toBe('allow');
      expect((await engine.evaluate(db, purchase(m, shanghai('06:00:00')))).outcome).toBe('decline');
      expect((await engine.evaluate(db, purchase(m, shanghai('21:59:59')))).outcome).toBe('decline');
    });
  });

  describe('velocity', () => {
    const t0 = shanghai('12:00:00');

    it('card count: N allowed, N+1 declined; declined requests not counted; window edge excluded', async () => {
      const m = await newMerchant(db);
      const rule: RuleDefinition = { id: 'card-count', kind: 'velocity', params: { key: 'card', windowSeconds: 600, maxCount: 3 }, outcome: 'decline' };
      const engine = createRiskEngine({ windows, rules: [rule], cacheMs: 0 });
      // Exactly 600 s before the request: outside the window (it holds at > now - 600 s).
      await engine.record(db, purchase(m, plusSeconds(t0, -600)), 'approved');
      await engine.record(db, purchase(m, plusSeconds(t0, -599)), 'approved');
      await engine.record(db, purchase(m, plusSeconds(t0, -10)), 'approved');
      await engine.record(db, purchase(m, plusSeconds(t0, -5)), 'declined');
      // Another card, and the same card at another merchant, in the window: only the card counts.
      await engine.record(db, purchase(m, plusSeconds(t0, -5), { cardFingerprint: 'fp-other' }), 'approved');
      const third = await engine.evaluate(db, purchase(m, t0));
      expect(third).toEqual({ outcome: 'allow', firings: [] });
      await engine.record(db, purchase(m, t0), 'approved');
      const fourth = await engine.evaluate(db, purchase(m, t0));
      expect(fourth.outcome).toBe('decline');
      expect(fourth.responseCode).toBe('61');
      expect(fourth.firings[0]?.reason).toBe('card: 4 requests in 600 s (limit 3)');
      // The card's requests at another merchant count as well (key: card fingerprint).
      const elsewhere = await newMerchant(db);
      expect((await engine.evaluate(db, purchase(elsewhere, t0))).outcome).toBe('decline');
      // One second later the request 599 s before t0 has left the window: 3 again, allowed.
      expect((await engine.evaluate(db, purchase(m, plusSeconds(t0, 1)))).outcome).toBe('allow');
      // With includeDeclined the declined one counts: 3 approved + 1 declined + this = 5 > 4.
      const strict = createRiskEngine({ windows, rules: [{ ...rule, params: { ...rule.params, maxCount: 4, includeDeclined: true } }], cacheMs: 0 });
      expect((await strict.evaluate(db, purchase(m, t0))).outcome).toBe('decline');
      const lax = createRiskEngine({ windows, rules: [{ ...rule, params: { ...rule.params, maxCount: 4 } }], cacheMs: 0 });
      expect((await lax.evaluate(db, purchase(m, t0))).outcome).toBe('allow');
    });

    it('terminal amount sum: reaching the limit is allowed, one minor unit over fires', async () => {
      const m = await newMerchant(db);
      const rule: RuleDefinition = { id: 'term-sum', kind: 'velocity', params: { key: 'terminal', windowSeconds: 3600, maxAmount: 10_000 }, outcome: 'review' };
      const engine = createRiskEngine({ windows, rules: [rule], cacheMs: 0 });
      await engine.record(db, purchase(m, plusSeconds(t0, -100), { amount: 6000 }), 'approved');
      await engine.record(db, purchase(m, plusSeconds(t0, -50), { amount: 9999, terminalNo: '10000002' }), 'approved');
      expect((await engine.evaluate(db, purchase(m, t0, { amount: 4000 }))).outcome).toBe('allow');
      const over = await engine.evaluate(db, purchase(m, t0, { amount: 4001 }));
      expect(over).toEqual({
        outcome: 'review',
        firings: [{ ruleId: 'term-sum', outcome: 'review', reason: 'terminal 10000001: amount 10001 in 3600 s (limit 10000)' }],
      });
    });

    it('operator and merchant keys, channel and kind filters', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({
        windows,
        cacheMs: 0,
        rules: [
          { id: 'op', kind: 'velocity', params: { key: 'operator', windowSeconds: 60, maxCount: 2 }, outcome: 'flag' },
          { id: 'qr-merchant', kind: 'velocity', params: { key: 'merchant', windowSeconds: 60, maxCount: 1, channels: ['qr'] }, outcome: 'decline', responseCode: '57' },
          { id: 'refunds', kind: 'velocity', params: { key: 'terminal', windowSeconds: 60, maxCount: 1, kinds: ['refund'] }, outcome: 'decline' },
        ],
      });
      await engine.record(db, purchase(m, plusSeconds(t0, -1), { operatorNo: '02' }), 'approved');
      await engine.record(db, purchase(m, plusSeconds(t0, -1), { operatorNo: '01' }), 'approved');
      await engine.record(db, qr(m, plusSeconds(t0, -1), { terminalNo: '10000009', operatorNo: null }), 'approved');
      // Operator 01 has one in the window: a second is allowed, a third flags.
      expect((await engine.evaluate(db, purchase(m, t0))).firings).toEqual([]);
      await engine.record(db, purchase(m, t0), 'approved');
      const third = await engine.evaluate(db, purchase(m, t0));
      expect(third.outcome).toBe('flag');
      expect(third.firings.map((f) => f.ruleId)).toEqual(['op']);
      // The merchant already has one QR payment (other terminal): the next QR is declined with 57,
      // but card payments are not counted by the QR-only rule.
      const q = await engine.evaluate(db, qr(m, t0, { operatorNo: null }));
      expect(q).toMatchObject({ outcome: 'decline', responseCode: '57', firings: [{ ruleId: 'qr-merchant' }] });
      // A request without an operator is not judged by the operator rule.
      expect((await engine.evaluate(db, purchase(m, t0, { operatorNo: null }))).firings).toEqual([]);
      // Refund rule: purchases don't count and aren't judged; the second refund fires.
      expect((await engine.evaluate(db, purchase(m, t0, { kind: 'refund', operatorNo: '03' }))).firings).toEqual([]);
      await engine.record(db, purchase(m, t0, { kind: 'refund', operatorNo: '03' }), 'approved');
      expect((await engine.evaluate(db, purchase(m, t0, { kind: 'refund', operatorNo: '03' }))).firings.map((f) => f.ruleId)).toEqual(['refunds']);
    });
  });

  describe('card then QR', () => {
    const t0 = shanghai('15:00:00');
    const rule: RuleDefinition = { id: 'ctq', kind: 'card-then-qr', params: { seconds: 120 }, outcome: 'flag' };

    it('fires on a QR payment up to 120 s after an approved card payment at the same merchant, not at 121 s', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({ windows, rules: [rule], cacheMs: 0 });
      await engine.record(db, purchase(m, t0, { terminalNo: '10000003' }), 'approved');
      const at120 = await engine.evaluate(db, qr(m, plusSeconds(t0, 120)));
      expect(at120).toEqual({
        outcome: 'flag',
        firings: [{ ruleId: 'ctq', outcome: 'flag', reason: `QR payment 120 s after a card payment at merchant ${m} (within 120 s)` }],
      });
      expect(await engine.evaluate(db, qr(m, plusSeconds(t0, 121)))).toEqual({ outcome: 'allow', firings: [] });
      // The host's QR sale kind is qr-purchase: judged too; a QR refund is not.
      expect((await engine.evaluate(db, qr(m, plusSeconds(t0, 60), { kind: 'qr-purchase' }))).outcome).toBe('flag');
      expect((await engine.evaluate(db, qr(m, plusSeconds(t0, 60), { kind: 'refund' }))).outcome).toBe('allow');
      // The card payment itself (and a card payment after it) is not judged by this rule.
      expect((await engine.evaluate(db, purchase(m, plusSeconds(t0, 10)))).firings).toEqual([]);
      // Another merchant's QR payment is unaffected.
      const other = await newMerchant(db);
      expect((await engine.evaluate(db, qr(other, plusSeconds(t0, 10)))).firings).toEqual([]);
      // sameTerminal: the card payment was on another terminal.
      const same = createRiskEngine({ windows, rules: [{ ...rule, params: { seconds: 120, sameTerminal: true } }], cacheMs: 0 });
      expect((await same.evaluate(db, qr(m, plusSeconds(t0, 10)))).firings).toEqual([]);
      expect((await same.evaluate(db, qr(m, plusSeconds(t0, 10), { terminalNo: '10000003' }))).outcome).toBe('flag');
    });

    it('ignores a declined card payment unless includeDeclined', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({ windows, rules: [rule], cacheMs: 0 });
      await engine.record(db, purchase(m, t0), 'declined');
      expect((await engine.evaluate(db, qr(m, plusSeconds(t0, 5)))).firings).toEqual([]);
      const incl = createRiskEngine({ windows, rules: [{ ...rule, params: { includeDeclined: true } }], cacheMs: 0 });
      expect((await incl.evaluate(db, qr(m, plusSeconds(t0, 5)))).outcome).toBe('flag');
    });
  });

  describe('decisions, firings and alerts', () => {
    it('takes the strongest outcome, the first decline rule code, and records every firing with its reason', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({
        windows,
        cacheMs: 0,
        rules: [
          { id: 'flag-all', kind: 'velocity', params: { key: 'merchant', windowSeconds: 60, maxCount: 0 }, outcome: 'flag' },
          { id: 'review-all', kind: 'velocity', params: { key: 'terminal', windowSeconds: 60, maxAmount: 0 }, outcome: 'review' },
          TRADING,
          { id: 'second-decline', kind: 'velocity', params: { key: 'card', windowSeconds: 60, maxCount: 0 }, outcome: 'decline', responseCode: '57' },
        ],
      });
      const tx = purchase(m, shanghai('22:00:00'));
      const d = await engine.evaluate(db, tx);
      expect(d.outcome).toBe('decline');
      expect(d.responseCode).toBe('58');
      expect(d.firings.map((f) => [f.ruleId, f.outcome, f.responseCode])).toEqual([
        ['flag-all', 'flag', undefined],
        ['review-all', 'review', undefined],
        ['tw', 'decline', '58'],
        ['second-decline', 'decline', '57'],
      ]);
      const stored = await listFirings(db, { reference: tx.reference });
      expect(stored.map((f) => [f.ruleId, f.outcome, f.responseCode, f.reason]).sort()).toEqual(
        d.firings.map((f) => [f.ruleId, f.outcome, f.responseCode ?? null, f.reason]).sort(),
      );
      expect(stored.every((f) => f.merchantNo === m && f.terminalNo === tx.terminalNo && f.at.getTime() === tx.at.getTime())).toBe(true);
      // A review outcome raises an alert for monitoring.
      const alerts = await listAlerts(db, { merchantNo: m });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ kind: 'risk.review', severity: 'info', terminalNo: tx.terminalNo, acknowledgedAt: null });
      expect(alerts[0]?.summary).toContain(`rule review-all (review) on ${tx.reference}`);
      // Same rule, terminal and hour: no second alert (the firing is still recorded).
      const again = purchase(m, shanghai('22:10:00'));
      expect((await engine.evaluate(db, again)).outcome).toBe('decline');
      expect(await listAlerts(db, { merchantNo: m })).toHaveLength(1);
      expect((await listFirings(db, { reference: again.reference })).length).toBe(4);
      // The next hour: a new alert.
      await engine.evaluate(db, purchase(m, shanghai('23:00:00')));
      expect(await listAlerts(db, { merchantNo: m })).toHaveLength(2);
      // Nothing fired: nothing written.
      const quiet = purchase(m, shanghai('12:00:00'), { amount: 0 });
      const engine2 = createRiskEngine({ windows, rules: [TRADING], cacheMs: 0 });
      expect((await engine2.evaluate(db, quiet)).outcome).toBe('allow');
      expect(await listFirings(db, { reference: quiet.reference })).toEqual([]);
    });

    it('never stores a PAN: observations hold the fingerprint given', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({ windows, cacheMs: 0 });
      await engine.record(db, purchase(m, shanghai('12:00:00'), { cardFingerprint: 'fp-xyz' }), 'approved');
      const r = await db.query<{ card_fingerprint: string }>('SELECT card_fingerprint FROM risk_observations WHERE merchant_no = $1', [m]);
      expect(r.rows).toEqual([{ card_fingerprint: 'fp-xyz' }]);
    });
  });

  describe('rules as data: defaults and merchant overrides', () => {
    it('default rules apply; a merchant override changes thresholds for that merchant only', async () => {
      const m1 = await newMerchant(db);
      const m2 = await newMerchant(db);
      const engine = createRiskEngine({ windows, cacheMs: 0 });
      const at0730 = shanghai('07:30:00');
      expect((await engine.evaluate(db, purchase(m1, at0730))).responseCode).toBe('58');
      expect((await engine.evaluate(db, purchase(m2, at0730))).responseCode).toBe('58');

      const rule = await setRule(db, { scope: m2, ruleId: 'trading-window', patch: { params: { start: '07:00' } }, actor: 'user:test' });
      expect(rule.definition).toMatchObject({ id: 'trading-window', params: { start: '07:00', end: '21:00', channels: ['card'] }, outcome: 'decline' });
      expect(rule.source).toBe('merchant');
      expect((await engine.evaluate(db, purchase(m2, at0730))).outcome).toBe('allow');
      expect((await engine.evaluate(db, purchase(m2, shanghai('06:59:59')))).outcome).toBe('decline');
      expect((await engine.evaluate(db, purchase(m1, at0730))).outcome).toBe('decline');

      // A second set extends the override (params merged), here lowering the outcome to flag.
      await setRule(db, { scope: m2, ruleId: 'trading-window', patch: { outcome: 'flag' }, actor: 'user:test' });
      const flagged = await engine.evaluate(db, purchase(m2, shanghai('06:59:59')));
      expect(flagged).toMatchObject({ outcome: 'flag', firings: [{ ruleId: 'trading-window', outcome: 'flag' }] });
      expect(flagged.responseCode).toBeUndefined();

      // Velocity threshold per merchant: card count 1 for m2.
      await setRule(db, { scope: m2, ruleId: 'velocity-card-count', patch: { params: { maxCount: 1 } }, actor: 'user:test' });
      await engine.record(db, purchase(m2, shanghai('12:00:00'), { cardFingerprint: 'fp-m2' }), 'approved');
      expect((await engine.evaluate(db, purchase(m2, shanghai('12:00:01'), { cardFingerprint: 'fp-m2' }))).responseCode).toBe('61');

      // Disabling a rule for a merchant.
      await setRule(db, { scope: m2, ruleId: 'velocity-card-count', patch: { enabled: false }, actor: 'user:test' });
      expect((await engine.evaluate(db, purchase(m2, shanghai('12:00:01'), { cardFingerprint: 'fp-m2' }))).outcome).toBe('allow');

      // Reset: back to the defaults.
      expect(await resetRules(db, { scope: m2, actor: 'user:test' })).toBe(2);
      expect((await engine.evaluate(db, purchase(m2, at0730))).responseCode).toBe('58');
    });

    it("scope '*' changes every merchant; a merchant's own override wins", async () => {
      const m1 = await newMerchant(db);
      const m2 = await newMerchant(db);
      const engine = createRiskEngine({ windows, cacheMs: 0, rules: DEFAULT_RULES.filter((r) => r.id === 'trading-window') });
      try {
        await setRule(db, { scope: '*', ruleId: 'trading-window', patch: { params: { end: '23:00' } }, actor: 'cli' });
        await setRule(db, { scope: m2, ruleId: 'trading-window', patch: { params: { end: '22:00' } }, actor: 'cli' });
        expect((await engine.evaluate(db, purchase(m1, shanghai('22:30:00')))).outcome).toBe('allow');
        expect((await engine.evaluate(db, purchase(m2, shanghai('22:30:00')))).outcome).toBe('decline');
        expect((await engine.evaluate(db, purchase(m2, shanghai('21:30:00')))).outcome).toBe('allow');
        // A merchant-only new rule.
        await setRule(db, {
          scope: m1,
          ruleId: 'm1-big-ticket',
          patch: { kind: 'velocity', params: { key: 'terminal', windowSeconds: 60, maxAmount: 100 }, outcome: 'review' },
          actor: 'cli',
        });
        expect((await engine.evaluate(db, purchase(m1, shanghai('12:00:00'), { amount: 101 }))).firings.map((f) => f.ruleId)).toEqual(['m1-big-ticket']);
        expect((await engine.evaluate(db, purchase(m2, shanghai('12:00:00'), { amount: 101 }))).firings).toEqual([]);
      } finally {
        await resetRules(db, { scope: '*', actor: 'cli' });
      }
    });

    it('refuses a bad override with a typed error and leaves the store unchanged', async () => {
      const m = await newMerchant(db);
      const bad = async (ruleId: string, patch: unknown, scope = m): Promise<RiskError> => {
        const e = await setRule(db, { scope, ruleId, patch, actor: 'cli' }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(RiskError);
        return e as RiskError;
      };
      expect((await bad('velocity-card-count', { params: { maxCount: -1 } })).message).toBe('rule velocity-card-count: maxCount must be an integer from 0 to 1000000');
      expect((await bad('velocity-card-count', { params: { key: 'pan' } })).reason).toBe('BAD_RULE');
      expect((await bad('trading-window', { params: { start: '25:00' } })).message).toContain('start must be a local time');
      expect((await bad('trading-window', { outcome: 'allow' })).message).toContain('outcome must be one of flag, review, decline');
      expect((await bad('trading-window', { responseCode: '00' })).message).toContain('responseCode');
      expect((await bad('trading-window', { colour: 'red' })).message).toContain("unknown property 'colour'");
      expect((await bad('new-rule', { params: { seconds: 5 } })).message).toBe('rule new-rule: a new rule needs kind, params and outcome');
      expect((await bad('new-rule', { kind: 'teleport', outcome: 'flag' })).message).toContain('unknown kind');
      expect((await bad('Bad Id', {})).message).toContain('id must be');
      expect((await bad('trading-window', {}, '999999999999999')).reason).toBe('NOT_FOUND');
      const r = await db.query('SELECT 1 FROM risk_rules WHERE scope = $1', [m]);
      expect(r.rowCount).toBe(0);
    });

    it('skips a stored override that is no longer valid, with a warning, and keeps the inherited rule', async () => {
      const m = await newMerchant(db);
      // Written behind the API's back (e.g. by an older version): maxCount must be a number.
      await db.query(`INSERT INTO risk_rules (scope, rule_id, rule) VALUES ($1, 'velocity-card-count', '{"params":{"maxCount":"three"}}')`, [m]);
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
      const engine = createRiskEngine({ windows, cacheMs: 0, logger });
      const rules = await engine.rulesFor(db, m);
      expect(rules.find((r) => r.definition.id === 'velocity-card-count')?.definition.params['maxCount']).toBe(5);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ scope: m, ruleId: 'velocity-card-count', msg: 'invalid risk rule override skipped' });
      expect(lines[0]).toContain('maxCount must be an integer');
    });

    it('loads a merchant\'s rules once for concurrent requests', async () => {
      const m = await newMerchant(db);
      let ruleQueries = 0;
      const counting = new Proxy(db, {
        get(target, prop, receiver) {
          if (prop === 'query') {
            return (sql: string, params?: readonly unknown[]) => {
              if (sql.includes('FROM risk_rules')) ruleQueries += 1;
              return target.query(sql, params);
            };
          }
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const engine = createRiskEngine({ windows, cacheMs: 60_000 });
      const at = shanghai('12:00:00');
      const all = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.evaluate(counting, purchase(m, at, { cardFingerprint: `fp-conc-${i}` }))));
      expect(all.every((d) => d.outcome === 'allow')).toBe(true);
      expect(ruleQueries).toBe(1);
    });

    it('caches rules for cacheMs, and invalidate() forgets them', async () => {
      const m = await newMerchant(db);
      const engine = createRiskEngine({ windows, cacheMs: 60_000 });
      const at = shanghai('07:30:00');
      expect((await engine.evaluate(db, purchase(m, at))).outcome).toBe('decline');
      await setRule(db, { scope: m, ruleId: 'trading-window', patch: { enabled: false }, actor: 'cli' });
      expect((await engine.evaluate(db, purchase(m, at))).outcome).toBe('decline');
      engine.invalidate(m);
      expect((await engine.evaluate(db, purchase(m, at))).outcome).toBe('allow');
    });
  });
});
}

describeBackends('risk engine: in-memory windows', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });
  const t0 = new Date('2026-06-15T04:00:00Z');
  const rule = (windowSeconds: number): RuleDefinition => ({ id: 'tc', kind: 'velocity', params: { key: 'terminal', windowSeconds, maxCount: 2 }, outcome: 'decline' });

  it('loads a key once, then counts in memory: records of another process after that are not seen', async () => {
    const m = await newMerchant(db);
    const mem = createRiskEngine({ windows: 'memory', rules: [rule(600)], cacheMs: 0 });
    const other = createRiskEngine({ windows: 'database', rules: [rule(600)], cacheMs: 0 });
    await other.record(db, purchase(m, plusSeconds(t0, -10)), 'approved');
    expect((await mem.evaluate(db, purchase(m, t0))).outcome).toBe('allow'); // loads: 1 + this = 2
    await other.record(db, purchase(m, plusSeconds(t0, -5)), 'approved'); // another process
    expect((await mem.evaluate(db, purchase(m, t0))).outcome).toBe('allow'); // still 1 in memory
    expect((await other.evaluate(db, purchase(m, t0))).outcome).toBe('decline'); // the database sees 2
    await mem.record(db, purchase(m, t0), 'approved');
    expect((await mem.evaluate(db, purchase(m, t0))).outcome).toBe('decline');
  });

  it('reloads a key when a window reaches further back than held, and after eviction', async () => {
    const m = await newMerchant(db);
    const db2 = createRiskEngine({ windows: 'database', rules: [rule(600)], cacheMs: 0 });
    await db2.record(db, purchase(m, plusSeconds(t0, -3000)), 'approved');
    await db2.record(db, purchase(m, plusSeconds(t0, -2000)), 'approved');
    const short = createRiskEngine({ windows: 'memory', rules: [rule(600)], cacheMs: 0 });
    expect((await short.evaluate(db, purchase(m, t0))).outcome).toBe('allow');
    // Same engine memory, a longer window rule (as after a rule change): reload covers 3600 s.
    const wide = createRiskEngine({ windows: 'memory', rules: [rule(600)], cacheMs: 0, memoryMaxKeys: 1 });
    expect((await wide.evaluate(db, purchase(m, t0))).outcome).toBe('allow');
    await setRule(db, { scope: m, ruleId: 'tc', patch: { params: { windowSeconds: 3600 } }, actor: 'cli', builtins: [rule(600)] });
    expect((await wide.evaluate(db, purchase(m, t0))).outcome).toBe('decline');
  });

  it('drops the least recently used key beyond memoryMaxKeys and reloads it from the database', async () => {
    const m = await newMerchant(db);
    const mem = createRiskEngine({ windows: 'memory', rules: [rule(600)], cacheMs: 0, memoryMaxKeys: 1 });
    const other = createRiskEngine({ windows: 'database', rules: [rule(600)], cacheMs: 0 });
    expect((await mem.evaluate(db, purchase(m, t0))).outcome).toBe('allow'); // key A held, empty
    await other.record(db, purchase(m, plusSeconds(t0, -2)), 'approved');
    await other.record(db, purchase(m, plusSeconds(t0, -1)), 'approved');
    expect((await mem.evaluate(db, purchase(m, t0))).outcome).toBe('allow'); // A from memory: stale
    expect((await mem.evaluate(db, purchase(m, t0, { terminalNo: '10000077' }))).outcome).toBe('allow'); // B evicts A
    expect((await mem.evaluate(db, purchase(m, t0))).outcome).toBe('decline'); // A reloaded: 2 + 1 > 2
  });

  it('keeps only what the windows need as observations pile up, and still counts like the database', async () => {
    const m = await newMerchant(db);
    const rules: RuleDefinition[] = [{ id: 'tc10', kind: 'velocity', params: { key: 'terminal', windowSeconds: 10, maxCount: 5 }, outcome: 'flag' }];
    const mem = createRiskEngine({ windows: 'memory', rules, cacheMs: 0 });
    const sql = createRiskEngine({ windows: 'database', rules, cacheMs: 0 });
    expect((await mem.evaluate(db, purchase(m, t0))).firings).toEqual([]); // load the key
    for (let i = 0; i < 150; i++) await mem.record(db, purchase(m, plusSeconds(t0, i)), i % 7 === 0 ? 'declined' : 'approved');
    for (const at of [plusSeconds(t0, 149), plusSeconds(t0, 140), plusSeconds(t0, 100)]) {
      const a = await mem.evaluate(db, purchase(m, at));
      const b = await sql.evaluate(db, purchase(m, at));
      expect(a.firings.map((f) => f.reason)).toEqual(b.firings.map((f) => f.reason));
      expect(a.outcome).toBe('flag');
    }
  });
});
