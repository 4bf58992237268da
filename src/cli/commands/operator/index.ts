/**
 * `qiandao operator add|list|show|disable|enable|reset-password|unlock|grant|revoke|set-role` —
 * POS operators in the host's store (src/store/operators.ts). Passwords are read from standard
 * input (first line), never from the command line, and stored only as scrypt hashes. Every change
 * is an `operator.*` event with actor `cli:<OS user>`.
 */
import { parseArgs } from 'node:util';
import { OperatorPolicyError, PERMISSIONS, normaliseOperatorNo } from '../../../operators/index.js';
import { getMerchant, isStoreError, type Db } from '../../../store/index.js';
import {
  addOperator,
  disableOperator,
  enableOperator,
  getOperator,
  grantPermission,
  isLocked,
  listOperators,
  resetOperatorPassword,
  revokePermission,
  setOperatorRole,
  unlockOperator,
  type Operator,
  type OperatorAudit,
  type OperatorRef,
} from '../../../store/operators.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson, readStdin } from '../../io.js';
import { STORE_OPTIONS, STORE_USAGE, withStore } from '../../store-options.js';
import { cliActor, merchantNo, merchantNotFound, oneOf, printFields, printTable, required, when } from '../admin/common.js';
import { terminalOperatorCommands } from './terminal.js';

const REF = '--merchant 898110070110001 --operator 01';
const REF_OPTIONS = { merchant: { type: 'string' }, operator: { type: 'string' }, json: { type: 'boolean', default: false } } as const;

function operatorNo(value: string | undefined, usage: string): string {
  const v = required(value, 'operator', usage);
  const n = normaliseOperatorNo(v);
  if (n === null) throw new CliError(`--operator must be two digits 00-99 (00 supervisor, 01-98 cashiers, 99 administrator), got '${v}'`);
  return n;
}

function refFrom(values: { merchant?: string | undefined; operator?: string | undefined }, usage: string): OperatorRef {
  return { merchantNo: merchantNo(values.merchant, usage), operatorNo: operatorNo(values.operator, usage) };
}

function audit(): OperatorAudit {
  return cliActor();
}

/** What the CLI shows of an operator (there is no password hash in Operator). */
export function operatorView(op: Operator): Record<string, unknown> {
  return { ...op, locked: isLocked(op) };
}

async function readPassword(): Promise<string> {
  const text = await readStdin();
  const line = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (line === '') throw new CliError('the password is read from standard input (first line); none given');
  return line;
}

/** Store errors in CLI words. */
async function friendly<T>(ref: OperatorRef, db: Db, p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    if (isStoreError(e, 'NOT_FOUND')) {
      if (!(await getMerchant(db, ref.merchantNo))) throw merchantNotFound(ref.merchantNo);
      throw new CliError(`operator ${ref.operatorNo} of merchant ${ref.merchantNo} not found`);
    }
    if (isStoreError(e, 'DUPLICATE')) throw new CliError(`operator ${ref.operatorNo} of merchant ${ref.merchantNo} already exists`);
    if (isStoreError(e, 'CONSTRAINT') && !(await getMerchant(db, ref.merchantNo))) throw merchantNotFound(ref.merchantNo);
    if (e instanceof OperatorPolicyError) throw new CliError(e.message);
    throw e;
  }
}

function printOperator(op: Operator): void {
  printFields([
    ['merchant', op.merchantNo],
    ['operator', op.operatorNo],
    ['name', op.name],
    ['role', op.role],
    ['status', op.status],
    ['locked', isLocked(op) ? `until ${when(op.lockedUntil)}` : 'no'],
    ['failed attempts', String(op.failedAttempts)],
    ['must change password', op.mustChangePassword ? 'yes' : 'no'],
    ['permissions', op.permissions.join(', ') || '-'],
    ['overrides', op.overrides.map((o) => `${o.effect === 'grant' ? '+' : '-'}${o.permission}`).join(', ') || '-'],
    ['created', `${when(op.createdAt)} by ${op.createdBy}`],
    ['changed', `${when(op.updatedAt)} by ${op.changedBy}`],
  ]);
}

const ADD_USAGE = `qiandao operator add ${REF} --name NAME [--role cashier] [--no-change] [--json] ${STORE_USAGE}  (password on stdin)`;
const addCommand: Command = {
  path: ['operator', 'add'],
  summary: 'Add a POS operator (00 supervisor, 01-98 cashier, 99 administrator); password on stdin',
  usage: ADD_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, ...REF_OPTIONS, name: { type: 'string' }, role: { type: 'string' }, 'no-change': { type: 'boolean', default: false } },
    });
    const ref = refFrom(values, ADD_USAGE);
    const name = required(values.name, 'name', ADD_USAGE);
    const password = await readPassword();
    const op = await withStore(values, (db) =>
      friendly(ref, db, () => addOperator(db, { ...ref, name, ...(values.role !== undefined ? { role: values.role } : {}), password, mustChangePassword: !values['no-change'] }, audit())),
    );
    if (values.json) printJson(operatorView(op));
    else process.stdout.write(`operator ${op.operatorNo} (${op.name}, ${op.role}) added to merchant ${op.merchantNo}${op.mustChangePassword ? '; the password must be changed on first use' : ''}\n`);
  },
};

