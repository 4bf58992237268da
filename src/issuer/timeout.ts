/**
 * A time limit of the acquirer's own on every issuer call. Whatever the link does (a stuck card
 * lock, a lost upstream answer), the host stops waiting after `ms`: the call fails with
 * IssuerUnavailableError, the host answers 98 and reverses (the issuer's reversal is idempotent
 * and a late original is refused after its reversal, so a late answer cannot post twice).
 */
import { IssuerUnavailableError, type Issuer, type IssuerRequest, type IssuerResult, type IssuerReversal } from './issuer.js';

function limit<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IssuerUnavailableError(`issuer did not answer the ${what} within ${ms} ms`)), ms);
  });
  // The slow call may still settle later; its outcome is then ignored (and a rejection handled).
  p.catch(() => undefined);
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** `issuer` with every call limited to `ms` milliseconds. */
export function withIssuerTimeout(issuer: Issuer, ms: number): Issuer {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError('issuer timeout must be a positive whole number of milliseconds');
  return {
    pinKey: () => limit(issuer.pinKey(), ms, 'PIN key request'),
    authorize: (req: IssuerRequest): Promise<IssuerResult> => limit(issuer.authorize(req), ms, `${req.kind} request`),
    reverse: (rev: IssuerReversal): Promise<IssuerResult> => limit(issuer.reverse(rev), ms, 'reversal'),
  };
}
