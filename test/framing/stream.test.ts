import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CUP_POS_FRAME,
  FrameDecoder,
  FramingError,
  PLAIN_ASCII4,
  PLAIN_BINARY2,
  encodeFrame,
  encodeHeartbeat,
  encodeLengthHeader,
  lengthHeaderSize,
  parseFramePayload,
  type FrameProfile,
} from '../../src/framing/index.js';
import { SIGN_ON, cupHeaderArb, splitAt, streamProfiles, tpduArb } from './fixtures.js';

function feed(decoder: FrameDecoder, chunks: Buffer[]): { frames: Buffer[]; error: FramingError | null; maxHeld: number } {
  const frames: Buffer[] = [];
  let error: FramingError | null = null;
  let maxHeld = 0;
  for (const c of chunks) {
    const r = decoder.push(c);
    frames.push(...r.frames);
    maxHeld = Math.max(maxHeld, decoder.bufferedBytes);
    if (r.error) {
      error = r.error;
      break;
    }
  }
  return { frames, error, maxHeld };
}

describe('FrameDecoder', () => {
  it('decodes the sign-on example split at every byte boundary', () => {
    for (let cut = 0; cut <= SIGN_ON.length; cut++) {
      const d = new FrameDecoder(CUP_POS_FRAME);
      const { frames, error } = feed(d, [SIGN_ON.subarray(0, cut), SIGN_ON.subarray(cut)]);
      expect(error).toBeNull();
      expect(frames).toHaveLength(1);
      expect(frames[0]!.equals(SIGN_ON.subarray(2))).toBe(true);
      expect(parseFramePayload(CUP_POS_FRAME, frames[0]!).header?.subVersion).toBe('311812');
      expect(d.idle).toBe(true);
      expect(d.bytesConsumed).toBe(62);
    }
  });

  it('decodes byte by byte and several frames in one chunk', () => {
    const all = Buffer.concat([SIGN_ON, SIGN_ON, encodeHeartbeat(CUP_POS_FRAME), SIGN_ON]);
    const d1 = new FrameDecoder(CUP_POS_FRAME);
    const bytewise = feed(d1, [...all].map((b) => Buffer.from([b])));
    const d2 = new FrameDecoder(CUP_POS_FRAME);
    const once = d2.push(all);
    for (const frames of [bytewise.frames, once.frames]) {
      expect(frames.map((f) => f.length)).toEqual([60, 60, 0, 60]);
    }
    expect(once.error).toBeNull();
  });

  it('returns payloads as independent copies', () => {
    const chunk = Buffer.from(SIGN_ON);
    const { frames } = new FrameDecoder(CUP_POS_FRAME).push(chunk);
    chunk.fill(0);
    expect(frames[0]!.equals(SIGN_ON.subarray(2))).toBe(true);
  });

  it('passes zero-length frames through as empty payloads (heartbeats)', () => {
    const d = new FrameDecoder(PLAIN_ASCII4);
    const r = d.push(Buffer.from('00000000', 'latin1'));
    expect(r.error).toBeNull();
    expect(r.frames.map((f) => f.length)).toEqual([0, 0]);
    const e = (() => {
      try {
        parseFramePayload(PLAIN_ASCII4, r.frames[0]!);
      } catch (x) {
        return x as FramingError;
      }
      return null;
    })();
    expect(e?.reason).toBe('EMPTY_FRAME');
    expect(e?.fatal).toBe(false);
  });

  it('an oversized length header is fatal and the decoder stays lost', () => {
    const d = new FrameDecoder(CUP_POS_FRAME);
    const over = Buffer.from([0x20, 0x01, 1, 2, 3]);
    const r = d.push(Buffer.concat([SIGN_ON, over]));
    expect(r.frames).toHaveLength(1);
    expect(r.error?.reason).toBe('FRAME_TOO_LARGE');
    expect(r.error?.fatal).toBe(true);
    expect(r.error?.offset).toBe(62);
    expect(d.lostSync).toBe(true);
    expect(d.bufferedBytes).toBe(0);
    const again = d.push(SIGN_ON);
    expect(again.frames).toHaveLength(0);
    expect(again.error).toBe(r.error);
    expect(d.end()).toBe(r.error);
  });

  it('the exact maximum is accepted, one more is not', () => {
    const p: FrameProfile = { ...PLAIN_BINARY2, maxFrameLength: 100 };
    const ok = new FrameDecoder(p).push(Buffer.concat([encodeLengthHeader('binary2', 100), Buffer.alloc(100, 7)]));
    expect(ok.frames[0]!.length).toBe(100);
    const bad = new FrameDecoder(p).push(encodeLengthHeader('binary2', 101));
    expect(bad.error?.reason).toBe('FRAME_TOO_LARGE');
  });

  it('a malformed length header is fatal, offset at the bad byte within the stream', () => {
    const d = new FrameDecoder(PLAIN_ASCII4);
    const r = d.push(Buffer.from('0002hi00x1', 'latin1'));
    expect(r.frames.map((f) => f.toString('latin1'))).toEqual(['hi']);
    expect(r.error?.reason).toBe('BAD_LENGTH_HEADER');
    expect(r.error?.fatal).toBe(true);
    expect(r.error?.offset).toBe(8);
    const b = new FrameDecoder({ lengthHeader: 'bcd2', tpdu: false, header: 'none', maxFrameLength: 9999 });
    b.push(Buffer.from([0x00]));
    expect(b.push(Buffer.from([0x1f])).error?.reason).toBe('BAD_LENGTH_HEADER');
  });

  it('end() reports a stream cut inside a frame', () => {
    const d = new FrameDecoder(CUP_POS_FRAME);
    expect(d.end()).toBeNull();
    d.push(SIGN_ON.subarray(0, 1));
    const e = d.end();
    expect(e?.reason).toBe('TRUNCATED');
    expect(e?.fatal).toBe(true);
    const d2 = new FrameDecoder(CUP_POS_FRAME);
    d2.push(SIGN_ON.subarray(0, 30));
    expect(d2.bufferedBytes).toBe(30);
    expect(d2.end()?.reason).toBe('TRUNCATED');
  });

  it("refuses a profile without a length header", () => {
    try {
      new FrameDecoder({ lengthHeader: 'none', tpdu: true, header: 'cup', maxFrameLength: 8192 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FramingError);
      expect((e as FramingError).reason).toBe('NO_LENGTH_HEADER');
    }
  });

  it('reports a bound of header + maxFrameLength', () => {
    expect(new FrameDecoder(CUP_POS_FRAME).maxBufferedBytes).toBe(8194);
    expect(new FrameDecoder(PLAIN_ASCII4).maxBufferedBytes).toBe(8196);
  });

  it('handles many chunks in linear time (no quadratic concatenation)', () => {
    const p: FrameProfile = { ...PLAIN_BINARY2, maxFrameLength: 65535 };
    const frame = encodeFrame(p, { body: Buffer.alloc(65535 - 0, 1) });
    const d = new FrameDecoder(p);
    const start = performance.now();
    let frames = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < frame.length; i += 3) frames += d.push(frame.subarray(i, i + 3)).frames.length;
    }
    expect(frames).toBe(20);
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

describe('FrameDecoder properties', () => {
  /** A random profile and frames valid under it, encoded with encodeFrame. */
  const framesUnderProfile = fc.constantFrom(...streamProfiles).chain((profile) => {
    const prefix = (profile.tpdu ? 5 : 0) + (profile.header === 'cup' ? 6 : 0);
    const room = profile.maxFrameLength - prefix;
    const frame =
      room < 0
        ? fc.constant(encodeHeartbeat(profile))
        : fc.oneof(
            { weight: 1, arbitrary: fc.constant(encodeHeartbeat(profile)) },
            {
              weight: 8,
              arbitrary: fc
                .tuple(tpduArb, cupHeaderArb, fc.uint8Array({ maxLength: Math.min(room, 200) }), fc.boolean())
                .map(([tpdu, header, body, big]) =>
                  encodeFrame(profile, {
                    body: big ? Buffer.alloc(room, body[0] ?? 0) : Buffer.from(body),
                    ...(profile.tpdu ? { tpdu } : {}),
                    ...(profile.header === 'cup' ? { header } : {}),
                  }),
                ),
            },
          );
    return fc.record({ profile: fc.constant(profile), frames: fc.array(frame, { maxLength: 12 }) });
  });

  it('any split of concatenated valid frames decodes to the same payloads in order', () => {
    fc.assert(
      fc.property(framesUnderProfile, fc.array(fc.nat(), { maxLength: 40 }), ({ profile, frames }, cuts) => {
        const hs = lengthHeaderSize(profile.lengthHeader);
        const stream = Buffer.concat(frames);
        const d = new FrameDecoder(profile);
        const out = feed(d, splitAt(stream, cuts));
        expect(out.error).toBeNull();
        expect(out.frames.map((f) => f.toString('hex'))).toEqual(frames.map((f) => f.subarray(hs).toString('hex')));
        expect(out.maxHeld).toBeLessThanOrEqual(d.maxBufferedBytes);
        expect(d.idle).toBe(true);
        expect(d.end()).toBeNull();
        expect(d.bytesConsumed).toBe(stream.length);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes only ever produce FramingErrors and never exceed the buffer bound', () => {
    fc.assert(
      fc.property(fc.constantFrom(...streamProfiles), fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }), (profile, chunks) => {
        const d = new FrameDecoder(profile);
        const hs = lengthHeaderSize(profile.lengthHeader);
        for (const c of chunks) {
          let r;
          try {
            r = d.push(Buffer.from(c));
          } catch (e) {
            expect(e).toBeInstanceOf(FramingError);
            return;
          }
          expect(d.bufferedBytes).toBeLessThanOrEqual(hs + profile.maxFrameLength);
          for (const f of r.frames) {
            expect(f.length).toBeLessThanOrEqual(profile.maxFrameLength);
            try {
              parseFramePayload(profile, f);
            } catch (e) {
              expect(e).toBeInstanceOf(FramingError);
              expect((e as FramingError).fatal).toBe(false);
            }
          }
          if (r.error) {
            expect(r.error).toBeInstanceOf(FramingError);
            expect(r.error.fatal).toBe(true);
            expect(d.lostSync).toBe(true);
            expect(d.bufferedBytes).toBe(0);
          }
        }
        const end = d.end();
        if (end) expect(end.fatal).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a corrupted stream decodes a prefix of the original frames before any error', () => {
    fc.assert(
      fc.property(framesUnderProfile, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.array(fc.nat(), { maxLength: 10 }), ({ profile, frames }, pos, byte, cuts) => {
        const hs = lengthHeaderSize(profile.lengthHeader);
        const stream = Buffer.concat(frames);
        if (stream.length === 0) return;
        const corrupt = Buffer.from(stream);
        const at = pos % corrupt.length;
        corrupt[at] = byte;
        const out = feed(new FrameDecoder(profile), splitAt(corrupt, cuts));
        // Every frame that ends before the corrupted byte is delivered intact.
        let end = 0;
        const intact: string[] = [];
        for (const f of frames) {
          end += f.length;
          if (end <= at) intact.push(f.subarray(hs).toString('hex'));
        }
        expect(out.frames.slice(0, intact.length).map((f) => f.toString('hex'))).toEqual(intact);
        if (out.error) expect(out.error.fatal).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
