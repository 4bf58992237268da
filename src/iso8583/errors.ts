/**
 * The single error type of the ISO 8583 codec. Every malformed input (unpack, peek, lazy field
 * decoding, fromJson, specFromJSON) and every invalid value handed to pack raises an
 * Iso8583Error and nothing else, so callers can catch one class and switch on `reason`.
 */

export type Iso8583Reason =
  /** Input ended before a field, prefix, MTI or bitmap was complete. */
  | 'TRUNCATED'
  /** Bytes left over after the last field announced by the bitmap. */
  | 'TRAILING_BYTES'
  /** A length (from a prefix or of a value to pack) exceeds the field's maximum. */
  | 'LENGTH_OVER_MAX'
  /** A value to pack has the wrong length for a fixed-length field or sub-field. */
  | 'BAD_LENGTH'
  /** A length prefix is not a valid number in its encoding. */
  | 'BAD_LENGTH_PREFIX'
  /** A BCD nibble is not a digit (or not a track separator where one is allowed). */
  | 'BAD_BCD'
  /** A character is outside the field's character set. */
  | 'BAD_CHARSET'
  /** The bitmap names a field the spec does not define, or a caller used one. */
  | 'UNDEFINED_FIELD'
  | 'BAD_MTI'
  | 'BAD_BITMAP'
  /** A value has the wrong JavaScript type or shape for its field. */
  | 'BAD_VALUE'
  | 'BAD_TLV'
  /** A mandatory part (MTI, a required sub-field) is missing. */
  | 'MISSING_FIELD'
  /** A feature the codec deliberately does not implement (e.g. a tertiary bitmap). */
  | 'UNSUPPORTED'
  /** A spec definition or spec JSON document is invalid. */
  | 'BAD_SPEC'
  /** getSpec() was asked for a name that is not registered. */
  | 'UNKNOWN_SPEC';

export interface Iso8583ErrorDetails {
  /** Field number, or "60.2" for a sub-field; undefined for MTI/bitmap/message-level errors. */
  field?: number | string;
  /** Byte offset into the buffer given to unpack/peek; undefined for pack-side errors. */
  offset?: number;
}

export class Iso8583Error extends Error {
  override readonly name = 'Iso8583Error';
  readonly reason: Iso8583Reason;
  readonly field: number | string | undefined;
  readonly offset: number | undefined;

  constructor(reason: Iso8583Reason, message: string, details: Iso8583ErrorDetails = {}) {
    const where: string[] = [];
    if (details.field !== undefined) where.push(`field ${details.field}`);
    if (details.offset !== undefined) where.push(`offset ${details.offset}`);
    super(where.length > 0 ? `${where.join(', ')}: ${message}` : message);
    this.reason = reason;
    this.field = details.field;
    this.offset = details.offset;
  }
}

/** Shorthand used throughout the codec; never returns. */
export function fail(reason: Iso8583Reason, message: string, field?: number | string, offset?: number): never {
  throw new Iso8583Error(reason, message, { field, offset });
}
