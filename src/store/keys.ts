import { batcherFor, batchesInFlight } from './batch.js';
import type { Db } from './db.js';
import { StoreError } from './errors.js';
import {
  JOINED_TERMINAL_COLUMNS,
  MERCHANT_COLUMNS,
  terminalNotFound,
  toTerminalAndMerchant,
  type JoinedRow,
  type TerminalAndMerchant,
  type TerminalRef,
} from './terminals.js';

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

/** Audit columns of the event a key issue appends (see NewEvent in events.ts). */
export interface KeyIssueAudit {
  /** Who acted, e.g. `terminal:<mid>/<tid>`. */
  actor?: string | null;
  /** Where from, e.g. the terminal connection's `ip:port`. */
  origin?: string | null;
  /** What was affected, e.g. `terminal:<mid>/<tid>`. */
  resource?: string | null;
}

export interface IssueKeysInput extends RotateKeysInput, KeyIssueAudit {
  /**
   * Re-check, under the terminal's row lock, that the terminal and its merchant are active, and
   * issue nothing otherwise (outcome `terminal-inactive` / `merchant-inactive`). Default false.
   */
  requireActive?: boolean;
}

/** What issueKeys did. */
export type IssueKeysResult =
  | {
      outcome: 'issued';
      generation: number;
      /** keys_issued_at = last_sign_on_at = created_at of the new generation. */
      issuedAt: Date;
      /** The terminal's parameter versions as the issue left them. */
      paramsVersion: number;
      paramsDownloadedVersion: number;
    }
  | { outcome: 'not-found' }
  /** `status`: the terminal's status, or the merchant's (`missing` when there is no merchant row). */
  | { outcome: 'terminal-inactive' | 'merchant-inactive'; status: string };

interface SignOnRow {
  r_outcome: string;
  r_generation: number | null;
  r_issued_at: Date | null;
  r_params_version: number | null;
  r_params_downloaded_version: number | null;
}

/**
 * Issue a new generation of working keys for a terminal (sign-on) in one statement and one
 * round trip: the `qd_sign_on` function (migrations/003_sign_on.sql) locks the terminal row,
 * optionally re-checks terminal and merchant status, bumps key_generation, supersedes the
 * current generation, inserts the new one, stamps keys_issued_at / last_sign_on_at (after any
 * wait for the lock), records operator and address, clears rekey_requested and appends a
 * `keys.rotated` event (check values only). Concurrent calls for the same terminal serialise on
 * the row lock, so the counter and the single current generation stay consistent.
 *
 * Concurrent calls on one store handle are grouped (src/store/batch.ts): whatever queued while
 * earlier batches were in flight goes out as one statement, one transaction, committed before
 * any of its callers resumes. On a transaction handle the call runs directly.
 *
 * CONSTRAINT on malformed input (e.g. a TDK without scheme 004); nothing is written then.
 */
export function issueKeys(db: Db, input: IssueKeysInput): Promise<IssueKeysResult> {
  const batcher = batcherFor(db, ISSUE_BATCHER, { single: issueOne, many: issueMany, maxBatch: 250, maxConcurrent: batchesInFlight(db) });
  return batcher === null ? issueOne(db, input) : batcher.call(input);
}

/** Identifies the key-issue Batcher of a Db. */
const ISSUE_BATCHER = {};

function params(input: IssueKeysInput): unknown[] {
  return [
    input.merchantNo,
    input.terminalNo,
    input.scheme,
    input.blocks.pik,
    input.blocks.mak,
    input.blocks.tdk ?? null,
    input.kcvs.pik,
    input.kcvs.mak,
    input.kcvs.tdk ?? null,
    input.operatorNo ?? null,
    input.address ?? null,
    input.requireActive === true,
    input.actor ?? null,
    input.origin ?? null,
    input.resource ?? null,
  ];
}

const SIGN_ON_RESULT = 'r_outcome, r_generation, r_issued_at, r_params_version, r_params_downloaded_version';

async function issueOne(db: Db, input: IssueKeysInput): Promise<IssueKeysResult> {
  const r = await db.query<SignOnRow>(
    `SELECT ${SIGN_ON_RESULT}
       FROM qd_sign_on($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text,
                       $10::text, $11::text, $12::boolean, $13::text, $14::text, $15::text)`,
    params(input),
  );
  const row = r.rows[0];
  if (row === undefined) throw new StoreError('INTERNAL', 'qd_sign_on returned no row');
  return toIssueResult(row);
}

