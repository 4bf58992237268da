/**
 * `qiandao user add|list` — back-office users of the management API, from the command line
 * (the first platform administrator is created this way).
 */
import { parseArgs } from 'node:util';
import { createUser, ROLES, USERNAME_RE, type Role } from '../../../console/index.js';
import { ProblemError } from '../../../console/problem.js';
import { listUsers } from '../../../console/store/users.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson } from '../../io.js';
import { HSM_OPTIONS, HSM_USAGE, STORE_OPTIONS, STORE_USAGE, withStore, withStoreAndHsm } from '../../store-options.js';
import { MERCHANT_RE } from '../admin/common.js';

const ADD_USAGE = `qiandao user add --username NAME --role platform-admin|merchant-admin|auditor [--merchant MID ...] [--json] ${STORE_USAGE} ${HSM_USAGE}`;

export const userAddCommand: Command = {
  path: ['user', 'add'],
  summary: 'Add a management-API user; prints a one-time password (change at first sign-in) and a TOTP enrolment URI',
  usage: ADD_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...HSM_OPTIONS,
        username: { type: 'string' },
        role: { type: 'string' },
        merchant: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
      },
    });
    const username = values.username;
    if (username === undefined || username === '') throw new CliError(`--username is required\nUsage: ${ADD_USAGE}`);
    if (!USERNAME_RE.test(username)) throw new CliError(`--username must be 3-64 characters: a lower-case letter, then lower-case letters, digits, . _ - (got '${username}')`);
    const role = values.role;
    if (role === undefined || !(ROLES as readonly string[]).includes(role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}${role === undefined ? '' : `, got '${role}'`}`);
    const merchants = values.merchant ?? [];
    for (const m of merchants) if (!MERCHANT_RE.test(m)) throw new CliError(`--merchant must be 15 letters or digits (field 42), got '${m}'`);
    const issued = await withStoreAndHsm(values, async (db, hsm) => {
      try {
        return await createUser({ db, hsm, clock: () => new Date(), scrypt: undefined }, { username, role: role as Role, merchants }, { actor: cliActor(), origin: 'cli' });
      } catch (e) {
        if (e instanceof ProblemError) throw new CliError(e.message);
        throw e;
      }
    });
    if (values.json) {
      printJson(issued);
      return;
    }
    process.stdout.write(
      `user ${issued.user.username} added (${issued.user.role}${issued.user.merchants.length ? `, merchants ${issued.user.merchants.join(', ')}` : ''})\n` +
        `one-time password: ${issued.initialPassword}\n` +
        `  (shown once; must be changed at first sign-in)\n` +
        `TOTP enrolment URI (add to an authenticator app; shown once):\n  ${issued.totpUri}\n`,
    );
  },
};

const LIST_USAGE = `qiandao user list [--json] ${STORE_USAGE}`;

export const userListCommand: Command = {
  path: ['user', 'list'],
  summary: 'List management-API users with role, status and last activity',
  usage: LIST_USAGE,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, json: { type: 'boolean', default: false } } });
    const users = await withStore(values, async (db) => (await listUsers(db)).map(({ passwordHash: _h, ...u }) => u));
    if (values.json) {
      printJson(users);
      return;
    }
    if (users.length === 0) {
      process.stdout.write('no users\n');
      return;
    }
    for (const u of users) {
      process.stdout.write(`${u.username}\t${u.role}\t${u.status}\t${u.merchants.join(',') || '-'}\t${u.lastActivityAt?.toISOString() ?? 'never'}\n`);
    }
  },
};

/** The audit actor for CLI actions: `cli:<os user>`. */
export function cliActor(): string {
  const who = process.env['USER'] ?? process.env['USERNAME'];
  return who ? `cli:${who}`.slice(0, 200) : 'cli';
}
