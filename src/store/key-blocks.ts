/**
 * Every key block the store holds, for LMK rotation (`qiandao lmk rewrap` / `lmk check`): each
 * column that keeps a TR-31 block under the LMK, the row's primary key and the check value stored
 * beside it. test/store/key-blocks.test.ts fails when a migration adds a key-block column that is
 * not listed here, so a rotation can never leave one behind.
 */
import type { Db } from './db.js';

export interface KeyBlockColumn {
  table: string;
  /** Primary-key columns, in order (rows are read in this order, a page at a time). */
  key: readonly string[];
  /** The column holding the key block (may be NULL: a terminal without a TMK). */
  block: string;
  /** The check-value column beside it (hex; the terminal-facing ones are 4 bytes, the HSM's 3 or 5). */
  kcv: string;
}

export const KEY_BLOCK_COLUMNS: readonly KeyBlockColumn[] = [
  { table: 'terminals', key: ['merchant_no', 'terminal_no'], block: 'tmk_block', kcv: 'tmk_kcv' },
  { table: 'key_generations', key: ['merchant_no', 'terminal_no', 'generation'], block: 'pik_block', kcv: 'pik_kcv' },
  { table: 'key_generations', key: ['merchant_no', 'terminal_no', 'generation'], block: 'mak_block', kcv: 'mak_kcv' },
  { table: 'key_generations', key: ['merchant_no', 'terminal_no', 'generation'], block: 'tdk_block', kcv: 'tdk_kcv' },
  { table: 'issuer_keys', key: ['id'], block: 'zpk_block', kcv: 'zpk_kcv' },
  { table: 'issuer_keys', key: ['id'], block: 'pvk_block', kcv: 'pvk_kcv' },
  { table: 'journal_keys', key: ['id'], block: 'key_block', kcv: 'key_kcv' },
  { table: 'console_keys', key: ['name'], block: 'key_block', kcv: 'kcv' },
  { table: 'pan_fingerprint_keys', key: ['id'], block: 'key_block', kcv: 'key_kcv' },
];

export interface StoredKeyBlock {
  /** The row's primary key values, as text, in KeyBlockColumn.key order. */
  key: string[];
  block: string;
  kcv: string;
}

/** "table.column" for messages. */
export function columnName(c: KeyBlockColumn): string {
  return `${c.table}.${c.block}`;
}

/**
 * The blocks of one column, `pageSize` rows at a time in primary-key order (keyset paging, so
 * rows added or changed meanwhile neither repeat nor shift the pages). Rows whose block is NULL
 * are skipped.
 */
export async function* keyBlocksOf(db: Db, c: KeyBlockColumn, pageSize = 500): AsyncGenerator<StoredKeyBlock> {
  listed(c);
  const keys = c.key.map((k) => `${k}::text`).join(', ');
  let after: string[] | null = null;
  for (;;) {
    const params: unknown[] = [];
    let where = `${c.block} IS NOT NULL`;
    if (after !== null) {
      const placeholders = after.map((v) => {
        params.push(v);
        return `$${params.length}`;
      });
      // Compare as the columns' own types (generation is an integer: '10' < '9' as text).
      where += ` AND (${c.key.join(', ')}) > (${placeholders.map((p, i) => `${p}::${castOf(c, i)}`).join(', ')})`;
    }
    params.push(pageSize);
    const r = await db.query<Record<string, string>>(
      // ORDER BY the table's own columns: a bare name would mean the text cast in the select list.
      `SELECT ${keys}, ${c.block} AS block, ${c.kcv} AS kcv FROM ${c.table} WHERE ${where} ORDER BY ${c.key.map((k) => `${c.table}.${k}`).join(', ')} LIMIT $${params.length}`,
      params,
    );
    for (const row of r.rows) yield { key: c.key.map((k) => String(row[k])), block: String(row['block']), kcv: String(row['kcv']) };
    if (r.rows.length < pageSize) return;
    const last = r.rows[r.rows.length - 1]!;
    after = c.key.map((k) => String(last[k]));
  }
}

/** Table and column names go into the SQL text: only the ones listed above. */
function listed(c: KeyBlockColumn): void {
  if (!KEY_BLOCK_COLUMNS.includes(c)) throw new TypeError(`${c.table}.${c.block} is not a listed key-block column`);
}

function castOf(c: KeyBlockColumn, i: number): string {
  const k = c.key[i]!;
  return k === 'id' || k === 'generation' ? 'bigint' : 'text';
}

/**
 * Replace one row's block, only if it still holds `from` (a sign-on or another rewrap run may have
 * changed it meanwhile). True when the row was updated.
 */
export async function replaceKeyBlock(db: Db, c: KeyBlockColumn, key: readonly string[], from: string, to: string): Promise<boolean> {
  listed(c);
  const params: unknown[] = [to, from];
  const match = c.key.map((k, i) => {
    params.push(key[i]);
    return `${k} = $${params.length}::${castOf(c, i)}`;
  });
  const r = await db.query(`UPDATE ${c.table} SET ${c.block} = $1 WHERE ${c.block} = $2 AND ${match.join(' AND ')}`, params);
  return (r.rowCount ?? 0) === 1;
}
