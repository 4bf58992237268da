/**
 * Crash recovery: the host runs as a child process (node + tsx) with the issuer simulator; four
 * terminals send purchases concurrently; the host is SIGKILLed in the middle of the run and
 * started again (its start-up recovery reverses the journal entries left pending). One card is
 * "stuck" in the first run: the issuer posts its purchase but never answers, so when the host is
 * killed that entry is certainly pending with a posting behind it. Then:
 *
 * - something was pending at the crash, and recovery reversed it: the stuck entry is 'reversed' by
 *   recovery, its posting undone at the issuer, the card's balance back to its opening;
 * - every approval a terminal received is in the journal as approved (journal written before the
 *   response);
 * - nothing is left pending;
 * - every card's issuer balance equals its opening balance minus the approved journal amounts
 *   (no posting without an approved entry, no approved entry without its posting), and the
 *   issuer's ledger is sound.
 *
 * PostgreSQL (DATABASE_URL) and PGlite on disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { openIssuerSimulator } from '../../src/issuer/simulator.js';
import { addMerchant, addTerminal, dropSchema, openStore, type Db, type OpenStoreOptions } from '../../src/store/index.js';
import { listJournal } from '../../src/store/journal.js';
import { addOperator, startOperatorSession } from '../../src/store/operators.js';
import { TerminalClient } from '../../src/terminal/client.js';
import { buildTrack2 } from '../../src/terminal/card.js';
import { CURRENCY_CNY, financialField60, MESSAGES } from '../../src/transactions/messages.js';
import { fingerprintPan } from '../../src/transactions/pan-fingerprint.js';
import { DATABASE_URL, uniqueSchema } from '../store/helpers.js';
import { CLEAR_TMK, TMK_COMPONENTS } from './fixture.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** The child: open the store, the HSM (same LMK), the issuer simulator, start the host, print the port. */
const CHILD = `
import { createRequire } from 'node:module';
const pino = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('pino');
import { SoftHsm } from ${JSON.stringify(join(ROOT, 'src/crypto/hsm/soft-hsm.ts'))};
import { openIssuerSimulator } from ${JSON.stringify(join(ROOT, 'src/issuer/simulator.ts'))};
import { startHost } from ${JSON.stringify(join(ROOT, 'src/host/index.ts'))};
import { openStore } from ${JSON.stringify(join(ROOT, 'src/store/index.ts'))};
const args = JSON.parse(process.argv[2]);
const db = await openStore(args.store);
const hsm = await SoftHsm.open({ lmkHex: args.lmkHex });
const issuer = await openIssuerSimulator({ db, hsm, behaviour: { delayMs: 15 } });
// The stuck card: processed and posted, answer lost (the host would give up only after 25 s).
if (args.stuckCardId) issuer.setBehaviour({ timeout: 'after-processing' }, args.stuckCardId);
const host = await startHost({ port: 0, db, hsm, issuer, idleTimeoutMs: 0, logger: pino({ level: 'silent' }) });
process.stdout.write(JSON.stringify({ port: host.port, recovery: host.recovery }) + '\\n');
process.on('SIGTERM', () => { void host.close().then(() => db.close()).then(() => process.exit(0)); });
`;

interface Started {
  child: ChildProcess;
  port: number;
  recovery: { pending: number; reversed: number; left: number };
}

function startChild(script: string, store: OpenStoreOptions, lmkHex: string, stuckCardId?: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify({ store, lmkHex, stuckCardId })], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`host child did not start: ${err}`)), 60_000);
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      clearTimeout(timer);
      const o = JSON.parse(line) as { port: number; recovery: Started['recovery'] };
      resolveStart({ child, port: o.port, recovery: o.recovery });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host child exited (${String(code)}): ${err}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
}

interface Card {
  pan: string;
  expiry: string;
  cardId: string;
  opening: number;
  fingerprint: string;
}

