import type { Db } from './db.js';
import { StoreError } from './errors.js';
import { terminalNotFound, type TerminalRef } from './terminals.js';

/** Field 60.3: 001 single-length keys, 003 double-length, 004 double-length with a TDK. */
export type KeyScheme = '001' | '003' | '004';

export interface KeyGeneration extends TerminalRef {
  generation: number;
  scheme: KeyScheme;
  /** LMK-wrapped key blocks. */
  pikBlock: string;
  makBlock: string;
  tdkBlock: string | null;
  pikKcv: string;
  makKcv: string;
  tdkKcv: string | null;
  createdAt: Date;
  /** null while this is the current generation. */
  supersededAt: Date | null;
}

export interface RotateKeysInput extends TerminalRef {
  scheme: KeyScheme;
  blocks: { pik: string; mak: string; tdk?: string | null };
  kcvs: { pik: string; mak: string; tdk?: string | null };
  /** Operator number from the sign-on (field 63), recorded as last_sign_on_operator. */
  operatorNo?: string | null;
  /** Peer address of the sign-on connection, recorded as last_address. */
  address?: string | null;
}

interface KeyRow {
  merchant_no: string;
  terminal_no: string;
  generation: number;
  key_scheme: KeyScheme;
  pik_block: string;
  mak_block: string;
  tdk_block: string | null;
  pik_kcv: string;
  mak_kcv: string;
  tdk_kcv: string | null;
  created_at: Date;
  superseded_at: Date | null;
}

const COLUMNS =
  'merchant_no, terminal_no, generation, key_scheme, pik_block, mak_block, tdk_block, pik_kcv, mak_kcv, tdk_kcv, created_at, superseded_at';

function toKeyGeneration(r: KeyRow): KeyGeneration {
  return {
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    generation: Number(r.generation),
    scheme: r.key_scheme,
    pikBlock: r.pik_block,
    makBlock: r.mak_block,
    tdkBlock: r.tdk_block,
    pikKcv: r.pik_kcv,
    makKcv: r.mak_kcv,
    tdkKcv: r.tdk_kcv,
    createdAt: r.created_at,
    supersededAt: r.superseded_at,
  };
}

/**
 * Issue a new generation of working keys for a terminal (sign-on), atomically:
 * lock the terminal row, bump key_generation, supersede the current generation,
 * insert the new one, stamp keys_issued_at / last_sign_on_at, clear
 * rekey_requested and append a `keys.rotated` event. Concurrent calls for the
 * same terminal serialise on the row lock, so the counter and the single current
 * generation stay consistent. Returns the new generation number.
 *
 * NOT_FOUND if the terminal does not exist; CONSTRAINT on malformed input (e.g. a
 * TDK without scheme 004). Terminal/merchant status is the caller's policy.
 */
