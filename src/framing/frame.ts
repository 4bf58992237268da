/**
 * Whole frames: `LENGTH HEADER | [TPDU(5)] | [UnionPay header(6)] | body`.
 *
 * Terms used throughout the framing layer:
 * - payload: everything after the length header (what the length header counts).
 * - body: what follows the TPDU and UnionPay header, i.e. the ISO 8583 message (MTI onwards).
 *
 * `maxFrameLength` bounds the payload, i.e. the largest value a length header may declare.
 */
import { FramingError } from './errors.js';
import {
  type LengthHeaderKind,
  LENGTH_HEADER_KINDS,
  decodeLengthHeader,
  lengthHeaderSize,
  maxEncodableLength,
  writeLengthHeader,
} from './length-header.js';
import { type Tpdu, TPDU_LENGTH, parseTpdu, writeTpdu } from './tpdu.js';
import { type CupHeader, CUP_HEADER_LENGTH, parseCupHeader, writeCupHeader } from './cup-header.js';

export interface FrameProfile {
  /** How frames are delimited. */
  readonly lengthHeader: LengthHeaderKind;
  /** Whether a 5-byte TPDU starts the payload. */
  readonly tpdu: boolean;
  /** Whether the 6-byte UnionPay header follows (after the TPDU, if any). */
  readonly header: 'cup' | 'none';
  /** Largest payload (bytes after the length header) accepted or produced. */
  readonly maxFrameLength: number;
}

/** Validate a profile and return a frozen copy. Throws FramingError BAD_ARGUMENT. */
export function defineFrameProfile(profile: FrameProfile): Readonly<FrameProfile> {
  assertFrameProfile(profile);
  return Object.freeze({
    lengthHeader: profile.lengthHeader,
    tpdu: profile.tpdu,
    header: profile.header,
    maxFrameLength: profile.maxFrameLength,
  });
}

/** Throws FramingError BAD_ARGUMENT unless `profile` is well formed. */
export function assertFrameProfile(profile: FrameProfile): void {
  if (profile === null || typeof profile !== 'object') {
    throw new FramingError('BAD_ARGUMENT', 'frame profile must be an object');
  }
  if (!LENGTH_HEADER_KINDS.includes(profile.lengthHeader)) {
    throw new FramingError('BAD_ARGUMENT', `unknown length header kind ${String(profile.lengthHeader)}`);
  }
  if (typeof profile.tpdu !== 'boolean') {
    throw new FramingError('BAD_ARGUMENT', 'frame profile tpdu must be true or false');
  }
  if (profile.header !== 'cup' && profile.header !== 'none') {
    throw new FramingError('BAD_ARGUMENT', `frame profile header must be 'cup' or 'none', got ${String(profile.header)}`);
  }
  const max = profile.maxFrameLength;
  const limit = maxEncodableLength(profile.lengthHeader);
  if (!Number.isSafeInteger(max) || max < 0 || max > limit) {
    throw new FramingError(
      'BAD_ARGUMENT',
      `maxFrameLength must be an integer from 0 to ${limit} for a ${profile.lengthHeader} length header, got ${max}`,
    );
  }
}

/** UnionPay POS over TCP: 2-byte binary length, TPDU, UnionPay header, payload up to 8192 bytes. */
export const CUP_POS_FRAME: Readonly<FrameProfile> = defineFrameProfile({
  lengthHeader: 'binary2',
  tpdu: true,
  header: 'cup',
  maxFrameLength: 8192,
});

/** Bare ISO 8583 behind a 2-byte binary length, payload up to 8192 bytes. */
export const PLAIN_BINARY2: Readonly<FrameProfile> = defineFrameProfile({
  lengthHeader: 'binary2',
  tpdu: false,
  header: 'none',
  maxFrameLength: 8192,
});

/** Bare ISO 8583 behind 4 ASCII length digits, payload up to 8192 bytes. */
export const PLAIN_ASCII4: Readonly<FrameProfile> = defineFrameProfile({
  lengthHeader: 'ascii4',
  tpdu: false,
  header: 'none',
  maxFrameLength: 8192,
});

/** Bytes of TPDU plus UnionPay header at the start of each payload under `profile`. */
export function payloadPrefixLength(profile: FrameProfile): number {
  return (profile.tpdu ? TPDU_LENGTH : 0) + (profile.header === 'cup' ? CUP_HEADER_LENGTH : 0);
}

/** What goes into a frame. `tpdu` and `header` are required exactly when the profile has them. */
export interface FrameParts {
  readonly tpdu?: Tpdu;
  readonly header?: CupHeader;
  readonly body: Uint8Array;
}

/** A parsed payload. `body` is a view into the bytes given to the parser, not a copy. */
export interface ParsedFrame {
  readonly tpdu?: Tpdu;
  readonly header?: CupHeader;
  readonly body: Buffer;
}

export interface ParseFrameOptions {
  /** Accept any TPDU id byte instead of requiring 0x60. */
  allowAnyTpduId?: boolean;
}

/**
 * Encode a complete frame (length header included) in a single allocation.
 * Throws FramingError PROFILE_MISMATCH (TPDU/header missing or unexpected), FRAME_TOO_LARGE
 * (payload above maxFrameLength), BAD_TPDU / BAD_HEADER (malformed values).
 */
