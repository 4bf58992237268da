/**
 * `qiandao terminal sign-on` — act as one POS terminal: connect to a host over TCP, sign on
 * (0800, 60.3 = key scheme), decrypt the working keys with the clear TMK read from a file and
 * verify their check values.
 *
 * Exit codes: 0 signed on (39 = 00) · 1 refused by the host (code on stderr) or no connection ·
 * 2 bad input (missing/unreadable TMK file, bad hex, bad terminal/merchant number).
 */
import { parseArgs } from 'node:util';
import { ProcessingRequirement } from '../../framing/index.js';
import { TerminalClient, isTerminalError, type SignOnResult } from '../../terminal/index.js';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';
import { printJson } from '../io.js';
import { describeTerminalFailure } from './sim/options.js';
import { TERMINAL_OPTIONS, clientOptions } from './trade/connect.js';

const REQUIREMENT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ProcessingRequirement).map(([k, v]) => [v, k]));

export function processingRequirementName(n: number): string {
  return REQUIREMENT_NAMES[n] ?? 'unknown';
}

export const terminalSignOnCommand: Command = {
  path: ['terminal', 'sign-on'],
  summary: 'Sign a terminal on to a host over TCP and verify its working keys (clear TMK from a file)',
  usage:
    'qiandao terminal sign-on --host 127.0.0.1 --port 5000 --tid 12345678 --mid 898110070110001 --tmk-file tmk.hex [--scheme 001|003|004] [--operator 01] [--timeout 30] [--tls-ca host-cert.pem] [--json]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: TERMINAL_OPTIONS,
    });
    const { options, host, port, terminalNo, merchantNo, tmk } = clientOptions(values);
    const keyScheme = options.keyScheme;

    let client: TerminalClient | undefined;
    let result: SignOnResult;
    try {
      client = new TerminalClient(options);
      await client.connect();
      result = await client.signOn();
    } catch (e) {
      if (!isTerminalError(e)) throw e;
      if (e.reason === 'BAD_ARGUMENT') throw new CliError(e.message, 2);
      if (e.reason === 'DECLINED' && e.responseCode !== undefined) {
        if (values.json) printJson({ ok: false, terminalNo, merchantNo, responseCode: e.responseCode, meaning: e.meaning });
        throw new CliError(`sign-on refused: ${e.responseCode} ${e.meaning ?? ''}`.trimEnd(), 1);
      }
      throw new CliError(describeTerminalFailure(e, host, port), 1);
    } finally {
      tmk.fill(0);
      await client?.close().catch(() => undefined);
    }

    const requirement = `${result.processingRequirement} (${processingRequirementName(result.processingRequirement)})`;
    if (values.json) {
      printJson({
        ok: true,
        terminalNo,
        merchantNo,
        responseCode: result.responseCode,
        meaning: 'approved',
        batchNo: result.batchNo,
        keyScheme,
        kcvs: result.kcvs,
        hostTime: result.hostTime?.toISOString() ?? null,
        processingRequirement: result.processingRequirement,
        processingRequirementName: processingRequirementName(result.processingRequirement),
      });
      return;
    }
    const say = (s: string): void => void process.stdout.write(s + '\n');
    say(`terminal ${terminalNo} (merchant ${merchantNo}) signed on to ${host}:${port}`);
    say(`response        ${result.responseCode} approved`);
    say(`batch           ${result.batchNo}`);
    say(`key scheme      ${keyScheme}`);
    say(`check values    PIK ${result.kcvs.pik}  MAK ${result.kcvs.mak}  TDK ${result.kcvs.tdk ?? '-'}  (verified)`);
    say(`host time       ${result.hostTime?.toISOString() ?? '-'}`);
    say(`processing req. ${requirement}`);
  },
};
