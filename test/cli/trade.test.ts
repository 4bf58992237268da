/**
 * `qiandao terminal purchase|balance|void|refund|settle` and `qiandao sim trade` end to end against
 * the real host (real TCP, handlers, issuer simulator), on both stores.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { simTerminalNo } from '../../src/terminal/sim/index.js';
import { addKeyedTerminal, CLEAR_TMK } from '../host/fixture.js';
import { balanceOf, newCard, startTxFixture, type PlasticCard, type TxFixture } from '../host/transactions-kit.js';
import { describeBackends } from '../store/helpers.js';
import { runCli, runCliOnTty } from './run-cli.js';


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

  // the operator password never goes on argv either: by default it is the first line of a mode-600
  // file (--operator-password-file); password: null gives no operator password at all
  let passwordFiles = 0;
  const passwordFile = (password: string, mode = 0o600): string => {
    // numbered, not named after the password: errors quote the path
    const file = join(dir, `operator-password-${++passwordFiles}`);
    writeFileSync(file, `${password}\n`, { mode });
    chmodSync(file, mode); // whatever the umask
    return file;
  };
  const conn = (o: { operator?: string; password?: string | null; state?: boolean } = {}): string[] => {
    const args = ['--port', String(fx.host.port), '--tid', terminalNo, '--mid', fx.merchantNo, '--tmk-file', tmkFile, '--operator', o.operator ?? '00'];
    if (o.password !== null) args.push('--operator-password-file', passwordFile(o.password ?? '123456'));
    if (o.state !== false) args.push('--state', join(dir, 'state.json'));
    return args;
  };
  // the PIN never goes on argv: --pin-stdin, and the PIN as the first line of standard input (pinIn)
  const cardArgs = (pin = true): string[] => ['--card', card.pan, '--expiry', card.expiry, '--swipe', ...(pin ? ['--pin-stdin'] : [])];
  const pinIn = (pin = '246810'): string => `${pin}\n`;

  it('purchase, void by STAN from --state, settle: approvals print RRN, auth code and the masked PAN only', async () => {
    const p = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '1250'], pinIn());
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

    const v = await runCli(['terminal', 'void', ...conn(), ...cardArgs(), '--original-stan', stan], pinIn());
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
    const r = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '100'], pinIn('999999'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^purchase declined: 55/);
    expect(r.stderr).toBe('qiandao: purchase declined: 55 incorrect PIN\n');
    expect(await balanceOf(fx, card)).toBe(100_000);
  });

  it('without an operator signed on the host refuses with Q1 (exit 1)', async () => {
    const r = await runCli(['terminal', 'purchase', ...conn({ password: null }), ...cardArgs(), '--amount', '100'], pinIn());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/purchase declined: Q1 no operator signed on \(sign an operator on: --operator NN with --operator-password-file, --operator-password-stdin or QIANDAO_OPERATOR_PASSWORD\)/);
  });

  it('balance and refund by RRN', async () => {
    const b = await runCli(['terminal', 'balance', ...conn(), ...cardArgs()], pinIn());
    expect(b.stderr).toBe('');
    expect(b.stdout).toMatch(/balance\s+1000\.00/);
    const p = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '4000', '--json'], pinIn());
    const pr = JSON.parse(p.stdout) as { rrn: string; stan: string; hostDate: string };
    // --card - with no PIN: the card number is the only line of standard input
    const r = await runCli(
      ['terminal', 'refund', ...conn(), '--card', '-', '--expiry', card.expiry, '--swipe', '--amount', '1500', '--rrn', pr.rrn, '--original-date', pr.hostDate, '--original-stan', pr.stan],
      `${card.pan}\n`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^refund approved: 00/);
    expect(await balanceOf(fx, card)).toBe(100_000 - 4_000 + 1_500);
  });

  it('a timed-out purchase whose reversal is not acknowledged yet: kept in --state (no PAN), sent first by the next run', async () => {
    // the issuer answers after 5 s: the CLI gives up after 1.5 s; while the host still works on the
    // purchase it answers the reversal with 96, so the three tries of this run are not enough
    fx.issuer.setBehaviour({ delayMs: 5000 });
    const started = Date.now();
    const p = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '--amount', '2200', '--timeout', '1.5'], pinIn());
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/purchase: no response from .*; the reversal of STAN (\d{6}) was NOT acknowledged \(0410 answered 96/);
    const stan = /reversal of STAN (\d{6})/.exec(p.stderr)![1];
    const state = readFileSync(join(dir, 'state.json'), 'utf8');
    expect(state).not.toContain(card.pan);
    expect(JSON.parse(state).reversals).toMatchObject([{ stan, kind: 'purchase', reason: '98', amount: 2200 }]);
    await new Promise((r) => setTimeout(r, Math.max(0, started + 6000 - Date.now()))); // the host finishes the purchase
    fx.issuer.setBehaviour(undefined);
    expect(await balanceOf(fx, card)).toBe(100_000 - 2_200);

    const b = await runCli(['terminal', 'balance', ...conn(), ...cardArgs()], pinIn());
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
      [['terminal', 'refund', ...conn(), ...cardArgs(), '--amount', '1', '--rrn', 'x'], /refund carries no PIN: drop --pin-stdin/],
      [['terminal', 'refund', ...conn(), ...cardArgs(false), '--pin', '2468', '--amount', '1', '--rrn', 'x'], /refund carries no PIN: drop --pin /],
      [['terminal', 'refund', ...conn(), ...cardArgs(false), '--amount', '1', '--rrn', 'x'], /--rrn must be 12 characters/],
      [['terminal', 'purchase', ...conn({ password: '12' }), ...cardArgs(), '--amount', '1'], /^qiandao: the operator password in --operator-password-file \S+ \(first line\) must be 4 to 12 digits\n$/],
      [['terminal', 'purchase', ...conn({ operator: '1', password: '1234' }), ...cardArgs(), '--amount', '1'], /operator sign-on needs a two-digit --operator/],
    ];
    for (const [argv, re] of cases) {
      const r = await runCli(argv, pinIn());
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    // A password or PIN typed into a short field is not repeated by the error (only its length).
    for (const argv of [
      ['terminal', 'purchase', ...conn({ operator: '864213', password: '1234' }), ...cardArgs(), '--amount', '1'],
      ['terminal', 'purchase', ...conn(), '--card', card.pan, '--expiry', '864213', '--amount', '1'],
    ]) {
      const r = await runCli(argv, pinIn());
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/a value of 6 characters \(not shown\)/);
      expect(r.stderr).not.toContain('864213');
    }
  });

  it('a PIN on the command line is refused before connecting, in every form, without repeating it', async () => {
    const state = join(dir, 'state.json');
    const cases: string[][] = [
      ['terminal', 'purchase', ...conn(), ...cardArgs(false), '--pin', '975310', '--amount', '100'],
      ['terminal', 'purchase', ...conn(), ...cardArgs(false), '--pin=975310', '--amount', '100'],
      ['terminal', 'balance', ...conn(), ...cardArgs(false), '--pin', '975310'],
      ['terminal', 'void', ...conn(), ...cardArgs(false), '--pin', '975310', '--original-stan', '12'],
      // --pin even with --pin-stdin and a PIN on stdin: the argv one is already exposed
      ['terminal', 'purchase', ...conn(), ...cardArgs(), '--pin', '975310', '--amount', '100'],
      // no value: the same advice rather than a parser message
      ['terminal', 'purchase', ...conn(), ...cardArgs(false), '--amount', '100', '--pin'],
    ];
    for (const argv of cases) {
      const r = await runCli(argv, pinIn());
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^qiandao: --pin is not accepted: a PIN on the command line is visible to other users \(ps\) and kept in shell history\. Pass --pin-stdin and write the PIN as the first line of standard input/);
      expect(r.stderr).not.toContain('975310');
      expect(r.stdout).toBe('');
    }
    // a value typed after --pin-stdin is a stray argument: refused, not echoed
    const stray = await runCli(['terminal', 'purchase', ...conn(), ...cardArgs(), '975310', '--amount', '100'], pinIn());
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/1 unexpected argument \(not shown: it may be a PIN, card number or password\)/);
    expect(stray.stderr).not.toContain('975310');
    // nothing connected: a run that signs on writes --state
    expect(existsSync(state)).toBe(false);
    expect(await balanceOf(fx, card)).toBe(100_000);
  });

  it('--card - and --pin-stdin: card number on line 1, PIN on line 2 (also CRLF); approved, PAN masked', async () => {
    const p = await runCli(['terminal', 'purchase', ...conn(), '--card', '-', '--expiry', card.expiry, '--swipe', '--pin-stdin', '--amount', '700'], `${card.pan}\n246810\n`);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^purchase approved: 00/);
    expect(p.stdout).toContain(`card            ${card.pan.slice(0, 6)}${'*'.repeat(card.pan.length - 10)}${card.pan.slice(-4)}`);
    expect(p.stdout).not.toContain(card.pan);
    expect(await balanceOf(fx, card)).toBe(100_000 - 700);

    // Windows line ends, no final newline
    const b = await runCli(['terminal', 'balance', ...conn(), '--card', '-', '--expiry', card.expiry, '--pin-stdin', '--json'], `${card.pan}\r\n246810`);
    expect(b.stderr).toBe('');
    expect((JSON.parse(b.stdout) as { balance: number }).balance).toBe(100_000 - 700);

    // the lines are read in that order: swapped, the PIN line is not a card number
    const swapped = await runCli(['terminal', 'balance', ...conn(), '--card', '-', '--pin-stdin'], `246810\n${card.pan}\n`);
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toBe('qiandao: the card number on standard input (line 1, --card -) must be 13 to 19 digits\n');
  });

  it('bad PIN or card number on standard input: exit 2 before connecting, never echoed', async () => {
    const purchase = (stdin: string | undefined, card2: string[] = cardArgs()): Promise<{ code: number; stdout: string; stderr: string }> =>
      runCli(['terminal', 'purchase', ...conn(), ...card2, '--amount', '100'], stdin);
    const fromStdin = ['--card', '-', '--expiry', card.expiry, '--pin-stdin'];
    const cases: Array<[string | undefined, string[], RegExp, string[]]> = [
      ['12ab56\n', cardArgs(), /^qiandao: the PIN on standard input \(line 1, --pin-stdin\) must be 4 to 12 digits\n$/, ['12ab56']],
      ['975\n', cardArgs(), /PIN on standard input \(line 1, --pin-stdin\) must be 4 to 12 digits/, ['975']],
      ['9753108642013\n', cardArgs(), /PIN on standard input \(line 1, --pin-stdin\) must be 4 to 12 digits/, ['9753108642013']],
      [' 975310\n', cardArgs(), /PIN on standard input \(line 1, --pin-stdin\) must be 4 to 12 digits/, ['975310']],
      [undefined, cardArgs(), /^qiandao: standard input is empty: expected the PIN \(--pin-stdin\), one per line\n$/, []],
      ['\n\n', cardArgs(), /standard input is empty/, []],
      // the card number and the PIN but no --card -: the extra line is refused, nothing guessed
      [`${card.pan}\n975310\n`, cardArgs(), /^qiandao: standard input has 2 lines, expected 1: the PIN \(--pin-stdin\), one per line\n$/, [card.pan, '975310']],
      [`${card.pan}\n`, fromStdin, /^qiandao: standard input has 1 line: line 2 should be the PIN \(--pin-stdin\)/, [card.pan, card.pan.slice(-4)]],
      [`${card.pan}\n97x310\n`, fromStdin, /the PIN on standard input \(line 2, --pin-stdin\) must be 4 to 12 digits/, [card.pan, '97x310']],
      [`${card.pan.slice(0, 12)}\n975310\n`, fromStdin, /card number on standard input \(line 1, --card -\) must be 13 to 19 digits/, [card.pan.slice(0, 12), '975310']],
    ];
    for (const [stdin, args, re, secrets] of cases) {
      const r = await purchase(stdin, args);
      expect(r.code, JSON.stringify(stdin)).toBe(2);
      expect(r.stderr, JSON.stringify(stdin)).toMatch(re);
      for (const secret of secrets) expect(r.stderr).not.toContain(secret);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
    expect(await balanceOf(fx, card)).toBe(100_000);
  });

  it('on a terminal, card number and PIN are prompted for without echo (backspace works, Ctrl-C cancels)', async () => {
    const argv = ['terminal', 'purchase', ...conn(), '--card', '-', '--expiry', card.expiry, '--swipe', '--pin-stdin', '--amount', '300'];
    // "24681" + a mistyped 9, erased with backspace, then "0": the PIN sent is 246810
    const p = await runCliOnTty(argv, [card.pan, '\r', '24681', '9', '\u007f', '0', '\r']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^purchase approved: 00/);
    expect(p.stderr).toBe('the card number (--card -): \nthe PIN (--pin-stdin): \n');
    expect(p.rawModes).toEqual([true, false]);
    expect(await balanceOf(fx, card)).toBe(100_000 - 300);

    const c = await runCliOnTty(argv, [card.pan, '\r', '24', '\u0003']);
    expect(c.code).toBe(130);
    expect(c.stderr).toBe('the card number (--card -): \nthe PIN (--pin-stdin): \nqiandao: cancelled at the prompt\n');
    expect(c.rawModes).toEqual([true, false]);
    expect(await balanceOf(fx, card)).toBe(100_000 - 300);
  });

  it('an operator password on the command line is refused before connecting, in every command and form, without repeating it', async () => {
    const state = join(dir, 'state.json');
    const forms: string[][] = [['--operator-password', '975310'], ['--operator-password=975310'], ['--operator-password']];
    const commands: string[][] = [
      ['terminal', 'purchase', ...conn({ password: null }), ...cardArgs(), '--amount', '100'],
      ['terminal', 'balance', ...conn({ password: null }), ...cardArgs()],
      ['terminal', 'void', ...conn({ password: null }), ...cardArgs(), '--original-stan', '12'],
      ['terminal', 'refund', ...conn({ password: null }), ...cardArgs(false), '--amount', '1', '--rrn', '000000000123'],
      ['terminal', 'settle', ...conn({ password: null })],
      // also next to a legitimate source: the argv one is already exposed
      ['terminal', 'settle', ...conn()],
      ['sim', 'trade', '--port', String(fx.host.port), '--mid', fx.merchantNo, '--tid-prefix', '7', '--tmk-file', tmkFile, '--cards', join(dir, 'none.txt'), '--operator', '00'],
    ];
    for (const argv of commands) {
      for (const form of forms) {
        const r = await runCli([...argv, ...form], pinIn());
        expect(r.code, [...argv, ...form].join(' ')).toBe(2);
        expect(r.stderr).toBe(
          'qiandao: --operator-password is not accepted: a password on the command line is visible to other users (ps) and kept in shell history. ' +
            'Use --operator-password-file FILE (first line, file mode 600), --operator-password-stdin (the last line of standard input) or the QIANDAO_OPERATOR_PASSWORD environment variable\n',
        );
        expect(r.stdout).toBe('');
      }
    }
    // the usage strings offer only the ways that keep it off argv
    const help = await runCli(['terminal', 'purchase', '--help']);
    expect(help.stdout).toContain('--operator-password-file FILE | --operator-password-stdin');
    expect(help.stdout).not.toMatch(/--operator-password [0-9]/);
    // a password typed after --operator-password-stdin is a stray argument: refused, not echoed
    for (const argv of [
      ['terminal', 'settle', ...conn({ password: null }), '--operator-password-stdin', '975310'],
      ['sim', 'trade', '--port', String(fx.host.port), '--mid', fx.merchantNo, '--tmk-file', tmkFile, '--operator-password-stdin', '975310'],
    ]) {
      const r = await runCli(argv, '123456\n');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/1 unexpected argument \(not shown: it may be a .*password\)/);
      expect(r.stderr).not.toContain('975310');
    }
    expect(existsSync(state)).toBe(false);
    expect(await balanceOf(fx, card)).toBe(100_000);
  });

  it('--operator-password-file: first line of an owner-only file; missing, empty, readable by others or a directory refused before connecting', async () => {
    // CRLF and notes after the first line are fine
    const notes = join(dir, 'cashier.pw');
    writeFileSync(notes, '123456\r\nsupervisor of shop 1, rotate monthly\n', { mode: 0o600 });
    chmodSync(notes, 0o600);
    const b = await runCli(['terminal', 'balance', ...conn({ password: null }), '--operator-password-file', notes, ...cardArgs()], pinIn());
    expect(b.stderr).toBe('');
    expect(b.stdout).toMatch(/balance\s+1000\.00/);

    // a wrong password in the file reaches the host, which refuses it: exit 1, not quoted
    const wrong = await runCli(['terminal', 'balance', ...conn({ password: '975310' }), ...cardArgs()], pinIn());
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^qiandao: operator 00 sign-on refused: 55 /);
    expect(wrong.stderr).not.toContain('975310');

    const empty = join(dir, 'empty.pw');
    writeFileSync(empty, '', { mode: 0o600 });
    const blankFirst = join(dir, 'blank-first.pw');
    writeFileSync(blankFirst, '\n123456\n', { mode: 0o600 });
    const dirArg = join(dir, 'a-directory');
    mkdirSync(dirArg);
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'missing.pw'), /^qiandao: cannot read --operator-password-file \S+missing\.pw: no such file\n$/],
      [empty, /^qiandao: --operator-password-file \S+empty\.pw is empty: the secret goes on its first line\n$/],
      [blankFirst, /blank-first\.pw is empty: the secret goes on its first line/],
      [passwordFile('975310', 0o644), /^qiandao: --operator-password-file \S+ can be read by other users \(mode 644\): restrict it to its owner first \(chmod 600 \S+\)\n$/],
      [passwordFile('975310', 0o640), /can be read by other users \(mode 640\)/],
      [passwordFile('975310', 0o604), /can be read by other users \(mode 604\)/],
      [dirArg, /^qiandao: cannot read --operator-password-file \S+a-directory: it is a directory\n$/],
    ];
    for (const [file, re] of cases) {
      const r = await runCli(['terminal', 'purchase', ...conn({ password: null }), '--operator-password-file', file, ...cardArgs(), '--amount', '100'], pinIn());
      expect(r.code, file).toBe(2);
      expect(r.stderr, file).toMatch(re);
      expect(r.stderr).not.toContain('975310');
      expect(r.stdout).toBe('');
    }
    // the file and standard input at once: which one was meant?
    const both = await runCli(['terminal', 'settle', ...conn(), '--operator-password-stdin'], '123456\n');
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('qiandao: give the operator password once: --operator-password-file or --operator-password-stdin, not both\n');
    expect(await balanceOf(fx, card)).toBe(100_000);
  });

  it('--operator-password-stdin: the last line, after the card number and the PIN; also on its own (settle, refund) and at a terminal prompt', async () => {
    const stdinPw = ['--operator-password-stdin'];
    const p = await runCli(
      ['terminal', 'purchase', ...conn({ password: null }), ...stdinPw, '--card', '-', '--expiry', card.expiry, '--swipe', '--pin-stdin', '--amount', '900', '--json'],
      `${card.pan}\n246810\n123456\n`,
    );
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const pr = JSON.parse(p.stdout) as { rrn: string; stan: string; hostDate: string; approved: boolean };
    expect(pr.approved).toBe(true);
    expect(await balanceOf(fx, card)).toBe(100_000 - 900);

    // card number on argv: PIN on line 1, password on line 2 (CRLF, no final newline)
    const b = await runCli(['terminal', 'balance', ...conn({ password: null }), ...cardArgs(), ...stdinPw, '--json'], '246810\r\n123456');
    expect(b.stderr).toBe('');
    expect((JSON.parse(b.stdout) as { balance: number }).balance).toBe(100_000 - 900);

    // refund: no PIN, so the card number and then the password
    const r = await runCli(
      ['terminal', 'refund', ...conn({ password: null }), ...stdinPw, '--card', '-', '--expiry', card.expiry, '--amount', '400', '--rrn', pr.rrn, '--original-date', pr.hostDate, '--original-stan', pr.stan],
      `${card.pan}\n123456\n`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^refund approved: 00/);
    expect(await balanceOf(fx, card)).toBe(100_000 - 900 + 400);

    // settle: the password is the only line
    const s = await runCli(['terminal', 'settle', ...conn({ password: null }), ...stdinPw, '--json'], '123456\n');
    expect(s.stderr).toBe('');
    expect((JSON.parse(s.stdout) as { settlement: { agreed: boolean } }).settlement.agreed).toBe(true);

    // a wrong line count or a malformed password fails before connecting and quotes nothing
    const fromStdin = ['--card', '-', '--expiry', card.expiry, '--pin-stdin', ...stdinPw];
    const cases: Array<[string[], string, RegExp, string[]]> = [
      [fromStdin, `${card.pan}\n246810\n`, /^qiandao: standard input has 2 lines: line 3 should be the operator password \(--operator-password-stdin\) \(expected line 1 the card number \(--card -\), line 2 the PIN \(--pin-stdin\), line 3 the operator password \(--operator-password-stdin\), one per line\)\n$/, [card.pan, '246810']],
      [fromStdin, `${card.pan}\n246810\n12x456\n`, /^qiandao: the operator password on standard input \(line 3, --operator-password-stdin\) must be 4 to 12 digits\n$/, [card.pan, '246810', '12x456']],
      [[...cardArgs(), ...stdinPw], '246810\n123456\n975310\n', /^qiandao: standard input has 3 lines, expected 2: line 1 the PIN \(--pin-stdin\), line 2 the operator password/, ['246810', '123456', '975310']],
      [[...cardArgs(), ...stdinPw], '246810\n975\n', /operator password on standard input \(line 2, --operator-password-stdin\) must be 4 to 12 digits/, ['246810', '975']],
    ];
    for (const [args, stdin, re, secrets] of cases) {
      const x = await runCli(['terminal', 'purchase', ...conn({ password: null }), ...args, '--amount', '100'], stdin);
      expect(x.code, JSON.stringify(stdin)).toBe(2);
      expect(x.stderr, JSON.stringify(stdin)).toMatch(re);
      for (const secret of secrets) expect(x.stderr).not.toContain(secret);
      expect(x.stdout).toBe('');
    }
    const noLine = await runCli(['terminal', 'settle', ...conn({ password: null }), ...stdinPw]);
    expect(noLine.code).toBe(2);
    expect(noLine.stderr).toBe('qiandao: standard input is empty: expected the operator password (--operator-password-stdin), one per line\n');

    // at a terminal: three prompts, none echoed
    const t = await runCliOnTty(
      ['terminal', 'purchase', ...conn({ password: null }), '--card', '-', '--expiry', card.expiry, '--swipe', '--pin-stdin', ...stdinPw, '--amount', '100'],
      [card.pan, '\r', '246810', '\r', '123456', '\r'],
    );
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toBe('the card number (--card -): \nthe PIN (--pin-stdin): \nthe operator password (--operator-password-stdin): \n');
    expect(t.rawModes).toEqual([true, false]);
    expect(await balanceOf(fx, card)).toBe(100_000 - 900 + 400 - 100);
  });

  it('QIANDAO_OPERATOR_PASSWORD still signs the operator on; an option wins over it; empty or malformed is refused', async () => {
    try {
      vi.stubEnv('QIANDAO_OPERATOR_PASSWORD', '123456');
      const p = await runCli(['terminal', 'purchase', ...conn({ password: null }), ...cardArgs(), '--amount', '250'], pinIn());
      expect(p.stderr).toBe('');
      expect(p.code).toBe(0);
      expect(await balanceOf(fx, card)).toBe(100_000 - 250);

      // a wrong value left in the environment does not override an explicit file
      vi.stubEnv('QIANDAO_OPERATOR_PASSWORD', '975310');
      const b = await runCli(['terminal', 'balance', ...conn(), ...cardArgs()], pinIn());
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);
      // …but is used, and refused by the host, without one
      const w = await runCli(['terminal', 'balance', ...conn({ password: null }), ...cardArgs()], pinIn());
      expect(w.code).toBe(1);
      expect(w.stderr).toMatch(/^qiandao: operator 00 sign-on refused: 55 /);
      expect(w.stderr).not.toContain('975310');

      vi.stubEnv('QIANDAO_OPERATOR_PASSWORD', '97x');
      const bad = await runCli(['terminal', 'settle', ...conn({ password: null })]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toBe('qiandao: QIANDAO_OPERATOR_PASSWORD must be 4 to 12 digits\n');
      vi.stubEnv('QIANDAO_OPERATOR_PASSWORD', '');
      const empty = await runCli(['terminal', 'settle', ...conn({ password: null })]);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toBe('qiandao: QIANDAO_OPERATOR_PASSWORD is set but empty: unset it, or set it to the operator password\n');
    } finally {
      vi.unstubAllEnvs();
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
      '--tps', '12', '--duration', '2', '--tmk-file', tmkFile, '--cards', cards, '--operator', '00', '--operator-password-stdin',
      '--mix', 'purchase=60,balance=20,void=10,refund=10', '--json',
    ], '123456\n');
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
