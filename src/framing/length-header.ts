/**
 * Length headers that delimit frames on a byte stream. The value always counts the bytes that
 * follow the header (the payload), never the header itself.
 *
 * - `binary2`: 2 bytes, unsigned big-endian (UnionPay POS), 0..65535.
 * - `bcd2`: 2 bytes packed BCD, 0..9999 (`00 60` = 60).
 * - `ascii4`: 4 ASCII decimal digits, 0..9999 (`"0060"` = 60).
 * - `none`: no header; the transport delimits frames (cannot be used on a TCP stream).
 */
import { FramingError } from './errors.js';

export type LengthHeaderKind = 'binary2' | 'bcd2' | 'ascii4' | 'none';

export const LENGTH_HEADER_KINDS: readonly LengthHeaderKind[] = ['binary2', 'bcd2', 'ascii4', 'none'];

/** Bytes the length header occupies. */
export function lengthHeaderSize(kind: LengthHeaderKind): 0 | 2 | 4 {
  switch (kind) {
    case 'binary2':
    case 'bcd2':
      return 2;
    case 'ascii4':
      return 4;
    case 'none':
      return 0;
    default:
      throw unknownKind(kind);
  }
}

/** Largest payload length the header can express (`Infinity` for `none`). */
export function maxEncodableLength(kind: LengthHeaderKind): number {
  switch (kind) {
    case 'binary2':
      return 0xffff;
    case 'bcd2':
    case 'ascii4':
      return 9999;
    case 'none':
      return Infinity;
    default:
      throw unknownKind(kind);
  }
}

function unknownKind(kind: never): FramingError {
  return new FramingError('BAD_ARGUMENT', `unknown length header kind ${String(kind)}`);
}

function checkLength(kind: LengthHeaderKind, length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new FramingError('BAD_ARGUMENT', `frame length must be a non-negative integer, got ${length}`);
  }
  const max = maxEncodableLength(kind);
  if (length > max) {
    throw new FramingError('FRAME_TOO_LARGE', `length ${length} does not fit a ${kind} length header (max ${max})`);
  }
}

/**
 * Write the header for a payload of `length` bytes into `target` at `offset`; returns the number
 * of bytes written (0 for `none`).
 */
export function writeLengthHeader(kind: LengthHeaderKind, length: number, target: Uint8Array, offset = 0): number {
  checkLength(kind, length);
  const size = lengthHeaderSize(kind);
  if (offset < 0 || offset + size > target.length) {
    throw new FramingError('BAD_ARGUMENT', `no room for a ${size}-byte length header at offset ${offset}`);
  }
  switch (kind) {
    case 'binary2':
      target[offset] = length >>> 8;
      target[offset + 1] = length & 0xff;
      break;
    case 'bcd2': {
      const d = digits4(length);
      target[offset] = (d[0] << 4) | d[1];
      target[offset + 1] = (d[2] << 4) | d[3];
      break;
    }
    case 'ascii4': {
      const d = digits4(length);
      for (let i = 0; i < 4; i++) target[offset + i] = 0x30 + d[i]!;
      break;
    }
    case 'none':
      break;
  }
  return size;
}

function digits4(n: number): [number, number, number, number] {
  return [Math.floor(n / 1000) % 10, Math.floor(n / 100) % 10, Math.floor(n / 10) % 10, n % 10];
}

/** The header bytes for a payload of `length` bytes (empty for `none`). */
export function encodeLengthHeader(kind: LengthHeaderKind, length: number): Buffer {
  checkLength(kind, length);
  const out = Buffer.alloc(lengthHeaderSize(kind));
  writeLengthHeader(kind, length, out, 0);
  return out;
}

/**
 * Read the payload length from the header at `offset` in `bytes`. Throws FramingError:
 * TRUNCATED when fewer than the header size are available, BAD_LENGTH_HEADER for a BCD nibble
 * above 9 or a non-digit ASCII byte (offset = that byte), NO_LENGTH_HEADER for `none`.
 */
export function decodeLengthHeader(kind: LengthHeaderKind, bytes: Uint8Array, offset = 0): number {
  if (kind === 'none') {
    throw new FramingError('NO_LENGTH_HEADER', 'a profile without a length header has no length to read', { offset });
  }
  const size = lengthHeaderSize(kind);
  if (offset < 0 || bytes.length - offset < size) {
    throw new FramingError('TRUNCATED', `length header needs ${size} bytes, ${Math.max(0, bytes.length - offset)} available`, { offset });
  }
  switch (kind) {
    case 'binary2':
      return (bytes[offset]! << 8) | bytes[offset + 1]!;
    case 'bcd2': {
      let n = 0;
      for (let i = 0; i < 2; i++) {
        const b = bytes[offset + i]!;
        const hi = b >>> 4;
        const lo = b & 0x0f;
        if (hi > 9 || lo > 9) {
          throw new FramingError('BAD_LENGTH_HEADER', `BCD length header byte ${hex2(b)} has a nibble above 9`, { offset: offset + i });
        }
        n = n * 100 + hi * 10 + lo;
      }
      return n;
    }
    case 'ascii4': {
      let n = 0;
      for (let i = 0; i < 4; i++) {
        const b = bytes[offset + i]!;
        if (b < 0x30 || b > 0x39) {
          throw new FramingError('BAD_LENGTH_HEADER', `ASCII length header byte ${hex2(b)} is not a decimal digit`, { offset: offset + i });
        }
        n = n * 10 + (b - 0x30);
      }
      return n;
    }
    default:
      throw unknownKind(kind);
  }
}

function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
