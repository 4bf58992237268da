/**
 * `qiandao terminal purchase|balance|void|refund|settle` — act as one POS terminal: connect, sign
 * on, send one MAC'ed transaction with a (test) card, verify the response MAC and print the
 * response code, RRN, auth code and masked PAN. A timeout or a bad response MAC sends the
 * automatic reversal before the command ends.
 *
 * --state FILE keeps the terminal between runs: batch number, approved transactions with masked
 * PANs (so `void --original-stan` and `settle` work across invocations), the last STAN, and
 * reversals the host has not acknowledged yet (sent first by the next run, as a terminal does).
 *
 * The PIN and the operator password are never arguments (argv is readable by every local user and
 * kept in shell history): `--pin` and `--operator-password` are refused. Standard input carries,
 * one per line and in this order, only the ones asked for: the card number (`--card -`), the PIN
 * (`--pin-stdin`), the operator password (`--operator-password-stdin`; also
 * `--operator-password-file` or QIANDAO_OPERATOR_PASSWORD, see connect.ts).
 *
 * Exit codes: 0 approved · 1 declined (code in the message), no answer or no connection ·
 * 2 bad input.
 */
import { parseArgs } from 'node:util';
import { isTerminalError } from '../../../terminal/index.js';
import { TradeTerminal, type Card, type OriginalRef, type TradeResult } from '../../../terminal/trade.js';
import { buildTrack2 } from '../../../terminal/card.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson, readSecretLines, refusePinArgument, refuseStrayArguments, shownValue } from '../../io.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  OPERATOR_PASSWORD_ENV,
  OPERATOR_PASSWORD_LINE,
  connectAndSignOn,
  firstStanFor,
  loadState,
  operatorPassword,
  parseAmount,
  planOperatorPassword,
  refuseOperatorPasswordArgument,
  saveState,
  transactionFailure,
  type ConnectionValues,
  type OperatorPasswordPlan,
} from './connect.js';

const CARD_OPTIONS = {
  card: { type: 'string' },
  expiry: { type: 'string' },
  swipe: { type: 'boolean', default: false },
  'pin-stdin': { type: 'boolean', default: false },
} as const;
const CARD_USAGE = '--card 6229990000000000018|- [--expiry 3012] [--swipe]';
const PIN_USAGE = '[--pin-stdin]';
const STDIN_NOTE =
  '  (standard input, one line each, in this order, only those asked for: the card number with --card -, the PIN with --pin-stdin, the operator password with --operator-password-stdin; ' +
  `the operator password may instead be the first line of --operator-password-file (mode 600) or ${OPERATOR_PASSWORD_ENV}; a terminal prompts without echo)`;
const REFUND_STDIN_NOTE =
  '  (a refund carries no PIN; standard input, one line each, in this order: the card number with --card -, the operator password with --operator-password-stdin; ' +
  `the operator password may instead be the first line of --operator-password-file (mode 600) or ${OPERATOR_PASSWORD_ENV}; a terminal prompts without echo)`;
const SETTLE_STDIN_NOTE =
  `  (operator password: the first line of --operator-password-file (mode 600), the only line of standard input with --operator-password-stdin, or ${OPERATOR_PASSWORD_ENV})`;

interface CardValues {
  card?: string;
  expiry?: string;
  swipe?: boolean;
  'pin-stdin'?: boolean;
}

/** Stray arguments refused without quoting them (src/cli/io.ts). */
function refusePositionals(positionals: readonly string[]): void {
  refuseStrayArguments(positionals, 'options only: the PIN and the operator password go on standard input (--pin-stdin, --operator-password-stdin)');
}

/** Both refusals of secrets on argv, before parseArgs sees (and might quote) them. */
function refuseSecretArguments(argv: readonly string[]): void {
  refusePinArgument(argv);
  refuseOperatorPasswordArgument(argv);
}

/** The operator password when the plan takes it from standard input: then it is the last line read. */
function passwordFromLines(plan: OperatorPasswordPlan, lines: readonly string[]): string | undefined {
  return operatorPassword(plan, plan.from === 'stdin' ? { text: lines[lines.length - 1]!, lineNo: lines.length } : undefined);
}

/**
 * The card, PIN and operator password: the PAN from --card or (with `--card -`) line 1 of standard
 * input, the PIN only from standard input (--pin-stdin; line 2 after a PAN from stdin), the
 * operator password as the last line with --operator-password-stdin (else from the plan's file or
 * environment variable). Every check that needs no stdin runs first (the plan included), so a typo
 * fails before the user is asked for secrets. Errors never quote the PAN, PIN or password.
 */
