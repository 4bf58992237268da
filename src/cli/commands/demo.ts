/**
 * `qiandao demo` — the main job until the host has its own command: a real end-to-end terminal
 * sign-on on this machine.
 *
 *   embedded store (PGlite, ./data)  ->  SoftHsm (development LMK in ./data/lmk.hex)
 *   -> demo merchant and terminals, each TMK formed in the HSM from fresh clear components
 *   -> the acquiring host on a TCP port  <-  TerminalClient signs on (0800/0810, 60.3 = 004)
 *   -> the terminal decrypts its working keys with its TMK and checks each check value.
 *
 * The host keeps running afterwards (Ctrl-C to stop) unless --once is given.
 */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { combineComponents, generateComponents } from '../../crypto/components.js';
import { SoftHsm } from '../../crypto/hsm/soft-hsm.js';
import { startHost } from '../../host/index.js';
import { TerminalClient } from '../../terminal/index.js';
import { addMerchant, addTerminal, getMerchant, getTerminal, openStore, setTerminalTmk, listKeyGenerations } from '../../store/index.js';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';

const MERCHANT_NO = '898110070110001';
const TERMINALS = ['10000001', '10000002', '10000003'];

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'Start the host on the embedded store with a demo merchant and sign a terminal on over TCP',
  usage: 'qiandao demo [--port 5000] [--data ./data] [--once]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '5000' },
        data: { type: 'string', default: './data' },
        once: { type: 'boolean', default: false },
      },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0..65535, got '${values.port}'`);
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

    if (!(await getMerchant(db, MERCHANT_NO))) {
      await addMerchant(db, { merchantNo: MERCHANT_NO, name: 'qiandao demo shop', mcc: '5411', timeZone: 'Asia/Shanghai' });
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
    say(`store    merchant ${MERCHANT_NO} with terminals ${TERMINALS.join(', ')} (fresh TMKs from components)`);

    const host = await startHost({ port, db, hsm, logger });
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
    });
    try {
      await client.connect();
      const r = await client.signOn();
      const gens = await listKeyGenerations(db, { merchantNo: MERCHANT_NO, terminalNo });
      const current = gens.find((g) => g.supersededAt === null);
      say(`terminal ${terminalNo} signed on: response ${r.responseCode}, batch ${r.batchNo}, key generation ${current?.generation ?? '?'}`);
      say(`         working-key check values verified by the terminal: PIK ${r.kcvs.pik}  MAK ${r.kcvs.mak}  TDK ${r.kcvs.tdk ?? '-'}`);
      const echo = await client.echo();
      say(`         echo test: response ${echo.responseCode} in ${echo.roundTripMs} ms`);
    } finally {
      await client.close();
      for (const k of tmks.values()) k.fill(0);
    }

    if (values.once) {
      await host.close();
      await db.close();
      await hsm.close();
      say('done.');
      return;
    }
    say('');
    say('The host keeps running; press Ctrl-C to stop. Meanwhile, in another shell:');
    say('  npx qiandao decode --spec cup-pos --frame <hex>      read a frame field by field');
    say('  npx qiandao crypto kcv --key <hex>                    payment-crypto calculator (see README)');
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    say('stopping: finishing requests in flight…');
    await host.close();
    await db.close();
    await hsm.close();
  },
};
