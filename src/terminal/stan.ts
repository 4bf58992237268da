/** System trace audit number (field 11) counter: 000001..999999, wrapping back to 000001. */

export const STAN_MAX = 999_999;

export class StanCounter {
  private last: number;

  /** `start` is the first STAN handed out (1..999999). */
  constructor(start = 1) {
    if (!Number.isInteger(start) || start < 1 || start > STAN_MAX) {
      throw new RangeError(`STAN must be 1..${STAN_MAX}, got ${start}`);
    }
    this.last = start - 1;
  }

  /** The next STAN as 6 digits. `inUse` lets the caller skip numbers still waiting for a reply. */
  next(inUse?: (stan: string) => boolean): string {
    for (let tries = 0; tries < STAN_MAX; tries++) {
      this.last = this.last >= STAN_MAX ? 1 : this.last + 1;
      const s = String(this.last).padStart(6, '0');
      if (inUse === undefined || !inUse(s)) return s;
    }
    throw new RangeError('every STAN is in use');
  }

  /** The most recently issued STAN as a number (0 before the first). */
  get current(): number {
    return this.last;
  }
}
