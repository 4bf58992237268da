/**
 * The issuer simulator: an `Issuer` over the store (migrations/006_issuer.sql) and the HSM, plus
 * card administration for tests and the `qiandao card` commands. See docs/issuer.md.
 *
 * authorize(): one transaction per request with the card row locked (FOR UPDATE), so concurrent
 * requests on one card serialise and never overdraw. The request is recorded under its acquirer
 * reference (acquirer|merchant|terminal|RRN|STAN): a retransmission gets the recorded answer and
 * never a second posting; the same reference with different content gets 94.
 * Checks, in order: card known (14), status (41 lost, 43 stolen, 62 blocked), expiry (54), PIN
 * (55; 75 once 3 consecutive wrong PINs), then per kind funds (51) and the daily limit (61).
 *
 * reverse(): undoes what the original request changed, exactly once. A reversal of a request
 * never seen is approved without effect and leaves a tombstone, so the original arriving late is
 * refused (12) instead of debiting the card.
 *
 * Behaviours (per simulator and per card) make the issuer slow, silent or failing for tests.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { isCryptoError } from '../crypto/errors.js';
import type { Hsm, WrappedKey } from '../crypto/hsm/hsm.js';
import { maskPan } from '../iso8583/mask.js';
import type { Db } from '../store/db.js';
import { batcherFor, batchesInFlight } from '../store/batch.js';
import { isStoreError } from '../store/errors.js';
import { appendEvent } from '../store/events.js';
import { DEFAULT_SERVICE_CODE, generateTestPan, isLuhnValid } from '../terminal/card.js';
import {
  CARD_STATUSES,
  getCardRow,
  listCardRows,
  lockCard,
  lockCardByFingerprint,
  newCardId,
  toCard,
  type Card,
  type CardRow,
  type CardStatus,
  type ListCardsOptions,
} from './cards.js';
import { IssuerError } from './errors.js';
import {
  IssuerLockTimeoutError,
  IssuerUnavailableError,
  type Issuer,
  type IssuerRequest,
  type IssuerRequestKind,
  type IssuerResult,
  type IssuerReversal,
} from './issuer.js';
import { enrolPvv, ensureIssuerKeys, type IssuerKeys } from './keys.js';
import {
  checkIssuerLedger,
  dailyUsage,
  getHold,
  getPosting,
  heldAmount,
  isUndone,
  listPostings,
  placeHold,
  post,
  postWithBalance,
  setHoldStatus,
  type LedgerMismatch,
  type Posting,
} from './ledger.js';
import {
  contentHash,
  findOriginal,
  getRequest,
  insertRequest,
  markReversed,
  refundedAmount,
  requestKey,
  type RequestRow,
} from './requests.js';
import { fingerprintPan } from '../transactions/pan-fingerprint.js';

/** How the simulator misbehaves, for tests. */
export interface IssuerBehaviour {
  /** Answer after this many milliseconds (at or beyond `timeoutMs`: no answer, as `timeout`). */
  delayMs?: number;
  /**
   * Never answer within the acquirer's timeout: the caller sees IssuerUnavailableError after
   * `timeoutMs`. `true`: nothing is processed. `'after-processing'`: the request is processed and
   * committed but the answer is lost — what a reversal exists for.
   */
  timeout?: boolean | 'after-processing';
  /** Answer every authorisation with this response code, without effect (reversals are not affected). */
  failWith?: string;
}

export interface IssuerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface IssuerSimulatorOptions {
  db: Db;
  hsm: Hsm;
  logger?: IssuerLogger;
  behaviour?: IssuerBehaviour;
  /** How long the acquirer waits for an answer (behaviour timeouts). Default 30 000 ms. */
  timeoutMs?: number;
  /** The issuer's day for daily limits. Default Asia/Shanghai. */
  timeZone?: string;
  /** Clock for expiry checks (tests). */
  now?: () => Date;
  /** Answer 55 to a purchase, balance inquiry or pre-authorisation without a PIN on a card with one. Default false. */
  requirePin?: boolean;
  /**
   * Longest wait for a card row lock (PostgreSQL lock_timeout, set per transaction): past it the
   * request fails with IssuerLockTimeoutError and nothing is posted, instead of queueing behind a
   * stuck transaction for ever. Keep it well below the host's issuer time limit (issuerTimeoutMs,
   * 25 s) so the host answers the lock timeout, not its own. Default 3000 ms.
   */
  lockTimeoutMs?: number;
}

/** Default IssuerSimulatorOptions.lockTimeoutMs. */
export const DEFAULT_LOCK_TIMEOUT_MS = 3000;

/** A lock wait that ran past lock_timeout (SQLSTATE 55P03), as the store reports it. */
function isLockTimeout(e: unknown): boolean {
  return isStoreError(e, 'CONFLICT') && e.code === '55P03';
}

export interface NewCard {
  /** Clear PAN; default a new Luhn-valid test PAN under `bin`. */
  pan?: string;
  /** BIN for a generated PAN (default TEST_BIN, src/terminal/card.ts). */
  bin?: string;
  /** 4 to 12 digits; without it the card has no PIN (any PIN entered is wrong). */
  pin?: string;
  /** Opening balance, minor units (default 0). */
  balance?: number;
  /** YYMM; default three years from now. */
  expiry?: string;
  serviceCode?: string;
  status?: CardStatus;
  dailyLimit?: number | null;
  currency?: string;
  /** Audit actor (default 'system') and origin. */
  actor?: string;
  origin?: string;
}

/** Who performs an administrative change, for the audit trail. */
export interface AdminActor {
  actor?: string;
  origin?: string;
}

export interface AddedCard {
  card: Card;
  /** The clear PAN, returned once (a test card): it is not stored. */
  pan: string;
}