const LIST_USAGE = `qiandao operator list --merchant 898110070110001 [--status active|disabled] [--json] ${STORE_USAGE}`;
const listCommand: Command = {
  path: ['operator', 'list'],
  summary: "List a merchant's POS operators",
  usage: LIST_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, merchant: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean', default: false } } });
    const m = merchantNo(values.merchant, LIST_USAGE);
    const status = oneOf(values.status, 'status', ['active', 'disabled'] as const);
    const ops = await withStore(values, async (db) => {
      if (!(await getMerchant(db, m))) throw merchantNotFound(m);
      return listOperators(db, m, status !== undefined ? { status } : {});
    });
    if (values.json) {
      printJson(ops.map(operatorView));
      return;
    }
    printTable(
      ['OPERATOR', 'ROLE', 'STATUS', 'LOCKED', 'PERMISSIONS', 'NAME'],
      ops.map((o) => [o.operatorNo, o.role, o.status, isLocked(o) ? 'yes' : 'no', o.permissions.join(',') || '-', o.name]),
    );
  },
};

const SHOW_USAGE = `qiandao operator show ${REF} [--json] ${STORE_USAGE}`;
const showCommand: Command = {
  path: ['operator', 'show'],
  summary: 'Show one POS operator with effective permissions',
  usage: SHOW_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, ...REF_OPTIONS } });
    const ref = refFrom(values, SHOW_USAGE);
    const op = await withStore(values, async (db) => {
      const found = await getOperator(db, ref);
      if (found) return found;
      if (!(await getMerchant(db, ref.merchantNo))) throw merchantNotFound(ref.merchantNo);
      throw new CliError(`operator ${ref.operatorNo} of merchant ${ref.merchantNo} not found`);
    });
    if (values.json) printJson(operatorView(op));
    else printOperator(op);
  },
};

/** A command that changes one operator: `fn` does it, `done` says what happened. */
function change(
  verb: string,
  summary: string,
  extra: string,
  fn: (db: Db, ref: OperatorRef, values: { permission?: string | undefined; role?: string | undefined }) => Promise<Operator>,
  done: (op: Operator) => string,
): Command {
  const usage = `qiandao operator ${verb} ${REF}${extra} [--json] ${STORE_USAGE}`;
  return {
    path: ['operator', verb],
    summary,
    usage,
    async run(argv) {
      const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, ...REF_OPTIONS, permission: { type: 'string' }, role: { type: 'string' } } });
      const ref = refFrom(values, usage);
      const op = await withStore(values, (db) => friendly(ref, db, () => fn(db, ref, values)));
      if (values.json) printJson(operatorView(op));
      else process.stdout.write(done(op) + '\n');
    },
  };
}

const PERMISSION_USAGE = ` --permission ${PERMISSIONS.join('|')}`;

export const operatorCommands: Command[] = [
  addCommand,
  listCommand,
  showCommand,
  change('disable', 'Disable a POS operator (ends their sign-on)', '', (db, ref) => disableOperator(db, ref, audit()), (o) => `operator ${o.operatorNo} disabled`),
  change('enable', 'Enable a disabled POS operator', '', (db, ref) => enableOperator(db, ref, audit()), (o) => `operator ${o.operatorNo} enabled`),
  change('unlock', 'Unlock a POS operator locked after wrong passwords', '', (db, ref) => unlockOperator(db, ref, audit()), (o) => `operator ${o.operatorNo} unlocked`),
  change(
    'reset-password',
    'Set a new password (stdin); the operator must change it on next use',
    '  (password on stdin)',
    async (db, ref) => resetOperatorPassword(db, ref, await readPassword(), audit()),
    (o) => `operator ${o.operatorNo} password reset; it must be changed on next use`,
  ),
  change(
    'grant',
    'Grant one operator a permission',
    PERMISSION_USAGE,
    (db, ref, v) => grantPermission(db, ref, required(v.permission, 'permission', `qiandao operator grant ${REF}${PERMISSION_USAGE}`), audit()),
    (o) => `operator ${o.operatorNo} permissions: ${o.permissions.join(', ') || '-'}`,
  ),
  change(
    'revoke',
    'Revoke a permission from one operator (even one their role has)',
    PERMISSION_USAGE,
    (db, ref, v) => revokePermission(db, ref, required(v.permission, 'permission', `qiandao operator revoke ${REF}${PERMISSION_USAGE}`), audit()),
    (o) => `operator ${o.operatorNo} permissions: ${o.permissions.join(', ') || '-'}`,
  ),
  change(
    'set-role',
    "Change a cashier's role",
    ' --role ROLE',
    (db, ref, v) => setOperatorRole(db, ref, required(v.role, 'role', `qiandao operator set-role ${REF} --role ROLE`), audit()),
    (o) => `operator ${o.operatorNo} role ${o.role}; permissions: ${o.permissions.join(', ') || '-'}`,
  ),
  ...terminalOperatorCommands,
];