async function readCard(
  v: CardValues,
  plan: OperatorPasswordPlan,
  opts: { pinAllowed: boolean } = { pinAllowed: true },
): Promise<{ card: Card; pin?: string; password?: string }> {
  if (v.card === undefined) throw new CliError('--card is required (the card number, PAN, or - to read it from standard input)');
  const panFromStdin = v.card === '-';
  if (!panFromStdin && !/^\d{13,19}$/.test(v.card)) throw new CliError('--card must be 13 to 19 digits (or - to read the card number from standard input)');
  if (v.expiry !== undefined && !/^\d{2}(0[1-9]|1[0-2])$/.test(v.expiry)) throw new CliError(`--expiry must be YYMM, got ${shownValue(v.expiry, 4)}`);
  if (v.swipe === true && v.expiry === undefined) throw new CliError('--swipe needs --expiry (track 2 carries it)');
  const pinFromStdin = v['pin-stdin'] === true;
  if (pinFromStdin && !opts.pinAllowed) throw new CliError('a refund carries no PIN: drop --pin-stdin');

  const wanted: string[] = [];
  if (panFromStdin) wanted.push('the card number (--card -)');
  if (pinFromStdin) wanted.push('the PIN (--pin-stdin)');
  if (plan.from === 'stdin') wanted.push(OPERATOR_PASSWORD_LINE);
  const lines = await readSecretLines(wanted);
  const pan = panFromStdin ? lines[0]! : v.card;
  if (panFromStdin && !/^\d{13,19}$/.test(pan)) throw new CliError('the card number on standard input (line 1, --card -) must be 13 to 19 digits');
  const pinLine = panFromStdin ? 1 : 0;
  const pin = pinFromStdin ? lines[pinLine]! : undefined;
  if (pin !== undefined && !/^\d{4,12}$/.test(pin)) {
    throw new CliError(`the PIN on standard input (line ${pinLine + 1}, --pin-stdin) must be 4 to 12 digits`);
  }
  const password = passwordFromLines(plan, lines);

  const card: Card = { pan, ...(v.expiry !== undefined ? { expiry: v.expiry } : {}) };
  if (v.swipe === true && v.expiry !== undefined) card.track2 = buildTrack2({ pan, expiry: v.expiry });
  return { card, ...(pin !== undefined ? { pin } : {}), ...(password !== undefined ? { password } : {}) };
}