interface Backend {
  name: string;
  enabled: boolean;
  store(): Promise<OpenStoreOptions>;
  cleanup(store: OpenStoreOptions): Promise<void>;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'qd-kill-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const backends: Backend[] = [
  {
    name: 'postgres',
    enabled: DATABASE_URL !== undefined && DATABASE_URL !== '',
    store: () => Promise.resolve({ url: DATABASE_URL, schema: uniqueSchema() }),
    cleanup: async (store) => {
      const db = await openStore({ ...store, migrate: false });
      try {
        await dropSchema(db);
      } finally {
        await db.close();
      }
    },
  },
  {
    name: 'pglite on disk',
    enabled: true,
    store: () => Promise.resolve({ dataDir: join(tmp, `pgdata-${randomBytes(3).toString('hex')}`) }),
    cleanup: () => Promise.resolve(),
  },
];

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`kill -9 in the middle of a load run [${backend.name}]`, () => {
    it('keeps every approval in the journal and every balance equal to its journal', { timeout: 240_000 }, async () => {
      const store = await backend.store();
      const lmkHex = randomBytes(32).toString('hex');
      const script = join(tmp, `host-${randomBytes(3).toString('hex')}.mts`);
      await writeFile(script, CHILD);
      const merchantNo = `8981000${String(process.pid % 1000).padStart(3, '0')}${String(Date.now() % 100_000).padStart(5, '0')}`;
      const terminalNos = ['K0000001', 'K0000002', 'K0000003', 'K0000004'];
      const stuckTerminalNo = 'K0000005';
      const cards: Card[] = [];
      let stuck: Card | undefined;

      // Seed: merchant, terminals, operators, cards.
      {
        const db = await openStore(store);
        const hsm = await SoftHsm.open({ lmkHex });
        try {
          const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [...TMK_COMPONENTS]);
          await addMerchant(db, { merchantNo, name: 'Load shop', mcc: '5411' });
          await addOperator(db, { merchantNo, operatorNo: '00', name: 'Supervisor', password: '123456', mustChangePassword: false }, { actor: 'system' });
          for (const terminalNo of [...terminalNos, stuckTerminalNo]) {
            await addTerminal(db, { merchantNo, terminalNo, tmkBlock: tmk.block, tmkKcv: tmk.kcv });
            await startOperatorSession(db, { merchantNo, terminalNo, operatorNo: '00' });
          }
          const issuer = await openIssuerSimulator({ db, hsm });
          for (let i = 0; i < 6; i++) {
            const added = await issuer.addCard({ balance: 1_000_000 });
            cards.push({ pan: added.pan, expiry: added.card.expiry, cardId: added.card.cardId, opening: 1_000_000, fingerprint: await fingerprintPan(db, hsm, added.pan) });
          }
          const s = await issuer.addCard({ balance: 1_000_000 });
          stuck = { pan: s.pan, expiry: s.card.expiry, cardId: s.card.cardId, opening: 1_000_000, fingerprint: await fingerprintPan(db, hsm, s.pan) };
        } finally {
          await hsm.close();
          await db.close();
        }
      }

      // Run 1: load, then SIGKILL.
      if (stuck === undefined) throw new Error('no stuck card');
      const stuckCard = stuck;
      const first = await startChild(script, store, lmkHex, stuckCard.cardId);
      const seen: Array<{ terminalNo: string; stan: string; rrn: string; amount: number }> = [];
      const clients: TerminalClient[] = [];
      let stop = false;
      const loops = terminalNos.map(async (terminalNo, t) => {
        const client = new TerminalClient({ host: '127.0.0.1', port: first.port, terminalNo, merchantNo, tmk: CLEAR_TMK, keyScheme: '003', reconnect: false, requestTimeoutMs: 15_000 });
        clients.push(client);
        await client.connect();
        await client.signOn();
        for (let i = 0; !stop; i++) {
          const card = cards[(t + i) % cards.length]!;
          const amount = 1 + ((t * 7919 + i * 104_729) % 5_000);
          const d = MESSAGES.purchase;
          try {
            const rsp = await client.request(
              d.mti,
              {
                3: d.processingCode!,
                4: String(amount).padStart(12, '0'),
                22: '022',
                25: d.conditionCode!,
                35: buildTrack2({ pan: card.pan, expiry: card.expiry }),
                41: terminalNo,
                42: merchantNo,
                49: CURRENCY_CNY,
                60: financialField60('purchase', client.batchNo),
              },
              { mac: true },
            );
            if (rsp.message.get(39) === '00') {
              seen.push({ terminalNo, stan: rsp.message.get(11)!, rrn: rsp.message.get(37)!, amount });
            }
          } catch {
            return; // the host is gone
          }
        }
      });
      // The stuck purchase: posted by the issuer, never answered; pending when the host dies.
      const stuckClient = new TerminalClient({ host: '127.0.0.1', port: first.port, terminalNo: stuckTerminalNo, merchantNo, tmk: CLEAR_TMK, keyScheme: '003', reconnect: false, requestTimeoutMs: 60_000 });
      clients.push(stuckClient);
      await stuckClient.connect();
      await stuckClient.signOn();
      const stuckSent = Date.now();
      const stuckAnswer = stuckClient
        .request(
          MESSAGES.purchase.mti,
          {
            3: MESSAGES.purchase.processingCode!,
            4: String(7_777).padStart(12, '0'),
            22: '022',
            25: MESSAGES.purchase.conditionCode!,
            35: buildTrack2({ pan: stuckCard.pan, expiry: stuckCard.expiry }),
            41: stuckTerminalNo,
            42: merchantNo,
            49: CURRENCY_CNY,
            60: financialField60('purchase', stuckClient.batchNo),
          },
          { mac: true },
        )
        .then(
          (r) => r.message.get(39),
          () => 'no answer',
        );
      // Let the load run, then kill the host without warning (well before the host's 25 s issuer
      // limit would settle the stuck purchase by itself).
      const deadline = Date.now() + 15_000;
      while (seen.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - stuckSent))));
      expect(Date.now() - stuckSent).toBeLessThan(20_000);
      first.child.kill('SIGKILL');
      await exited(first.child);
      stop = true;
      await Promise.all(loops);
      expect(await stuckAnswer).toBe('no answer');
      await Promise.all(clients.map((c) => c.close()));
      expect(seen.length).toBeGreaterThan(0);

      // Run 2: start again; start-up recovery settles what was pending.
      const second = await startChild(script, store, lmkHex);
      expect(second.recovery.left).toBe(0);
      // Something was pending at the crash (at least the stuck purchase) and recovery reversed it.
      expect(second.recovery.pending).toBeGreaterThanOrEqual(1);
      expect(second.recovery.reversed).toBe(second.recovery.pending);
      second.child.kill('SIGTERM');
      await exited(second.child);

      // Check journal against what the terminals saw and against the issuer.
      const db: Db = await openStore({ ...store, migrate: false });
      const hsm = await SoftHsm.open({ lmkHex });
      try {
        const journal = await listJournal(db, { merchantNo });
        expect(journal.filter((e) => e.status === 'pending')).toEqual([]);
        const stuckEntries = journal.filter((e) => e.terminalNo === stuckTerminalNo);
        expect(stuckEntries).toHaveLength(1);
        expect(stuckEntries[0]).toMatchObject({
          status: 'reversed',
          responseCode: '96',
          reversalReason: 'recovery: host restarted with the entry pending',
          panCipher: null,
        });
        const approved = journal.filter((e) => e.status === 'approved');
        for (const s of seen) {
          const e = approved.find((x) => x.terminalNo === s.terminalNo && x.stan === s.stan && x.rrn === s.rrn);
          expect(e, `approval ${s.terminalNo}/${s.stan} missing from the journal`).toBeDefined();
          expect(e?.amount).toBe(s.amount);
        }
        const issuer = await openIssuerSimulator({ db, hsm });
        for (const card of cards) {
          const spent = approved.filter((e) => e.panFingerprint === card.fingerprint).reduce((sum, e) => sum + e.amount, 0);
          const c = await issuer.getCard(card.cardId);
          expect(c?.balance, `card ${card.cardId}`).toBe(card.opening - spent);
        }
        // The stuck purchase had been posted (the issuer answered nothing, but processed it) and
        // recovery undid it: purchase + reversal, balance back to the opening.
        expect((await issuer.postings(stuckCard.cardId)).map((p) => p.kind)).toEqual(['deposit', 'purchase', 'reversal']);
        expect((await issuer.getCard(stuckCard.cardId))?.balance).toBe(stuckCard.opening);
        expect(await issuer.checkLedger()).toEqual([]);
        // What recovery did is visible in the journal: reversed entries carry 96.
        const recovered = journal.filter((e) => e.status === 'reversed');
        expect(recovered.length).toBe(second.recovery.reversed);
        console.info(
          `[${backend.name}] approvals seen ${seen.length}, journal approved ${approved.length}, pending at crash ${second.recovery.pending}, reversed by recovery ${second.recovery.reversed}`,
        );
      } finally {
        await hsm.close();
        await db.close();
        await backend.cleanup(store);
      }
    });
  });
}
