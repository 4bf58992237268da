/**
 * `qiandao risk rules list|set|reset` — risk rules as data: built-in defaults, overrides for every
 * merchant (scope '*') and per merchant. `qiandao risk firings` — which rules fired on what, and why.
 * `qiandao alerts list|ack|scan` — monitoring alerts (sign-on anomalies, risk reviews); `scan` runs
 * the sign-on monitor once over the new events (for a store without a running host, or cron).
 */
import { parseArgs } from 'node:util';
import {
  acknowledgeAlert,
  ALL_MERCHANTS,
  listAlerts,
  listFirings,
  listStoredRules,
  pruneObservations,
  resetRules,
  resolveRules,
  RiskError,
  runMonitorOnce,
  setRule,
  type AlertSeverity,
  type ResolvedRule,
  type RulePatch,
} from '../../../risk/index.js';
import { getMerchant, type Db } from '../../../store/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { parseJsonText, printJson } from '../../io.js';
import { STORE_OPTIONS, STORE_USAGE, withStore } from '../../store-options.js';
import { cliActor, MERCHANT_RE, oneOf, printTable, when } from '../admin/common.js';

/** RiskError -> one-line CLI error (exit 2). */
async function orCliError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof RiskError) throw new CliError(e.message);
    throw e;
  }
}

function merchantOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!MERCHANT_RE.test(value)) throw new CliError(`--merchant must be 15 letters or digits (field 42), got '${value}' (${value.length} characters)`);
  return value;
}

async function requireMerchantExists(db: Db, merchantNo: string): Promise<void> {
  if ((await getMerchant(db, merchantNo)) === null) throw new CliError(`merchant ${merchantNo} not found`);
}

function ruleJson(r: ResolvedRule): Record<string, unknown> {
  return { ...r.definition, enabled: r.definition.enabled !== false, responseCode: r.definition.outcome === 'decline' ? r.responseCode : r.definition.responseCode, stage: r.kind.stage, source: r.source };
}

function paramsText(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
}

const LIST_USAGE = `qiandao risk rules list [--merchant 898110070110001] [--stored] [--json] ${STORE_USAGE}`;
export const riskRulesListCommand: Command = {
  path: ['risk', 'rules', 'list'],
  summary: 'List the risk rules in force (for a merchant, or the defaults); --stored: the stored overrides',
  usage: LIST_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, merchant: { type: 'string' }, stored: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    });
    const merchant = merchantOption(values.merchant);
    if (values.stored) {
      const rows = await withStore(values, async (db) => listStoredRules(db, merchant !== undefined ? { scope: merchant } : {}));
      if (values.json) {
        printJson(rows);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('no stored overrides: the built-in defaults apply\n');
        return;
      }
      printTable(
        ['SCOPE', 'RULE', 'UPDATED', 'BY', 'OVERRIDE'],
        rows.map((r) => [r.scope, r.ruleId, when(r.updatedAt), r.updatedBy ?? '-', JSON.stringify(r.rule)]),
      );
      return;
    }
    const rules = await withStore(values, async (db) => {
      if (merchant !== undefined) await requireMerchantExists(db, merchant);
      return resolveRules(db, merchant ?? null);
    });
    if (values.json) {
      printJson(rules.map(ruleJson));
      return;
    }
    printTable(
      ['RULE', 'KIND', 'ON', 'OUTCOME', 'CODE', 'SOURCE', 'PARAMS'],
      rules.map((r) => [
        r.definition.id,
        r.definition.kind,
        r.definition.enabled === false ? 'off' : 'on',
        r.kind.stage === 'monitor' ? 'alert' : r.definition.outcome,
        r.definition.outcome === 'decline' && r.kind.stage === 'transaction' ? r.responseCode : '-',
        r.source,
        paramsText(r.definition.params),
      ]),
    );
  },
};

const SET_USAGE =
  'qiandao risk rules set --id RULE [--merchant 898110070110001 | --all-merchants] [--kind KIND] [--params JSON] ' +
  `[--outcome flag|review|decline] [--response-code 61] [--enable | --disable] [--description TEXT] [--rule JSON] [--json] ${STORE_USAGE}`;
