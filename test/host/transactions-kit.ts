/**
 * Shared set-up for the transaction tests: a real host over TCP on a fresh store, the issuer
 * simulator on the same store and HSM, a signed-on terminal (TerminalClient, MAC'ed requests)
 * with an operator session, and builders for the request field sets of the wire contract
 * (src/transactions/messages.ts) — written here independently of src/terminal/trade.ts.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import type { WrappedKey } from '../../src/crypto/hsm/hsm.js';
import { startHost, type HostOptions, type RunningHost } from '../../src/host/index.js';
import { openIssuerSimulator, type IssuerSimulator } from '../../src/issuer/simulator.js';
import type { IsoMessage } from '../../src/iso8583/index.js';
import type { cupPos } from '../../src/specs/cup-pos.js';
import { addMerchant, type Db } from '../../src/store/index.js';
import { addOperator, startOperatorSession } from '../../src/store/operators.js';
import { TerminalClient } from '../../src/terminal/client.js';
import type { CupFieldValues, TerminalResponse } from '../../src/terminal/client-types.js';
import { buildTrack2, terminalPinBlock } from '../../src/terminal/card.js';
import {
  CURRENCY_CNY,
  financialField60,
  MESSAGES,
  originalField61,
  PIN_CAPTURE_CODE,
  QR_ENTRY_MODE,
  SECURITY_CONTROL_3DES,
  type FinancialKind,
} from '../../src/transactions/messages.js';
import { merchantNo as newMerchantNo, type Backend } from '../store/helpers.js';
import { addKeyedTerminal, CLEAR_TMK, TMK_COMPONENTS } from './fixture.js';

export interface TxFixture {
  db: Db;
  hsm: SoftHsm;
  tmk: WrappedKey;
  host: RunningHost;
  issuer: IssuerSimulator;
  merchantNo: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startTxFixture(
  backend: Backend,
  options: Partial<Omit<HostOptions, 'db' | 'logger' | 'hsm' | 'issuer'>> & {
    noIssuer?: boolean;
    issuerTimeoutMs?: number;
    /** The handle the host gets, made from the store's (a wrapper that injects faults); default the store's own. */
    hostDb?: (db: Db) => Db;
  } = {},
): Promise<TxFixture> {
  const db = await backend.open();
  const hsm = await SoftHsm.open({ lmkHex: randomBytes(32).toString('hex') });
  const tmk = await hsm.importFromComponents({ usage: 'TMK', algorithm: 'tdes', length: 16 }, [...TMK_COMPONENTS]);
  const merchantNo = newMerchantNo();
  await addMerchant(db, { merchantNo, name: 'Test shop', mcc: '5411' });
  await addOperator(db, { merchantNo, operatorNo: '00', name: 'Supervisor', password: '123456', mustChangePassword: false }, { actor: 'system' });
  await addOperator(db, { merchantNo, operatorNo: '01', name: 'Cashier', password: '1234', mustChangePassword: false }, { actor: 'system' });
  const issuer = await openIssuerSimulator({ db, hsm, timeoutMs: options.issuerTimeoutMs ?? 300 });
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) });
  const { noIssuer, issuerTimeoutMs: _t, hostDb, ...hostOptions } = options;
  const host = await startHost({ port: 0, idleTimeoutMs: 0, ...hostOptions, db: hostDb?.(db) ?? db, hsm, logger, ...(noIssuer === true ? {} : { issuer }) });
  return {
    db,
    hsm,
    tmk,
    host,
    issuer,
    merchantNo,
    logs,
    async close() {
      try {
        await host.close();
      } finally {
        await hsm.close();
        await backend.dispose(db);
      }
    },
  };
}

export interface Till {
  client: TerminalClient;
  terminalNo: string;
  merchantNo: string;
  close(): Promise<void>;
}

/** A new terminal, connected, signed on (scheme 003), with operator `operatorNo` signed on in the store. */
export async function openTill(fx: TxFixture, operatorNo = '00', port = fx.host.port, requestTimeoutMs = 10_000): Promise<Till> {
  const terminalNo = await addKeyedTerminal(fx.db, fx.tmk, fx.merchantNo);
  const client = new TerminalClient({
    host: '127.0.0.1',
    port,
    terminalNo,
    merchantNo: fx.merchantNo,
    tmk: CLEAR_TMK,
    keyScheme: '003',
    reconnect: false,
    requestTimeoutMs,
  });
  await client.connect();
  await client.signOn();
  await startOperatorSession(fx.db, { merchantNo: fx.merchantNo, terminalNo, operatorNo });
  return { client, terminalNo, merchantNo: fx.merchantNo, close: () => client.close() };
}

export interface PlasticCard {
  pan: string;
  expiry: string;
  cardId: string;
  pin?: string;
}

