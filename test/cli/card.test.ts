import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { openIssuerSimulator } from '../../src/issuer/simulator.js';
import { dropSchema, listEvents, openStore, type Db } from '../../src/store/index.js';
import { isLuhnValid, parseTrack2 } from '../../src/terminal/card.js';
import { pinBlockForIssuer, request, terminalPik } from '../issuer/helpers.js';
import { runCli } from './run-cli.js';

const DATABASE_URL = process.env['DATABASE_URL'];

const backends = [
  { name: 'PGlite (--data)', pg: false, enabled: true },
  { name: 'PostgreSQL (DATABASE_URL, unique schema)', pg: true, enabled: DATABASE_URL !== undefined && DATABASE_URL !== '' },
];

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`card commands on ${backend.name}`, () => {
    const schema = `qd_test_${process.pid}_card_${Date.now().toString(36)}`;
    let dir = '';
    let store: string[] = [];
    const cli = (...args: string[]) => runCli([...args, ...store]);
    const openDirect = (): Promise<Db> => (backend.pg ? openStore({ url: DATABASE_URL!, schema }) : openStore({ dataDir: join(dir, 'pglite') }));

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'qiandao-card-'));
      store = backend.pg ? ['--database-url', DATABASE_URL!, '--schema', schema, '--data', dir, '--dev-lmk'] : ['--data', dir, '--dev-lmk'];
      vi.stubEnv('DATABASE_URL', '');
      vi.stubEnv('QIANDAO_LMK', '');
    });

    afterAll(async () => {
      vi.unstubAllEnvs();
      if (backend.pg) {
        const db = await openStore({ url: DATABASE_URL!, schema, migrate: false });
        await dropSchema(db);
        await db.close();
      }
      rmSync(dir, { recursive: true, force: true });
    });

    let pan = '';
    let cardId = '';
    let masked = '';

    it('card add prints the PAN once, with track 2, and a card the issuer approves with that PIN', async () => {
      const add = await cli('card', 'add', '--pin', '2468', '--balance', '100000', '--expiry', '3012', '--daily-limit', '50000', '--json');
      expect(add.code, add.stderr).toBe(0);
      const out = JSON.parse(add.stdout) as { pan: string; track2: string; cardId: string; maskedPan: string; balance: number; hasPin: boolean };
      ({ pan, cardId, maskedPan: masked } = out);
      expect(isLuhnValid(pan)).toBe(true);
      expect(pan.startsWith('629990')).toBe(true);
      expect(parseTrack2(out.track2)).toEqual({ pan, expiry: '3012', serviceCode: '120', discretionary: '' });
      expect(out).toMatchObject({ balance: 100000, hasPin: true });

      // The card works at the issuer with the PIN given on the command line.
      const db = await openDirect();
      const hsm = await SoftHsm.open({ lmkFile: join(dir, 'lmk.hex'), env: {} });
      try {
        const sim = await openIssuerSimulator({ db, hsm });
        const pik = await terminalPik(hsm);
        const ok = await sim.authorize(request(pan, 'purchase', 1_000, { pinBlock: await pinBlockForIssuer(hsm, pik, await sim.pinKey(), '2468', pan) }));
        expect(ok.responseCode).toBe('00');
        const bad = await sim.authorize(request(pan, 'purchase', 1_000, { pinBlock: await pinBlockForIssuer(hsm, pik, await sim.pinKey(), '2469', pan) }));
        expect(bad.responseCode).toBe('55');
        const events = await listEvents(db, { type: 'issuer.card_added' });
        expect(events[0]?.actor).toMatch(/^cli:/);
        expect(JSON.stringify(events)).not.toContain(pan);
      } finally {
        await db.close();
        await hsm.close();
      }

      const text = await cli('card', 'add');
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/PAN \(clear\)\s+629990[0-9]{13}\n/);
      expect(text.stdout).toMatch(/PIN\s+none/);
    });

    it('card list / show / balance', async () => {
      const list = await cli('card', 'list');
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout.split('\n')[0]).toMatch(/^CARD\s+PAN\s+EXPIRY\s+STATUS\s+PIN\s+BALANCE\s+AVAILABLE$/);
      expect(list.stdout).toContain(masked);
      expect(list.stdout).not.toContain(pan);
      expect(list.stdout).toMatch(new RegExp(`${cardId}\\s+629990\\*{9}[0-9]{4}\\s+3012\\s+active\\s+yes\\s+99000\\s+99000`));

      for (const ref of [cardId, masked, pan]) {
        const show = await cli('card', 'show', ref);
        expect(show.code, `${ref}: ${show.stderr}`).toBe(0);
        expect(show.stdout).toMatch(/balance\s+990\.00 \(156\)/);
        expect(show.stdout).toMatch(/PIN\s+enrolled \(PVKI 1\), 1 wrong tries/);
        expect(show.stdout).toMatch(/deposit\s+100000/);
        expect(show.stdout).toMatch(/purchase\s+-1000/);
        expect(show.stdout).not.toContain(pan);
      }

      const credit = await cli('card', 'balance', cardId, '--credit', '500');
      expect(credit.code, credit.stderr).toBe(0);
      expect(credit.stdout).toMatch(/balance\s+995\.00 \(156\)/);
      const debit = await cli('card', 'balance', masked, '--debit', '250', '--json');
      expect(JSON.parse(debit.stdout)).toMatchObject({ cardId, balance: 99250, available: 99250 });
      expect((await cli('card', 'balance', cardId)).stdout).toMatch(/available\s+992\.50/);
    });

    it('card block / unblock', async () => {
      const block = await cli('card', 'block', cardId, '--status', 'lost');
      expect(block.code, block.stderr).toBe(0);
      expect(block.stdout).toBe(`card ${cardId} (${masked}) is lost\n`);
      expect((await cli('card', 'list', '--status', 'lost', '--json')).stdout).toContain(cardId);
      expect((await cli('card', 'block', cardId)).stdout).toMatch(/is blocked/);
      const unblock = await cli('card', 'unblock', cardId);
      expect(unblock.stdout).toMatch(/is active/);
      expect((await cli('card', 'show', cardId)).stdout).toMatch(/0 wrong tries/);
    });

    it('input errors exit 2 with a one-line message', async () => {
      const cases: [string[], RegExp][] = [
        [['card', 'add', '--pin', '12'], /--pin must be 4 to 12 digits/],
        [['card', 'add', '--expiry', '3013'], /--expiry must be YYMM/],
        [['card', 'add', '--balance=-5'], /--balance must be an integer amount/],
        [['card', 'add', '--balance', '1.50'], /--balance must be an integer amount/],
        [['card', 'add', '--status', 'gone'], /--status must be one of active, lost, stolen, blocked/],
        [['card', 'add', '--pan', '6299900000000001'], /Luhn/],
        [['card', 'add', '--pan', pan], /already exists/],
        [['card', 'add', '--bin', '12'], /--bin must be 6 to 11 digits/],
        [['card', 'show'], /a card id, masked PAN or PAN is required/],
        [['card', 'show', 'card_000000000000'], /card card_000000000000 not found/],
        [['card', 'show', '629990*********0000'], /no card 629990\*{9}0000/],
        [['card', 'show', 'nonsense'], /is not a card id/],
        [['card', 'block', cardId, '--status', 'active'], /--status must be one of blocked, lost, stolen/],
        [['card', 'balance', cardId, '--credit', '1', '--debit', '1'], /not both/],
        [['card', 'balance', cardId, '--credit', '0'], /must not be 0/],
        [['card', 'list', '--bogus'], /Unknown option '--bogus'/],
      ];
      for (const [args, re] of cases) {
        const r = await cli(...args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr, args.join(' ')).toMatch(re);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    });
  });
}
