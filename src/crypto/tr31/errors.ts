/** Typed failures of key-block handling. Messages never carry key material or block text. */
export type KeyBlockErrorCode =
  /** Not a well-formed key block string (characters, structure). */
  | 'MALFORMED'
  /** Declared block length disagrees with the string, or the payload length is wrong for the version. */
  | 'BAD_LENGTH'
  /** Version id is not one this implementation handles. */
  | 'UNSUPPORTED_VERSION'
  /** A header field is missing, out of range or inconsistent. */
  | 'BAD_HEADER'
  /** An optional block is malformed. */
  | 'BAD_OPTIONAL_BLOCK'
  /** The key block protection key has the wrong type or length for the version. */
  | 'BAD_KBPK'
  /** The clear key to wrap is inconsistent with the header (length vs algorithm). */
  | 'BAD_KEY'
  /** Authenticator did not verify (tampered block or wrong KBPK). */
  | 'MAC_MISMATCH'
  /** The decrypted payload is not a valid length-prefixed key (only reported after the MAC verified). */
  | 'BAD_PAYLOAD'
  /** The key's usage does not allow the requested operation. */
  | 'USAGE_MISMATCH'
  /** The key's mode of use does not allow the requested operation. */
  | 'MODE_MISMATCH'
  /** The key's algorithm is not the one required. */
  | 'ALGORITHM_MISMATCH';

export class KeyBlockError extends Error {
  override readonly name = 'KeyBlockError';
  constructor(
    readonly code: KeyBlockErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