function money(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const a = Math.abs(minor);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

function printResult(r: TradeResult, json: boolean, terminalNo: string, merchantNo: string): void {
  if (json) {
    printJson({ ok: r.approved, terminalNo, merchantNo, ...r });
    return;
  }
  const lines = [
    `${r.kind} ${r.approved ? 'approved' : 'declined'}: ${r.responseCode} ${r.meaning}`,
    `terminal        ${terminalNo} (merchant ${merchantNo})`,
  ];
  if (r.maskedPan !== undefined) lines.push(`card            ${r.maskedPan}`);
  if (r.amount !== undefined) lines.push(`amount          ${money(r.amount)} (${r.amount} minor units)`);
  if (r.balance !== undefined) lines.push(`balance         ${money(r.balance)}`);
  lines.push(`STAN            ${r.stan}    batch ${r.batchNo}`);
  lines.push(`RRN             ${r.rrn ?? '-'}`);
  lines.push(`auth code       ${r.authCode ?? '-'}`);
  if (r.hostDate !== undefined || r.hostTime !== undefined) lines.push(`host date/time  ${r.hostDate ?? '----'} ${r.hostTime ?? '------'}`);
  if (r.settlement !== undefined) {
    const s = r.settlement;
    const t = s.totals;
    lines.push(`totals          domestic debit ${t.domestic.debitCount}/${money(t.domestic.debitAmount)} credit ${t.domestic.creditCount}/${money(t.domestic.creditAmount)}`);
    lines.push(`                foreign  debit ${t.foreign.debitCount}/${money(t.foreign.debitAmount)} credit ${t.foreign.creditCount}/${money(t.foreign.creditAmount)}`);
    lines.push(`reconciliation  domestic ${s.domestic} foreign ${s.foreign}: ${s.agreed ? 'totals agree' : 'totals DO NOT agree'}`);
    if (!s.agreed) lines.push(`batch upload    ${s.uploaded} transactions uploaded${s.notUploaded > 0 ? `, ${s.notUploaded} not (card numbers are not kept in --state)` : ''}`);
    lines.push(`batch           ${s.closedBatchNo} closed, now ${s.nextBatchNo}`);
  }
  lines.push(`round trip      ${r.elapsedMs} ms`);
  process.stdout.write(lines.join('\n') + '\n');
}

type Run = (t: TradeTerminal) => Promise<TradeResult>;

/** Connect, sign on, run one transaction, save the state, print; decline → exit 1 with the code. */
async function transact(what: string, values: ConnectionValues & { json?: boolean }, password: string | undefined, run: Run): Promise<void> {
  const saved = loadState(values.state);
  const c = await connectAndSignOn(values, firstStanFor(saved), password);
  let result: TradeResult;
  let trade: TradeTerminal | undefined;
  try {
    trade = new TradeTerminal(c.client, {
      ...(saved !== null ? { batch: saved.batch, pendingReversals: saved.reversals, cardSealer: c.sealer } : {}),
      autoSignOn: false,
    });
    result = await run(trade);
  } catch (e) {
    if (!isTerminalError(e)) throw e;
    const left = trade?.pendingReversals[0];
    const failure = transactionFailure(what, e, c.host, c.port);
    if (left !== undefined) {
      throw new CliError(`${failure.message}; the reversal of STAN ${left.stan} was NOT acknowledged (${left.lastError ?? 'no answer'})`, failure.exitCode);
    }
    throw failure;
  } finally {
    if (trade !== undefined) saveState(values.state, c, { batch: trade.batch, lastStan: c.client.lastStan, reversals: trade.exportReversals(c.sealer) });
    await c.client.close().catch(() => undefined);
  }
  printResult(result, values.json === true, c.terminalNo, c.merchantNo);
  if (!result.approved) {
    const hint = result.responseCode === 'Q1' ? ` (sign an operator on: --operator NN with --operator-password-file, --operator-password-stdin or ${OPERATOR_PASSWORD_ENV})` : '';
    throw new CliError(`${what} declined: ${result.responseCode} ${result.meaning}${hint}`, 1);
  }
}

export const terminalPurchaseCommand: Command = {
  path: ['terminal', 'purchase'],
  summary: 'Purchase (0200) from one terminal with a test card: sign on, send, verify the MAC, reverse on timeout',
  usage: `qiandao terminal purchase ${CONNECTION_USAGE} ${CARD_USAGE} ${PIN_USAGE} --amount 1250${STDIN_NOTE}`,
  async run(argv) {
    refuseSecretArguments(argv);
    const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, ...CARD_OPTIONS, amount: { type: 'string' } }, allowPositionals: true });
    refusePositionals(positionals);
    const amount = parseAmount(values.amount);
    const plan = planOperatorPassword(values);
    const { card, pin, password } = await readCard(values, plan);
    await transact('purchase', values, password, (t) => t.purchase({ card, amount, ...(pin !== undefined ? { pin } : {}) }));
  },
};

export const terminalBalanceCommand: Command = {
  path: ['terminal', 'balance'],
  summary: 'Balance inquiry (0200, 310000) from one terminal with a test card',
  usage: `qiandao terminal balance ${CONNECTION_USAGE} ${CARD_USAGE} ${PIN_USAGE}${STDIN_NOTE}`,
  async run(argv) {
    refuseSecretArguments(argv);
    const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, ...CARD_OPTIONS }, allowPositionals: true });
    refusePositionals(positionals);
    const plan = planOperatorPassword(values);
    const { card, pin, password } = await readCard(values, plan);
    await transact('balance inquiry', values, password, (t) => t.balance({ card, ...(pin !== undefined ? { pin } : {}) }));
  },
};

function parseStan(raw: string | undefined, name: string): string {
  if (raw === undefined) throw new CliError(`${name} is required`);
  if (!/^\d{1,6}$/.test(raw)) throw new CliError(`${name} must be up to 6 digits, got '${raw}'`);
  return raw.padStart(6, '0');
}

function parseRrn(raw: string | undefined): string {
  if (raw === undefined) throw new CliError('--rrn is required (field 37 of the original)');
  if (!/^[0-9A-Za-z]{12}$/.test(raw)) throw new CliError(`--rrn must be 12 characters, got '${raw}'`);
  return raw;
}

