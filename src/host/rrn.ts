/**
 * Retrieval reference numbers (field 37): 12 digits, unique per host process and, in practice,
 * across restarts. The counter starts at the current time in milliseconds (mod 10^12) and
 * increases by one per number, so a restarted host starts above every number issued before unless
 * the previous run issued more than one number per millisecond on average.
 */
export interface RrnGenerator {
  next(): string;
}

const MODULUS = 1_000_000_000_000;

export function createRrnGenerator(now: () => number = Date.now): RrnGenerator {
  let counter = now() % MODULUS;
  return {
    next(): string {
      counter = (counter + 1) % MODULUS;
      return String(counter).padStart(12, '0');
    },
  };
}
