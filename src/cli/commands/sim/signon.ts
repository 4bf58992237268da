/**
 * `qiandao sim signon` — load test: sign N simulated terminals on with at most C at once.
 *
 * Terminal numbers are the prefix followed by a zero-padded sequence number (prefix 1000, 20
 * terminals → 10000001..10000020). Every simulated terminal uses the SAME clear TMK from
 * --tmk-file, so provision the terminals with that one TMK first. Progress is drawn on stderr
 * when it is a terminal; the summary goes to stdout. Exit 1 when any sign-on failed.
 */
import { parseArgs } from 'node:util';
import { runSignOnSim, ttyProgress, type SignOnSimSummary } from '../../../terminal/sim/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { describeResponseCode } from '../../../terminal/index.js';
import { FLEET_OPTIONS, parseFleet, parsePositiveInt, parseScheme, readTmkFile } from './options.js';

export function formatSimSummary(s: SignOnSimSummary): string {
  const lines = [
    `sign-ons        ${s.succeeded} succeeded, ${s.failed} failed of ${s.terminals} (concurrency ${s.concurrency})`,
    `elapsed         ${s.elapsedMs} ms`,
    `throughput      ${s.signOnsPerSecond} sign-ons/s`,
    s.latencyMs === null
      ? 'latency (ms)    -'
      : `latency (ms)    p50 ${s.latencyMs.p50}  p95 ${s.latencyMs.p95}  p99 ${s.latencyMs.p99}  max ${s.latencyMs.max}`,
  ];
  const keys = Object.keys(s.failures).sort();
  if (keys.length > 0) {
    lines.push('failures');
    for (const k of keys) {
      const what = /^[0-9A-Z]{2}$/.test(k) ? `${k} ${describeResponseCode(k)}` : k;
      lines.push(`  ${what.padEnd(40)} ${s.failures[k]}`);
    }
  }
  return lines.join('\n');
}

export const simSignOnCommand: Command = {
  path: ['sim', 'signon'],
  summary: 'Load test: sign N simulated terminals on (same TMK for all) with at most C at once',
  usage:
    'qiandao sim signon --host 127.0.0.1 --port 5000 --mid 898110070110001 --tid-prefix 1000 --terminals 100 --concurrency 10 --tmk-file tmk.hex [--scheme 004] [--timeout 30] [--json]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...FLEET_OPTIONS, concurrency: { type: 'string', default: '10' } },
    });
    const { host, port, merchantNo, prefix, terminals } = parseFleet(values);
    const concurrency = parsePositiveInt(values.concurrency, '--concurrency');
    const keyScheme = parseScheme(values.scheme);
    const timeoutS = Number(values.timeout);
    if (!(timeoutS > 0)) throw new CliError(`--timeout must be a positive number of seconds, got '${values.timeout}'`);
    const tmk = readTmkFile(values['tmk-file']);

    const progress = ttyProgress(process.stderr);
    let summary: SignOnSimSummary;
    try {
      summary = await runSignOnSim({
        host,
        port,
        merchantNo,
        terminalPrefix: prefix,
        terminals,
        concurrency,
        tmk,
        keyScheme,
        operatorNo: '01 ',
        requestTimeoutMs: Math.round(timeoutS * 1000),
        onProgress: progress.update,
      });
    } finally {
      progress.end();
      tmk.fill(0);
    }

    if (values.json) {
      printJson({ ...summary, outcomes: summary.outcomes.filter((o) => !o.ok) });
    } else {
      process.stdout.write(formatSimSummary(summary) + '\n');
    }
    if (summary.failed > 0) {
      const refused = summary.outcomes.find((o) => !o.ok && o.failure === 'CONNECT_FAILED');
      const hint = refused !== undefined ? ` (${refused.message ?? 'cannot connect'})` : '';
      throw new CliError(`${summary.failed} of ${summary.terminals} sign-ons failed${hint}`, 1);
    }
  },
};
