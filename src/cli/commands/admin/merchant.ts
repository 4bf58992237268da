/**
 * `qiandao merchant add|list|show|disable` — merchants in the host's store.
 *
 * `merchant disable` suspends the merchant (status `suspended`, reversible in the store); with
 * `--close` the merchant is closed for good (status `closed`). Either way the host refuses the
 * merchant's transactions (response 03, invalid merchant).
 */
import { parseArgs } from 'node:util';
import {
  addMerchant,
  appendEvent,
  getMerchant,
  isStoreError,
  listMerchants,
  listTerminals,
  setMerchantStatus,
  updateMerchant,
  type Merchant,
  type MerchantStatus,
} from '../../../store/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { STORE_OPTIONS, STORE_USAGE, withStore } from '../../store-options.js';
import { cliActor, mcc, merchantNo, merchantNotFound, oneOf, printFields, printTable, required, when } from './common.js';

const STATUSES: readonly MerchantStatus[] = ['active', 'suspended', 'closed'];

const ADD_USAGE = `qiandao merchant add --merchant 898110070110001 --name NAME --mcc 5411 [--tz Asia/Shanghai] [--json] ${STORE_USAGE}`;
export const merchantAddCommand: Command = {
  path: ['merchant', 'add'],
  summary: 'Add a merchant (15-character merchant number, name, 4-digit MCC, IANA time zone)',
  usage: ADD_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...STORE_OPTIONS,
        merchant: { type: 'string' },
        name: { type: 'string' },
        mcc: { type: 'string' },
        tz: { type: 'string', default: 'Asia/Shanghai' },
        json: { type: 'boolean', default: false },
      },
    });
    const no = merchantNo(values.merchant, ADD_USAGE);
    const name = required(values.name, 'name', ADD_USAGE);
    if (name.length > 200) throw new CliError('--name must be at most 200 characters');
    const code = mcc(values.mcc, ADD_USAGE);
    const tz = values.tz;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      throw new CliError(`--tz must be an IANA time-zone name (e.g. Asia/Shanghai), got '${tz}'`);
    }
    const m = await withStore(values, async (db) => {
      try {
        const added = await addMerchant(db, { merchantNo: no, name, mcc: code, timeZone: tz });
        await appendEvent(db, { type: 'admin.merchant.added', ok: true, merchantNo: no, resource: `merchant:${no}`, ...cliActor(), detail: { mcc: code, timeZone: tz } });
        return added;
      } catch (e) {
        if (isStoreError(e, 'DUPLICATE')) throw new CliError(`merchant ${no} already exists`);
        throw e;
      }
    });
    if (values.json) printJson(m);
    else process.stdout.write(`merchant ${m.merchantNo} added (${m.name}, MCC ${m.mcc}, ${m.timeZone}, ${m.status})\n`);
  },
};

const LIST_USAGE = `qiandao merchant list [--status active|suspended|closed] [--json] ${STORE_USAGE}`;
export const merchantListCommand: Command = {
  path: ['merchant', 'list'],
  summary: 'List merchants, optionally by status',
  usage: LIST_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, status: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const status = oneOf(values.status, 'status', STATUSES);
    const list = await withStore(values, (db) => listMerchants(db, status !== undefined ? { status } : {}));
    if (values.json) {
      printJson(list);
      return;
    }
    if (list.length === 0) {
      process.stdout.write('no merchants\n');
      return;
    }
    printTable(
      ['MERCHANT', 'STATUS', 'MCC', 'TIME ZONE', 'NAME'],
      list.map((m) => [m.merchantNo, m.status, m.mcc, m.timeZone, m.name]),
    );
  },
};

const SHOW_USAGE = `qiandao merchant show --merchant 898110070110001 [--json] ${STORE_USAGE}`;
export const merchantShowCommand: Command = {
  path: ['merchant', 'show'],
  summary: 'Show one merchant and its terminals',
  usage: SHOW_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, merchant: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const no = merchantNo(values.merchant, SHOW_USAGE);
    const { m, terminals } = await withStore(values, async (db) => {
      const found = await getMerchant(db, no);
      if (!found) throw merchantNotFound(no);
      return { m: found, terminals: await listTerminals(db, { merchantNo: no }) };
    });
    if (values.json) {
      printJson({ ...m, terminals: terminals.map((t) => ({ terminalNo: t.terminalNo, status: t.status, connectionState: t.connectionState })) });
      return;
    }
    printMerchant(m);
    printFields([['terminals', terminals.length === 0 ? '-' : terminals.map((t) => `${t.terminalNo} (${t.status})`).join(', ')]]);
  },
};