export interface IssuerSimulator extends Issuer {
  readonly keys: IssuerKeys;
  addCard(input?: NewCard): Promise<AddedCard>;
  getCard(cardId: string): Promise<Card | undefined>;
  /** The card for a clear PAN (found by fingerprint). */
  findCardByPan(pan: string): Promise<Card | undefined>;
  listCards(opts?: ListCardsOptions): Promise<Card[]>;
  /** Set the status; `active` also resets the PIN try counter (unblock). NOT_FOUND if unknown. */
  setCardStatus(cardId: string, status: CardStatus, opts?: AdminActor): Promise<Card>;
  /** Credit (positive) or debit (negative) the card by an adjustment posting. */
  adjustBalance(cardId: string, amount: number, opts?: AdminActor): Promise<Card>;
  /** Simulator-wide behaviour, or one card's (overrides the simulator's). `undefined` clears. */
  setBehaviour(behaviour: IssuerBehaviour | undefined, cardId?: string): void;
  postings(cardId: string): Promise<Posting[]>;
  /** Cards whose balance differs from the sum of their postings (empty when sound). */
  checkLedger(): Promise<LedgerMismatch[]>;
}

const KINDS: readonly IssuerRequestKind[] = [
  'purchase',
  'balance',
  'preauth',
  'preauth-completion',
  'refund',
  'void',
  'preauth-void',
  'completion-void',
];

const MAX_PIN_TRIES = 3;
const RESPONSE_CODE_RE = /^[0-9A-Z]{2}$/;

/** A card's PIN verification values. */
interface CardPin {
  pvv: string | null;
  pvki: number | null;
}

/**
 * What qd_issuer_purchase answers; 'locked' (grouped statement only, not the function): the card
 * row was held by another transaction, so this purchase was left out of the batch.
 */
interface PurchaseRow {
  r_outcome: 'done' | 'retry' | 'replay' | 'locked';
  r_code: string | null;
  r_reason: string | null;
  r_auth_code: string | null;
  r_balance: string | number | null;
}

/** qd_issuer_purchase's arguments (short names: one JSON document per batch). */
interface PurchaseInput {
  k: string;
  acq: string;
  m: string;
  t: string;
  rrn: string;
  stan: string;
  at: string | null;
  fp: string;
  h: string;
  amt: number;
  cur: string;
  exp: string | null;
  pin: boolean;
  pvv: string | null;
  pvki: number | null;
  rp: boolean;
  ac: string;
  ym: string;
  tz: string;
  mx: number;
  /** lock_timeout for the statement's transaction ('3000ms'). */
  lt: string;
  /** lock_timeout in a grouped statement (BATCH_LOCK_WAIT_MS, or lt if shorter). */
  lb: string;
  /**
   * A second offer after the card was found held: alone it waits only `lb`, and a lock timeout
   * answers 'locked' instead of failing, so that it never holds a Batcher slot for long.
   */
  again?: boolean;
}

/**
 * Longest lock wait inside a grouped purchase statement. Card rows are not waited for there at all
 * (SKIP LOCKED, see purchaseMany); this only bounds the rare other waits (a request key being
 * inserted by a concurrent retransmission), so that such a batch fails fast and the Batcher's
 * one-at-a-time retries, each with the full lockTimeoutMs, decide instead of the whole batch
 * waiting out the limit.
 */
const BATCH_LOCK_WAIT_MS = 50;

const PURCHASE_BATCH = {};

/**
 * The request key argument of qd_issuer_purchase with the lock time limit set on the way: the
 * argument is evaluated before the function runs, so lock_timeout is in force (for the rest of the
 * statement's transaction, set_config(..., true)) when the function locks the card row. This keeps
 * the statement one round trip: a separate SET LOCAL would need BEGIN and COMMIT around it.
 */
function LOCK_TIMEOUT_KEY(timeout: string, key: string): string {
  return `CASE WHEN set_config('lock_timeout', ${timeout}::text, true) IS NOT NULL THEN ${key}::text END`;
}
const PURCHASE_RESULT = 'r_outcome, r_code, r_reason, r_auth_code, r_balance';

/** Answer of a purchase left out because its card row was held by another transaction. */
const LOCKED: PurchaseRow = { r_outcome: 'locked', r_code: null, r_reason: null, r_auth_code: null, r_balance: null };

