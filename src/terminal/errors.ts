/**
 * The single error type of the terminal client, with a machine-readable `reason`.
 */
import { describeResponseCode } from './response-codes.js';

export type TerminalErrorReason =
  /** The host answered with a response code other than 00 (see `responseCode`, `meaning`). */
  | 'DECLINED'
  /** No response within the request timeout. */
  | 'TIMEOUT'
  /** No connection to send on. */
  | 'NOT_CONNECTED'
  /** The connection dropped while the request was in flight. */
  | 'DISCONNECTED'
  /** The client was closed. */
  | 'CLOSED'
  /** A key check value in the sign-on response does not match the decrypted key. */
  | 'KCV_MISMATCH'
  /** Field 62 of the sign-on response is missing or has the wrong length for the key scheme. */
  | 'BAD_KEY_BLOCK'
  /** The response is malformed or does not fit the request (wrong MTI, missing field). */
  | 'BAD_RESPONSE'
  /** An option or argument is invalid. */
  | 'BAD_ARGUMENT'
  /** The request cannot be sent as asked (e.g. its STAN is already in flight). */
  | 'BAD_REQUEST'
  /** The operation needs working keys and the terminal has not signed on. */
  | 'NOT_SIGNED_ON'
  /** A response's MAC (field 64) is missing or wrong. */
  | 'MAC_MISMATCH'
  /** Connecting to the host failed. */
  | 'CONNECT_FAILED';

export interface TerminalErrorOptions {
  responseCode?: string;
  stan?: string;
  cause?: unknown;
}

export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  readonly reason: TerminalErrorReason;
  /** Field 39 of the response, for DECLINED. */
  readonly responseCode: string | undefined;
  /** Human meaning of `responseCode`. */
  readonly meaning: string | undefined;
  /** STAN (field 11) of the request concerned, when known. */
  readonly stan: string | undefined;

  constructor(reason: TerminalErrorReason, message: string, options: TerminalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.responseCode = options.responseCode;
    this.meaning = options.responseCode === undefined ? undefined : describeResponseCode(options.responseCode);
    this.stan = options.stan;
  }
}

/** True when `e` is a TerminalError (optionally with the given reason). */
export function isTerminalError(e: unknown, reason?: TerminalErrorReason): e is TerminalError {
  return e instanceof TerminalError && (reason === undefined || e.reason === reason);
}

/** A DECLINED TerminalError for response code `code`. */
export function declined(what: string, code: string, stan?: string): TerminalError {
  return new TerminalError('DECLINED', `${what} refused: ${code} ${describeResponseCode(code)}`, {
    responseCode: code,
    ...(stan === undefined ? {} : { stan }),
  });
}
