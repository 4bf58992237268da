/**
 * `qiandao card add|list|show|block|unblock|balance` — test cards of the issuer simulator
 * (src/issuer/simulator.ts, docs/issuer.md) in the host's store.
 *
 * `card add` prints the clear PAN and track 2 once: these are test cards, and the PAN is not
 * stored (the store keeps a fingerprint and the masked PAN). Cards are named by card id
 * (card_…), masked PAN (as `card list` shows it) or full PAN.
 *
 * The test card's PIN is never an argument, as in `terminal purchase` (argv is readable by every
 * local user and kept in shell history): `--pin` is refused and `--pin-stdin` reads it from
 * standard input. `--pan -` reads the card number from there too (line 1; the PIN is then line 2).
 */
import { parseArgs } from 'node:util';
import { isIssuerError } from '../../../issuer/errors.js';
import { CARD_STATUSES, type Card, type CardStatus } from '../../../issuer/cards.js';
import { openIssuerSimulator, type IssuerSimulator } from '../../../issuer/simulator.js';
import { buildTrack2 } from '../../../terminal/card.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { printJson, readSecretLines, refusePinArgument, refuseStrayArguments } from '../../io.js';
import { HSM_OPTIONS, HSM_USAGE, STORE_USAGE, withStoreAndHsm, type StoreOptionValues } from '../../store-options.js';
import { cliActor, oneOf, printFields, printTable, when } from '../admin/common.js';

const OPTS = `${STORE_USAGE} ${HSM_USAGE}`;

async function withSimulator<T>(values: StoreOptionValues, fn: (sim: IssuerSimulator) => Promise<T>): Promise<T> {
  return withStoreAndHsm(values, async (db, hsm) => {
    try {
      return await fn(await openIssuerSimulator({ db, hsm }));
    } catch (e) {
      if (isIssuerError(e)) throw new CliError(e.message);
      throw e;
    }
  });
}

