/**
 * `qiandao terminal operator-sign-on | operator-sign-off | supervisor-approve` — the operator
 * messages from a terminal (docs/protocol-operators.md), one exchange per run: the terminal signs
 * on, then sends the operator message. The host keeps the operator's sign-on and a supervisor
 * approval between runs, so a later `qiandao terminal refund` from the same terminal uses them.
 * Passwords are read from standard input (first line).
 */
import { parseArgs } from 'node:util';
import { isPermission, normaliseOperatorNo } from '../../../operators/index.js';
import { TerminalClient, isTerminalError } from '../../../terminal/index.js';
import { clockStan } from '../../../terminal/trade.js';
import { operatorSignOff, operatorSignOn, supervisorApprove, type OperatorAnswer } from '../../../terminal/operators.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson, readStdin, shownValue } from '../../io.js';
import { describeTerminalFailure } from '../sim/options.js';
import { TERMINAL_OPTIONS, clientOptions, type ConnectionValues } from '../trade/connect.js';


/**
 * Validate the options, read the password from standard input when `withPassword` (only once
 * every option is known to be good), connect, sign the terminal on, run `fn`, close; terminal
 * failures become CLI errors (exit 1).
 */
async function withTerminal<T>(values: ConnectionValues, fn: (client: TerminalClient, password: string) => Promise<T>, withPassword = false): Promise<T> {
  const { options, host, port, tmk } = clientOptions(values, { firstStan: clockStan() });
  // --operator here names the operator of the message that follows, not the sign-on's field 63.
  const { operatorNo: _signOnOperator, ...withoutOperator } = options;
  let client: TerminalClient | undefined;
  try {
    const pw = withPassword ? await password() : '';
    client = new TerminalClient(withoutOperator);
    await client.connect();
    await client.signOn();
    return await fn(client, pw);
  } catch (e) {
    if (isTerminalError(e)) throw new CliError(describeTerminalFailure(e, host, port), e.reason === 'BAD_ARGUMENT' ? 2 : 1);
    throw e;
  } finally {
    await client?.close();
    tmk.fill(0);
  }
}

const CONN = '--host 127.0.0.1 --port 5000 --tid 12345678 --mid 898110070110001 --tmk-file tmk.hex [--scheme 004] [--timeout 30] [--tls-ca host-cert.pem] [--json]';

async function password(): Promise<string> {
  const text = (await readStdin()).split(/\r?\n/)[0]?.trim() ?? '';
  if (!/^[0-9]{4,12}$/.test(text)) throw new CliError('the password (standard input, first line) must be 4 to 12 digits');
  return text;
}

function operatorArg(raw: string | undefined, name: string): string {
  const n = normaliseOperatorNo(raw);
  if (n === null) throw new CliError(`${name} must be two digits 00-99, got ${raw === undefined ? 'nothing' : shownValue(raw, 3)}`);
  return n;
}

function report(what: string, a: OperatorAnswer, json: boolean): void {
  if (json) printJson(a);
  else process.stdout.write(`${what}: ${a.responseCode} ${a.meaning}${a.macValid ? '' : ' (response MAC not verified)'}\n`);
  if (!a.approved) throw new CliError(`${what} refused: ${a.responseCode} ${a.meaning}`, 1);
  if (!a.macValid) throw new CliError(`${what}: the host's answer has a wrong or missing MAC`, 1);
}

const SIGN_ON_USAGE = `qiandao terminal operator-sign-on ${CONN} --operator 01  (password on stdin)`;
const signOn: Command = {
  path: ['terminal', 'operator-sign-on'],
  summary: 'Sign the terminal on, then an operator (password checked by the host)',
  usage: SIGN_ON_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: TERMINAL_OPTIONS });
    const op = operatorArg(values.operator, '--operator');
    const a = await withTerminal(values, (client, pw) => operatorSignOn(client, op, pw), true);
    report(`operator ${op} sign-on`, a, values.json);
  },
};

const SIGN_OFF_USAGE = `qiandao terminal operator-sign-off ${CONN} --operator 01`;
const signOff: Command = {
  path: ['terminal', 'operator-sign-off'],
  summary: 'Sign an operator off at a terminal',
  usage: SIGN_OFF_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: TERMINAL_OPTIONS });
    const op = operatorArg(values.operator, '--operator');
    report(`operator ${op} sign-off`, await withTerminal(values, (client) => operatorSignOff(client, op)), values.json);
  },
};

const APPROVE_USAGE = `qiandao terminal supervisor-approve ${CONN} --permission refund [--approver 00]  (supervisor password on stdin)`;
const approve: Command = {
  path: ['terminal', 'supervisor-approve'],
  summary: 'A supervisor approves one request (e.g. a refund) for the operator signed on at a terminal',
  usage: APPROVE_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...TERMINAL_OPTIONS, permission: { type: 'string' }, approver: { type: 'string', default: '00' } } });
    const permission = values.permission;
    if (!isPermission(permission)) throw new CliError(`--permission must be sale, balance, void, refund, settle, manage-operators, reprint or preauth\nUsage: ${APPROVE_USAGE}`);
    const approver = operatorArg(values.approver, '--approver');
    const a = await withTerminal(values, (client, pw) => supervisorApprove(client, { permission, password: pw, approverNo: approver }), true);
    report(`approval of ${permission} by ${approver}`, a, values.json);
  },
};

export const terminalOperatorCommands: Command[] = [signOn, signOff, approve];