const BATCH_COLUMNS = [
  'i int', 'm text', 't text', 'scheme text', 'pik text', 'mak text', 'tdk text', 'pik_kcv text', 'mak_kcv text',
  'tdk_kcv text', 'op text', 'addr text', 'chk boolean', 'actor text', 'origin text', 'res text',
].join(', ');

/**
 * Several key issues in one statement (one transaction): qd_sign_on once per input, in
 * (merchant, terminal) order so that concurrent batches take row locks in the same order.
 */
async function issueMany(db: Db, inputs: readonly IssueKeysInput[]): Promise<IssueKeysResult[]> {
  const order = inputs.map((input, i) => ({ input, i }));
  order.sort((a, b) => compareRefs(a.input, b.input) || a.i - b.i);
  const doc = JSON.stringify(
    order.map(({ input, i }) => {
      const [m, t, scheme, pik, mak, tdk, pikKcv, makKcv, tdkKcv, op, addr, chk, actor, origin, res] = params(input);
      return { i, m, t, scheme, pik, mak, tdk, pik_kcv: pikKcv, mak_kcv: makKcv, tdk_kcv: tdkKcv, op, addr, chk, actor, origin, res };
    }),
  );
  const r = await db.query<SignOnRow & { i: number }>(
    `SELECT v.i, s.r_outcome, s.r_generation, s.r_issued_at, s.r_params_version, s.r_params_downloaded_version
       FROM jsonb_to_recordset($1::text::jsonb) AS v(${BATCH_COLUMNS})
      CROSS JOIN LATERAL qd_sign_on(v.m, v.t, v.scheme, v.pik, v.mak, v.tdk, v.pik_kcv, v.mak_kcv, v.tdk_kcv,
                                    v.op, v.addr, v.chk, v.actor, v.origin, v.res) AS s`,
    [doc],
  );
  const out: IssueKeysResult[] = new Array<IssueKeysResult>(inputs.length);
  for (const row of r.rows) out[Number(row.i)] = toIssueResult(row);
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new StoreError('INTERNAL', 'qd_sign_on returned no row');
  return out;
}

/** (merchant, terminal) in byte order (the identifiers are ASCII): COLLATE "C" order in SQL. */
function compareRefs(a: TerminalRef, b: TerminalRef): number {
  if (a.merchantNo !== b.merchantNo) return a.merchantNo < b.merchantNo ? -1 : 1;
  if (a.terminalNo !== b.terminalNo) return a.terminalNo < b.terminalNo ? -1 : 1;
  return 0;
}

function toIssueResult(row: SignOnRow): IssueKeysResult {
  const outcome = row.r_outcome;
  if (outcome === 'ok') {
    return {
      outcome: 'issued',
      generation: Number(row.r_generation),
      issuedAt: row.r_issued_at as Date,
      paramsVersion: Number(row.r_params_version),
      paramsDownloadedVersion: Number(row.r_params_downloaded_version),
    };
  }
  if (outcome === 'not_found') return { outcome: 'not-found' };
  if (outcome.startsWith('terminal_')) return { outcome: 'terminal-inactive', status: outcome.slice('terminal_'.length) };
  if (outcome.startsWith('merchant_')) return { outcome: 'merchant-inactive', status: outcome.slice('merchant_'.length) };
  throw new StoreError('INTERNAL', 'qd_sign_on returned an unknown outcome');
}

/**
 * Issue a new generation of working keys for a terminal, atomically (see issueKeys, which this
 * calls without the status re-check). Returns the new generation number.
 *
 * NOT_FOUND if the terminal does not exist; CONSTRAINT on malformed input (e.g. a
 * TDK without scheme 004). Terminal/merchant status is the caller's policy.
 */
