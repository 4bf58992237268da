/** Reconnect delays: exponential backoff with jitter. */

export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** Largest delay, ms. */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): min(maxMs, initialMs * 2^(attempt-1)), then
 * "equal jitter" — a random value in [half, whole] of that — so a fleet of terminals that lost
 * the same host does not reconnect in lockstep. `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const half = exp / 2;
  return Math.round(half + half * random());
}