export async function rotateKeys(db: Db, input: RotateKeysInput): Promise<number> {
  const ref = [input.merchantNo, input.terminalNo] as const;
  return db.transaction(async (tx) => {
    // 1. Lock. Later statements take fresh READ COMMITTED snapshots, so they see
    //    everything committed by whoever held the lock before us.
    const locked = await tx.query(
      'SELECT key_generation FROM terminals WHERE merchant_no = $1 AND terminal_no = $2 FOR UPDATE',
      ref,
    );
    if (locked.rowCount === 0) throw terminalNotFound();

    // 2. Bump the counter. clock_timestamp() (not now()): the time the keys were
    //    actually issued, after any wait for the lock, so generations are ordered.
    const bumped = await tx.query<{ key_generation: number }>(
      `UPDATE terminals SET key_generation = key_generation + 1,
              keys_issued_at = ts.v, last_sign_on_at = ts.v,
              last_sign_on_operator = $3, last_address = coalesce($4, last_address),
              rekey_requested = false
         FROM (SELECT clock_timestamp() AS v) ts
        WHERE merchant_no = $1 AND terminal_no = $2
        RETURNING key_generation`,
      [...ref, input.operatorNo ?? null, input.address ?? null],
    );
    const generation = Number(bumped.rows[0]?.key_generation);

    // 3. Supersede the current generation at the same instant the new one is created.
    await tx.query(
      `UPDATE key_generations SET superseded_at =
              (SELECT keys_issued_at FROM terminals WHERE merchant_no = $1 AND terminal_no = $2)
        WHERE merchant_no = $1 AND terminal_no = $2 AND superseded_at IS NULL`,
      ref,
    );

    // 4. Insert the new generation.
    await tx.query(
      `INSERT INTO key_generations (merchant_no, terminal_no, generation, key_scheme,
              pik_block, mak_block, tdk_block, pik_kcv, mak_kcv, tdk_kcv, created_at)
       SELECT merchant_no, terminal_no, key_generation, $3, $4, $5, $6, $7, $8, $9, keys_issued_at
         FROM terminals WHERE merchant_no = $1 AND terminal_no = $2`,
      [
        ...ref,
        input.scheme,
        input.blocks.pik,
        input.blocks.mak,
        input.blocks.tdk ?? null,
        input.kcvs.pik,
        input.kcvs.mak,
        input.kcvs.tdk ?? null,
      ],
    );

    // 5. Audit (check values only; they are not secret).
    await tx.query(
      `INSERT INTO events (type, merchant_no, terminal_no, operator_no, ok, detail)
       VALUES ('keys.rotated', $1, $2, $3, true, $4::text::jsonb)`,
      [
        ...ref,
        input.operatorNo ?? null,
        JSON.stringify({
          generation,
          scheme: input.scheme,
          pikKcv: input.kcvs.pik,
          makKcv: input.kcvs.mak,
          ...(input.kcvs.tdk ? { tdkKcv: input.kcvs.tdk } : {}),
          ...(input.address ? { address: input.address } : {}),
        }),
      ],
    );
    return generation;
  });
}

export interface CurrentAndGraceKeys {
  /** Current generation, null if the terminal never signed on. */
  current: KeyGeneration | null;
  /** The generation before it, if superseded less than graceSeconds ago (in-flight messages). */
  previous: KeyGeneration | null;
}

/**
 * Keys to try for a terminal's message: the current generation, plus the previous
 * one while it is inside the grace window (judged by the database clock).
 */
export async function currentAndGraceKeys(db: Db, ref: TerminalRef, graceSeconds: number): Promise<CurrentAndGraceKeys> {
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
    throw new StoreError('CONSTRAINT', 'graceSeconds must be a non-negative number');
  }
  const r = await db.query<KeyRow>(
    `SELECT ${COLUMNS} FROM key_generations
      WHERE merchant_no = $1 AND terminal_no = $2
        AND (superseded_at IS NULL OR superseded_at > clock_timestamp() - make_interval(secs => $3::float8))
      ORDER BY generation DESC LIMIT 2`,
    [ref.merchantNo, ref.terminalNo, graceSeconds],
  );
  const rows = r.rows.map(toKeyGeneration);
  const current = rows.find((k) => k.supersededAt === null) ?? null;
  const previous =
    current === null ? null : (rows.find((k) => k.supersededAt !== null && k.generation === current.generation - 1) ?? null);
  return { current, previous };
}

export async function getKeyGeneration(db: Db, ref: TerminalRef, generation: number): Promise<KeyGeneration | null> {
  const r = await db.query<KeyRow>(
    `SELECT ${COLUMNS} FROM key_generations WHERE merchant_no = $1 AND terminal_no = $2 AND generation = $3`,
    [ref.merchantNo, ref.terminalNo, generation],
  );
  return r.rows[0] ? toKeyGeneration(r.rows[0]) : null;
}

/** All generations of a terminal, newest first. */
export async function listKeyGenerations(db: Db, ref: TerminalRef, limit = 100): Promise<KeyGeneration[]> {
  const r = await db.query<KeyRow>(
    `SELECT ${COLUMNS} FROM key_generations WHERE merchant_no = $1 AND terminal_no = $2
      ORDER BY generation DESC LIMIT $3`,
    [ref.merchantNo, ref.terminalNo, limit],
  );
  return r.rows.map(toKeyGeneration);
}
