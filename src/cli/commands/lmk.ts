/**
 * `qiandao lmk rewrap` and `qiandao lmk check`: the store side of an LMK rotation (docs/hsm.md).
 *
 * rewrap: with the new LMK as the current one (QIANDAO_LMK or --lmk-file) and the old one as the
 * previous (QIANDAO_PREVIOUS_LMK or --previous-lmk-file), every key block in the store
 * (src/store/key-blocks.ts) still under the old LMK is re-wrapped under the new one and written
 * back only if the row still holds the block that was read. Header, usage and clear key stay the
 * same (the check value is compared with the one stored beside the block), so terminals keep
 * their TMKs and working keys, and PAN fingerprints stay the same (the fingerprint key is one of
 * the blocks). Safe to run again after an interruption: blocks already under the new LMK are left.
 *
 * check: with the current LMK only, every block must open and match its stored check value.
 *
 * Exit codes: 0 all blocks done / fine · 1 some block could not be opened, changed, or its check
 * value differs (each named by table, column and row; no key material) · 2 bad input.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { WrappedKey } from '../../crypto/hsm/hsm.js';
import type { SoftHsm } from '../../crypto/hsm/soft-hsm.js';
import { appendEvent, type Db } from '../../store/index.js';
import { KEY_BLOCK_COLUMNS, columnName, keyBlocksOf, replaceKeyBlock, type KeyBlockColumn } from '../../store/key-blocks.js';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';
import { printJson } from '../io.js';
import { STORE_OPTIONS, STORE_USAGE, openHsmFrom, withStore } from '../store-options.js';
import { adoptPreviousFingerprintKey } from '../../transactions/pan-fingerprint.js';
import { cliActor } from './admin/common.js';

interface ColumnReport {
  column: string;
  blocks: number;
  /** rewrap: re-wrapped and written back. */
  rewrapped: number;
  /** Already under the current LMK. */
  current: number;
  /** rewrap: the row changed between read and write (a sign-on, another run): run again. */
  changed: number;
  /** Rows whose block opens under neither LMK or whose check value differs: table/column/row only. */
  failed: Array<{ row: string; reason: string }>;
}

/** Stored check values are 3 to 8 bytes (terminal-facing ones 4): compare on the shorter one. */
function sameCheckValue(stored: string, fromHsm: string): boolean {
  const n = Math.min(stored.length, fromHsm.length);
  return n >= 4 && stored.slice(0, n).toUpperCase() === fromHsm.slice(0, n).toUpperCase();
}

/** Why a block could not be handled, without any key material (CryptoError messages carry none). */
function reasonOf(e: unknown): string {
  const r = (e as { reason?: unknown }).reason;
  return typeof r === 'string' ? r : e instanceof Error ? e.name : 'error';
}

async function walk(
  db: Db,
  hsm: SoftHsm,
  c: KeyBlockColumn,
  write: boolean,
): Promise<ColumnReport> {
  const rep: ColumnReport = { column: columnName(c), blocks: 0, rewrapped: 0, current: 0, changed: 0, failed: [] };
  for await (const row of keyBlocksOf(db, c)) {
    rep.blocks += 1;
    const where = row.key.join('/');
    let out: WrappedKey;
    try {
      // rewrap trusts only the block: the usage it reports comes from the block's own header.
      out = await hsm.rewrap({ usage: 'TDK', algorithm: 'tdes', length: 16, kcv: '', block: row.block });
    } catch (e) {
      rep.failed.push({ row: where, reason: `does not open (${reasonOf(e)})` });
      continue;
    }
    if (!sameCheckValue(row.kcv, out.kcv)) {
      rep.failed.push({ row: where, reason: 'check value differs from the one stored' });
      continue;
    }
    if (out.block === row.block) {
      rep.current += 1;
      continue;
    }
    if (!write) {
      rep.failed.push({ row: where, reason: 'not under the current LMK' });
      continue;
    }
    if (await replaceKeyBlock(db, c, row.key, row.block, out.block)) rep.rewrapped += 1;
    else rep.changed += 1;
  }
  return rep;
}

