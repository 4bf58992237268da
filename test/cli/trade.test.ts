/**
 * `qiandao terminal purchase|balance|void|refund|settle` and `qiandao sim trade` end to end against
 * the real host (real TCP, handlers, issuer simulator), on both stores.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { simTerminalNo } from '../../src/terminal/sim/index.js';
import { addKeyedTerminal, CLEAR_TMK } from '../host/fixture.js';
import { balanceOf, newCard, startTxFixture, type PlasticCard, type TxFixture } from '../host/transactions-kit.js';
import { describeBackends } from '../store/helpers.js';
import { runCli } from './run-cli.js';

describeBackends('CLI terminal transactions', (backend) => {
  let fx: TxFixture;
  let dir: string;
  let tmkFile: string;
  let terminalNo: string;
  let card: PlasticCard;

  beforeEach(async () => {
    fx = await startTxFixture(backend, { issuerTimeoutMs: 6000 });
    dir = mkdtempSync(join(os.tmpdir(), 'qiandao-cli-trade-'));
    tmkFile = join(dir, 'tmk.hex');
    writeFileSync(tmkFile, CLEAR_TMK.toString('hex') + '\n');
    terminalNo = await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo);
    card = await newCard(fx, { balance: 100_000, pin: '246810' });
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await fx.close();
  });

  const conn = (o: { operator?: string; password?: string | null; state?: boolean } = {}): string[] => {
    const args = ['--port', String(fx.host.port), '--tid', terminalNo, '--mid', fx.merchantNo, '--tmk-file', tmkFile, '--operator', o.operator ?? '00'];
    if (o.password !== null) args.push('--operator-password', o.password ?? '123456');
    if (o.state !== false) args.push('--state', join(dir, 'state.json'));
    return args;
  };
  const cardArgs = (pin: string | null = '246810'): string[] => ['--card', card.pan, '--expiry', card.expiry, '--swipe', ...(pin !== null ? ['--pin', pin] : [])];

  it('purchase, void by STAN from --state, settle: approvals print RRN, auth code and the masked PAN only', async () => {
    const p = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '1250']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^purchase approved: 00 approved/);
    expect(p.stdout).toMatch(/RRN\s+\d{12}/);
    expect(p.stdout).toMatch(/auth code\s+[0-9A-Z]{6}/);
    expect(p.stdout).toContain(card.pan.slice(0, 6) + '*');
    expect(p.stdout).not.toContain(card.pan);
    expect(p.stdout).toContain('12.50 (1250 minor units)');
    expect(await balanceOf(fx, card)).toBe(100_000 - 1_250);
    const stan = /STAN\s+(\d{6})/.exec(p.stdout)![1]!;
    const state = readFileSync(join(dir, 'state.json'), 'utf8');
    expect(state).not.toContain(card.pan);
    expect(JSON.parse(state).batch.records).toHaveLength(1);

    const v = await runCli(['terminal', 'void', ...conn(), ...cardArgs(), '--original-stan', stan]);
    expect(v.stderr).toBe('');
    expect(v.stdout).toMatch(/^void approved: 00/);
    expect(await balanceOf(fx, card)).toBe(100_000);

    const s = await runCli(['terminal', 'settle', ...conn(), '--json']);
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const out = JSON.parse(s.stdout) as { settlement: { agreed: boolean; totals: { domestic: Record<string, number> }; closedBatchNo: string; nextBatchNo: string } };
    expect(out.settlement.agreed).toBe(true);
    expect(out.settlement.totals.domestic).toEqual({ debitAmount: 1_250, debitCount: 1, creditAmount: 1_250, creditCount: 1 });
    const after = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { batch: { batchNo: string; records: unknown[] } };
    expect(after.batch).toEqual({ batchNo: out.settlement.nextBatchNo, records: [] });
  });

  it('a decline exits 1 with the code in the message', async () => {
    const r = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs('999999'), '--amount', '100']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^purchase declined: 55/);
    expect(r.stderr).toBe('qiandao: purchase declined: 55 incorrect PIN\n');
    expect(await balanceOf(fx, card)).toBe(100_000);
  });

  it('without an operator signed on the host refuses with Q1 (exit 1)', async () => {
    const r = await runCli(['terminal', 'purchase', ...conn({ password: null }), ...cardArgs(), '--amount', '100']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/purchase declined: Q1 no operator signed on \(sign an operator on: --operator NN --operator-password/);
  });

  it('balance and refund by RRN', async () => {
    const b = await runCli(['terminal', 'balance', ...conn(), ...cardArgs()]);
    expect(b.stderr).toBe('');
    expect(b.stdout).toMatch(/balance\s+1000\.00/);
    const p = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '4000', '--json']);
    const pr = JSON.parse(p.stdout) as { rrn: string; stan: string; hostDate: string };
    const r = await runCli(['terminal', 'refund', ...conn(), ...cardArgs(null), '--amount', '1500', '--rrn', pr.rrn, '--original-date', pr.hostDate, '--original-stan', pr.stan]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^refund approved: 00/);
    expect(await balanceOf(fx, card)).toBe(100_000 - 4_000 + 1_500);
  });

  it('a timed-out purchase whose reversal is not acknowledged yet: kept in --state (no PAN), sent first by the next run', async () => {
    // the issuer answers after 5 s: the CLI gives up after 1.5 s; while the host still works on the
    // purchase it answers the reversal with 96, so the three tries of this run are not enough
    fx.issuer.setBehaviour({ delayMs: 5000 });
    const started = Date.now();
    const p = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '2200', '--timeout', '1.5']);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/purchase: no response from .*; the reversal of STAN (\d{6}) was NOT acknowledged \(0410 answered 96/);
    const stan = /reversal of STAN (\d{6})/.exec(p.stderr)![1];
    const state = readFileSync(join(dir, 'state.json'), 'utf8');
    expect(state).not.toContain(card.pan);
    expect(JSON.parse(state).reversals).toMatchObject([{ stan, kind: 'purchase', reason: '98', amount: 2200 }]);
    await new Promise((r) => setTimeout(r, Math.max(0, started + 6000 - Date.now()))); // the host finishes the purchase
    fx.issuer.setBehaviour(undefined);
    expect(await balanceOf(fx, card)).toBe(100_000 - 2_200);

    const b = await runCli(['terminal', 'balance', ...conn(), ...cardArgs()]);
    expect(b.stderr).toBe('');
    // the reversal went first, so the balance already shows the money back
    expect(b.stdout).toMatch(/balance\s+1000\.00/);
    expect(await balanceOf(fx, card)).toBe(100_000);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).reversals).toEqual([]);
  });

  it('bad input exits 2 before connecting', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['terminal', 'purchase', ...conn(), '--amount', '100'], /--card is required/],
      [['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '12.50'], /minor units/],
      [['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '0'], /positive whole number/],
      [['terminal', 'purchase', ...conn(), '--card', '12345', '--amount', '1'], /13 to 19 digits/],
      [['terminal', 'purchase', ...conn(), '--card', card.pan, '--swipe', '--amount', '1'], /--swipe needs --expiry/],
      [['terminal', 'void', ...conn({ state: false }), ...cardArgs(), '--original-stan', '12'], /needs --state/],
      [['terminal', 'refund', ...conn(), ...cardArgs(), '--amount', '1', '--rrn', 'x'], /refund carries no PIN/],
      [['terminal', 'refund', ...conn(), ...cardArgs(null), '--amount', '1', '--rrn', 'x'], /--rrn must be 12 characters/],
      [['terminal', 'purchase', ...conn({ password: '12' }), ...cardArgs(), '--amount', '1'], /--operator-password must be 4 to 12 digits/],
    ];
    for (const [argv, re] of cases) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });

  it('sim trade: terminals sign on with their operator and run a mix; summary with rates, latency and codes', async () => {
    for (let i = 0; i < 2; i++) await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo, simTerminalNo('7', i));
    const cards = join(dir, 'cards.txt');
    const card2 = await newCard(fx, { balance: 100_000, pin: '135790' });
    // voids and refunds must use the purchase's own card: with two cards a mix-up shows as 25
    writeFileSync(cards, `# test cards\n${card.pan},${card.expiry},246810\n${card2.pan} ${card2.expiry} 135790\n`);
    const r = await runCli([
      'sim', 'trade', '--port', String(fx.host.port), '--mid', fx.merchantNo, '--tid-prefix', '7', '--terminals', '2',
      '--tps', '12', '--duration', '2', '--tmk-file', tmkFile, '--cards', cards, '--operator', '00', '--operator-password', '123456',
      '--mix', 'purchase=60,balance=20,void=10,refund=10', '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { terminalsReady: number; transactions: number; approved: number; responseCodes: Record<string, number>; latencyMs: { p99: number } | null; failures: Record<string, number> };
    expect(s.terminalsReady).toBe(2);
    expect(s.transactions).toBeGreaterThanOrEqual(12);
    expect(s.approved).toBe(s.transactions);
    expect(s.responseCodes).toEqual({ '00': s.transactions });
    expect(s.failures).toEqual({});
    expect(s.latencyMs?.p99).toBeGreaterThan(0);
    expect(await balanceOf(fx, card)).toBeLessThan(100_000);

    for (let i = 0; i < 2; i++) await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo, simTerminalNo('8', i));
    const text = await runCli([
      'sim', 'trade', '--port', String(fx.host.port), '--mid', fx.merchantNo, '--tid-prefix', '8', '--terminals', '2',
      '--tps', '4', '--duration', '0.5', '--tmk-file', tmkFile, '--cards', cards,
    ]);
    // no operator: every transaction refused with Q1, which is a decline, not a failure
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/operators\s+not signed on/);
    expect(text.stdout).toMatch(/Q1 no operator signed on +\d+/);
    expect(text.stdout).toMatch(/latency \(ms\)\s+p50 [\d.]+ {2}p95/);
  });
});
