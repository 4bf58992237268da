import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { hostOf, listAlerts, runMonitorOnce, setRule, startMonitor, type MonitorOptions } from '../../src/risk/index.js';
import type { Db } from '../../src/store/index.js';
import { describeBackends } from '../store/helpers.js';
import { eventAt, newMerchant, plusSeconds } from './helpers.js';

describe('hostOf', () => {
  it('keeps the host part of the addresses the host records', () => {
    expect(hostOf('10.1.2.3:5000')).toBe('10.1.2.3');
    expect(hostOf('::ffff:10.1.2.3:41234')).toBe('10.1.2.3');
    expect(hostOf('::1:6000')).toBe('::1');
    expect(hostOf('[2001:DB8::1]:443')).toBe('2001:db8::1');
    expect(hostOf('pos.example.net')).toBe('pos.example.net');
    expect(hostOf('?:0')).toBeNull();
    expect(hostOf('cli')).toBeNull();
    expect(hostOf('scheduler')).toBeNull();
    expect(hostOf('')).toBeNull();
    expect(hostOf(undefined)).toBeNull();
  });
});

describeBackends('sign-on monitor', (backend) => {
  let db: Db;
  // Each test reads the log with its own cursor and looks only at its own merchant's alerts.
  let cursor = 0;
  const run = (now = new Date(), opts: MonitorOptions = {}) => runMonitorOnce(db, now, { name: `test-${++cursor}`, ...opts });

  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('raises one alert when an operator reaches 5 failed sign-ons in 15 minutes', async () => {
    const m = await newMerchant(db);
    const t0 = new Date('2026-06-15T04:00:00Z');
    const fail = (at: Date, operatorNo = '01') =>
      eventAt(db, { at, type: 'operator.sign-on.refused', ok: false, merchantNo: m, terminalNo: '20000001', operatorNo, detail: { reason: 'wrong password' } });
    // A failure exactly 900 s before the fifth is outside the window: it does not count.
    await fail(plusSeconds(t0, -900));
    for (let i = 0; i < 3; i++) await fail(plusSeconds(t0, i));
    await fail(plusSeconds(t0, 5), '02');
    await eventAt(db, { at: plusSeconds(t0, 6), type: 'operator.sign-on', ok: true, merchantNo: m, terminalNo: '20000001', operatorNo: '01' });
    const name = `fail-${m}`;
    let r = await runMonitorOnce(db, new Date(), { name });
    expect(r.alerts.filter((a) => a.merchantNo === m)).toEqual([]);
    // Fourth within the window (plus the one at -900 s that no longer counts): still no alert.
    await fail(plusSeconds(t0, 10));
    r = await runMonitorOnce(db, new Date(), { name });
    expect(r.alerts).toEqual([]);
    // Fifth: one alert.
    await fail(plusSeconds(t0, 20));
    r = await runMonitorOnce(db, new Date(), { name });
    expect(r.processed).toBe(1);
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({
      kind: 'sign-on-failures',
      severity: 'warning',
      merchantNo: m,
      operatorNo: '01',
      summary: `operator 01 of merchant ${m}: 5 failed sign-ons within 900 s (limit 5)`,
    });
    // Sixth, inside the same window: no second alert; re-running raises nothing either.
    await fail(plusSeconds(t0, 30));
    expect((await runMonitorOnce(db, new Date(), { name })).alerts).toEqual([]);
    expect((await runMonitorOnce(db, new Date(), { name })).processed).toBe(0);
    expect(await listAlerts(db, { merchantNo: m, kind: 'sign-on-failures' })).toHaveLength(1);
  });

  it('uses the merchant threshold and configurable event types', async () => {
    const m = await newMerchant(db);
    await setRule(db, { scope: m, ruleId: 'sign-on-failures', patch: { params: { maxFailures: 2, windowSeconds: 60, severity: 'critical' } }, actor: 'cli' });
    const t0 = new Date('2026-06-15T04:00:00Z');
    await eventAt(db, { at: t0, type: 'cashier.login', ok: false, merchantNo: m, terminalNo: '20000002', operatorNo: '07' });
    await eventAt(db, { at: plusSeconds(t0, 59), type: 'cashier.login', ok: false, merchantNo: m, terminalNo: '20000002', operatorNo: '07' });
    // Default types: the custom type is not read.
    expect((await run()).alerts.filter((a) => a.merchantNo === m)).toEqual([]);
    const r = await run(new Date(), { operatorSignOnTypes: ['cashier.login'] });
    expect(r.alerts.filter((a) => a.merchantNo === m)).toMatchObject([{ kind: 'sign-on-failures', severity: 'critical', operatorNo: '07' }]);
    // 60 s apart is outside a 60 s window: no alert.
    const m2 = await newMerchant(db);
    await setRule(db, { scope: m2, ruleId: 'sign-on-failures', patch: { params: { maxFailures: 2, windowSeconds: 60 } }, actor: 'cli' });
    await eventAt(db, { at: t0, type: 'cashier.login', ok: false, merchantNo: m2, terminalNo: '20000002', operatorNo: '07' });
    await eventAt(db, { at: plusSeconds(t0, 60), type: 'cashier.login', ok: false, merchantNo: m2, terminalNo: '20000002', operatorNo: '07' });
    expect((await run(new Date(), { operatorSignOnTypes: ['cashier.login'] })).alerts.filter((a) => a.merchantNo === m2)).toEqual([]);
  });

  it('raises one alert per terminal and local day for sign-ons outside trading hours', async () => {
    // Europe/London: BST (UTC+1) on 2026-06-15. 20:59:59 local = 19:59:59Z, 21:00:00 local = 20:00:00Z.
    const m = await newMerchant(db, 'Europe/London');
    const T = '20000003';
    const signOn = (iso: string, type = 'keys.rotated', ok = true) =>
      eventAt(db, { at: new Date(iso), type, ok, merchantNo: m, terminalNo: T, operatorNo: '01', detail: { generation: 1, address: '10.0.0.1:5000' } });
    await signOn('2026-06-15T07:00:00Z'); // 08:00:00 local: inside
    await signOn('2026-06-15T19:59:59Z'); // 20:59:59 local: inside
    const mine = async () => (await run()).alerts.filter((a) => a.merchantNo === m);
    const name = `hours-${m}`;
    expect((await runMonitorOnce(db, new Date(), { name })).alerts.filter((a) => a.merchantNo === m)).toEqual([]);
    await signOn('2026-06-15T20:00:00Z'); // 21:00:00 local: outside
    await signOn('2026-06-15T21:30:00Z'); // same local day: no second alert
    let r = await runMonitorOnce(db, new Date(), { name });
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({ kind: 'sign-on-outside-hours', terminalNo: T });
    expect(r.alerts[0]?.summary).toContain('signed on at 21:00:00 local (Europe/London), outside trading hours 08:00-21:00');
    // Refused attempt at 06:59:59 local next day (05:59:59Z): a new day, a new alert.
    await signOn('2026-06-16T05:59:59Z', 'sign-on.refused', false);
    r = await runMonitorOnce(db, new Date(), { name });
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]?.summary).toContain('tried to sign on (refused) at 06:59:59 local');
    expect(await mine()).toHaveLength(0); // a fresh cursor re-reads everything, but alerts are not raised twice
    // The merchant's trading-window override moves the sign-on hours too.
    await setRule(db, { scope: m, ruleId: 'trading-window', patch: { params: { start: '06:00' } }, actor: 'cli' });
    await signOn('2026-06-17T05:30:00Z'); // 06:30 local
    expect((await runMonitorOnce(db, new Date(), { name })).alerts).toEqual([]);
  });

  it('alerts once when a terminal signs on from a host it has not used before', async () => {
    const m = await newMerchant(db);
    const T = '20000004';
    const at = new Date('2026-06-15T04:00:00Z'); // 12:00 Shanghai: inside hours
    const signOn = (address: string, type = 'keys.rotated', ok = true, where: 'detail' | 'origin' = 'detail') =>
      eventAt(db, { at, type, ok, merchantNo: m, terminalNo: T, ...(where === 'detail' ? { detail: { address } } : { origin: address }) });
    const name = `addr-${m}`;
    await signOn('10.0.0.1:5000'); // first: learned silently
    await signOn('10.0.0.1:6000'); // new port, same host
    await signOn('::ffff:10.0.0.1:7000', 'keys.rotated', true, 'origin');
    expect((await runMonitorOnce(db, new Date(), { name })).alerts).toEqual([]);
    await signOn('10.0.0.2:5000', 'sign-on.refused', false); // refused from a new host: alert
    await signOn('10.0.0.2:5001'); // succeeds from it later: already alerted, now learned
    await signOn('10.0.0.2:5002');
    let r = await runMonitorOnce(db, new Date(), { name });
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({ kind: 'sign-on-new-address', merchantNo: m, terminalNo: T });
    expect(r.alerts[0]?.summary).toBe(`terminal ${T} of merchant ${m} tried to sign on (refused) from new address 10.0.0.2 (known: 10.0.0.1)`);
    await signOn('192.168.7.7:5000');
    r = await runMonitorOnce(db, new Date(), { name });
    expect(r.alerts.map((a) => a.summary)).toEqual([
      `terminal ${T} of merchant ${m} signed on from new address 192.168.7.7 (known: 10.0.0.1, 10.0.0.2)`,
    ]);
    // A refused sign-on of an unknown terminal has no baseline: nothing.
    await eventAt(db, { at, type: 'sign-on.refused', ok: false, merchantNo: m, terminalNo: '29999999', detail: { address: '172.16.0.1:1' } });
    expect((await runMonitorOnce(db, new Date(), { name })).alerts).toEqual([]);
    // Disabled for the merchant: no alert (the host is still learned).
    await setRule(db, { scope: m, ruleId: 'sign-on-new-address', patch: { enabled: false }, actor: 'cli' });
    await signOn('172.16.9.9:5000');
    expect((await runMonitorOnce(db, new Date(), { name })).alerts).toEqual([]);
  });

  it('leaves events younger than settleMs for the next run, and pages through batches', async () => {
    const m = await newMerchant(db);
    const now = new Date();
    for (let i = 0; i < 5; i++) {
      await eventAt(db, { at: plusSeconds(now, -100 + i), type: 'operator.sign-on', ok: false, merchantNo: m, terminalNo: '20000005', operatorNo: '09' });
    }
    await eventAt(db, { at: now, type: 'operator.sign-on', ok: false, merchantNo: m, terminalNo: '20000005', operatorNo: '09' });
    const name = `settle-${m}`;
    const first = await runMonitorOnce(db, now, { name, settleMs: 1000, batchSize: 2 });
    expect(first.alerts.filter((a) => a.merchantNo === m)).toHaveLength(1);
    const second = await runMonitorOnce(db, plusSeconds(now, 2), { name, settleMs: 1000 });
    expect(second.processed).toBeGreaterThanOrEqual(1);
    expect(second.alerts.filter((a) => a.merchantNo === m)).toEqual([]);
  });

  it('startMonitor runs on a timer and stops', async () => {
    const m = await newMerchant(db);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    await eventAt(db, { at: new Date('2026-06-15T15:00:00Z'), type: 'keys.rotated', ok: true, merchantNo: m, terminalNo: '20000006', detail: { address: '10.9.9.9:1' } });
    const mon = startMonitor({ db, logger, intervalMs: 50, settleMs: 0, name: `timer-${m}` });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !lines.some((l) => l.includes(m))) await new Promise((r) => setTimeout(r, 25));
    await mon.stop();
    expect(lines.some((l) => l.includes('sign-on-outside-hours') && l.includes(m))).toBe(true);
    expect((await listAlerts(db, { merchantNo: m })).map((a) => a.kind)).toEqual(['sign-on-outside-hours']);
  });
});