export const riskRulesSetCommand: Command = {
  path: ['risk', 'rules', 'set'],
  summary: 'Override a risk rule for one merchant or for all (params merged; a new id needs kind, params and outcome)',
  usage: SET_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...STORE_OPTIONS,
        id: { type: 'string' },
        merchant: { type: 'string' },
        'all-merchants': { type: 'boolean', default: false },
        kind: { type: 'string' },
        params: { type: 'string' },
        outcome: { type: 'string' },
        'response-code': { type: 'string' },
        enable: { type: 'boolean', default: false },
        disable: { type: 'boolean', default: false },
        description: { type: 'string' },
        rule: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (values.id === undefined || values.id === '') throw new CliError(`--id is required\nUsage: ${SET_USAGE}`);
    const merchant = merchantOption(values.merchant);
    if (merchant === undefined && !values['all-merchants']) throw new CliError('give --merchant M, or --all-merchants to change the rule for every merchant');
    if (merchant !== undefined && values['all-merchants']) throw new CliError('--merchant and --all-merchants exclude each other');
    if (values.enable && values.disable) throw new CliError('--enable and --disable exclude each other');
    const patch: Record<string, unknown> = values.rule !== undefined ? (parseJsonText(values.rule, '--rule') as Record<string, unknown>) : {};
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new CliError('--rule must be a JSON object');
    if (values.kind !== undefined) patch['kind'] = values.kind;
    if (values.params !== undefined) patch['params'] = parseJsonText(values.params, '--params');
    if (values.outcome !== undefined) patch['outcome'] = values.outcome;
    if (values['response-code'] !== undefined) patch['responseCode'] = values['response-code'];
    if (values.enable) patch['enabled'] = true;
    if (values.disable) patch['enabled'] = false;
    if (values.description !== undefined) patch['description'] = values.description;
    if (Object.keys(patch).length === 0) throw new CliError('nothing to set: give --params, --outcome, --response-code, --enable/--disable, --kind or --rule');
    const scope = merchant ?? ALL_MERCHANTS;
    const rule = await withStore(values, async (db) => {
      if (merchant !== undefined) await requireMerchantExists(db, merchant);
      return orCliError(setRule(db, { scope, ruleId: values.id as string, patch: patch as RulePatch, actor: cliActor().actor }));
    });
    if (values.json) {
      printJson(ruleJson(rule));
      return;
    }
    const d = rule.definition;
    const code = d.outcome === 'decline' && rule.kind.stage === 'transaction' ? ` (response ${rule.responseCode})` : '';
    process.stdout.write(
      `rule ${d.id} for ${scope === ALL_MERCHANTS ? 'all merchants' : `merchant ${scope}`}: ${d.kind}, ${d.enabled === false ? 'disabled' : 'enabled'}, ` +
        `${d.outcome}${code}, ${paramsText(d.params) || 'no params'}\n`,
    );
  },
};

const RESET_USAGE = `qiandao risk rules reset (--merchant 898110070110001 | --all-merchants) [--id RULE] ${STORE_USAGE}`;
export const riskRulesResetCommand: Command = {
  path: ['risk', 'rules', 'reset'],
  summary: "Remove overrides (one rule's, or all of a scope's): the inherited rule applies again",
  usage: RESET_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, id: { type: 'string' }, merchant: { type: 'string' }, 'all-merchants': { type: 'boolean', default: false } },
    });
    const merchant = merchantOption(values.merchant);
    if (merchant === undefined && !values['all-merchants']) throw new CliError('give --merchant M, or --all-merchants for the overrides that apply to every merchant');
    if (merchant !== undefined && values['all-merchants']) throw new CliError('--merchant and --all-merchants exclude each other');
    const scope = merchant ?? ALL_MERCHANTS;
    const removed = await withStore(values, async (db) => {
      if (merchant !== undefined) await requireMerchantExists(db, merchant);
      return orCliError(resetRules(db, { scope, ...(values.id !== undefined ? { ruleId: values.id } : {}), actor: cliActor().actor }));
    });
    const what = scope === ALL_MERCHANTS ? 'all merchants' : `merchant ${scope}`;
    if (values.id !== undefined && removed === 0) throw new CliError(`rule ${values.id} has no override for ${what}`);
    process.stdout.write(`${removed} override${removed === 1 ? '' : 's'} removed for ${what}\n`);
  },
};

const FIRINGS_USAGE = `qiandao risk firings [--reference JOURNAL-ID] [--merchant M] [--rule RULE] [--limit 50] [--json] ${STORE_USAGE}`;
export const riskFiringsCommand: Command = {
  path: ['risk', 'firings'],
  summary: 'List risk rule firings, newest first: rule, outcome, response code and reason per request',
  usage: FIRINGS_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...STORE_OPTIONS,
        reference: { type: 'string' },
        merchant: { type: 'string' },
        rule: { type: 'string' },
        limit: { type: 'string', default: '50' },
        json: { type: 'boolean', default: false },
      },
    });
    const merchant = merchantOption(values.merchant);
    const limit = limitOption(values.limit);
    const firings = await withStore(values, (db) =>
      listFirings(db, {
        limit,
        ...(values.reference !== undefined ? { reference: values.reference } : {}),
        ...(merchant !== undefined ? { merchantNo: merchant } : {}),
        ...(values.rule !== undefined ? { ruleId: values.rule } : {}),
      }),
    );
    if (values.json) {
      printJson(firings);
      return;
    }
    if (firings.length === 0) {
      process.stdout.write('no firings\n');
      return;
    }
    printTable(
      ['AT', 'REFERENCE', 'TERMINAL', 'RULE', 'OUTCOME', 'CODE', 'REASON'],
      firings.map((f) => [when(f.at), f.reference, `${f.merchantNo}/${f.terminalNo}`, f.ruleId, f.outcome, f.responseCode ?? '-', f.reason]),
    );
  },
};

