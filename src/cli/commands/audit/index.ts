/**
 * `qiandao audit verify|tail|seal` — the tamper-evident audit trail (src/audit).
 *
 * verify: walks the hash chain and exits 1 naming the first broken link (0 when intact; events
 * not yet sealed are counted, not failed). tail: the newest events, oldest first, optionally
 * filtered, and `--follow` to keep printing. seal: link what is not yet linked (the host and the
 * console do this every second on their own).
 */
import { parseArgs } from 'node:util';
import { sealAll, verifyChain } from '../../../audit/index.js';
import { listEvents, type StoreEvent } from '../../../store/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { STORE_OPTIONS, STORE_USAGE, withStore } from '../../store-options.js';
import { printTable } from '../admin/common.js';

const VERIFY_USAGE = `qiandao audit verify [--json] ${STORE_USAGE}`;
const verifyCommand: Command = {
  path: ['audit', 'verify'],
  summary: 'Verify the audit hash chain; exit 1 at the first broken link',
  usage: VERIFY_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, json: { type: 'boolean', default: false } } });
    const v = await withStore(values, (db) => verifyChain(db));
    if (values.json) printJson(v);
    else if (v.ok) process.stdout.write(`audit chain intact: ${v.verified} links verified, ${v.unsealed} events not yet sealed\n`);
    if (!v.ok && v.broken !== null) {
      const b = v.broken;
      throw new CliError(
        `audit chain broken at link ${b.seq} (event ${b.eventId ?? '-'}): ${b.kind}: ${b.detail}; ${v.verified} links before it verified`,
        1,
      );
    }
  },
};

const SEAL_USAGE = `qiandao audit seal ${STORE_USAGE}`;
const sealCommand: Command = {
  path: ['audit', 'seal'],
  summary: 'Link events not yet in the audit hash chain',
  usage: SEAL_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS } });
    const n = await withStore(values, (db) => sealAll(db));
    process.stdout.write(`sealed ${n} events\n`);
  },
};

function row(e: StoreEvent): string[] {
  const who = [e.merchantNo, e.terminalNo, e.operatorNo].filter((x) => x !== null).join('/');
  return [e.id, e.at.toISOString(), e.type, e.ok ? 'ok' : 'FAIL', e.actor ?? '-', e.origin ?? '-', e.resource ?? (who === '' ? '-' : who)];
}

const TAIL_USAGE = `qiandao audit tail [-n 20] [--type T] [--actor A] [--resource R] [--merchant M] [--terminal T] [--failed] [--since ISO] [--follow] [--json] ${STORE_USAGE}`;
const tailCommand: Command = {
  path: ['audit', 'tail'],
  summary: 'Print the newest audit events (filters; --follow keeps printing)',
  usage: TAIL_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...STORE_OPTIONS,
        n: { type: 'string', short: 'n', default: '20' },
        type: { type: 'string' },
        actor: { type: 'string' },
        resource: { type: 'string' },
        merchant: { type: 'string' },
        terminal: { type: 'string' },
        failed: { type: 'boolean', default: false },
        since: { type: 'string' },
        follow: { type: 'boolean', default: false },
        'interval-ms': { type: 'string', default: '1000' },
        json: { type: 'boolean', default: false },
      },
    });
    const n = Number(values.n);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new CliError(`-n must be a whole number from 1 to 10000, got '${values.n}'`);
    let since: Date | undefined;
    if (values.since !== undefined) {
      since = new Date(values.since);
      if (Number.isNaN(since.getTime())) throw new CliError(`--since must be an ISO-8601 time, got '${values.since}'`);
    }
    const interval = Number(values['interval-ms']);
    if (!Number.isInteger(interval) || interval < 100) throw new CliError('--interval-ms must be a whole number of at least 100');
    const filter = {
      ...(values.type !== undefined ? { type: values.type } : {}),
      ...(values.actor !== undefined ? { actor: values.actor } : {}),
      ...(values.resource !== undefined ? { resource: values.resource } : {}),
      ...(values.merchant !== undefined ? { merchantNo: values.merchant } : {}),
      ...(values.terminal !== undefined ? { terminalNo: values.terminal } : {}),
      ...(values.failed ? { ok: false } : {}),
      ...(since !== undefined ? { since } : {}),
    };
    const print = (events: StoreEvent[]): void => {
      if (values.json) for (const e of events) process.stdout.write(JSON.stringify(e) + '\n');
      else if (events.length > 0) printTable(['ID', 'AT', 'TYPE', 'RESULT', 'ACTOR', 'ORIGIN', 'RESOURCE'], events.map(row));
    };
    await withStore(values, async (db) => {
      const newest = await listEvents(db, { ...filter, limit: n, order: 'desc' });
      const first = newest.reverse();
      print(first);
      if (!values.follow) return;
      let last = first.at(-1)?.id ?? (await listEvents(db, { limit: 1, order: 'desc' }))[0]?.id ?? '0';
      let stop = false;
      const onSignal = (): void => {
        stop = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        while (!stop) {
          await new Promise((r) => setTimeout(r, interval));
          const more = await listEvents(db, { ...filter, afterId: last, order: 'asc', limit: 1000 });
          if (more.length > 0) {
            print(more);
            last = more.at(-1)!.id;
          }
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  },
};

export const auditCommands: Command[] = [verifyCommand, tailCommand, sealCommand];
