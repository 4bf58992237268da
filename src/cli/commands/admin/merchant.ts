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

export const merchantCommands: Command[] = [merchantAddCommand, merchantListCommand, merchantShowCommand, merchantDisableCommand];
