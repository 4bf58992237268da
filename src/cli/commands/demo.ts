/**
 * `qiandao demo` (`npm start`) — the whole system on this machine, end to end, over real TCP:
 *
 *   embedded store (PGlite, ./data)  ->  SoftHsm (development LMK in ./data/lmk.hex)
 *   -> demo merchant, terminals (each TMK formed in the HSM from fresh clear components),
 *      operators (supervisor 00, cashier 01) and a test card at the issuer simulator
 *   -> the acquiring host on a TCP port (issuer simulator, risk rules, audit sealer, monitor)
 *   <- a TerminalClient signs on (0800/0810, 60.3 = 004) and checks its working keys,
 *      the cashier signs on (0800, 60.3 = 901, password under the PIN key, MAC'ed),
 *      and buys with the card and its PIN (0200/0210, MAC, PIN translated in the HSM)
 *   -> the management API and web console on another port (unless --once).
 *
 * The host keeps running afterwards (Ctrl-C to stop) unless --once is given.
 */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { sealAll, startSealer } from '../../audit/index.js';
import { createUser } from '../../console/index.js';
import { getUser } from '../../console/store/users.js';
import { startConsole, type RunningConsole } from '../../console/start.js';
import { combineComponents, generateComponents } from '../../crypto/components.js';
import { SoftHsm } from '../../crypto/hsm/soft-hsm.js';
import { startHost } from '../../host/index.js';
import { openIssuerSimulator } from '../../issuer/index.js';
import { createRiskEngine, setRule, startMonitor } from '../../risk/index.js';
import { TerminalClient, clockStan, tradeTerminal } from '../../terminal/index.js';
import { operatorSignOn } from '../../terminal/operators.js';
import { addOperator, getOperator } from '../../store/operators.js';
import { addMerchant, addTerminal, getMerchant, getTerminal, openStore, setTerminalTmk, listKeyGenerations } from '../../store/index.js';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';

const MERCHANT_NO = '898110070110001';
const TERMINALS = ['10000001', '10000002', '10000003'];
/** Demo credentials: printed, and only ever used on this demo merchant. */
const SUPERVISOR_PASSWORD = '123456';
const CASHIER_PASSWORD = '1111';
const CARD_PIN = '123456';

