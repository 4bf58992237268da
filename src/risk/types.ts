/**
 * The risk engine's boundary, as the transaction handlers use it. Rules are data (stored per
 * merchant, with defaults); the engine evaluates every financial request before it goes to the
 * issuer and records every outcome so windows (counts, sums) see it.
 */
import type { Db } from '../store/index.js';

export type RiskOutcome = 'allow' | 'flag' | 'review' | 'decline';

/** How the customer paid. */
export type PaymentChannel = 'card' | 'qr';

export interface RiskTransaction {
  merchantNo: string;
  terminalNo: string;
  operatorNo: string | null;
  channel: PaymentChannel;
  /** purchase, refund, void, balance, preauth … */
  kind: string;
  /** Minor units. */
  amount: number;
  /** The card's PAN fingerprint (src/transactions/pan-fingerprint.ts), never the PAN; null for QR. */
  cardFingerprint: string | null;
  /** Request time (UTC instant); rules convert to the merchant's time zone. */
  at: Date;
  /** Journal id or RRN, recorded with firings. */
  reference: string;
}

export interface RuleFiring {
  ruleId: string;
  outcome: RiskOutcome;
  reason: string;
  /** On a decline firing: the response code the rule answers with. */
  responseCode?: string;
}

export interface RiskDecision {
  /** The strongest outcome of all firings (decline > review > flag > allow). */
  outcome: RiskOutcome;
  /** On decline: the response code to answer with. */
  responseCode?: string;
  firings: RuleFiring[];
}

export interface RiskEngine {
  /** Evaluate before authorisation; firings are recorded. */
  evaluate(db: Db, tx: RiskTransaction): Promise<RiskDecision>;
  /** Record the final result so velocity windows count it. */
  record(db: Db, tx: RiskTransaction, result: 'approved' | 'declined'): Promise<void>;
  /**
   * The final result's observation row was written by the caller, in the statement that made the
   * journal entry final (Finalization.observe in src/store/journal.ts): only what the engine keeps
   * in memory is updated. Optional: without it the host calls `record` after the final write.
   */
  observed?(tx: RiskTransaction, result: 'approved' | 'declined'): void;
}
