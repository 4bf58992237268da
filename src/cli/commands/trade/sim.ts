/**
 * `qiandao sim trade` — load test: N simulated terminals sign on, then send a mix of transactions
 * (purchase, balance, void, refund, QR) at a target total rate for a given time. A progress bar
 * goes to stderr when it is a terminal; the summary (rate, latency percentiles, response codes)
 * goes to stdout.
 *
 * Cards: --cards FILE lists test cards the host's issuer knows, one per line `PAN,YYMM[,PIN]`, or a
 * JSON array of { pan, expiry, pin? }, or one such object (`qiandao card add --json` prints one;
 * add the PIN the card was made with). The file holds clear test PANs and PINs: test cards only.
 *
 * Operators: with an operator password (--operator-password-file, --operator-password-stdin or
 * QIANDAO_OPERATOR_PASSWORD; never an argument, --operator-password is refused as in the
 * `terminal` commands) each terminal signs the --operator on after its own sign-on (operators need the permissions of the mix: a cashier may
 * sell and ask balances; voids and refunds need a supervisor or a grant, else Q2).
 *
 * Exit 1 when no terminal signed on or when transactions got no usable answer (timeouts, bad MACs,
 * dropped links); declines are normal outcomes of a mix and do not fail the run.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TerminalError, type TerminalClient } from '../../../terminal/index.js';
import { describeOperatorCode, operatorSignOn } from '../../../terminal/operators.js';
import {
  DEFAULT_TRADE_MIX,
  parseTradeMix,
  runTradeSim,
  tradeProgressLine,
  type SimCard,
  type TradeMix,
  type TradeSimProgress,
  type TradeSimSummary,
} from '../../../terminal/sim/trade.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson, readSecretLines, refuseStrayArguments, shownValue } from '../../io.js';
import { FLEET_OPTIONS, parseFleet, parseScheme, readTmkFile, requireString } from '../sim/options.js';
import { OPERATOR_PASSWORD_LINE, OPERATOR_PASSWORD_NOTE, OPERATOR_PASSWORD_USAGE, operatorPassword, planOperatorPassword, refuseOperatorPasswordArgument } from './connect.js';

/** Parse a cards file: lines `PAN,YYMM[,PIN]` (`#` comments), a JSON array of { pan, expiry, pin? }, or one such object. */
export function parseCardsText(text: string, file = 'cards'): SimCard[] {
  const trimmed = text.trim();
  let raw: Array<{ pan?: unknown; expiry?: unknown; pin?: unknown }>;
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new CliError(`--cards ${file}: not valid JSON (${(e as Error).message})`);
    }
    // one object: the output of `qiandao card add --json`
    raw = (Array.isArray(parsed) ? parsed : [parsed]) as typeof raw;
  } else {
    raw = trimmed
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const [pan, expiry, pin] = l.split(/[,\s]+/);
        return { pan, expiry, pin };
      });
  }
  const cards: SimCard[] = raw.map((c, i) => {
    const where = `--cards ${file}: card ${i + 1}`;
    if (typeof c?.pan !== 'string' || !/^\d{13,19}$/.test(c.pan)) throw new CliError(`${where}: PAN must be 13 to 19 digits`);
    if (typeof c.expiry !== 'string' || !/^\d{2}(0[1-9]|1[0-2])$/.test(c.expiry)) throw new CliError(`${where}: expiry must be YYMM`);
    if (c.pin !== undefined && c.pin !== '' && (typeof c.pin !== 'string' || !/^\d{4,12}$/.test(c.pin))) throw new CliError(`${where}: PIN must be 4 to 12 digits`);
    return { pan: c.pan, expiry: c.expiry, ...(typeof c.pin === 'string' && c.pin !== '' ? { pin: c.pin } : {}) };
  });
  if (cards.length === 0) throw new CliError(`--cards ${file} lists no cards`);
  return cards;
}

/** Operator sign-on at one simulated terminal; a refusal fails that terminal's start-up. */
async function signOnOperator(client: TerminalClient, operatorNo: string, password: string): Promise<void> {
  const a = await operatorSignOn(client, operatorNo, password);
  if (!a.approved) throw new TerminalError('DECLINED', `operator ${operatorNo} sign-on refused: ${a.responseCode} ${a.meaning}`, { responseCode: a.responseCode });
  if (!a.macValid) throw new TerminalError('MAC_MISMATCH', `operator ${operatorNo} sign-on answer has a wrong or missing MAC`);
}

function fmtLatency(l: TradeSimSummary['latencyMs']): string {
  return l === null ? '-' : `p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}`;
}

export function formatTradeSummary(s: TradeSimSummary): string {
  const lines = [
    `terminals       ${s.terminalsReady} of ${s.terminals} signed on; operators ${s.operators}`,
    `elapsed         ${(s.elapsedMs / 1000).toFixed(2)} s (target ${s.targetTps} tx/s for ${s.durationS} s)`,
    `transactions    ${s.transactions} (${s.approved} approved)`,
    `throughput      ${s.tps} tx/s answered; ${s.approvedPurchasesPerSecond} approved purchases/s`,
    `latency (ms)    ${fmtLatency(s.latencyMs)}`,
    'by kind',
  ];
  for (const [k, v] of Object.entries(s.byKind).sort()) {
    lines.push(`  ${k.padEnd(10)} ${String(v.count).padStart(7)}  approved ${String(v.approved).padStart(7)}  ${fmtLatency(v.latencyMs)}`);
  }
  lines.push('response codes');
  for (const code of Object.keys(s.responseCodes).sort()) {
    lines.push(`  ${`${code} ${describeOperatorCode(code)}`.padEnd(40)} ${s.responseCodes[code]}`);
  }
  const failures = Object.keys(s.failures).sort();
  if (failures.length > 0) {
    lines.push('no usable answer');
    for (const f of failures) lines.push(`  ${f.padEnd(40)} ${s.failures[f]}`);
  }
  lines.push(`reversals       ${s.reversals.queued} queued, ${s.reversals.acknowledged} acknowledged, ${s.reversals.pending} pending at the end`);
  const sf = Object.keys(s.signOnFailures).sort();
  if (sf.length > 0) lines.push(`sign-on failures ${sf.map((k) => `${k} ${s.signOnFailures[k]}`).join(', ')}`);
  return lines.join('\n');
}

