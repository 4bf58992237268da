/**
 * LMK rotation end to end: a store whose every kind of key block (TMK, working keys, issuer ZPK
 * and PVK, journal data key, console data key, PAN fingerprint key) is under LMK A is re-wrapped
 * to LMK B with `qiandao lmk rewrap`; afterwards B alone runs everything — the same card is found
 * by its fingerprint and its PIN verifies, the sealed PAN opens, the TMK carries new keys — and A
 * opens nothing. Both stores.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { toHex } from '../../src/crypto/cipher.js';
import { consoleDataKey } from '../../src/console/auth/secret-box.js';
import { openIssuerSimulator } from '../../src/issuer/simulator.js';
import { addMerchant, addTerminal, issueKeys, listEvents, type Db } from '../../src/store/index.js';
import { fingerprintPan } from '../../src/transactions/pan-fingerprint.js';
import { openPan, sealPan } from '../../src/transactions/pan-vault.js';
import { pinBlockForIssuer, request, terminalPik } from '../issuer/helpers.js';
import { CLI_BACKENDS, cliStore } from './cli-store.js';
import { runCli } from './run-cli.js';

async function issuerCardsWith(db: Db, fingerprint: string): Promise<unknown[]> {
  return (await db.query('SELECT card_id FROM issuer_cards WHERE pan_fingerprint = $1', [fingerprint])).rows;
}
const MID = '898110070110001';
const TID = '10000001';

interface Report {
  blocks: number;
  rewrapped: number;
  current: number;
  changed: number;
  failed: number;
  fine?: number;
  columns: Array<{ column: string; blocks: number; failed: Array<{ row: string; reason: string }> }>;
}

for (const backend of CLI_BACKENDS) {
  describe.skipIf(!backend.enabled)(`LMK rotation on ${backend.name}`, () => {
    const store = cliStore(backend, 'lmk');
    const lmkA = randomBytes(32).toString('hex');
    const lmkB = randomBytes(32).toString('hex');
    let fileA = '';
    let fileB = '';
    const cli = (...args: string[]) => runCli([...args, ...store.args]);
    const openDirect = (): Promise<Db> => store.open();
    const hsmWith = (lmkHex: string): Promise<SoftHsm> => SoftHsm.open({ lmkHex, env: {}, logger: { warn: () => undefined } });
    const json = (stdout: string): Report => JSON.parse(stdout) as Report;

    let pan = '';
    let fingerprint = '';
    let sealed = '';
    let tmkKcv = '';

    beforeAll(async () => {
      fileA = join(store.dir, 'lmk-a.hex');
      fileB = join(store.dir, 'lmk-b.hex');
      writeFileSync(fileA, `# LMK A\n${lmkA}\n`, { mode: 0o600 });
      writeFileSync(fileB, `${lmkB}\n`, { mode: 0o600 });
      vi.stubEnv('QIANDAO_PREVIOUS_LMK', '');

      // Everything under LMK A, made the way the host, issuer, journal and console make it.
      const db = await openDirect();
      const hsm = await hsmWith(lmkA);
      try {
        await addMerchant(db, { merchantNo: MID, name: 'LMK rotation', mcc: '5411', timeZone: 'Asia/Shanghai' });
        const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [randomBytes(16), randomBytes(16)]);
        tmkKcv = tmk.kcv;
        await addTerminal(db, { merchantNo: MID, terminalNo: TID, tmkBlock: tmk.block, tmkKcv: tmk.kcv });
        const [pik, mak, tdk] = await Promise.all([
          hsm.generateKey({ usage: 'PIK', algorithm: 'tdes', length: 16 }),
          hsm.generateKey({ usage: 'MAK', algorithm: 'tdes', length: 8 }),
          hsm.generateKey({ usage: 'TDK', algorithm: 'tdes', length: 16 }),
        ]);
        const kcv4 = async (k: typeof pik): Promise<string> => toHex((await hsm.exportUnderKek(k, tmk, 4)).kcv);
        const issued = await issueKeys(db, {
          merchantNo: MID,
          terminalNo: TID,
          scheme: '004',
          blocks: { pik: pik.block, mak: mak.block, tdk: tdk.block },
          kcvs: { pik: await kcv4(pik), mak: await kcv4(mak), tdk: await kcv4(tdk) },
        });
        expect(issued.outcome).toBe('issued');
        const issuer = await openIssuerSimulator({ db, hsm });
        const added = await issuer.addCard({ pin: '2468', balance: 100_000 });
        pan = added.pan;
        fingerprint = await fingerprintPan(db, hsm, pan);
        sealed = await sealPan(db, hsm, pan);
        await consoleDataKey(db, hsm);
      } finally {
        await hsm.close();
        await db.close();
      }
    });

    it('check: every block opens under LMK A (one in each key-block column)', async () => {
      const r = await cli('lmk', 'check', '--lmk-file', fileA, '--json');
      expect(r.code, r.stderr).toBe(0);
      const rep = json(r.stdout);
      expect(rep).toMatchObject({ blocks: 9, fine: 9, failed: 0 });
      const counts = Object.fromEntries(rep.columns.map((c) => [c.column, c.blocks]));
      expect(counts).toEqual({
        'terminals.tmk_block': 1,
        'key_generations.pik_block': 1,
        'key_generations.mak_block': 1,
        'key_generations.tdk_block': 1,
        'issuer_keys.zpk_block': 1,
        'issuer_keys.pvk_block': 1,
        'journal_keys.key_block': 1,
        'console_keys.key_block': 1,
        'pan_fingerprint_keys.key_block': 1,
      } as Record<string, number>);
    });

    it('rewrap needs the previous LMK, and refuses the current one as the previous', async () => {
      const none = await cli('lmk', 'rewrap', '--lmk-file', fileB);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('no previous LMK');
      const same = await cli('lmk', 'rewrap', '--lmk-file', fileB, '--previous-lmk-file', fileB);
      expect(same.code).toBe(2);
      expect(same.stderr).toContain('nothing to rotate');
      const missing = await cli('lmk', 'rewrap', '--lmk-file', fileB, '--previous-lmk-file', join(store.dir, 'nope.hex'));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--previous-lmk-file');
    });

    it('rewrap moves every block from A to B; afterwards B alone opens all of them and A none', async () => {
      const r = await cli('lmk', 'rewrap', '--lmk-file', fileB, '--previous-lmk-file', fileA, '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(json(r.stdout)).toMatchObject({ blocks: 9, rewrapped: 9, current: 0, changed: 0, failed: 0 });
      expect(r.stdout + r.stderr).not.toContain(lmkA);
      expect(r.stdout + r.stderr).not.toContain(lmkB);

      const underB = await cli('lmk', 'check', '--lmk-file', fileB, '--json');
      expect(underB.code, underB.stderr).toBe(0);
      expect(json(underB.stdout)).toMatchObject({ blocks: 9, fine: 9, failed: 0 });
      const underA = await cli('lmk', 'check', '--lmk-file', fileA);
      expect(underA.code).toBe(1);
      expect(underA.stdout).toContain(`terminals.tmk_block row ${MID}/${TID}: does not open (BAD_KEY_BLOCK)`);
      expect(underA.stdout).toContain('0 of 9 fine, 9 failed');

      // Run again (an interrupted job is simply re-run): nothing left to do.
      const again = await cli('lmk', 'rewrap', '--lmk-file', fileB, '--previous-lmk-file', fileA, '--json');
      expect(again.code, again.stderr).toBe(0);
      expect(json(again.stdout)).toMatchObject({ rewrapped: 0, current: 9, failed: 0 });

      const db = await openDirect();
      try {
        const events = await listEvents(db, { type: 'lmk.rewrapped' });
        expect(events).toHaveLength(2);
        expect(events.map((e) => e.detail)).toContainEqual(expect.objectContaining({ rewrapped: 9, failed: 0 }));
        expect(events[0]?.actor).toMatch(/^cli:/);
      } finally {
        await db.close();
      }
    });

    it('under B alone: same card fingerprint, the PIN verifies at the issuer, the sealed PAN opens, the TMK carries keys', async () => {
      const db = await openDirect();
      const hsm = await hsmWith(lmkB);
      try {
        expect(await fingerprintPan(db, hsm, pan)).toBe(fingerprint);
        const issuer = await openIssuerSimulator({ db, hsm });
        expect((await issuer.findCardByPan(pan))?.balance).toBe(100_000);
        const pik = await terminalPik(hsm);
        const right = await issuer.authorize(request(pan, 'purchase', 100, { pinBlock: await pinBlockForIssuer(hsm, pik, await issuer.pinKey(), '2468', pan) }));
        expect(right.responseCode).toBe('00');
        const wrong = await issuer.authorize(request(pan, 'purchase', 100, { pinBlock: await pinBlockForIssuer(hsm, pik, await issuer.pinKey(), '1357', pan) }));
        expect(wrong.responseCode).toBe('55');
        expect(await openPan(db, hsm, sealed, fingerprint)).toBe(pan);
        const t = await db.query<{ tmk_block: string; tmk_kcv: string }>('SELECT tmk_block, tmk_kcv FROM terminals WHERE terminal_no = $1', [TID]);
        const tmk = { usage: 'TMK' as const, algorithm: 'tdes' as const, length: 16, kcv: tmkKcv, block: t.rows[0]!.tmk_block };
        expect(toHex(await hsm.kcv(tmk))).toBe(tmkKcv);
        const fresh = await hsm.generateKey({ usage: 'MAK', algorithm: 'tdes', length: 8 });
        expect((await hsm.exportUnderKek(fresh, tmk, 4)).cryptogram).toHaveLength(8);
      } finally {
        await hsm.close();
        await db.close();
      }
    });

    it('a store that never stored its fingerprint key (made by an older version) keeps its fingerprints through a rotation', async () => {
      // As a store made before migration 011 under LMK B: the card's fingerprint is the HMAC under
      // the key SoftHsm derived from B, and no key row exists. Rotating B -> A must store B's key
      // first, not let A make a new one on first use.
      const legacyB = Buffer.from(hkdfSync('sha256', Buffer.from(lmkB, 'hex'), Buffer.alloc(0), 'qiandao pan fingerprint v1', 32));
      const before = createHmac('sha256', legacyB).update(pan).digest('hex');
      const db = await openDirect();
      try {
        await db.query('DELETE FROM pan_fingerprint_keys');
        await db.query('UPDATE issuer_cards SET pan_fingerprint = $1', [before]);
        expect((await issuerCardsWith(db, before)).length).toBe(1);
      } finally {
        await db.close();
      }
      const missing = await cli('lmk', 'check', '--lmk-file', fileB);
      expect(missing.code).toBe(1);
      expect(missing.stdout).toContain('pan_fingerprint_keys.key_block row 1: missing although PAN fingerprints are stored');
      const r = await cli('lmk', 'rewrap', '--lmk-file', fileA, '--previous-lmk-file', fileB, '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ fingerprintKeyAdopted: true, failed: 0 });
      const db2 = await openDirect();
      const hsmA = await hsmWith(lmkA);
      try {
        expect(await fingerprintPan(db2, hsmA, pan)).toBe(before);
        expect(await (await openIssuerSimulator({ db: db2, hsm: hsmA })).findCardByPan(pan)).toBeDefined();
      } finally {
        await hsmA.close();
        await db2.close();
      }
      // and back to B for the next test
      const back = await cli('lmk', 'rewrap', '--lmk-file', fileB, '--previous-lmk-file', fileA, '--json');
      expect(back.code, back.stderr).toBe(0);
      expect(JSON.parse(back.stdout)).toMatchObject({ fingerprintKeyAdopted: false, failed: 0 });
    });

    it('check names a damaged block by table, column and row, without showing it', async () => {
      const db = await openDirect();
      let block = '';
      try {
        const r = await db.query<{ mak_block: string }>('SELECT mak_block FROM key_generations WHERE terminal_no = $1', [TID]);
        block = r.rows[0]!.mak_block;
        const flipped = block.slice(0, -1) + (block.endsWith('0') ? '1' : '0');
        await db.query('UPDATE key_generations SET mak_block = $1 WHERE terminal_no = $2', [flipped, TID]);
      } finally {
        await db.close();
      }
      const r = await cli('lmk', 'check', '--lmk-file', fileB);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`key_generations.mak_block row ${MID}/${TID}/1: does not open (BAD_KEY_BLOCK)`);
      expect(r.stderr).toContain('1 key block not usable under LMK');
      expect(r.stdout + r.stderr).not.toContain(block.slice(-16));
      const rewrap = await cli('lmk', 'rewrap', '--lmk-file', fileB, '--previous-lmk-file', fileA);
      expect(rewrap.code).toBe(1);
      expect(rewrap.stdout).toContain('key_generations.mak_block row');
    });
  });
}
