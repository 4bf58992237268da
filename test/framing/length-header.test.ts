import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  FramingError,
  type LengthHeaderKind,
  decodeLengthHeader,
  encodeLengthHeader,
  lengthHeaderSize,
  maxEncodableLength,
  writeLengthHeader,
} from '../../src/framing/index.js';
import { SIGN_ON } from './fixtures.js';

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FramingError);
    return (e as FramingError).reason;
  }
  throw new Error('expected a FramingError');
}

describe('length headers', () => {
  it('reads the sign-on example as 60 bytes (binary2 003C)', () => {
    expect(decodeLengthHeader('binary2', SIGN_ON)).toBe(60);
    expect(SIGN_ON.length - 2).toBe(60);
    expect(encodeLengthHeader('binary2', 60).toString('hex')).toBe('003c');
  });

  it('encodes each kind', () => {
    expect(encodeLengthHeader('binary2', 0x1234).toString('hex')).toBe('1234');
    expect(encodeLengthHeader('bcd2', 60).toString('hex')).toBe('0060');
    expect(encodeLengthHeader('bcd2', 9999).toString('hex')).toBe('9999');
    expect(encodeLengthHeader('ascii4', 60).toString('latin1')).toBe('0060');
    expect(encodeLengthHeader('ascii4', 1234).toString('latin1')).toBe('1234');
    expect(encodeLengthHeader('none', 123456).length).toBe(0);
  });

  it('decodes each kind, at an offset', () => {
    expect(decodeLengthHeader('bcd2', Buffer.from('ff0123', 'hex'), 1)).toBe(123);
    expect(decodeLengthHeader('ascii4', Buffer.from('xx9876', 'latin1'), 2)).toBe(9876);
    expect(decodeLengthHeader('binary2', Buffer.from('ffff', 'hex'))).toBe(65535);
  });

  it('sizes and limits', () => {
    expect([lengthHeaderSize('binary2'), lengthHeaderSize('bcd2'), lengthHeaderSize('ascii4'), lengthHeaderSize('none')]).toEqual([2, 2, 4, 0]);
    expect([maxEncodableLength('binary2'), maxEncodableLength('bcd2'), maxEncodableLength('ascii4')]).toEqual([65535, 9999, 9999]);
  });

  it('rejects bad BCD nibbles and non-digit ASCII with the offending offset', () => {
    for (const [kind, bytes, offset] of [
      ['bcd2', Buffer.from('0A00', 'hex'), 0],
      ['bcd2', Buffer.from('00A0', 'hex'), 1],
      ['bcd2', Buffer.from('00F9', 'hex'), 1],
      ['ascii4', Buffer.from('00 1', 'latin1'), 2],
      ['ascii4', Buffer.from('-001', 'latin1'), 0],
      ['ascii4', Buffer.from('000:', 'latin1'), 3],
    ] as const) {
      try {
        decodeLengthHeader(kind, bytes);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(FramingError);
        expect((e as FramingError).reason).toBe('BAD_LENGTH_HEADER');
        expect((e as FramingError).offset).toBe(offset);
      }
    }
  });

  it('reports short input, none, and unencodable lengths', () => {
    expect(reasonOf(() => decodeLengthHeader('binary2', Buffer.from([0])))).toBe('TRUNCATED');
    expect(reasonOf(() => decodeLengthHeader('ascii4', Buffer.from('123', 'latin1')))).toBe('TRUNCATED');
    expect(reasonOf(() => decodeLengthHeader('none', Buffer.from('1234')))).toBe('NO_LENGTH_HEADER');
    expect(reasonOf(() => encodeLengthHeader('bcd2', 10000))).toBe('FRAME_TOO_LARGE');
    expect(reasonOf(() => encodeLengthHeader('ascii4', 10000))).toBe('FRAME_TOO_LARGE');
    expect(reasonOf(() => encodeLengthHeader('binary2', 65536))).toBe('FRAME_TOO_LARGE');
    expect(reasonOf(() => encodeLengthHeader('binary2', -1))).toBe('BAD_ARGUMENT');
    expect(reasonOf(() => encodeLengthHeader('binary2', 1.5))).toBe('BAD_ARGUMENT');
    expect(reasonOf(() => writeLengthHeader('ascii4', 1, Buffer.alloc(3)))).toBe('BAD_ARGUMENT');
  });

  it('round-trips every encodable length (property)', () => {
    const kinds: LengthHeaderKind[] = ['binary2', 'bcd2', 'ascii4'];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.nat(), (kind, n) => {
        const len = n % (maxEncodableLength(kind) + 1);
        const bytes = encodeLengthHeader(kind, len);
        expect(bytes.length).toBe(lengthHeaderSize(kind));
        expect(decodeLengthHeader(kind, bytes)).toBe(len);
      }),
    );
  });

  it('decoding arbitrary bytes yields a number in range or a FramingError (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<LengthHeaderKind>('binary2', 'bcd2', 'ascii4'), fc.uint8Array({ maxLength: 6 }), (kind, bytes) => {
        try {
          const n = decodeLengthHeader(kind, bytes);
          expect(n).toBeGreaterThanOrEqual(0);
          expect(n).toBeLessThanOrEqual(maxEncodableLength(kind));
          expect(decodeLengthHeader(kind, encodeLengthHeader(kind, n))).toBe(n);
        } catch (e) {
          expect(e).toBeInstanceOf(FramingError);
        }
      }),
    );
  });
});