const PRUNE_USAGE = `qiandao risk prune [--keep-hours 48] ${STORE_USAGE}`;
export const riskPruneCommand: Command = {
  path: ['risk', 'prune'],
  summary: 'Delete risk observations older than --keep-hours (default 48; keep at least the longest rule window)',
  usage: PRUNE_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, 'keep-hours': { type: 'string', default: '48' } } });
    const text = values['keep-hours'];
    if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1) throw new CliError(`--keep-hours must be a whole number of hours, at least 1, got '${text}'`);
    const before = new Date(Date.now() - Number(text) * 3_600_000);
    const removed = await withStore(values, (db) => pruneObservations(db, before));
    process.stdout.write(`${removed} observation${removed === 1 ? '' : 's'} older than ${before.toISOString()} removed\n`);
  },
};

function limitOption(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 10_000) {
    throw new CliError(`--limit must be a number from 1 to 10000, got '${text}'`);
  }
  return Number(text);
}

const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];

const ALERTS_LIST_USAGE = `qiandao alerts list [--open] [--merchant M] [--terminal T] [--kind KIND] [--severity info|warning|critical] [--limit 50] [--json] ${STORE_USAGE}`;
export const alertsListCommand: Command = {
  path: ['alerts', 'list'],
  summary: 'List monitoring alerts, newest first (--open: not yet acknowledged)',
  usage: ALERTS_LIST_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...STORE_OPTIONS,
        open: { type: 'boolean', default: false },
        merchant: { type: 'string' },
        terminal: { type: 'string' },
        kind: { type: 'string' },
        severity: { type: 'string' },
        limit: { type: 'string', default: '50' },
        json: { type: 'boolean', default: false },
      },
    });
    const merchant = merchantOption(values.merchant);
    const severity = oneOf(values.severity, 'severity', SEVERITIES);
    const limit = limitOption(values.limit);
    const alerts = await withStore(values, (db) =>
      listAlerts(db, {
        open: values.open,
        limit,
        ...(merchant !== undefined ? { merchantNo: merchant } : {}),
        ...(values.terminal !== undefined ? { terminalNo: values.terminal } : {}),
        ...(values.kind !== undefined ? { kind: values.kind } : {}),
        ...(severity !== undefined ? { severity } : {}),
      }),
    );
    if (values.json) {
      printJson(alerts);
      return;
    }
    if (alerts.length === 0) {
      process.stdout.write(values.open ? 'no open alerts\n' : 'no alerts\n');
      return;
    }
    printTable(
      ['ID', 'RAISED', 'SEVERITY', 'KIND', 'ACK', 'SUMMARY'],
      alerts.map((a) => [a.id, when(a.raisedAt), a.severity, a.kind, a.acknowledgedBy ?? '-', a.summary]),
    );
  },
};

const ACK_USAGE = `qiandao alerts ack --id N [--by NAME] ${STORE_USAGE}`;
export const alertsAckCommand: Command = {
  path: ['alerts', 'ack'],
  summary: 'Acknowledge an alert (who and when are recorded)',
  usage: ACK_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, id: { type: 'string' }, by: { type: 'string' } } });
    const id = values.id;
    if (id === undefined || id === '') throw new CliError(`--id is required\nUsage: ${ACK_USAGE}`);
    if (!/^[0-9]{1,18}$/.test(id)) throw new CliError(`--id must be an alert number, got '${id}'`);
    const by = values.by ?? cliActor().actor;
    if (by.length < 1 || by.length > 200) throw new CliError('--by must be 1 to 200 characters');
    const a = await withStore(values, (db) => orCliError(acknowledgeAlert(db, id, by)));
    process.stdout.write(`alert ${a.id} acknowledged by ${a.acknowledgedBy ?? by} (${a.kind}: ${a.summary})\n`);
  },
};

const SCAN_USAGE = `qiandao alerts scan [--json] ${STORE_USAGE}`;
export const alertsScanCommand: Command = {
  path: ['alerts', 'scan'],
  summary: 'Run the sign-on monitor once over events not yet judged and print the alerts raised',
  usage: SCAN_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, json: { type: 'boolean', default: false } } });
    const r = await withStore(values, (db) => runMonitorOnce(db));
    if (values.json) {
      printJson(r);
      return;
    }
    process.stdout.write(`${r.processed} event${r.processed === 1 ? '' : 's'} judged, ${r.alerts.length} alert${r.alerts.length === 1 ? '' : 's'} raised\n`);
    for (const a of r.alerts) process.stdout.write(`  ${a.id}  ${a.severity}  ${a.kind}  ${a.summary}\n`);
  },
};

export const riskCommands: Command[] = [
  riskRulesListCommand,
  riskRulesSetCommand,
  riskRulesResetCommand,
  riskFiringsCommand,
  riskPruneCommand,
  alertsListCommand,
  alertsAckCommand,
  alertsScanCommand,
];
