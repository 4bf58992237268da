/** Typed DUKPT failures. Messages never carry key material. */
export type DukptErrorCode =
  /** KSN (or Initial Key ID) has the wrong length or is not hex. */
  | 'BAD_KSN_LENGTH'
  /** Base derivation key / initial key has the wrong length for the scheme. */
  | 'BAD_KEY_LENGTH'
  /** Transaction counter is zero (the initial KSN names no transaction key). */
  | 'COUNTER_ZERO'
  /** Transaction counter has more one-bits than the originator ever uses (10 TDES, 16 AES). */
  | 'TOO_MANY_ONE_BITS'
  /** No further valid transaction counter exists; the device must be re-keyed. */
  | 'COUNTER_EXHAUSTED'
  /** Unknown key usage / key type, or a combination the standard does not define. */
  | 'BAD_USAGE';

export class DukptError extends Error {
  override readonly name = 'DukptError';
  constructor(
    readonly code: DukptErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