export function encodeFrame(profile: FrameProfile, parts: FrameParts): Buffer {
  assertFrameProfile(profile);
  const { tpdu, header, body } = parts;
  if (!(body instanceof Uint8Array)) throw new FramingError('BAD_ARGUMENT', 'frame body must be a Buffer or Uint8Array');
  if (profile.tpdu && tpdu === undefined) throw new FramingError('PROFILE_MISMATCH', 'profile requires a TPDU');
  if (!profile.tpdu && tpdu !== undefined) throw new FramingError('PROFILE_MISMATCH', 'profile has no TPDU, but one was given');
  if (profile.header === 'cup' && header === undefined) throw new FramingError('PROFILE_MISMATCH', 'profile requires a UnionPay header');
  if (profile.header === 'none' && header !== undefined) {
    throw new FramingError('PROFILE_MISMATCH', 'profile has no UnionPay header, but one was given');
  }
  const payloadLength = payloadPrefixLength(profile) + body.length;
  if (payloadLength > profile.maxFrameLength) {
    throw new FramingError('FRAME_TOO_LARGE', `payload of ${payloadLength} bytes exceeds the profile maximum of ${profile.maxFrameLength}`);
  }
  const out = Buffer.allocUnsafe(lengthHeaderSize(profile.lengthHeader) + payloadLength);
  let at = writeLengthHeader(profile.lengthHeader, payloadLength, out, 0);
  if (tpdu !== undefined) at += writeTpdu(tpdu, out, at);
  if (header !== undefined) at += writeCupHeader(header, out, at);
  out.set(body, at);
  return out;
}

/**
 * A zero-length frame (length header declaring 0 bytes, nothing after it): the keep-alive some
 * terminals send. Throws NO_LENGTH_HEADER for a profile without a length header.
 */
export function encodeHeartbeat(profile: FrameProfile): Buffer {
  assertFrameProfile(profile);
  if (profile.lengthHeader === 'none') {
    throw new FramingError('NO_LENGTH_HEADER', 'a heartbeat needs a length header');
  }
  const out = Buffer.alloc(lengthHeaderSize(profile.lengthHeader));
  writeLengthHeader(profile.lengthHeader, 0, out, 0);
  return out;
}

/**
 * Split a payload (the bytes after the length header) into TPDU, UnionPay header and body.
 * Errors are never fatal: the payload was delimited, so the next frame can still be read.
 * Throws FramingError EMPTY_FRAME (zero-length payload, e.g. a heartbeat), FRAME_TOO_LARGE,
 * TRUNCATED (shorter than TPDU + header), BAD_TPDU, BAD_HEADER. Offsets are within `payload`.
 */
export function parseFramePayload(profile: FrameProfile, payload: Uint8Array, options: ParseFrameOptions = {}): ParsedFrame {
  assertFrameProfile(profile);
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (buf.length === 0) throw new FramingError('EMPTY_FRAME', 'frame payload is empty');
  if (buf.length > profile.maxFrameLength) {
    throw new FramingError('FRAME_TOO_LARGE', `payload of ${buf.length} bytes exceeds the profile maximum of ${profile.maxFrameLength}`);
  }
  const prefix = payloadPrefixLength(profile);
  if (buf.length < prefix) {
    throw new FramingError('TRUNCATED', `payload of ${buf.length} bytes is shorter than the ${prefix}-byte TPDU and header`, {
      offset: buf.length,
    });
  }
  let at = 0;
  let tpdu: Tpdu | undefined;
  let header: CupHeader | undefined;
  if (profile.tpdu) {
    tpdu = parseTpdu(buf, at, { allowAnyId: options.allowAnyTpduId ?? false });
    at += TPDU_LENGTH;
  }
  if (profile.header === 'cup') {
    header = parseCupHeader(buf, at);
    at += CUP_HEADER_LENGTH;
  }
  const body = buf.subarray(at);
  const out: { tpdu?: Tpdu; header?: CupHeader; body: Buffer } = { body };
  if (tpdu !== undefined) out.tpdu = tpdu;
  if (header !== undefined) out.header = header;
  return out;
}

/**
 * Decode one complete frame including its length header. The header must match the byte count
 * exactly: fewer bytes -> TRUNCATED, more -> TRAILING_BYTES; above maxFrameLength -> FRAME_TOO_LARGE.
 * With a `none` length header the whole input is the payload. Offsets are within `bytes`.
 */
export function decodeWholeFrame(profile: FrameProfile, bytes: Uint8Array, options: ParseFrameOptions = {}): ParsedFrame {
  assertFrameProfile(profile);
  if (profile.lengthHeader === 'none') return parseFramePayload(profile, bytes, options);
  const hs = lengthHeaderSize(profile.lengthHeader);
  const declared = decodeLengthHeader(profile.lengthHeader, bytes, 0);
  if (declared > profile.maxFrameLength) {
    throw new FramingError(
      'FRAME_TOO_LARGE',
      `length header declares ${declared} bytes, more than the profile maximum of ${profile.maxFrameLength}`,
    );
  }
  const actual = bytes.length - hs;
  if (actual < declared) {
    throw new FramingError('TRUNCATED', `length header declares ${declared} bytes but only ${actual} follow`, { offset: bytes.length });
  }
  if (actual > declared) {
    throw new FramingError('TRAILING_BYTES', `length header declares ${declared} bytes but ${actual} follow`, { offset: hs + declared });
  }
  try {
    return parseFramePayload(profile, bytes.subarray(hs), options);
  } catch (e) {
    if (e instanceof FramingError) {
      throw new FramingError(e.reason, e.message, { offset: e.offset + hs, fatal: e.fatal, cause: e.cause });
    }
    throw e;
  }
}
