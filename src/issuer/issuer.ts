/**
 * The issuer boundary: what the acquiring host asks of the card issuer. The simulator
 * (./simulator.ts) implements it over the store; a real upstream link (ISO 8583 to a card network)
 * can implement the same interface later.
 *
 * Amounts are integer minor units (fen for CNY). PANs cross this boundary because routing and PIN
 * verification need them; they are never logged or stored in clear (fingerprints and masked PANs
 * only).
 */
import type { WrappedKey } from '../crypto/hsm/hsm.js';

export type IssuerRequestKind =
  | 'purchase'
  | 'balance'
  | 'preauth'
  | 'preauth-completion'
  | 'refund'
  | 'void'
  | 'preauth-void'
  | 'completion-void';

/** Identifies one acquirer request uniquely; the issuer is idempotent on it. */
export interface IssuerReference {
  acquirerId: string;
  merchantNo: string;
  terminalNo: string;
  /** Retrieval reference number (field 37) the acquirer assigned. */
  rrn: string;
  stan: string;
  /** When the acquirer received the request. */
  at: Date;
}

export interface IssuerRequest {
  kind: IssuerRequestKind;
  reference: IssuerReference;
  pan: string;
  /** YYMM, from track 2 or field 14, when known. */
  expiry?: string;
  /** Minor units; 0 for balance. */
  amount: number;
  /** ISO 4217 numeric, e.g. '156'. */
  currency: string;
  /** ISO 9564 format 0 PIN block under the issuer's PIN key (`Issuer.pinKey()`), when a PIN was entered. */
  pinBlock?: Buffer;
  /** The request this one refers to (void, completion, refund of): its reference and auth code. */
  original?: { rrn: string; authCode?: string; amount?: number };
}

export interface IssuerResult {
  /** UnionPay/ISO response code: 00, 05, 14, 51, 54, 55, 61, 62, 75, 96 … */
  responseCode: string;
  /** Six characters on approval. */
  authCode?: string;
  /** Available balance after the request, minor units (balance inquiry; also on approvals). */
  balance?: number;
  /** Why, for the journal and logs (never with PAN or PIN). */
  reason?: string;
}

export interface IssuerReversal {
  /** The request being reversed (its reference as sent). */
  original: IssuerReference;
  kind: IssuerRequestKind;
  amount: number;
  currency: string;
  pan: string;
  /** Why: 98 no reply, A0 MAC error, 06 other … */
  reasonCode: string;
}

export interface Issuer {
  /** The key PIN blocks must be under when sent to this issuer (a ZPK). */
  pinKey(): Promise<WrappedKey>;
  /** Authorise (and post, for financial kinds) exactly once per reference. */
  authorize(req: IssuerRequest): Promise<IssuerResult>;
  /**
   * Undo what `original` did, exactly once; reversing something never seen or already reversed
   * is approved without effect (responseCode 00, reason says which).
   */
  reverse(rev: IssuerReversal): Promise<IssuerResult>;
}

/** The issuer did not answer in time or the link failed: the acquirer answers 96/98 and reverses. */
export class IssuerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IssuerUnavailableError';
  }
}

/**
 * The issuer could not lock the card account within its lock time limit (another transaction
 * holds the card row). Nothing was posted: the transaction was rolled back. A kind of
 * IssuerUnavailableError, so the acquirer answers it as any unavailable issuer (98, stand-in
 * reversal) instead of waiting for its own, longer, time limit.
 */
export class IssuerLockTimeoutError extends IssuerUnavailableError {
  constructor(readonly lockTimeoutMs: number) {
    super(`issuer: card account locked by another transaction for more than ${lockTimeoutMs} ms`);
    this.name = 'IssuerLockTimeoutError';
  }
}
