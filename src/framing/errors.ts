/**
 * The single error type of the framing layer. Every failure caused by bytes on the wire or by a
 * bad argument to an encoder is a FramingError with a machine-readable `reason`.
 *
 * `fatal` separates two kinds of failure on a stream:
 * - fatal: the frame boundaries are lost (bad or oversized length header, stream ended inside a
 *   frame). Nothing after this point can be trusted; the connection should be closed.
 * - not fatal: one frame is bad (wrong TPDU id, bad header nibble, too short) but the length
 *   header delimited it correctly, so the next frame can still be read.
 */

export type FramingErrorReason =
  /** A length header (or a body to encode) is larger than the profile or encoding allows. */
  | 'FRAME_TOO_LARGE'
  /** The length header bytes are not a valid number in their encoding (bad BCD nibble, non-digit). */
  | 'BAD_LENGTH_HEADER'
  /** Fewer bytes than the length header, TPDU or header needs. */
  | 'TRUNCATED'
  /** More bytes than the length header declares (whole-frame decoding only). */
  | 'TRAILING_BYTES'
  /** TPDU has the wrong id byte, or a TPDU value to encode is malformed. */
  | 'BAD_TPDU'
  /** UnionPay 6-byte header is malformed (processing requirement out of range, bad field value). */
  | 'BAD_HEADER'
  /** A zero-length payload where a frame with content was required. */
  | 'EMPTY_FRAME'
  /** The profile has no length header, so frames cannot be delimited on a stream. */
  | 'NO_LENGTH_HEADER'
  /** TPDU or header supplied to a profile without one, or missing for a profile that needs it. */
  | 'PROFILE_MISMATCH'
  /** An argument is not of the expected form (negative length, malformed profile, string chunk). */
  | 'BAD_ARGUMENT';

export interface FramingErrorOptions {
  /** Byte offset of the problem: within the input given to the function, or within the stream for a decoder. */
  offset?: number;
  /** True when frame boundaries are lost and the connection should be closed. */
  fatal?: boolean;
  cause?: unknown;
}

export class FramingError extends Error {
  override readonly name = 'FramingError';
  readonly reason: FramingErrorReason;
  readonly offset: number;
  readonly fatal: boolean;

  constructor(reason: FramingErrorReason, message: string, options: FramingErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.offset = options.offset ?? 0;
    this.fatal = options.fatal ?? false;
  }
}

/** True when `e` is a FramingError (optionally with the given reason). */
export function isFramingError(e: unknown, reason?: FramingErrorReason): e is FramingError {
  return e instanceof FramingError && (reason === undefined || e.reason === reason);
}
