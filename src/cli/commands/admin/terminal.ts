/**
 * `qiandao terminal add|list|show|disable|rekey` — terminals in the host's store.
 *
 * `terminal disable` sets status `disabled` (the host refuses its transactions); `terminal rekey`
 * asks for new working keys: the host sets the sign-on-again indicator in its next response and
 * issues a new key generation at the next sign-on. Admin actions are recorded as `admin.*` events.
 */
import { parseArgs } from 'node:util';
import {
  addTerminal,
  appendEvent,
  getMerchant,
  getTerminal,
  isStoreError,
  listEvents,
  listTerminals,
  requestRekey,
  setTerminalStatus,
  type Db,
  type StoreEvent,
  type Terminal,
  type TerminalRef,
} from '../../../store/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { STORE_OPTIONS, STORE_USAGE, withStore } from '../../store-options.js';
import { cliActor, merchantNo, merchantNotFound, oneOf, orTerminalNotFound, printFields, printTable, terminalNo, terminalNotFound, when } from './common.js';

/** A terminal as the CLI shows it: everything but the LMK-wrapped TMK block. */
export function terminalView(t: Terminal): Omit<Terminal, 'tmkBlock'> {
  const { tmkBlock: _block, ...rest } = t;
  return rest;
}

const REF_OPTIONS = { merchant: { type: 'string' }, terminal: { type: 'string' } } as const;

function refFrom(values: { merchant?: string | undefined; terminal?: string | undefined }, usage: string): TerminalRef {
  return { merchantNo: merchantNo(values.merchant, usage), terminalNo: terminalNo(values.terminal, usage) };
}

/** The terminal, or exit 2 naming what is missing (the merchant or the terminal). */
export async function findTerminal(db: Db, ref: TerminalRef): Promise<Terminal> {
  const t = await getTerminal(db, ref);
  if (t) return t;
  if (!(await getMerchant(db, ref.merchantNo))) throw merchantNotFound(ref.merchantNo);
  throw terminalNotFound(ref);
}

const ADD_USAGE = `qiandao terminal add --merchant 898110070110001 --terminal 12345678 [--model M] [--serial S] [--json] ${STORE_USAGE}`;
export const terminalAddCommand: Command = {
  path: ['terminal', 'add'],
  summary: 'Add a terminal (8-character terminal number) to a merchant',
  usage: ADD_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, ...REF_OPTIONS, model: { type: 'string' }, serial: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const ref = refFrom(values, ADD_USAGE);
    const t = await withStore(values, async (db) => {
      if (!(await getMerchant(db, ref.merchantNo))) throw merchantNotFound(ref.merchantNo);
      try {
        const added = await addTerminal(db, { ...ref, model: values.model ?? null, serial: values.serial ?? null });
        await appendEvent(db, { type: 'admin.terminal.added', ok: true, ...ref, resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`, ...cliActor() });
        return added;
      } catch (e) {
        if (isStoreError(e, 'DUPLICATE')) throw new CliError(`terminal ${ref.terminalNo} of merchant ${ref.merchantNo} already exists`);
        throw e;
      }
    });
    if (values.json) printJson(terminalView(t));
    else process.stdout.write(`terminal ${t.terminalNo} added to merchant ${t.merchantNo} (no TMK yet: run \`qiandao terminal tmk\`)\n`);
  },
};

const LIST_USAGE = `qiandao terminal list [--merchant 898110070110001] [--status active|disabled] [--json] ${STORE_USAGE}`;
export const terminalListCommand: Command = {
  path: ['terminal', 'list'],
  summary: 'List terminals, optionally of one merchant or by status',
  usage: LIST_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, merchant: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const merchant = values.merchant !== undefined ? merchantNo(values.merchant, LIST_USAGE) : undefined;
    const status = oneOf(values.status, 'status', ['active', 'disabled'] as const);
    const list = await withStore(values, async (db) => {
      if (merchant !== undefined && !(await getMerchant(db, merchant))) throw merchantNotFound(merchant);
      return listTerminals(db, { ...(merchant !== undefined ? { merchantNo: merchant } : {}), ...(status !== undefined ? { status } : {}) });
    });
    if (values.json) {
      printJson(list.map(terminalView));
      return;
    }
    if (list.length === 0) {
      process.stdout.write('no terminals\n');
      return;
    }
    printTable(
      ['MERCHANT', 'TERMINAL', 'STATUS', 'CONN', 'BATCH', 'KEYGEN', 'TMK KCV', 'REKEY', 'LAST SIGN-ON'],
      list.map((t) => [
        t.merchantNo,
        t.terminalNo,
        t.status,
        t.connectionState,
        t.batchNo,
        String(t.keyGeneration),
        t.tmkKcv ?? '-',
        t.rekeyRequested ? 'yes' : 'no',
        when(t.lastSignOnAt),
      ]),
    );
  },
};

const SHOW_USAGE = `qiandao terminal show --merchant 898110070110001 --terminal 12345678 [--events 10] [--json] ${STORE_USAGE}`;
export const terminalShowCommand: Command = {
  path: ['terminal', 'show'],
  summary: 'Show one terminal: status, batch, keys, last sign-on and status report, connection, recent events',
  usage: SHOW_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, ...REF_OPTIONS, events: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
    });
    const ref = refFrom(values, SHOW_USAGE);
    const limit = Number(values.events);
    if (!Number.isInteger(limit) || limit < 0 || limit > 1000) throw new CliError(`--events must be 0..1000, got '${values.events}'`);
    const { t, events } = await withStore(values, async (db) => {
      const found = await findTerminal(db, ref);
      const ev = limit === 0 ? [] : await listEvents(db, { merchantNo: ref.merchantNo, terminalNo: ref.terminalNo, limit });
      return { t: found, events: ev };
    });
    if (values.json) {
      printJson({ ...terminalView(t), events });
      return;
    }
    printFields([
      ['merchant', t.merchantNo],
      ['terminal', t.terminalNo],
      ['status', t.status],
      ['model', t.model ?? '-'],
      ['serial', t.serial ?? '-'],
      ['connection', `${t.connectionState}${t.lastAddress ? ` (last address ${t.lastAddress})` : ''}`],
      ['batch', t.batchNo],
      ['TMK KCV', t.tmkKcv ?? '- (no TMK: run `qiandao terminal tmk`)'],
      ['key generation', `${t.keyGeneration}${t.keysIssuedAt ? ` (issued ${when(t.keysIssuedAt)})` : ''}`],
      ['rekey requested', t.rekeyRequested ? 'yes' : 'no'],
      ['last sign-on', `${when(t.lastSignOnAt)}${t.lastSignOnOperator ? ` (operator ${t.lastSignOnOperator.trim()})` : ''}`],
      ['last status', t.lastStatusAt ? `${when(t.lastStatusAt)} ${JSON.stringify(t.lastStatus)}` : '-'],
      ['parameters', `version ${t.paramsVersion}, downloaded ${t.paramsDownloadedVersion}`],
      ['created', when(t.createdAt)],
    ]);
    process.stdout.write(events.length === 0 ? 'recent events: none\n' : 'recent events:\n');
    for (const e of events) process.stdout.write(`  ${eventLine(e)}\n`);
  },
};