function printMerchant(m: Merchant): void {
  printFields([
    ['merchant', m.merchantNo],
    ['name', m.name],
    ['mcc', m.mcc],
    ['time zone', m.timeZone],
    ['status', m.status],
    ['created', when(m.createdAt)],
    ['updated', when(m.updatedAt)],
  ]);
}

const DISABLE_USAGE = `qiandao merchant disable --merchant 898110070110001 [--close] ${STORE_USAGE}`;
export const merchantDisableCommand: Command = {
  path: ['merchant', 'disable'],
  summary: 'Suspend a merchant (--close: close it for good); the host then refuses its transactions',
  usage: DISABLE_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, merchant: { type: 'string' }, close: { type: 'boolean', default: false } },
    });
    const no = merchantNo(values.merchant, DISABLE_USAGE);
    const status: MerchantStatus = values.close ? 'closed' : 'suspended';
    const m = await withStore(values, async (db) => {
      try {
        const updated = await setMerchantStatus(db, no, status);
        await appendEvent(db, { type: `admin.merchant.${status}`, ok: true, merchantNo: no, resource: `merchant:${no}`, ...cliActor() });
        return updated;
      } catch (e) {
        if (isStoreError(e, 'NOT_FOUND')) throw merchantNotFound(no);
        throw e;
      }
    });
    process.stdout.write(`merchant ${m.merchantNo} ${m.status}\n`);
  },
};

const ENABLE_USAGE = `qiandao merchant enable --merchant 898110070110001 ${STORE_USAGE}`;
export const merchantEnableCommand: Command = {
  path: ['merchant', 'enable'],
  summary: 'Make a suspended merchant active again (a closed merchant stays closed)',
  usage: ENABLE_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, merchant: { type: 'string' } } });
    const no = merchantNo(values.merchant, ENABLE_USAGE);
    const m = await withStore(values, async (db) => {
      const current = await getMerchant(db, no);
      if (current === null) throw merchantNotFound(no);
      if (current.status === 'closed') throw new CliError(`merchant ${no} is closed for good and cannot be enabled; add a new merchant instead`);
      if (current.status === 'active') return current;
      const updated = await setMerchantStatus(db, no, 'active');
      await appendEvent(db, { type: 'admin.merchant.active', ok: true, merchantNo: no, resource: `merchant:${no}`, ...cliActor() });
      return updated;
    });
    process.stdout.write(`merchant ${m.merchantNo} ${m.status}\n`);
  },
};

const UPDATE_USAGE = `qiandao merchant update --merchant 898110070110001 [--name NAME] [--mcc 5411] [--tz Asia/Shanghai] [--json] ${STORE_USAGE}`;
export const merchantUpdateCommand: Command = {
  path: ['merchant', 'update'],
  summary: "Change a merchant's name, MCC or time zone",
  usage: UPDATE_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, merchant: { type: 'string' }, name: { type: 'string' }, mcc: { type: 'string' }, tz: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const no = merchantNo(values.merchant, UPDATE_USAGE);
    if (values.name === undefined && values.mcc === undefined && values.tz === undefined) {
      throw new CliError(`nothing to change: give --name, --mcc or --tz\nUsage: ${UPDATE_USAGE}`);
    }
    if (values.name !== undefined && (values.name.length < 1 || values.name.length > 200)) throw new CliError('--name must be 1 to 200 characters');
    const code = values.mcc === undefined ? undefined : mcc(values.mcc, UPDATE_USAGE);
    if (values.tz !== undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: values.tz });
      } catch {
        throw new CliError(`--tz must be an IANA time-zone name (e.g. Asia/Shanghai), got '${values.tz}'`);
      }
    }
    const patch = {
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(code !== undefined ? { mcc: code } : {}),
      ...(values.tz !== undefined ? { timeZone: values.tz } : {}),
    };
    const m = await withStore(values, async (db) => {
      try {
        const updated = await updateMerchant(db, no, patch);
        await appendEvent(db, { type: 'admin.merchant.updated', ok: true, merchantNo: no, resource: `merchant:${no}`, ...cliActor(), detail: { changed: Object.keys(patch) } });
        return updated;
      } catch (e) {
        if (isStoreError(e, 'NOT_FOUND')) throw merchantNotFound(no);
        throw e;
      }
    });
    if (values.json) printJson(m);
    else printMerchant(m);
  },
};

export const merchantCommands: Command[] = [
  merchantAddCommand,
  merchantListCommand,
  merchantShowCommand,
  merchantUpdateCommand,
  merchantDisableCommand,
  merchantEnableCommand,
];