function printReports(title: string, reports: ColumnReport[], write: boolean): void {
  const say = (s: string): void => void process.stdout.write(s + '\n');
  say(title);
  const width = Math.max(...reports.map((r) => r.column.length));
  for (const r of reports) {
    const parts = [`${r.blocks} block${r.blocks === 1 ? '' : 's'}`];
    if (write) parts.push(`${r.rewrapped} re-wrapped`);
    parts.push(`${r.current} ${write ? 'already current' : 'fine'}`);
    if (r.changed > 0) parts.push(`${r.changed} changed meanwhile (run again)`);
    if (r.failed.length > 0) parts.push(`${r.failed.length} FAILED`);
    say(`  ${r.column.padEnd(width)}  ${parts.join(', ')}`);
    for (const f of r.failed) say(`    ${r.column} row ${f.row}: ${f.reason}`);
  }
}

function readPreviousLmkFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read --previous-lmk-file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // As SoftHsm says of the LMK file: others must not be able to read it.
  if ((statSync(path).mode & 0o077) !== 0) process.stderr.write(`qiandao: warning: --previous-lmk-file ${path} is readable by group or others (chmod 600)\n`);
  return text;
}

/** Run the walk; a store failure halfway (rows done so far are safe: each was its own write) is exit 1, not bad input. */
async function walking<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${what} stopped: ${e instanceof Error ? e.message : String(e)}; blocks written so far are complete, run it again`, 1);
  }
}

/** Rows that hold a PAN fingerprint (journal, issuer cards): a store without its fingerprint key but with these cannot be checked. */
async function fingerprintsStored(db: Db): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM journal WHERE pan_fingerprint IS NOT NULL UNION ALL SELECT 1 FROM issuer_cards LIMIT 1`,
  );
  return r.rowCount > 0;
}

const REWRAP_USAGE =
  `qiandao lmk rewrap [--previous-lmk-file FILE] [--json] ${STORE_USAGE} [--lmk-file FILE]\n` +
  '  the new LMK is the current one (QIANDAO_LMK or --lmk-file), the old one the previous\n' +
  '  (QIANDAO_PREVIOUS_LMK or --previous-lmk-file); see docs/hsm.md, "LMK rotation"';

