/**
 * Typed error for the payment-crypto primitives.
 *
 * Rule: a message is built only from fixed text and non-secret numbers (lengths, format numbers,
 * counts). Key bytes, PIN digits, PAN digits, clear PIN blocks and MAC values never go into a
 * message, so an error can be logged or returned to a client without leaking anything.
 */
import { CipherError } from './cipher.js';

export type CryptoErrorReason =
  | 'BAD_KEY_LENGTH'
  | 'BAD_PARITY'
  | 'BAD_PIN'
  | 'BAD_PAN'
  | 'BAD_PIN_BLOCK'
  | 'PAN_MISMATCH'
  | 'BAD_FORMAT'
  | 'MAC_MISMATCH'
  | 'BAD_INPUT'
  | 'BAD_COMPONENTS'
  | 'KCV_MISMATCH'
  /** HSM: the key's bound usage, mode of use or algorithm does not permit the operation. */
  | 'USAGE_MISMATCH'
  /** HSM: a key block is malformed, tampered with, or not wrapped under this HSM's LMK. */
  | 'BAD_KEY_BLOCK'
  /** HSM: the local master key is missing, malformed or unavailable. */
  | 'BAD_LMK';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly reason: CryptoErrorReason;

  constructor(reason: CryptoErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** True when `e` is a CryptoError, optionally with the given reason. */
export function isCryptoError(e: unknown, reason?: CryptoErrorReason): e is CryptoError {
  return e instanceof CryptoError && (reason === undefined || e.reason === reason);
}

/**
 * Run a cipher-core call and turn its CipherError (whose messages carry only lengths) into a
 * CryptoError with the given reason. Anything else propagates unchanged.
 */
export function viaCipher<T>(reason: CryptoErrorReason, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CipherError) throw new CryptoError(reason, e.message);
    throw e;
  }
}

/** Throw CryptoError(BAD_KEY_LENGTH) unless `key.length` is one of `allowed`. */
export function requireKeyLength(what: string, key: Uint8Array, allowed: readonly number[]): void {
  if (!allowed.includes(key.length)) {
    throw new CryptoError('BAD_KEY_LENGTH', `${what} key must be ${allowed.join(', ')} bytes, got ${key.length}`);
  }
}