async function purchaseOne(db: Db, x: PurchaseInput): Promise<PurchaseRow | undefined> {
  try {
    const r = await db.query<PurchaseRow>(
      `SELECT ${PURCHASE_RESULT} FROM qd_issuer_purchase(${LOCK_TIMEOUT_KEY('$21', '$1')}, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
      [x.k, x.acq, x.m, x.t, x.rrn, x.stan, x.at, x.fp, x.h, x.amt, x.cur, x.exp, x.pin, x.pvv, x.pvki, x.rp, x.ac, x.ym, x.tz, x.mx, x.again === true ? x.lb : x.lt],
    );
    return r.rows[0];
  } catch (e) {
    if (x.again === true && isLockTimeout(e)) return LOCKED;
    throw e;
  }
}

/**
 * Several purchases in one statement (one transaction, one commit), cards taken in fingerprint
 * order; a card twice in a batch sees its first purchase's posting. A failing batch is retried one
 * purchase at a time (src/store/batch.ts).
 *
 * Each card row is locked first with FOR UPDATE SKIP LOCKED: a card held by another transaction
 * (a stuck one, or the other batch in flight) is not waited for, because a wait here would hold up
 * every purchase of the batch, and a lock timeout would fail them all and have each retried alone.
 * Such a purchase gets no card (NULL fingerprint: the function finds no row, waits for nothing,
 * writes nothing) and comes back as 'locked' for the caller to send again; the rest of the batch
 * is committed and answered at once.
 *
 * Only a card's first purchase in the batch (nth = 1) tries the lock; the later ones follow its
 * outcome (first_value). A second SKIP LOCKED on the row would skip it: by then this statement has
 * updated the row, and a row updated after the statement's snapshot counts as not lockable. The
 * lock is held to the end of the transaction, so the function's own FOR UPDATE finds it ours.
 */
async function purchaseMany(db: Db, inputs: readonly PurchaseInput[]): Promise<(PurchaseRow | undefined)[]> {
  const doc = JSON.stringify(inputs.map((x, i) => ({ i, ...x })));
  const r = await db.query<PurchaseRow & { i: number; held: boolean }>(
    `SELECT w.i, w.known AND w.got IS NULL AS held, f.r_outcome, f.r_code, f.r_reason, f.r_auth_code, f.r_balance
       FROM (SELECT v.*, first_value(l.card_id) OVER (PARTITION BY v.fp ORDER BY v.i) AS got
               FROM (SELECT x.*, row_number() OVER (PARTITION BY x.fp ORDER BY x.i) AS nth,
                            EXISTS (SELECT 1 FROM issuer_cards kc WHERE kc.pan_fingerprint = x.fp) AS known
                       FROM jsonb_to_recordset($1::text::jsonb)
                         AS x(i int, k text, acq text, m text, t text, rrn text, stan text, at timestamptz, fp text, h text, amt bigint,
                              cur text, exp text, pin boolean, pvv text, pvki int, rp boolean, ac text, ym text, tz text, mx int, lb text)
                      ORDER BY x.fp, x.i) AS v
               LEFT JOIN LATERAL (SELECT c.card_id FROM issuer_cards c WHERE c.pan_fingerprint = v.fp AND v.nth = 1 FOR UPDATE SKIP LOCKED) AS l ON true
              ORDER BY v.fp, v.i) AS w
      CROSS JOIN LATERAL qd_issuer_purchase(${LOCK_TIMEOUT_KEY('w.lb', 'w.k')}, w.acq, w.m, w.t, w.rrn, w.stan, w.at,
                                            CASE WHEN w.got IS NOT NULL THEN w.fp END, w.h, w.amt, w.cur, w.exp,
                                            w.pin, w.pvv, w.pvki, w.rp, w.ac, w.ym, w.tz, w.mx) AS f`,
    [doc],
  );
  const out = new Array<PurchaseRow | undefined>(inputs.length);
  // An unknown card (no row to lock) keeps the function's 'retry': the general path answers it.
  for (const { held, ...row } of r.rows) out[Number(row.i)] = held ? { ...row, r_outcome: 'locked' } : row;
  return out;
}

/** Cached card PIN values before the cache is emptied. */
const MAX_CACHED_PINS = 100_000;

/** Read during one authorisation (card row locked), so the available balance needs no second read. */
interface FundsMemo {
  /** Sum of the card's active holds. */
  held?: number;
  /** The card's balance after this request's posting. */
  balance?: number;
}

/** What one request decided, before it is recorded. */
interface Decision {
  responseCode: string;
  reason?: string;
  postingId?: string;
  holdId?: string;
  originalKey?: string;
}

function decline(responseCode: string, reason: string): Decision {
  return { responseCode, reason };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checkBehaviour(b: IssuerBehaviour | undefined): void {
  if (b === undefined) return;
  if (b.delayMs !== undefined && (!Number.isInteger(b.delayMs) || b.delayMs < 0)) {
    throw new IssuerError('BAD_INPUT', 'behaviour delayMs must be a non-negative integer');
  }
  if (b.failWith !== undefined && !RESPONSE_CODE_RE.test(b.failWith)) {
    throw new IssuerError('BAD_INPUT', 'behaviour failWith must be a two-character response code');
  }
  if (b.timeout !== undefined && b.timeout !== true && b.timeout !== false && b.timeout !== 'after-processing') {
    throw new IssuerError('BAD_INPUT', "behaviour timeout must be true, false or 'after-processing'");
  }
}

/** YYMM of a date (UTC). */
function yymm(d: Date): string {
  return String(d.getUTCFullYear() % 100).padStart(2, '0') + String(d.getUTCMonth() + 1).padStart(2, '0');
}

function authCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Why a request is malformed, or undefined. */
function invalidRequest(req: IssuerRequest): string | undefined {
  if (!req || typeof req !== 'object') return 'request missing';
  if (!KINDS.includes(req.kind)) return 'unknown request kind';
  const ref = req.reference as Partial<IssuerRequest['reference']> | undefined;
  if (!ref || typeof ref !== 'object') return 'reference missing';
  for (const k of ['acquirerId', 'merchantNo', 'terminalNo', 'rrn', 'stan'] as const) {
    const v = ref[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > 50 || v.includes('|')) return `reference ${k} must be 1 to 50 characters without '|'`;
  }
  if (!Number.isSafeInteger(req.amount) || req.amount < 0) return 'amount must be a non-negative integer (minor units)';
  if (typeof req.currency !== 'string' || !/^[0-9]{3}$/.test(req.currency)) return 'currency must be 3 digits (ISO 4217 numeric)';
  if (req.expiry !== undefined && !/^[0-9]{4}$/.test(req.expiry)) return 'expiry must be YYMM';
  if (req.pinBlock !== undefined && (!Buffer.isBuffer(req.pinBlock) || req.pinBlock.length !== 8)) return 'PIN block must be 8 bytes';
  if (req.original !== undefined && (typeof req.original.rrn !== 'string' || req.original.rrn.length === 0)) return 'original rrn missing';
  return undefined;
}

class Simulator implements IssuerSimulator {
  readonly #db: Db;
  readonly #hsm: Hsm;
  readonly #logger: IssuerLogger | undefined;
  readonly #timeoutMs: number;
  readonly #timeZone: string;
  readonly #now: () => Date;
  readonly #requirePin: boolean;
  readonly #lockTimeoutMs: number;
  #behaviour: IssuerBehaviour | undefined;
  readonly #cardBehaviour = new Map<string, IssuerBehaviour>();
  /** PVV / PVKI by card fingerprint (#pinOf). */
  readonly #pins = new Map<string, CardPin>();

  constructor(
    opts: IssuerSimulatorOptions,
    readonly keys: IssuerKeys,
  ) {
    this.#db = opts.db;
    this.#hsm = opts.hsm;
    this.#logger = opts.logger;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#timeZone = opts.timeZone ?? 'Asia/Shanghai';
    this.#now = opts.now ?? (() => new Date());
    this.#requirePin = opts.requirePin === true;
    this.#lockTimeoutMs = opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.#behaviour = opts.behaviour;
  }

  async pinKey(): Promise<WrappedKey> {
    return this.keys.zpk;
  }

  // -------------------------------------------------------------------------------------------
  // behaviour

  setBehaviour(behaviour: IssuerBehaviour | undefined, cardId?: string): void {
    checkBehaviour(behaviour);
    if (cardId === undefined) this.#behaviour = behaviour;
    else if (behaviour === undefined) this.#cardBehaviour.delete(cardId);
    else this.#cardBehaviour.set(cardId, behaviour);
  }

  async #behaviourFor(fingerprint: string): Promise<IssuerBehaviour> {
    let card: IssuerBehaviour | undefined;
    if (this.#cardBehaviour.size > 0) {
      const r = await this.#db.query<{ card_id: string }>('SELECT card_id FROM issuer_cards WHERE pan_fingerprint = $1', [fingerprint]);
      const id = r.rows[0]?.card_id;
      if (id !== undefined) card = this.#cardBehaviour.get(id);
    }
    return { ...(this.#behaviour ?? {}), ...(card ?? {}) };
  }

  #unavailable(): Promise<never> {
    return sleep(this.#timeoutMs).then(() => {
      throw new IssuerUnavailableError(`issuer did not answer within ${this.#timeoutMs} ms`);
    });
  }

  async #behave(b: IssuerBehaviour, reversal: boolean, fn: () => Promise<IssuerResult>): Promise<IssuerResult> {
    if (b.timeout === true) return this.#unavailable();
    if (b.delayMs !== undefined && b.delayMs > 0) {
      if (b.delayMs >= this.#timeoutMs) return this.#unavailable();
      await sleep(b.delayMs);
    }
    if (!reversal && b.failWith !== undefined) return { responseCode: b.failWith, reason: 'simulated issuer failure' };
    const result = await fn();
    if (b.timeout === 'after-processing') return this.#unavailable();
    return result;
  }

  /**
   * `fn` in a transaction whose lock waits are bounded by lockTimeoutMs; a lock wait past it fails
   * with IssuerLockTimeoutError (the transaction rolled back: nothing posted).
   */
  async #transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await this.#db.transaction(async (tx) => {
        await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [`${this.#lockTimeoutMs}ms`]);
        return fn(tx);
      });
    } catch (e) {
      if (isLockTimeout(e)) throw new IssuerLockTimeoutError(this.#lockTimeoutMs);
      throw e;
    }
  }

  /** Run `fn` in a transaction, retrying when a concurrent request took the same key first. */
  async #inTransaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#transaction(fn);
      } catch (e) {
        // Not a lock timeout (IssuerLockTimeoutError): waiting again would only double the delay.
        if (attempt < 4 && (isStoreError(e, 'DUPLICATE') || isStoreError(e, 'CONFLICT'))) continue;
        throw e;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // authorize

  async authorize(req: IssuerRequest): Promise<IssuerResult> {
    const invalid = invalidRequest(req);
    if (invalid !== undefined) return { responseCode: '30', reason: invalid };
    if (typeof req.pan !== 'string' || !/^[0-9]{12,19}$/.test(req.pan)) return { responseCode: '14', reason: 'PAN must be 12 to 19 digits' };
    const fingerprint = await fingerprintPan(this.#db, this.#hsm, req.pan);
    const behaviour = await this.#behaviourFor(fingerprint);
    const result = await this.#behave(behaviour, false, async () => {
      if (req.kind === 'purchase') {
        const fast = await this.#purchaseInOne(req, fingerprint);
        if (fast !== undefined) return fast;
      }
      return this.#inTransaction((tx) => this.#authorizeTx(tx, req, fingerprint));
    });
    this.#logger?.info(
      { kind: req.kind, rrn: req.reference.rrn, stan: req.reference.stan, responseCode: result.responseCode, reason: result.reason },
      'issuer authorisation',
    );
    return result;
  }

  /** The card's PVV and PVKI by fingerprint, cached (qd_issuer_purchase checks them under the row lock). */
  async #pinOf(fingerprint: string): Promise<CardPin | undefined> {
    const hit = this.#pins.get(fingerprint);
    if (hit !== undefined) return hit;
    const r = await this.#db.query<CardPin>('SELECT pvv, pvki FROM issuer_cards WHERE pan_fingerprint = $1', [fingerprint]);
    const row = r.rows[0];
    if (row === undefined) return undefined;
    if (this.#pins.size >= MAX_CACHED_PINS) this.#pins.clear();
    const pin = { pvv: row.pvv, pvki: row.pvki === null ? null : Number(row.pvki) };
    this.#pins.set(fingerprint, pin);
    return pin;
  }

  /**
   * A purchase in one statement (migrations/009_trade_path.sql, qd_issuer_purchase): the PIN is
   * verified first against the cached PVV, then the function locks the card, checks and posts.
   * Undefined whenever the general path must decide: unknown card, no PIN enrolled, a PIN that
   * does not verify (the tries counter is kept there), a PVV changed since it was cached, a
   * request key already recorded (replay, 94), a concurrent insert of the same key.
   */
  async #purchaseInOne(req: IssuerRequest, fingerprint: string): Promise<IssuerResult | undefined> {
    let pin: CardPin | undefined;
    if (req.pinBlock !== undefined) {
      pin = await this.#pinOf(fingerprint);
      if (pin === undefined || pin.pvv === null || pin.pvki === null) return undefined;
      let ok: boolean;
      try {
        ok = await this.#hsm.verifyPinPvv({
          pinBlock: req.pinBlock,
          pik: this.keys.zpk,
          format: 0,
          pan: req.pan,
          pvk: this.keys.pvk,
          pvki: pin.pvki,
          pvv: pin.pvv,
        });
      } catch {
        return undefined;
      }
      if (!ok) return undefined;
    }
    const ref = req.reference;
    const hash = contentHash({ kind: req.kind, fingerprint, amount: req.amount, currency: req.currency, original: req.original });
    const input: PurchaseInput = {
      k: requestKey(ref),
      acq: ref.acquirerId,
      m: ref.merchantNo,
      t: ref.terminalNo,
      rrn: ref.rrn,
      stan: ref.stan,
      at: ref.at instanceof Date && !Number.isNaN(ref.at.getTime()) ? ref.at.toISOString() : null,
      fp: fingerprint,
      h: hash,
      amt: req.amount,
      cur: req.currency,
      exp: req.expiry ?? null,
      pin: pin !== undefined,
      pvv: pin?.pvv ?? null,
      pvki: pin?.pvki ?? null,
      rp: this.#requirePin,
      ac: authCode(),
      ym: yymm(this.#now()),
      tz: this.#timeZone,
      mx: MAX_PIN_TRIES,
      lt: `${this.#lockTimeoutMs}ms`,
      lb: `${Math.min(this.#lockTimeoutMs, BATCH_LOCK_WAIT_MS)}ms`,
    };
    const batch = batcherFor<PurchaseInput, PurchaseRow | undefined>(this.#db, PURCHASE_BATCH, {
      single: purchaseOne,
      many: purchaseMany,
      maxBatch: 100,
      maxConcurrent: batchesInFlight(this.#db),
    });
    let row: PurchaseRow | undefined;
    try {
      row = batch === null ? await purchaseOne(this.#db, input) : await batch.call(input);
      // The card row was held by another transaction. Usually that is the other batch in flight,
      // committed by the time the next batch runs: offer it once more (without a long wait). A
      // card held longer (a stuck transaction) then waits once, alone and outside the Batcher (no
      // batch slot held meanwhile), up to lockTimeoutMs.
      if (batch !== null && row?.r_outcome === 'locked') row = await batch.call({ ...input, again: true });
      if (row?.r_outcome === 'locked') row = await purchaseOne(this.#db, input);
    } catch (e) {
      // A card locked past the limit: the general path would only wait as long again.
      if (isLockTimeout(e)) throw new IssuerLockTimeoutError(this.#lockTimeoutMs);
      if (isStoreError(e, 'DUPLICATE') || isStoreError(e, 'CONFLICT')) return undefined;
      throw e;
    }
    if (row === undefined || row.r_outcome !== 'done' || row.r_code === null) {
      this.#pins.delete(fingerprint);
      return undefined;
    }
    const approved = row.r_code === '00';
    return {
      responseCode: row.r_code,
      ...(approved && row.r_auth_code !== null ? { authCode: row.r_auth_code } : {}),
      ...(approved && row.r_balance !== null ? { balance: Number(row.r_balance) } : {}),
      ...(row.r_reason !== null ? { reason: row.r_reason } : {}),
    };
  }

  async #authorizeTx(tx: Db, req: IssuerRequest, fingerprint: string): Promise<IssuerResult> {
    const key = requestKey(req.reference);
    const hash = contentHash({ kind: req.kind, fingerprint, amount: req.amount, currency: req.currency, original: req.original });
    const card = await lockCardByFingerprint(tx, fingerprint);
    const prior = await getRequest(tx, key, true);
    if (prior) return this.#replay(prior, hash);

    const memo: FundsMemo = {};
    const d = card ? await this.#decide(tx, req, card, key, memo) : decline('14', 'card not known to this issuer');
    const approved = d.responseCode === '00';
    const code = approved ? authCode() : undefined;
    // A purchase already read the holds and got the new balance from its posting (card row locked).
    const known = memo.held !== undefined && memo.balance !== undefined ? memo.balance - memo.held : undefined;
    const balance = card && (approved || req.kind === 'balance') ? (known ?? (await this.#available(tx, card.card_id))) : undefined;
    await insertRequest(tx, {
      key,
      ref: req.reference,
      kind: req.kind,
      cardId: card?.card_id ?? null,
      contentHash: hash,
      responseCode: d.responseCode,
      authCode: code,
      amount: req.amount,
      balanceAfter: approved ? balance : undefined,
      reason: d.reason,
      postingId: d.postingId,
      holdId: d.holdId,
      originalKey: d.originalKey,
    });
    return {
      responseCode: d.responseCode,
      ...(code !== undefined ? { authCode: code } : {}),
      ...(approved && balance !== undefined ? { balance } : {}),
      ...(d.reason !== undefined ? { reason: d.reason } : {}),
    };
  }

  #replay(prior: RequestRow, hash: string): IssuerResult {
    if (prior.content_hash === null || prior.response_code === null) return { responseCode: '12', reason: 'request was reversed before it arrived' };
    if (prior.content_hash !== hash) return { responseCode: '94', reason: 'reference already used by a different request' };
    if (prior.reversed_at !== null) return { responseCode: '12', reason: 'request was reversed' };
    return {
      responseCode: prior.response_code,
      ...(prior.auth_code !== null ? { authCode: prior.auth_code } : {}),
      ...(prior.balance_after !== null ? { balance: Number(prior.balance_after) } : {}),
      reason: prior.reason !== null ? `${prior.reason} (repeat)` : 'repeat of an answered request',
    };
  }

  async #available(tx: Db, cardId: string): Promise<number> {
    const r = await tx.query<{ balance: string | number }>('SELECT balance FROM issuer_cards WHERE card_id = $1', [cardId]);
    return Number(r.rows[0]?.balance ?? 0) - (await heldAmount(tx, cardId));
  }

  async #decide(tx: Db, req: IssuerRequest, card: CardRow, key: string, memo: FundsMemo): Promise<Decision> {
    if (card.status === 'lost') return decline('41', 'card reported lost');
    if (card.status === 'stolen') return decline('43', 'card reported stolen');
    if (card.status === 'blocked') return decline('62', 'card blocked');
    if (card.expiry < yymm(this.#now())) return decline('54', 'card expired');
    if (req.expiry !== undefined && req.expiry !== card.expiry) return decline('54', 'expiry date does not match the card');

    if (req.pinBlock !== undefined) {
      const pin = await this.#checkPin(tx, req, card);
      if (pin) return pin;
    } else if (this.#requirePin && card.pvv !== null && ['purchase', 'balance', 'preauth'].includes(req.kind)) {
      return decline('55', 'PIN required');
    }
    if (req.kind !== 'balance' && req.currency !== card.currency) return decline('12', 'currency differs from the card account');

    const amount = req.amount;
    switch (req.kind) {
      case 'balance':
        return { responseCode: '00' };
      case 'purchase':
      case 'preauth': {
        if (amount <= 0) return decline('13', 'amount must be positive');
        const limit = await this.#checkFunds(tx, card, amount, memo);
        if (limit) return limit;
        if (req.kind === 'purchase') {
          const posted = await postWithBalance(tx, { cardId: card.card_id, amount: -amount, kind: 'purchase', requestKey: key });
          memo.balance = posted.balance;
          return { responseCode: '00', postingId: posted.id };
        }
        return { responseCode: '00', holdId: await placeHold(tx, { cardId: card.card_id, amount, requestKey: key }) };
      }
      case 'refund': {
        if (amount <= 0) return decline('13', 'amount must be positive');
        let originalKey: string | undefined;
        if (req.original !== undefined) {
          const orig = await this.#original(tx, req, card, ['purchase', 'preauth-completion']);
          if (!orig) return decline('25', 'original transaction not found');
          if ((await refundedAmount(tx, orig.request_key)) + amount > Number(orig.amount)) {
            return decline('13', 'refunds would exceed the original amount');
          }
          originalKey = orig.request_key;
        }
        const postingId = await post(tx, { cardId: card.card_id, amount, kind: 'refund', requestKey: key });
        return { responseCode: '00', postingId, ...(originalKey !== undefined ? { originalKey } : {}) };
      }
      case 'void':
      case 'completion-void': {
        const kinds: IssuerRequestKind[] = req.kind === 'void' ? ['purchase'] : ['preauth-completion'];
        const orig = req.original !== undefined ? await this.#original(tx, req, card, kinds) : undefined;
        if (!orig || orig.posting_id === null) return decline('25', 'original transaction not found');
        if (amount > 0 && amount !== Number(orig.amount)) return decline('13', 'amount differs from the original');
        const target = String(orig.posting_id);
        if (await isUndone(tx, target)) return decline('12', 'original already voided or reversed');
        const p = await getPosting(tx, target);
        if (!p) return decline('25', 'original posting not found');
        const postingId = await post(tx, {
          cardId: card.card_id,
          amount: -p.amount,
          kind: req.kind === 'void' ? 'void' : 'completion-void',
          requestKey: key,
          reverses: target,
        });
        const holdId = orig.hold_id === null ? undefined : String(orig.hold_id);
        // A voided completion gives the pre-authorisation back (it may be completed again).
        if (holdId !== undefined) await setHoldStatus(tx, holdId, 'active');
        return { responseCode: '00', postingId, originalKey: orig.request_key, ...(holdId !== undefined ? { holdId } : {}) };
      }
      case 'preauth-completion':
      case 'preauth-void': {
        const orig = req.original !== undefined ? await this.#original(tx, req, card, ['preauth']) : undefined;
        if (!orig || orig.hold_id === null) return decline('25', 'original pre-authorisation not found');
        const hold = await getHold(tx, String(orig.hold_id));
        if (!hold || hold.status !== 'active') return decline('12', 'pre-authorisation already completed or released');
        if (req.kind === 'preauth-void') {
          if (amount > 0 && amount !== hold.amount) return decline('13', 'amount differs from the pre-authorisation');
          await setHoldStatus(tx, hold.id, 'released');
          return { responseCode: '00', holdId: hold.id, originalKey: orig.request_key };
        }
        if (amount <= 0) return decline('13', 'amount must be positive');
        if (amount > hold.amount) return decline('13', 'completion exceeds the pre-authorised amount');
        await setHoldStatus(tx, hold.id, 'captured');
        const postingId = await post(tx, { cardId: card.card_id, amount: -amount, kind: 'completion', requestKey: key });
        return { responseCode: '00', postingId, holdId: hold.id, originalKey: orig.request_key };
      }
    }
  }

  #original(tx: Db, req: IssuerRequest, card: CardRow, kinds: readonly IssuerRequestKind[]): Promise<RequestRow | undefined> {
    const o = req.original as NonNullable<IssuerRequest['original']>;
    return findOriginal(tx, {
      acquirerId: req.reference.acquirerId,
      merchantNo: req.reference.merchantNo,
      rrn: o.rrn,
      cardId: card.card_id,
      kinds,
      authCode: o.authCode,
    }).then((r) => (r && r.reversed_at === null ? r : undefined));
  }

  async #checkFunds(tx: Db, card: CardRow, amount: number, memo: FundsMemo): Promise<Decision | undefined> {
    memo.held = await heldAmount(tx, card.card_id);
    const available = Number(card.balance) - memo.held;
    if (amount > available) return decline('51', 'insufficient funds');
    if (card.daily_limit !== null) {
      const used = await dailyUsage(tx, card.card_id, this.#timeZone);
      if (used + amount > Number(card.daily_limit)) return decline('61', 'daily limit exceeded');
    }
    return undefined;
  }

  async #checkPin(tx: Db, req: IssuerRequest, card: CardRow): Promise<Decision | undefined> {
    if (card.pvv === null || card.pvki === null) return decline('55', 'no PIN enrolled for this card');
    if (card.pin_tries >= MAX_PIN_TRIES) return decline('75', 'PIN tries exceeded');
    let ok: boolean;
    try {
      ok = await this.#hsm.verifyPinPvv({
        pinBlock: req.pinBlock as Buffer,
        pik: this.keys.zpk,
        format: 0,
        pan: req.pan,
        pvk: this.keys.pvk,
        pvki: Number(card.pvki),
        pvv: card.pvv,
      });
    } catch (e) {
      // A block that does not decrypt to a format 0 PIN block for this PAN counts as a wrong PIN.
      // (The format is always 0 here, so BAD_FORMAT too comes from the block's content.)
      if (isCryptoError(e) && ['BAD_PIN_BLOCK', 'BAD_FORMAT', 'PAN_MISMATCH', 'BAD_PIN'].includes(e.reason)) ok = false;
      else throw e;
    }
    if (ok) {
      if (card.pin_tries > 0) await tx.query('UPDATE issuer_cards SET pin_tries = 0 WHERE card_id = $1', [card.card_id]);
      return undefined;
    }
    const tries = card.pin_tries + 1;
    await tx.query('UPDATE issuer_cards SET pin_tries = $2 WHERE card_id = $1', [card.card_id, tries]);
    if (tries >= MAX_PIN_TRIES) {
      await appendEvent(tx, {
        type: 'issuer.pin_tries_exceeded',
        ok: false,
        merchantNo: req.reference.merchantNo.slice(0, 15),
        terminalNo: req.reference.terminalNo.slice(0, 8),
        actor: 'system',
        resource: `card:${card.card_id}`,
        detail: { maskedPan: card.masked_pan, tries },
      });
      this.#logger?.warn({ cardId: card.card_id, tries }, 'issuer: PIN tries exceeded');
      return decline('75', 'PIN tries exceeded');
    }
    return decline('55', 'incorrect PIN');
  }

  // -------------------------------------------------------------------------------------------
  // reverse

  async reverse(rev: IssuerReversal): Promise<IssuerResult> {
    const invalid = !rev || typeof rev !== 'object' ? 'reversal missing' : invalidRequest({ ...rev, reference: rev.original });
    if (invalid !== undefined) return { responseCode: '30', reason: invalid };
    if (typeof rev.pan !== 'string' || !/^[0-9]{12,19}$/.test(rev.pan)) return { responseCode: '14', reason: 'PAN must be 12 to 19 digits' };
    const fingerprint = await fingerprintPan(this.#db, this.#hsm, rev.pan);
    const behaviour = await this.#behaviourFor(fingerprint);
    const result = await this.#behave(behaviour, true, () => this.#inTransaction((tx) => this.#reverseTx(tx, rev, fingerprint)));
    this.#logger?.info(
      { kind: rev.kind, rrn: rev.original.rrn, stan: rev.original.stan, reasonCode: rev.reasonCode, responseCode: result.responseCode, reason: result.reason },
      'issuer reversal',
    );
    return result;
  }

  async #reverseTx(tx: Db, rev: IssuerReversal, fingerprint: string): Promise<IssuerResult> {
    const key = requestKey(rev.original);
    const peek = await getRequest(tx, key);
    const why = `reversal (${typeof rev.reasonCode === 'string' ? rev.reasonCode.slice(0, 8) : '??'})`;
    if (!peek) {
      // Tombstone: the original, should it still arrive, is refused.
      await insertRequest(tx, {
        key,
        ref: rev.original,
        kind: rev.kind,
        cardId: null,
        contentHash: null,
        responseCode: null,
        amount: rev.amount,
        reversed: { reason: why },
      });
      return { responseCode: '00', reason: 'original not seen: nothing to undo' };
    }
    let card: CardRow | undefined;
    if (peek.card_id !== null) card = await lockCard(tx, peek.card_id);
    const row = (await getRequest(tx, key, true)) as RequestRow;
    if (row.reversed_at !== null) return { responseCode: '00', reason: 'already reversed' };
    if (row.response_code !== '00') {
      await markReversed(tx, key, why);
      return { responseCode: '00', reason: 'original was declined: nothing to undo' };
    }
    if (!card || card.pan_fingerprint !== fingerprint || row.kind !== rev.kind) {
      return { responseCode: '12', reason: 'reversal does not match the original request' };
    }
    if (rev.amount !== Number(row.amount)) return { responseCode: '13', reason: 'reversal amount differs from the original' };

    let reason = 'reversed';
    if (row.posting_id !== null) {
      const target = String(row.posting_id);
      if (await isUndone(tx, target)) {
        reason = 'original already voided: nothing to undo';
      } else {
        const p = (await getPosting(tx, target)) as Posting;
        await post(tx, { cardId: card.card_id, amount: -p.amount, kind: 'reversal', requestKey: `reversal:${key}`, reverses: target });
        if (row.hold_id !== null) {
          // completion: the hold is active again; completion void: captured again.
          await setHoldStatus(tx, String(row.hold_id), row.kind === 'preauth-completion' ? 'active' : 'captured');
        }
      }
    } else if (row.hold_id !== null) {
      const hold = await getHold(tx, String(row.hold_id));
      if (row.kind === 'preauth') {
        if (hold?.status === 'active') await setHoldStatus(tx, hold.id, 'released');
        else reason = 'pre-authorisation already completed or released: nothing to undo';
      } else if (row.kind === 'preauth-void') {
        if (hold?.status === 'released') await setHoldStatus(tx, hold.id, 'active');
        else reason = 'pre-authorisation no longer released: nothing to undo';
      }
    } else {
      reason = 'nothing to undo';
    }
    await markReversed(tx, key, why);
    return { responseCode: '00', balance: await this.#available(tx, card.card_id), reason };
  }

  // -------------------------------------------------------------------------------------------
  // administration

  async addCard(input: NewCard = {}): Promise<AddedCard> {
    const pan = input.pan ?? generateTestPan(input.bin !== undefined ? { bin: input.bin } : {});
    if (!/^[0-9]{12,19}$/.test(pan) || !isLuhnValid(pan)) throw new IssuerError('BAD_INPUT', 'PAN must be 12 to 19 digits with a valid Luhn check digit');
    const now = this.#now();
    const expiry = input.expiry ?? yymm(new Date(Date.UTC(now.getUTCFullYear() + 3, now.getUTCMonth(), 1)));
    if (!/^[0-9]{2}(0[1-9]|1[0-2])$/.test(expiry)) throw new IssuerError('BAD_INPUT', 'expiry must be YYMM');
    const serviceCode = input.serviceCode ?? DEFAULT_SERVICE_CODE;
    if (!/^[0-9]{3}$/.test(serviceCode)) throw new IssuerError('BAD_INPUT', 'service code must be 3 digits');
    const status = input.status ?? 'active';
    if (!CARD_STATUSES.includes(status)) throw new IssuerError('BAD_INPUT', `status must be one of ${CARD_STATUSES.join(', ')}`);
    const balance = input.balance ?? 0;
    if (!Number.isSafeInteger(balance) || balance < 0) throw new IssuerError('BAD_INPUT', 'balance must be a non-negative integer (minor units)');
    const dailyLimit = input.dailyLimit ?? null;
    if (dailyLimit !== null && (!Number.isSafeInteger(dailyLimit) || dailyLimit < 0)) {
      throw new IssuerError('BAD_INPUT', 'daily limit must be a non-negative integer (minor units)');
    }
    const currency = input.currency ?? '156';
    if (!/^[0-9]{3}$/.test(currency)) throw new IssuerError('BAD_INPUT', 'currency must be 3 digits (ISO 4217 numeric)');
    if (input.pin !== undefined && !/^[0-9]{4,12}$/.test(input.pin)) throw new IssuerError('BAD_INPUT', 'PIN must be 4 to 12 digits');

    const fingerprint = await fingerprintPan(this.#db, this.#hsm, pan);
    const pvv = input.pin !== undefined ? await enrolPvv(this.#hsm, { pan, pin: input.pin, pvk: this.keys.pvk, pvki: this.keys.pvki }) : null;
    const cardId = newCardId();
    const masked = maskPan(pan);
    try {
      await this.#transaction(async (tx) => {
        await tx.query(
          `INSERT INTO issuer_cards (card_id, pan_fingerprint, masked_pan, expiry, service_code, pvki, pvv, status, currency, daily_limit)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [cardId, fingerprint, masked, expiry, serviceCode, pvv === null ? null : this.keys.pvki, pvv, status, currency, dailyLimit],
        );
        if (balance > 0) await post(tx, { cardId, amount: balance, kind: 'deposit', requestKey: `admin:${cardId}:opening` });
        await appendEvent(tx, {
          type: 'issuer.card_added',
          ok: true,
          actor: input.actor ?? 'system',
          origin: input.origin ?? null,
          resource: `card:${cardId}`,
          detail: { maskedPan: masked, expiry, status, currency, balance, dailyLimit, pin: pvv !== null },
        });
      });
    } catch (e) {
      if (isStoreError(e, 'DUPLICATE')) throw new IssuerError('DUPLICATE', 'a card with this PAN already exists');
      throw e;
    }
    return { card: (await this.getCard(cardId)) as Card, pan };
  }

  async getCard(cardId: string): Promise<Card | undefined> {
    const r = await getCardRow(this.#db, cardId);
    return r ? toCard(r) : undefined;
  }

  async findCardByPan(pan: string): Promise<Card | undefined> {
    if (typeof pan !== 'string' || !/^[0-9]{12,19}$/.test(pan)) throw new IssuerError('BAD_INPUT', 'PAN must be 12 to 19 digits');
    const fp = await fingerprintPan(this.#db, this.#hsm, pan);
    const r = await this.#db.query<{ card_id: string }>('SELECT card_id FROM issuer_cards WHERE pan_fingerprint = $1', [fp]);
    const id = r.rows[0]?.card_id;
    return id === undefined ? undefined : this.getCard(id);
  }

  async listCards(opts: ListCardsOptions = {}): Promise<Card[]> {
    return (await listCardRows(this.#db, opts)).map(toCard);
  }

  async setCardStatus(cardId: string, status: CardStatus, opts: AdminActor = {}): Promise<Card> {
    if (!CARD_STATUSES.includes(status)) throw new IssuerError('BAD_INPUT', `status must be one of ${CARD_STATUSES.join(', ')}`);
    await this.#transaction(async (tx) => {
      const card = await lockCard(tx, cardId);
      if (!card) throw new IssuerError('NOT_FOUND', `card ${cardId} not found`);
      await tx.query(`UPDATE issuer_cards SET status = $2, pin_tries = CASE WHEN $2 = 'active' THEN 0 ELSE pin_tries END WHERE card_id = $1`, [
        cardId,
        status,
      ]);
      await appendEvent(tx, {
        type: 'issuer.card_status',
        ok: true,
        actor: opts.actor ?? 'system',
        origin: opts.origin ?? null,
        resource: `card:${cardId}`,
        detail: { from: card.status, to: status, pinTriesReset: status === 'active' && card.pin_tries > 0 },
      });
    });
    return (await this.getCard(cardId)) as Card;
  }

  async adjustBalance(cardId: string, amount: number, opts: AdminActor = {}): Promise<Card> {
    if (!Number.isSafeInteger(amount) || amount === 0) throw new IssuerError('BAD_INPUT', 'adjustment must be a non-zero integer (minor units)');
    await this.#transaction(async (tx) => {
      const card = await lockCard(tx, cardId);
      if (!card) throw new IssuerError('NOT_FOUND', `card ${cardId} not found`);
      await post(tx, { cardId, amount, kind: 'adjustment', requestKey: `admin:${cardId}:${randomUUID()}` });
      await appendEvent(tx, {
        type: 'issuer.balance_adjusted',
        ok: true,
        actor: opts.actor ?? 'system',
        origin: opts.origin ?? null,
        resource: `card:${cardId}`,
        detail: { amount, balance: Number(card.balance) + amount },
      });
    });
    return (await this.getCard(cardId)) as Card;
  }

  postings(cardId: string): Promise<Posting[]> {
    return listPostings(this.#db, cardId);
  }

  checkLedger(): Promise<LedgerMismatch[]> {
    return checkIssuerLedger(this.#db);
  }
}

/** Open the simulator: loads (on first use generates) the issuer's keys. */
export async function openIssuerSimulator(opts: IssuerSimulatorOptions): Promise<IssuerSimulator> {
  checkBehaviour(opts.behaviour);
  if (opts.timeoutMs !== undefined && (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 0)) {
    throw new IssuerError('BAD_INPUT', 'timeoutMs must be a non-negative integer');
  }
  // 0 would mean "wait for ever" to PostgreSQL: exactly what the limit is there to prevent.
  if (opts.lockTimeoutMs !== undefined && (!Number.isInteger(opts.lockTimeoutMs) || opts.lockTimeoutMs <= 0 || opts.lockTimeoutMs > 600_000)) {
    throw new IssuerError('BAD_INPUT', 'lockTimeoutMs must be a whole number of milliseconds from 1 to 600000');
  }
  const keys = await ensureIssuerKeys(opts.db, opts.hsm);
  return new Simulator(opts, keys);
}