export const lmkRewrapCommand: Command = {
  path: ['lmk', 'rewrap'],
  summary: 'LMK rotation: re-wrap every key block in the store from the previous LMK to the current one',
  usage: REWRAP_USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { ...STORE_OPTIONS, 'previous-lmk-file': { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const file = values['previous-lmk-file'];
    const previousHex = file !== undefined ? readPreviousLmkFile(file) : undefined;
    const envPrevious = process.env['QIANDAO_PREVIOUS_LMK'];
    if (previousHex === undefined && (envPrevious === undefined || envPrevious === '')) {
      throw new CliError('no previous LMK: set QIANDAO_PREVIOUS_LMK or pass --previous-lmk-file with the LMK the blocks are under now');
    }
    const hsm = await openHsmFrom(values, process.env, previousHex !== undefined ? { lmkHex: previousHex } : {});
    try {
      if (hsm.previousLmkKcv === hsm.lmkKcv) throw new CliError(`the previous LMK is the current one (check value ${hsm.lmkKcv}): nothing to rotate`);
      let adopted = false;
      const reports = await withStore(values, async (db) => {
        const out: ColumnReport[] = [];
        await walking('lmk rewrap', async () => {
          adopted = await adoptPreviousFingerprintKey(db, hsm);
          for (const c of KEY_BLOCK_COLUMNS) out.push(await walk(db, hsm, c, true));
        });
        const t = totals(out);
        await appendEvent(db, {
          type: 'lmk.rewrapped',
          ok: t.failed === 0 && t.changed === 0,
          detail: { lmkKcv: hsm.lmkKcv, previousLmkKcv: hsm.previousLmkKcv, ...t, fingerprintKeyAdopted: adopted },
          ...cliActor(),
          resource: 'lmk',
        });
        return out;
      });
      const t = totals(reports);
      if (values.json) printJson({ lmkKcv: hsm.lmkKcv, previousLmkKcv: hsm.previousLmkKcv, ...t, fingerprintKeyAdopted: adopted, columns: reports });
      else {
        if (adopted) process.stdout.write('the store had no PAN fingerprint key yet: stored the one its fingerprints were made with (from the previous LMK)\n');
        printReports(`re-wrapping key blocks from LMK ${hsm.previousLmkKcv ?? '?'} (previous) to LMK ${hsm.lmkKcv} (current):`, reports, true);
        if (t.rewrapped === 0 && t.current > 0 && t.failed === 0) {
          process.stdout.write('no block was under the previous LMK: fine for a re-run; on a first run, check that the two LMKs are not swapped\n');
        }
        process.stdout.write(
          `${t.rewrapped} re-wrapped, ${t.current} already current, ${t.changed} changed meanwhile, ${t.failed} failed` +
            (t.failed === 0 && t.changed === 0 ? '; next: `qiandao lmk check` with the new LMK alone\n' : '\n'),
        );
      }
      if (t.failed > 0) throw new CliError(`${t.failed} key block${t.failed === 1 ? '' : 's'} could not be re-wrapped (listed above)`, 1);
      if (t.changed > 0) throw new CliError(`${t.changed} row${t.changed === 1 ? '' : 's'} changed while being re-wrapped: run lmk rewrap again`, 1);
    } finally {
      await hsm.close();
    }
  },
};

export const lmkCheckCommand: Command = {
  path: ['lmk', 'check'],
  summary: 'Check that every key block in the store opens under the current LMK alone and matches its check value',
  usage: `qiandao lmk check [--json] ${STORE_USAGE} [--lmk-file FILE]`,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { ...STORE_OPTIONS, json: { type: 'boolean', default: false } } });
    // The current LMK alone: a block that only the previous one opens is a failure here.
    const env = { ...process.env, QIANDAO_PREVIOUS_LMK: undefined };
    const hsm = await openHsmFrom(values, env);
    try {
      const reports = await withStore(values, async (db) =>
        walking('lmk check', async () => {
          const out: ColumnReport[] = [];
          for (const c of KEY_BLOCK_COLUMNS) out.push(await walk(db, hsm, c, false));
          const fpk = out.find((r) => r.column === 'pan_fingerprint_keys.key_block');
          if (fpk !== undefined && fpk.blocks === 0 && (await fingerprintsStored(db))) {
            // Made on first use from whatever LMK is current then: after a rotation, from the wrong one.
            fpk.failed.push({ row: '1', reason: 'missing although PAN fingerprints are stored (docs/hsm.md, "LMK rotation")' });
          }
          return out;
        }),
      );
      const t = totals(reports);
      if (values.json) printJson({ lmkKcv: hsm.lmkKcv, blocks: t.blocks, fine: t.current, failed: t.failed, columns: reports });
      else {
        printReports(`key blocks under LMK ${hsm.lmkKcv}:`, reports, false);
        process.stdout.write(`${t.current} of ${t.blocks} fine, ${t.failed} failed\n`);
      }
      if (t.failed > 0) throw new CliError(`${t.failed} key block${t.failed === 1 ? '' : 's'} not usable under LMK ${hsm.lmkKcv} (listed above)`, 1);
    } finally {
      await hsm.close();
    }
  },
};

function totals(reports: readonly ColumnReport[]): { blocks: number; rewrapped: number; current: number; changed: number; failed: number } {
  const t = { blocks: 0, rewrapped: 0, current: 0, changed: 0, failed: 0 };
  for (const r of reports) {
    t.blocks += r.blocks;
    t.rewrapped += r.rewrapped;
    t.current += r.current;
    t.changed += r.changed;
    t.failed += r.failed.length;
  }
  return t;
}

export const lmkCommands: Command[] = [lmkRewrapCommand, lmkCheckCommand];