/** A non-negative (or, with `signed`, any non-zero) integer amount in minor units. */
function amountOption(value: string | undefined, name: string, opts: { signed?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const re = opts.signed === true ? /^-?[0-9]{1,15}$/ : /^[0-9]{1,15}$/;
  if (!re.test(value)) throw new CliError(`--${name} must be an integer amount in minor units (fen), got '${value}'`);
  return Number(value);
}

function money(minor: number, currency: string): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} (${currency})`;
}

/** Resolve a card id, masked PAN or full PAN to a card, or exit 2. */
async function resolveCard(sim: IssuerSimulator, ref: string | undefined, usage: string): Promise<Card> {
  if (ref === undefined || ref === '') throw new CliError(`a card id, masked PAN or PAN is required\nUsage: ${usage}`);
  if (/^card_[0-9a-f]{12}$/.test(ref)) {
    const c = await sim.getCard(ref);
    if (!c) throw new CliError(`card ${ref} not found`);
    return c;
  }
  if (/^[0-9]{12,19}$/.test(ref)) {
    const c = await sim.findCardByPan(ref);
    if (!c) throw new CliError('no card with that PAN');
    return c;
  }
  if (/^[0-9]{6}\*+[0-9]{4}$/.test(ref)) {
    const list = await sim.listCards({ maskedPan: ref });
    if (list.length === 0) throw new CliError(`no card ${ref}`);
    if (list.length > 1) throw new CliError(`${list.length} cards match ${ref}: name one by card id (${list.map((c) => c.cardId).join(', ')})`);
    return list[0] as Card;
  }
  throw new CliError(`'${ref}' is not a card id (card_…), masked PAN (622202*********0123) or PAN`);
}

function cardFields(c: Card): [string, string][] {
  return [
    ['card', c.cardId],
    ['PAN', c.maskedPan],
    ['expiry', c.expiry],
    ['service code', c.serviceCode],
    ['status', c.status],
    ['PIN', c.hasPin ? `enrolled (PVKI ${c.pvki ?? '-'}), ${c.pinTries} wrong tries` : 'none'],
    ['balance', money(c.balance, c.currency)],
    ['available', money(c.available, c.currency)],
    ['daily limit', c.dailyLimit === null ? 'none' : money(c.dailyLimit, c.currency)],
    ['created', when(c.createdAt)],
  ];
}

/**
 * The PAN from --pan (or line 1 of standard input with `--pan -`) and the PIN from standard input
 * (--pin-stdin; line 2 after a PAN from stdin). Called after every check that needs no stdin, so a
 * typo fails before the user is prompted. Errors never quote what was read.
 */
async function readPanAndPin(panArg: string | undefined, pinFromStdin: boolean): Promise<{ pan?: string; pin?: string }> {
  const panFromStdin = panArg === '-';
  const wanted: string[] = [];
  if (panFromStdin) wanted.push('the card number (--pan -)');
  if (pinFromStdin) wanted.push('the PIN (--pin-stdin)');
  const lines = await readSecretLines(wanted);
  const pan = panFromStdin ? lines[0]! : panArg;
  // the simulator's own check says the same; this one names where the bad line came from
  if (panFromStdin && !/^[0-9]{12,19}$/.test(pan!)) throw new CliError('the card number on standard input (line 1, --pan -) must be 12 to 19 digits');
  const pinLine = panFromStdin ? 1 : 0;
  const pin = pinFromStdin ? lines[pinLine]! : undefined;
  if (pin !== undefined && !/^[0-9]{4,12}$/.test(pin)) {
    throw new CliError(`the PIN on standard input (line ${pinLine + 1}, --pin-stdin) must be 4 to 12 digits`);
  }
  return { ...(pan !== undefined ? { pan } : {}), ...(pin !== undefined ? { pin } : {}) };
}

const ADD_USAGE =
  `qiandao card add [--pin-stdin] [--balance 100000] [--expiry YYMM] [--status active|lost|stolen|blocked] ` +
  `[--daily-limit 50000] [--currency 156] [--service-code 120] [--bin 629990 | --pan PAN|-] [--json] ${OPTS}` +
  '  (standard input, one line each, in this order, only those asked for: the card number with --pan -, the PIN with --pin-stdin; a terminal prompts without echo)';
const addCommand: Command = {
  path: ['card', 'add'],
  summary: 'Create a test card at the issuer simulator (prints its PAN once)',
  usage: ADD_USAGE,
  async run(argv) {
    refusePinArgument(argv, 'qiandao card add --pin-stdin …');
    const { values, positionals } = parseArgs({
      args: argv,
      // positionals are refused below, without quoting them: one may be a PIN typed after --pin-stdin
      allowPositionals: true,
      options: {
        ...HSM_OPTIONS,
        'pin-stdin': { type: 'boolean', default: false },
        balance: { type: 'string' },
        expiry: { type: 'string' },
        status: { type: 'string' },
        'daily-limit': { type: 'string' },
        currency: { type: 'string' },
        'service-code': { type: 'string' },
        bin: { type: 'string' },
        pan: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    refuseStrayArguments(positionals, 'options only: the PIN goes on standard input (--pin-stdin)');
    if (values.expiry !== undefined && !/^[0-9]{2}(0[1-9]|1[0-2])$/.test(values.expiry)) throw new CliError(`--expiry must be YYMM, got '${values.expiry}'`);
    if (values.bin !== undefined && values.pan !== undefined) throw new CliError('give --bin or --pan, not both');
    if (values.bin !== undefined && !/^[0-9]{6,11}$/.test(values.bin)) throw new CliError('--bin must be 6 to 11 digits');
    if (values.currency !== undefined && !/^[0-9]{3}$/.test(values.currency)) throw new CliError('--currency must be 3 digits (ISO 4217 numeric, 156 = CNY)');
    if (values['service-code'] !== undefined && !/^[0-9]{3}$/.test(values['service-code'])) throw new CliError('--service-code must be 3 digits');
    const status = oneOf(values.status, 'status', CARD_STATUSES);
    const balance = amountOption(values.balance, 'balance');
    const dailyLimit = amountOption(values['daily-limit'], 'daily-limit');
    const secrets = await readPanAndPin(values.pan, values['pin-stdin']);
    const { card, pan } = await withSimulator(values, (sim) =>
      sim.addCard({
        ...(secrets.pan !== undefined ? { pan: secrets.pan } : {}),
        ...(values.bin !== undefined ? { bin: values.bin } : {}),
        ...(secrets.pin !== undefined ? { pin: secrets.pin } : {}),
        ...(balance !== undefined ? { balance } : {}),
        ...(values.expiry !== undefined ? { expiry: values.expiry } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(dailyLimit !== undefined ? { dailyLimit } : {}),
        ...(values.currency !== undefined ? { currency: values.currency } : {}),
        ...(values['service-code'] !== undefined ? { serviceCode: values['service-code'] } : {}),
        ...cliActor(),
      }),
    );
    const track2 = buildTrack2({ pan, expiry: card.expiry, serviceCode: card.serviceCode });
    if (values.json) {
      printJson({ ...card, pan, track2 });
      return;
    }
    process.stdout.write('test card added — the PAN is shown only now (the store keeps a fingerprint):\n');
    printFields([['PAN (clear)', pan], ['track 2', track2], ...cardFields(card)]);
  },
};

const LIST_USAGE = `qiandao card list [--status active|lost|stolen|blocked] [--json] ${OPTS}`;
const listCommand: Command = {
  path: ['card', 'list'],
  summary: 'List the issuer simulator\'s test cards',
  usage: LIST_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...HSM_OPTIONS, status: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const status = oneOf(values.status, 'status', CARD_STATUSES);
    const list = await withSimulator(values, (sim) => sim.listCards(status !== undefined ? { status } : {}));
    if (values.json) {
      printJson(list);
      return;
    }
    if (list.length === 0) {
      process.stdout.write('no cards\n');
      return;
    }
    printTable(
      ['CARD', 'PAN', 'EXPIRY', 'STATUS', 'PIN', 'BALANCE', 'AVAILABLE'],
      list.map((c) => [c.cardId, c.maskedPan, c.expiry, c.status, c.hasPin ? 'yes' : 'no', String(c.balance), String(c.available)]),
    );
  },
};

const SHOW_USAGE = `qiandao card show <card id | masked PAN | PAN> [--json] ${OPTS}`;
const showCommand: Command = {
  path: ['card', 'show'],
  summary: 'Show one test card and its ledger postings',
  usage: SHOW_USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...HSM_OPTIONS, json: { type: 'boolean', default: false } },
    });
    if (positionals.length > 1) throw new CliError(`one card, please\nUsage: ${SHOW_USAGE}`);
    const { card, postings } = await withSimulator(values, async (sim) => {
      const card = await resolveCard(sim, positionals[0], SHOW_USAGE);
      return { card, postings: await sim.postings(card.cardId) };
    });
    if (values.json) {
      printJson({ ...card, postings });
      return;
    }
    printFields(cardFields(card));
    process.stdout.write('\n');
    if (postings.length === 0) {
      process.stdout.write('no postings\n');
      return;
    }
    printTable(
      ['ID', 'POSTED', 'KIND', 'AMOUNT', 'UNDOES'],
      postings.map((p) => [p.id, p.postedAt.toISOString(), p.kind, String(p.amount), p.reverses ?? '']),
    );
  },
};

function statusCommand(name: 'block' | 'unblock'): Command {
  const usage =
    name === 'block'
      ? `qiandao card block <card id | masked PAN | PAN> [--status blocked|lost|stolen] ${OPTS}`
      : `qiandao card unblock <card id | masked PAN | PAN> ${OPTS}`;
  return {
    path: ['card', name],
    summary:
      name === 'block'
        ? 'Block a test card (or report it lost or stolen): the issuer declines it (62, 41, 43)'
        : 'Make a test card active again and reset its wrong-PIN counter',
    usage,
    async run(argv) {
      const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { ...HSM_OPTIONS, ...(name === 'block' ? { status: { type: 'string' as const, default: 'blocked' } } : {}) },
      });
      if (positionals.length > 1) throw new CliError(`one card, please\nUsage: ${usage}`);
      const raw = (values as { status?: string }).status;
      const status: CardStatus = name === 'unblock' ? 'active' : (oneOf(raw, 'status', ['blocked', 'lost', 'stolen'] as const) ?? 'blocked');
      const card = await withSimulator(values, async (sim) => {
        const c = await resolveCard(sim, positionals[0], usage);
        return sim.setCardStatus(c.cardId, status, cliActor());
      });
      process.stdout.write(`card ${card.cardId} (${card.maskedPan}) is ${card.status}\n`);
    },
  };
}

const BALANCE_USAGE = `qiandao card balance <card id | masked PAN | PAN> [--credit N | --debit N] [--json] ${OPTS}`;
const balanceCommand: Command = {
  path: ['card', 'balance'],
  summary: 'Show a test card\'s balance, or credit/debit it (minor units) by an adjustment posting',
  usage: BALANCE_USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...HSM_OPTIONS, credit: { type: 'string' }, debit: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length > 1) throw new CliError(`one card, please\nUsage: ${BALANCE_USAGE}`);
    if (values.credit !== undefined && values.debit !== undefined) throw new CliError('give --credit or --debit, not both');
    const credit = amountOption(values.credit, 'credit');
    const debit = amountOption(values.debit, 'debit');
    if (credit === 0 || debit === 0) throw new CliError('the adjustment must not be 0');
    const card = await withSimulator(values, async (sim) => {
      const c = await resolveCard(sim, positionals[0], BALANCE_USAGE);
      if (credit !== undefined) return sim.adjustBalance(c.cardId, credit, cliActor());
      if (debit !== undefined) return sim.adjustBalance(c.cardId, -debit, cliActor());
      return c;
    });
    if (values.json) {
      printJson({ cardId: card.cardId, maskedPan: card.maskedPan, currency: card.currency, balance: card.balance, available: card.available });
      return;
    }
    printFields([
      ['card', `${card.cardId} (${card.maskedPan})`],
      ['balance', money(card.balance, card.currency)],
      ['available', money(card.available, card.currency)],
    ]);
  },
};

export const cardCommands: Command[] = [addCommand, listCommand, showCommand, statusCommand('block'), statusCommand('unblock'), balanceCommand];