function yuan(fen: number): string {
  return `${(fen / 100).toFixed(2)} CNY`;
}

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'Run everything on the embedded store: host, terminal and operator sign-on, a card purchase, and the web console',
  usage: 'qiandao demo [--port 5000] [--console-port 8080] [--data ./data] [--once]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '5000' },
        'console-port': { type: 'string', default: '8080' },
        data: { type: 'string', default: './data' },
        once: { type: 'boolean', default: false },
      },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0..65535, got '${values.port}'`);
    const consolePort = Number(values['console-port']);
    if (!Number.isInteger(consolePort) || consolePort < 0 || consolePort > 65535) throw new CliError(`--console-port must be 0..65535, got '${values['console-port']}'`);
    const dataDir = values.data;
    mkdirSync(dataDir, { recursive: true });
    const say = (s: string): void => void process.stdout.write(s + '\n');
    const logger = pino({ level: 'warn' }, pino.destination(2));

    say(`qiandao demo — embedded store in ${dataDir}`);
    const db = await openStore({ dataDir: join(dataDir, 'pglite') });
    const hsm = await SoftHsm.open({
      lmkFile: join(dataDir, 'lmk.hex'),
      allowDevLmk: true,
      logger: { warn: (m: string) => void process.stderr.write(`qiandao: warning: ${m}\n`) },
    });
    say(`HSM      SoftHsm, LMK check value ${hsm.lmkKcv}`);
    const demoActor = { actor: 'system:demo', origin: 'demo' };

    if (!(await getMerchant(db, MERCHANT_NO))) {
      await addMerchant(db, { merchantNo: MERCHANT_NO, name: 'qiandao demo shop', mcc: '5411', timeZone: 'Asia/Shanghai' });
      // The demo shop trades around the clock, so the demo purchase is approved at any hour; other
      // merchants keep the default 08:00-21:00 window (docs/risk.md).
      await setRule(db, { scope: MERCHANT_NO, ruleId: 'trading-window', patch: { enabled: false }, actor: 'system:demo' });
    }
    // Key ceremony in miniature: two clear components per terminal form the TMK inside the HSM;
    // the terminal is "injected" with the same components. Nothing clear is stored.
    const tmks = new Map<string, Buffer>();
    for (const terminalNo of TERMINALS) {
      const ref = { merchantNo: MERCHANT_NO, terminalNo };
      if (!(await getTerminal(db, ref))) await addTerminal(db, { ...ref, model: 'demo', serial: `DEMO-${terminalNo}` });
      const gen = generateComponents(2, 'tdes', 16);
      const parts = gen.components.map((c) => Buffer.from(c.component));
      const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, parts);
      await setTerminalTmk(db, ref, { block: tmk.block, kcv: tmk.kcv });
      tmks.set(terminalNo, combineComponents(parts, { alg: 'tdes' }));
      parts.forEach((p) => p.fill(0));
    }
    for (const [operatorNo, name, password] of [
      ['00', 'Demo supervisor', SUPERVISOR_PASSWORD],
      ['01', 'Demo cashier', CASHIER_PASSWORD],
    ] as const) {
      if (!(await getOperator(db, { merchantNo: MERCHANT_NO, operatorNo }))) {
        await addOperator(db, { merchantNo: MERCHANT_NO, operatorNo, name, password, mustChangePassword: false }, demoActor);
      }
    }
    say(`store    merchant ${MERCHANT_NO}: terminals ${TERMINALS.join(', ')} (fresh TMKs from components),`);
    say(`         operators 00 (supervisor, password ${SUPERVISOR_PASSWORD}) and 01 (cashier, password ${CASHIER_PASSWORD})`);

    const issuer = await openIssuerSimulator({ db, hsm, logger });
    const { pan, card } = await issuer.addCard({ pin: CARD_PIN, balance: 100_000, actor: 'system:demo', origin: 'demo' });
    say(`issuer   simulator: test card ${card.maskedPan}, PIN ${CARD_PIN}, balance ${yuan(100_000)} (the PAN is shown to the terminal only)`);

    const sealer = startSealer({ db, logger, intervalMs: 1000 });
    const monitor = startMonitor({ db, logger, intervalMs: 10_000 });
    const host = await startHost({ port, db, hsm, logger, issuer, risk: createRiskEngine({ logger }) });
    say(`host     listening on 127.0.0.1:${host.port} (UnionPay POS framing: 2-byte length, TPDU, header)`);

    const terminalNo = TERMINALS[0]!;
    const tmk = tmks.get(terminalNo)!;
    const client = new TerminalClient({
      host: '127.0.0.1',
      port: host.port,
      terminalNo,
      merchantNo: MERCHANT_NO,
      tmk,
      keyScheme: '004',
      operatorNo: '01 ',
      reconnect: false,
      // A fresh process does not remember its last STAN; the host would take a repeat for a retransmission.
      firstStan: clockStan(),
    });
    let ok = true;
    try {
      await client.connect();
      const r = await client.signOn();
      const gens = await listKeyGenerations(db, { merchantNo: MERCHANT_NO, terminalNo });
      const current = gens.find((g) => g.supersededAt === null);
      say(`terminal ${terminalNo} signed on: response ${r.responseCode}, batch ${r.batchNo}, key generation ${current?.generation ?? '?'}`);
      say(`         working-key check values verified by the terminal: PIK ${r.kcvs.pik}  MAK ${r.kcvs.mak}  TDK ${r.kcvs.tdk ?? '-'}`);
      const op = await operatorSignOn(client, '01', CASHIER_PASSWORD);
      say(`operator 01 signed on: response ${op.responseCode} ${op.meaning} (password sent as a PIN block under the PIK, MAC verified)`);
      const trade = tradeTerminal(client);
      const bought = await trade.purchase({ card: { pan, expiry: card.expiry }, amount: 1234, pin: CARD_PIN });
      say(
        `purchase ${yuan(1234)}: response ${bought.responseCode} ${bought.meaning}` +
          (bought.approved ? `, RRN ${bought.rrn ?? '-'}, auth code ${bought.authCode ?? '-'}, card ${bought.maskedPan ?? '-'}` : ''),
      );
      const bal = await trade.balance({ card: { pan, expiry: card.expiry }, pin: CARD_PIN });
      say(`balance  inquiry: response ${bal.responseCode}${bal.balance !== undefined ? `, available ${yuan(bal.balance)}` : ''}`);
      ok = bought.approved && op.approved;
      const echo = await client.echo();
      say(`         echo test: response ${echo.responseCode} in ${echo.roundTripMs} ms`);
    } finally {
      await client.close();
      for (const k of tmks.values()) k.fill(0);
    }
    await sealAll(db);

    const stopAll = async (consoleApp: RunningConsole | null): Promise<void> => {
      await consoleApp?.close();
      await host.close();
      await monitor.stop();
      await sealer.stop();
      await db.close();
      await hsm.close();
    };
    if (values.once) {
      await stopAll(null);
      if (!ok) throw new CliError('the demo purchase was not approved (see above)', 1);
      say('done.');
      return;
    }

    const consoleApp = await startConsole({ db, hsm, logger, port: consolePort });
    say(`console  web console and management API on http://127.0.0.1:${consoleApp.port}/ (OpenAPI UI at /docs)`);
    if ((await getUser(db, 'admin')) === null) {
      const issued = await createUser({ db, hsm, clock: () => new Date(), scrypt: undefined }, { username: 'admin', role: 'platform-admin', merchants: [] }, { actor: 'system:demo', origin: 'demo' });
      say(`         user admin, one-time password ${issued.initialPassword} (change it at first sign-in)`);
      say(`         TOTP enrolment (add to an authenticator app): ${issued.totpUri}`);
    } else {
      say('         user admin exists (qiandao user add … creates more)');
    }
    say('');
    say('The host and console keep running; press Ctrl-C to stop. Meanwhile, in another shell:');
    say(`  npx qiandao terminal sign-on --port ${host.port} --tid ${TERMINALS[1]} --mid ${MERCHANT_NO} --tmk-file FILE   (see README)`);
    say('  npx qiandao audit verify                              check the tamper-evident audit trail');
    say('  npx qiandao decode --spec cup-pos --frame <hex>      read a frame field by field');
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    say('stopping: finishing requests in flight…');
    await stopAll(consoleApp);
  },
};