export const terminalVoidCommand: Command = {
  path: ['terminal', 'void'],
  summary: 'Void a purchase of the current batch (0200, 200000): by STAN with --state, or by full reference',
  usage: `qiandao terminal void ${CONNECTION_USAGE} ${CARD_USAGE} ${PIN_USAGE} --original-stan 000012 [--rrn 000000000123 --original-amount 1250 [--auth-code A1B2C3] [--original-batch 000001]]${STDIN_NOTE}`,
  async run(argv) {
    refuseSecretArguments(argv);
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...CONNECTION_OPTIONS,
        ...CARD_OPTIONS,
        'original-stan': { type: 'string' },
        rrn: { type: 'string' },
        'original-amount': { type: 'string' },
        'auth-code': { type: 'string' },
        'original-batch': { type: 'string' },
      },
    });
    refusePositionals(positionals);
    const stan = parseStan(values['original-stan'], '--original-stan');
    let original: string | OriginalRef = stan;
    if (values.rrn !== undefined || values['original-amount'] !== undefined) {
      const authCode = values['auth-code'];
      if (authCode !== undefined && !/^[0-9A-Za-z ]{6}$/.test(authCode)) throw new CliError('--auth-code must be 6 characters');
      const batchNo = values['original-batch'];
      if (batchNo !== undefined && !/^\d{6}$/.test(batchNo)) throw new CliError('--original-batch must be 6 digits');
      original = {
        stan,
        rrn: parseRrn(values.rrn),
        amount: parseAmount(values['original-amount'], '--original-amount'),
        ...(authCode !== undefined ? { authCode } : {}),
        ...(batchNo !== undefined ? { batchNo } : {}),
      };
    } else if (values.state === undefined) {
      throw new CliError('void by --original-stan alone needs --state (the batch of earlier runs); else give --rrn and --original-amount');
    }
    const plan = planOperatorPassword(values);
    const { card, pin, password } = await readCard(values, plan);
    await transact('void', values, password, (t) => t.voidPurchase({ card, original, ...(pin !== undefined ? { pin } : {}) }));
  },
};

export const terminalRefundCommand: Command = {
  path: ['terminal', 'refund'],
  summary: 'Refund (0220, 200000) against an earlier purchase, by its RRN and date',
  usage: `qiandao terminal refund ${CONNECTION_USAGE} ${CARD_USAGE} --amount 500 --rrn 000000000123 [--original-date MMDD] [--original-stan 000012] [--original-batch 000001]${REFUND_STDIN_NOTE}`,
  async run(argv) {
    if (argv.some((a) => a === '--pin' || a.startsWith('--pin='))) throw new CliError('a refund carries no PIN: drop --pin (and never put a PIN on the command line)');
    refuseOperatorPasswordArgument(argv);
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...CONNECTION_OPTIONS,
        ...CARD_OPTIONS,
        amount: { type: 'string' },
        rrn: { type: 'string' },
        'original-date': { type: 'string' },
        'original-stan': { type: 'string' },
        'original-batch': { type: 'string' },
      },
    });
    refusePositionals(positionals);
    if (values['pin-stdin'] === true) throw new CliError('a refund carries no PIN: drop --pin-stdin');
    const amount = parseAmount(values.amount);
    const date = values['original-date'];
    if (date !== undefined && !/^(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(date)) throw new CliError(`--original-date must be MMDD, got '${date}'`);
    const batchNo = values['original-batch'];
    if (batchNo !== undefined && !/^\d{6}$/.test(batchNo)) throw new CliError('--original-batch must be 6 digits');
    const original: OriginalRef = {
      rrn: parseRrn(values.rrn),
      stan: values['original-stan'] !== undefined ? parseStan(values['original-stan'], '--original-stan') : '000000',
      ...(date !== undefined ? { date } : {}),
      ...(batchNo !== undefined ? { batchNo } : {}),
    };
    const plan = planOperatorPassword(values);
    const { card, password } = await readCard(values, plan, { pinAllowed: false });
    await transact('refund', values, password, (t) => t.refund({ card, amount, original }));
  },
};

export const terminalSettleCommand: Command = {
  path: ['terminal', 'settle'],
  summary: 'Settle the batch (0500, 60.3 = 201) with the totals kept in --state; the batch then advances',
  usage: `qiandao terminal settle ${CONNECTION_USAGE}${SETTLE_STDIN_NOTE}`,
  async run(argv) {
    refuseSecretArguments(argv);
    const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS }, allowPositionals: true });
    refusePositionals(positionals);
    const plan = planOperatorPassword(values);
    const password = passwordFromLines(plan, await readSecretLines(plan.from === 'stdin' ? [OPERATOR_PASSWORD_LINE] : []));
    await transact('settlement', values, password, async (t) => {
      const r = await t.settle();
      if (r.approved && r.settlement !== undefined && !r.settlement.agreed) {
        printResult(r, values.json === true, t.client.terminalNo, t.client.merchantNo);
        throw new CliError(`settlement: totals do not agree with the host (domestic ${r.settlement.domestic}, foreign ${r.settlement.foreign}); batch ${r.settlement.closedBatchNo} closed`, 1);
      }
      return r;
    });
  },
};

export const terminalTradeCommands: Command[] = [terminalPurchaseCommand, terminalBalanceCommand, terminalVoidCommand, terminalRefundCommand, terminalSettleCommand];