export async function rotateKeys(db: Db, input: RotateKeysInput): Promise<number> {
  const r = await issueKeys(db, { ...input, requireActive: false });
  if (r.outcome !== 'issued') throw terminalNotFound();
  return r.generation;
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
  return graceKeys(r.rows.map(toKeyGeneration));
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

/** The merchant, its terminal and the terminal's keys to try (what a MAC'ed request needs first). */
export interface TerminalMerchantAndKeys extends TerminalAndMerchant {
  keys: CurrentAndGraceKeys;
}

const KEY_COLUMNS_PREFIXED = COLUMNS.split(', ')
  .map((c) => `k.${c} AS k_${c}`)
  .join(', ');

type KeyPrefixedRow = { [K in keyof KeyRow as `k_${K}`]: KeyRow[K] | null };

/**
 * One statement for any number of look-ups (the same text every time, so PostgreSQL can keep its
 * plan): merchant joined with terminal, and up to two key generations per terminal — the current
 * one and the one before it while inside the grace window (database clock) — as extra rows.
 */
const TERMINAL_MERCHANT_KEYS_SQL = `SELECT v.i, ${MERCHANT_COLUMNS}, ${JOINED_TERMINAL_COLUMNS}, ${KEY_COLUMNS_PREFIXED}
   FROM jsonb_to_recordset($1::text::jsonb) AS v(i int, m text, t text)
   LEFT JOIN merchants m ON m.merchant_no = v.m
   LEFT JOIN terminals t ON t.merchant_no = m.merchant_no AND t.terminal_no = v.t
   LEFT JOIN LATERAL (
     SELECT ${COLUMNS} FROM key_generations g
      WHERE g.merchant_no = t.merchant_no AND g.terminal_no = t.terminal_no
        AND (g.superseded_at IS NULL OR g.superseded_at > clock_timestamp() - make_interval(secs => $2::float8))
      ORDER BY g.generation DESC LIMIT 2) k ON true`;

function graceKeys(rows: KeyGeneration[]): CurrentAndGraceKeys {
  const current = rows.find((k) => k.supersededAt === null) ?? null;
  const previous =
    current === null ? null : (rows.find((k) => k.supersededAt !== null && k.generation === current.generation - 1) ?? null);
  return { current, previous };
}

async function lookupWithKeys(db: Db, refs: readonly TerminalRef[], graceSeconds: number): Promise<TerminalMerchantAndKeys[]> {
  const doc = JSON.stringify(refs.map((r, i) => ({ i, m: r.merchantNo, t: r.terminalNo })));
  const r = await db.query<JoinedRow & KeyPrefixedRow & { i: number }>(TERMINAL_MERCHANT_KEYS_SQL, [doc, graceSeconds]);
  const found: Array<{ tm: TerminalAndMerchant; keys: KeyGeneration[] } | undefined> = refs.map(() => undefined);
  for (const row of r.rows) {
    const i = Number(row.i);
    let f = found[i];
    if (f === undefined) {
      f = { tm: toTerminalAndMerchant(row), keys: [] };
      found[i] = f;
    }
    if (row.k_generation !== null) {
      f.keys.push(
        toKeyGeneration({
          merchant_no: row.k_merchant_no as string,
          terminal_no: row.k_terminal_no as string,
          generation: row.k_generation,
          key_scheme: row.k_key_scheme as KeyScheme,
          pik_block: row.k_pik_block as string,
          mak_block: row.k_mak_block as string,
          tdk_block: row.k_tdk_block,
          pik_kcv: row.k_pik_kcv as string,
          mak_kcv: row.k_mak_kcv as string,
          tdk_kcv: row.k_tdk_kcv,
          created_at: row.k_created_at as Date,
          superseded_at: row.k_superseded_at,
        }),
      );
    }
  }
  return found.map((f) => (f === undefined ? { merchant: null, terminal: null, keys: { current: null, previous: null } } : { ...f.tm, keys: graceKeys(f.keys) }));
}

/** One Batcher per grace window length (a host has one). */
const WITH_KEYS_BATCHERS = new Map<number, object>();

/**
 * getTerminalAndMerchant plus currentAndGraceKeys in one round trip, grouped with concurrent
 * look-ups on the same store handle (src/store/batch.ts). `keys` is empty when the terminal is
 * unknown or never signed on.
 */
export function getTerminalMerchantAndKeys(db: Db, ref: TerminalRef, graceSeconds: number): Promise<TerminalMerchantAndKeys> {
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
    return Promise.reject(new StoreError('CONSTRAINT', 'graceSeconds must be a non-negative number'));
  }
  let key = WITH_KEYS_BATCHERS.get(graceSeconds);
  if (key === undefined) {
    key = {};
    WITH_KEYS_BATCHERS.set(graceSeconds, key);
  }
  const one = async (d: Db, r: TerminalRef): Promise<TerminalMerchantAndKeys> => (await lookupWithKeys(d, [r], graceSeconds))[0]!;
  const batcher = batcherFor(db, key, {
    single: one,
    many: (d, rs) => lookupWithKeys(d, rs, graceSeconds),
    maxBatch: 250,
    maxConcurrent: batchesInFlight(db),
  });
  const r = { merchantNo: ref.merchantNo, terminalNo: ref.terminalNo };
  return batcher === null ? one(db, r) : batcher.call(r);
}