export async function newCard(fx: TxFixture, o: { balance?: number; pin?: string; pan?: string; dailyLimit?: number } = {}): Promise<PlasticCard> {
  const added = await fx.issuer.addCard({
    balance: o.balance ?? 100_000,
    ...(o.pin !== undefined ? { pin: o.pin } : {}),
    ...(o.pan !== undefined ? { pan: o.pan } : {}),
    ...(o.dailyLimit !== undefined ? { dailyLimit: o.dailyLimit } : {}),
  });
  return { pan: added.pan, expiry: added.card.expiry, cardId: added.card.cardId, ...(o.pin !== undefined ? { pin: o.pin } : {}) };
}

export async function balanceOf(fx: TxFixture, card: PlasticCard): Promise<number> {
  const c = await fx.issuer.getCard(card.cardId);
  if (c === undefined) throw new Error('card vanished');
  return c.balance;
}

export const amount12 = (n: number): string => String(n).padStart(12, '0');

export interface CardOptions {
  /** Swipe (35) instead of keying the PAN (2). Default swipe. */
  keyed?: boolean;
  /** Enter this PIN (default: the card's PIN, if any). null: no PIN. */
  pin?: string | null;
}

/** Card fields (2 or 35, 14, 22, 26, 52, 53) for `card` at `till`. */
export function cardFields(till: Till, card: PlasticCard, o: CardOptions = {}): CupFieldValues {
  const pin = o.pin === undefined ? card.pin : o.pin;
  const f: CupFieldValues = {};
  if (o.keyed === true) {
    f[2] = card.pan;
    f[14] = card.expiry;
  } else {
    f[35] = buildTrack2({ pan: card.pan, expiry: card.expiry });
  }
  const readMode = o.keyed === true ? '01' : '02';
  if (pin !== undefined && pin !== null) {
    const keys = till.client.workingKeys;
    if (keys === null) throw new Error('not signed on');
    f[22] = `${readMode}1`;
    f[26] = PIN_CAPTURE_CODE;
    f[52] = terminalPinBlock(keys.pik, pin, card.pan);
    f[53] = SECURITY_CONTROL_3DES;
  } else {
    f[22] = `${readMode}2`;
  }
  return f;
}

/** The request fields of a financial `kind` (without 11 and 64). */
export function txFields(
  till: Till,
  kind: FinancialKind,
  o: { card?: PlasticCard; qr?: string; amount?: number; cardOptions?: CardOptions; original?: { batchNo: string; stan: string; rrn?: string; authCode?: string; date?: string }; batchNo?: string },
): CupFieldValues {
  const d = MESSAGES[kind];
  const f: CupFieldValues = {
    3: d.processingCode!,
    25: d.conditionCode!,
    41: till.terminalNo,
    42: till.merchantNo,
    49: CURRENCY_CNY,
    60: financialField60(kind, o.batchNo ?? till.client.batchNo),
  };
  if (kind !== 'balance') f[4] = amount12(o.amount ?? 0);
  if (o.qr !== undefined) {
    f[22] = QR_ENTRY_MODE;
    f[59] = o.qr;
  } else if (o.card !== undefined) {
    Object.assign(f, cardFields(till, o.card, o.cardOptions));
  }
  if (o.original !== undefined) {
    f[61] = originalField61(o.original);
    if (o.original.rrn !== undefined) f[37] = o.original.rrn;
    if (o.original.authCode !== undefined) f[38] = o.original.authCode;
  }
  return f;
}

export type CupMessage = IsoMessage<(typeof cupPos)['fields']>;

/** Send a MAC'ed request of `kind`. */
export function send(till: Till, kind: FinancialKind, fields: CupFieldValues, stan?: string): Promise<TerminalResponse> {
  const mti = MESSAGES[kind].mti;
  return till.client.request(mti, fields, { mac: true, ...(stan !== undefined ? { stan } : {}) });
}

export function code(r: TerminalResponse): string | undefined {
  return r.message.get(39);
}

/** Fields a 0400 does not repeat (docs/protocol-transactions.md). */
const NOT_IN_REVERSAL = [26, 35, 36, 37, 52, 53, 64] as const;

/** The 0400 for a request sent with `fields`: same fields, PAN in 2, reason in 39. */
export function reversalFields(fields: CupFieldValues, reason: '98' | 'A0' | '06', pan?: string): CupFieldValues {
  const f: CupFieldValues = { ...fields };
  for (const n of NOT_IN_REVERSAL) delete f[n];
  if (pan !== undefined && f[59] === undefined) f[2] = pan;
  f[39] = reason;
  return f;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` every 50 ms until it holds; fail after `ms`. */
export async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}