function ttyTradeProgress(stream: NodeJS.WriteStream = process.stderr): { update: (p: TradeSimProgress) => void; end: () => void } {
  const tty = stream.isTTY === true;
  let drawn = false;
  let last = 0;
  return {
    update(p) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      stream.write(`\r${tradeProgressLine(p)}\x1b[K`);
      drawn = true;
    },
    end() {
      if (tty && drawn) stream.write('\n');
    },
  };
}

export const simTradeCommand: Command = {
  path: ['sim', 'trade'],
  summary: 'Load test: N simulated terminals sign on and send a transaction mix at T tx/s for S seconds',
  usage:
    'qiandao sim trade --host 127.0.0.1 --port 5000 --mid 898110070110001 --tid-prefix 1000 --terminals 10 --tps 50 --duration 10 --tmk-file tmk.hex --cards cards.txt [--mix purchase=80,balance=10,void=5,refund=5,qr=0] [--scheme 004] ' +
    `${OPERATOR_PASSWORD_USAGE} [--timeout 30] [--json]${OPERATOR_PASSWORD_NOTE}`,
  async run(argv) {
    refuseOperatorPasswordArgument(argv);
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...FLEET_OPTIONS,
        tps: { type: 'string', default: '10' },
        duration: { type: 'string', default: '10' },
        mix: { type: 'string' },
        cards: { type: 'string' },
        operator: { type: 'string', default: '01' },
        'operator-password-file': { type: 'string' },
        'operator-password-stdin': { type: 'boolean', default: false },
      },
    });
    // the parser would quote a stray argument, and one after --operator-password-stdin may be the password
    refuseStrayArguments(positionals, 'options only: the operator password goes on standard input (--operator-password-stdin) or in a file');
    const { host, port, merchantNo, prefix, terminals } = parseFleet(values);
    const tps = Number(values.tps);
    if (!/^\d+(\.\d+)?$/.test(values.tps ?? '') || !(tps > 0)) throw new CliError(`--tps must be a positive number, got '${values.tps}'`);
    const durationS = Number(values.duration);
    if (!/^\d+(\.\d+)?$/.test(values.duration ?? '') || !(durationS > 0) || durationS > 86_400) throw new CliError(`--duration must be 0 < seconds <= 86400, got '${values.duration}'`);
    let mix: TradeMix = DEFAULT_TRADE_MIX;
    if (values.mix !== undefined) {
      try {
        mix = parseTradeMix(values.mix);
      } catch (e) {
        throw new CliError(`--mix: ${(e as Error).message}`);
      }
    }
    const operator = values.operator ?? '01';
    if (!/^[0-9A-Za-z ]{1,3}$/.test(operator)) throw new CliError(`--operator must be 1 to 3 characters, got ${shownValue(operator, 3)}`);
    const passwordPlan = planOperatorPassword({ ...values, operator });
    const keyScheme = parseScheme(values.scheme);
    const timeoutS = Number(values.timeout);
    if (!(timeoutS > 0)) throw new CliError(`--timeout must be a positive number of seconds, got '${values.timeout}'`);
    const cardsFile = requireString(values.cards, '--cards');
    let cardsText: string;
    try {
      cardsText = readFileSync(cardsFile, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read --cards ${cardsFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const cards = parseCardsText(cardsText, cardsFile);
    const tmk = readTmkFile(values['tmk-file']);
    // last, once every option has passed: standard input holds nothing but the password here
    let password: string | undefined;
    try {
      const lines = await readSecretLines(passwordPlan.from === 'stdin' ? [OPERATOR_PASSWORD_LINE] : []);
      password = operatorPassword(passwordPlan, passwordPlan.from === 'stdin' ? { text: lines[0]!, lineNo: 1 } : undefined);
    } catch (e) {
      tmk.fill(0);
      throw e;
    }

    const progress = ttyTradeProgress(process.stderr);
    const abort = new AbortController();
    const onSigint = (): void => abort.abort();
    process.once('SIGINT', onSigint);
    let summary: TradeSimSummary;
    try {
      summary = await runTradeSim({
        host,
        port,
        merchantNo,
        terminalPrefix: prefix,
        terminals,
        tmk,
        keyScheme,
        operatorNo: operator.padEnd(3, ' '),
        ...(password !== undefined
          ? { operatorSignOn: (client) => signOnOperator(client, operator, password) }
          : { operatorNote: 'no operator password given (the host refuses financial requests with Q1 without an operator)' }),
        tps,
        durationS,
        mix,
        cards,
        requestTimeoutMs: Math.round(timeoutS * 1000),
        onProgress: progress.update,
        signal: abort.signal,
      });
    } finally {
      process.off('SIGINT', onSigint);
      progress.end();
      tmk.fill(0);
    }
    if (values.json) printJson(summary);
    else process.stdout.write(formatTradeSummary(summary) + '\n');
    if (summary.terminalsReady === 0) throw new CliError(`no terminal signed on (${JSON.stringify(summary.signOnFailures)})`, 1);
    const noAnswer = Object.values(summary.failures).reduce((a, b) => a + b, 0);
    if (noAnswer > 0) throw new CliError(`${noAnswer} of ${summary.transactions} transactions got no usable answer`, 1);
  },
};