function eventLine(e: StoreEvent): string {
  const detail = e.detail === null || e.detail === undefined ? '' : ` ${JSON.stringify(e.detail)}`;
  return `${when(e.at)}  ${e.ok ? 'ok  ' : 'FAIL'}  ${e.type}${e.operatorNo ? ` op ${e.operatorNo.trim()}` : ''}${detail}`;
}

const DISABLE_USAGE = `qiandao terminal disable --merchant 898110070110001 --terminal 12345678 ${STORE_USAGE}`;
export const terminalDisableCommand: Command = {
  path: ['terminal', 'disable'],
  summary: 'Disable a terminal; the host then refuses its transactions',
  usage: DISABLE_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, ...REF_OPTIONS } });
    const ref = refFrom(values, DISABLE_USAGE);
    await withStore(values, async (db) => {
      await findTerminal(db, ref);
      await orTerminalNotFound(ref, setTerminalStatus(db, ref, 'disabled'));
      await appendEvent(db, { type: 'admin.terminal.disabled', ok: true, ...ref, resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`, ...cliActor() });
    });
    process.stdout.write(`terminal ${ref.terminalNo} of merchant ${ref.merchantNo} disabled\n`);
  },
};

const ENABLE_USAGE = `qiandao terminal enable --merchant 898110070110001 --terminal 12345678 ${STORE_USAGE}`;
export const terminalEnableCommand: Command = {
  path: ['terminal', 'enable'],
  summary: 'Enable a disabled terminal again',
  usage: ENABLE_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, ...REF_OPTIONS } });
    const ref = refFrom(values, ENABLE_USAGE);
    await withStore(values, async (db) => {
      await findTerminal(db, ref);
      await orTerminalNotFound(ref, setTerminalStatus(db, ref, 'active'));
      await appendEvent(db, { type: 'admin.terminal.enabled', ok: true, ...ref, resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`, ...cliActor() });
    });
    process.stdout.write(`terminal ${ref.terminalNo} of merchant ${ref.merchantNo} enabled\n`);
  },
};

const REKEY_USAGE = `qiandao terminal rekey --merchant 898110070110001 --terminal 12345678 ${STORE_USAGE}`;
export const terminalRekeyCommand: Command = {
  path: ['terminal', 'rekey'],
  summary: 'Ask for new working keys: the host tells the terminal to sign on again and issues a new key generation',
  usage: REKEY_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, ...REF_OPTIONS } });
    const ref = refFrom(values, REKEY_USAGE);
    await withStore(values, async (db) => {
      await findTerminal(db, ref);
      await orTerminalNotFound(ref, requestRekey(db, ref));
      await appendEvent(db, { type: 'admin.terminal.rekey_requested', ok: true, ...ref, resource: `terminal:${ref.merchantNo}/${ref.terminalNo}`, ...cliActor() });
    });
    process.stdout.write(`terminal ${ref.terminalNo} of merchant ${ref.merchantNo}: rekey requested (new working keys at its next sign-on)\n`);
  },
};
