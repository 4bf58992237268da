/** The list of key-block columns an LMK rotation walks (src/store/key-blocks.ts), its paging and its compare-and-set write. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addMerchant, addTerminal, rotateKeys, type Db } from '../../src/store/index.js';
import { KEY_BLOCK_COLUMNS, keyBlocksOf, replaceKeyBlock } from '../../src/store/key-blocks.js';
import { describeBackends, merchantNo } from './helpers.js';

describeBackends('key-block columns', (backend) => {
  let db: Db;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await backend.dispose(db);
  });

  it('lists every column of the schema that holds a key block, so a rotation leaves none behind', async () => {
    // A key block column is a text column named *_block (tmk_block, pik_block, key_block…).
    const r = await db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name LIKE '%\\_block' AND data_type = 'text'
        ORDER BY 1, 2`,
    );
    const inSchema = r.rows.map((c) => `${c.table_name}.${c.column_name}`);
    expect(inSchema.length).toBeGreaterThanOrEqual(9);
    expect([...KEY_BLOCK_COLUMNS.map((c) => `${c.table}.${c.block}`)].sort()).toEqual([...inSchema].sort());
    // and each listed check-value column exists
    for (const c of KEY_BLOCK_COLUMNS) {
      const k = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`, [c.table, c.kcv]);
      expect(k.rowCount, `${c.table}.${c.kcv}`).toBe(1);
    }
  });

  it('pages in key order with numeric generations (10 after 9), skipping NULL blocks, and writes only over the block it read', async () => {
    const m = merchantNo();
    await addMerchant(db, { merchantNo: m, name: 'Blocks', mcc: '5411' });
    await addTerminal(db, { merchantNo: m, terminalNo: '70000001' }); // no TMK: a NULL block, skipped
    await addTerminal(db, { merchantNo: m, terminalNo: '70000002', tmkBlock: 'TMK-2', tmkKcv: 'ABCDEF' });
    const ref = { merchantNo: m, terminalNo: '70000002' };
    for (let i = 1; i <= 12; i++) {
      await rotateKeys(db, { ...ref, scheme: '003', blocks: { pik: `PIK-${i}`, mak: `MAK-${i}` }, kcvs: { pik: 'AAAAAA', mak: 'BBBBBB' } });
    }
    const piks = KEY_BLOCK_COLUMNS.find((c) => c.table === 'key_generations' && c.block === 'pik_block')!;
    const seen: string[] = [];
    for await (const b of keyBlocksOf(db, piks, 5)) if (b.key[0] === m) seen.push(`${b.key[2]}:${b.block}`);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `${i + 1}:PIK-${i + 1}`));
    const tdks = KEY_BLOCK_COLUMNS.find((c) => c.table === 'key_generations' && c.block === 'tdk_block')!;
    const tdkRows: string[] = [];
    for await (const b of keyBlocksOf(db, tdks)) if (b.key[0] === m) tdkRows.push(b.block);
    expect(tdkRows).toEqual([]); // scheme 003 has no TDK

    const tmks = KEY_BLOCK_COLUMNS.find((c) => c.table === 'terminals')!;
    const mine: string[] = [];
    for await (const b of keyBlocksOf(db, tmks, 1)) if (b.key[0] === m) mine.push(`${b.key[1]}:${b.block}:${b.kcv}`);
    expect(mine).toEqual(['70000002:TMK-2:ABCDEF']);

    expect(await replaceKeyBlock(db, piks, [m, '70000002', '10'], 'PIK-10', 'PIK-10-new')).toBe(true);
    // The row no longer holds what was read: not overwritten.
    expect(await replaceKeyBlock(db, piks, [m, '70000002', '10'], 'PIK-10', 'PIK-10-other')).toBe(false);
    const r = await db.query<{ pik_block: string }>('SELECT pik_block FROM key_generations WHERE merchant_no = $1 AND generation = 10', [m]);
    expect(r.rows[0]?.pik_block).toBe('PIK-10-new');
  });
});
