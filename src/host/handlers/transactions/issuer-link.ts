/**
 * Talking to the issuer on behalf of a journal entry: the issuer reference of an entry, the
 * issuer's kind for a transaction kind, and reversals (stand-in, 0400, crash recovery).
 */
import type { IssuerReference, IssuerRequestKind, IssuerResult } from '../../../issuer/issuer.js';
import type { Issuer } from '../../../issuer/issuer.js';
import type { JournalEntry, JournalKind } from '../../../store/journal.js';

/** The acquirer id used in issuer references when the host has none configured. */
export const DEFAULT_ACQUIRER_ID = '00000000';

const ISSUER_KIND: Record<JournalKind, IssuerRequestKind> = {
  purchase: 'purchase',
  'qr-purchase': 'purchase',
  balance: 'balance',
  void: 'void',
  refund: 'refund',
  preauth: 'preauth',
  'preauth-void': 'preauth-void',
  'preauth-completion': 'preauth-completion',
  'completion-void': 'completion-void',
};

export function issuerKind(kind: JournalKind): IssuerRequestKind {
  return ISSUER_KIND[kind];
}

export function referenceOf(e: JournalEntry): IssuerReference {
  return { acquirerId: e.acquirerId, merchantNo: e.merchantNo, terminalNo: e.terminalNo, rrn: e.rrn, stan: e.stan, at: e.receivedAt };
}

/** Reverse `entry` with the issuer (idempotent at the issuer). Throws IssuerUnavailableError when it cannot be reached. */
export function reverseWithIssuer(issuer: Issuer, entry: JournalEntry, pan: string, reasonCode: string): Promise<IssuerResult> {
  return issuer.reverse({
    original: referenceOf(entry),
    kind: issuerKind(entry.kind),
    amount: entry.amount,
    currency: entry.currency,
    pan,
    reasonCode,
  });
}
