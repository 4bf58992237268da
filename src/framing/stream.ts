/**
 * Streaming frame decoder for TCP. Bytes arrive in arbitrary chunks; the decoder returns each
 * complete payload (the bytes after the length header) in order.
 *
 * - A frame may be split at any byte, including inside the length header; a chunk may hold
 *   several frames.
 * - Zero-length frames are returned as empty payloads. Some terminals send them as keep-alives;
 *   the decoder does not judge, the caller decides (`payload.length === 0`).
 * - A length header that is malformed or declares more than `maxFrameLength` is fatal: frame
 *   boundaries are lost, the decoder stops ("lost sync") and the connection should be closed.
 * - Memory is bounded: a payload buffer is allocated once its length header is read and checked,
 *   so at most `lengthHeaderSize + maxFrameLength` bytes are ever held.
 * - Each payload returned is its own Buffer (copied out of the chunks), safe to keep.
 */
import type { Duplex } from 'node:stream';
import { FramingError } from './errors.js';
import { decodeLengthHeader, lengthHeaderSize } from './length-header.js';
import { type FrameProfile, assertFrameProfile } from './frame.js';

export interface FrameDecoderResult {
  /** Payloads completed by this chunk, in order (possibly empty payloads for heartbeats). */
  readonly frames: Buffer[];
  /** Set (fatal) once framing is lost; frames completed before the fault are still in `frames`. */
  readonly error: FramingError | null;
}

export class FrameDecoder {
  readonly profile: Readonly<FrameProfile>;
  /** Largest number of bytes the decoder can ever hold. */
  readonly maxBufferedBytes: number;
  private readonly headerSize: number;
  private readonly lengthBytes: Buffer;
  private lengthFill = 0;
  private payload: Buffer | null = null;
  private payloadFill = 0;
  /** Stream offset of the first byte of the frame being assembled. */
  private frameStart = 0;
  private consumed = 0;
  private fatal: FramingError | null = null;

  /** Throws FramingError NO_LENGTH_HEADER for a profile without a length header, BAD_ARGUMENT for a malformed profile. */
  constructor(profile: FrameProfile) {
    assertFrameProfile(profile);
    if (profile.lengthHeader === 'none') {
      throw new FramingError('NO_LENGTH_HEADER', 'frames without a length header cannot be delimited on a stream', { fatal: true });
    }
    this.profile = Object.freeze({ ...profile });
    this.headerSize = lengthHeaderSize(profile.lengthHeader);
    this.lengthBytes = Buffer.alloc(this.headerSize);
    this.maxBufferedBytes = this.headerSize + profile.maxFrameLength;
  }

  /** True once a fatal error has occurred; all further input is ignored. */
  get lostSync(): boolean {
    return this.fatal !== null;
  }

  /** The fatal error, if any. */
  get error(): FramingError | null {
    return this.fatal;
  }

  /** Bytes of the current partial frame received so far (length header included). */
  get bufferedBytes(): number {
    return this.payload === null ? this.lengthFill : this.headerSize + this.payloadFill;
  }

  /** Total bytes accepted so far (stream offset of the next byte). */
  get bytesConsumed(): number {
    return this.consumed;
  }

  /** True when no partial frame is held (a clean place for the stream to end). */
  get idle(): boolean {
    return this.lengthFill === 0 && this.payload === null;
  }

  /**
   * Feed the next chunk. Never throws for any byte content; returns the payloads completed and,
   * if framing was lost, the fatal error. After a fatal error every call returns no frames and
   * the same error.
   */
  push(chunk: Uint8Array): FrameDecoderResult {
    if (!(chunk instanceof Uint8Array)) {
      throw new FramingError('BAD_ARGUMENT', 'chunk must be a Buffer or Uint8Array', { offset: this.consumed });
    }
    const frames: Buffer[] = [];
    if (this.fatal) return { frames, error: this.fatal };
    const base = this.consumed;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.payload === null) {
        const take = Math.min(this.headerSize - this.lengthFill, n - i);
        this.lengthBytes.set(chunk.subarray(i, i + take), this.lengthFill);
        this.lengthFill += take;
        i += take;
        if (this.lengthFill < this.headerSize) break;
        let length: number;
        try {
          length = decodeLengthHeader(this.profile.lengthHeader, this.lengthBytes, 0);
        } catch (e) {
          if (!(e instanceof FramingError)) throw e;
          return { frames, error: this.lose(e.reason, e.message, this.frameStart + e.offset, base + i) };
        }
        if (length > this.profile.maxFrameLength) {
          const msg = `length header declares ${length} bytes, more than the profile maximum of ${this.profile.maxFrameLength}`;
          return { frames, error: this.lose('FRAME_TOO_LARGE', msg, this.frameStart, base + i) };
        }
        this.lengthFill = 0;
        if (length === 0) {
          frames.push(Buffer.alloc(0));
          this.frameStart += this.headerSize;
        } else {
          this.payload = Buffer.allocUnsafe(length);
          this.payloadFill = 0;
        }
      } else {
        const payload = this.payload;
        const take = Math.min(payload.length - this.payloadFill, n - i);
        payload.set(chunk.subarray(i, i + take), this.payloadFill);
        this.payloadFill += take;
        i += take;
        if (this.payloadFill === payload.length) {
          frames.push(payload);
          this.frameStart += this.headerSize + payload.length;
          this.payload = null;
          this.payloadFill = 0;
        }
      }
    }
    this.consumed = base + n;
    return { frames, error: null };
  }

  /**
   * Signal end of stream. Returns a fatal TRUNCATED error when the stream stopped inside a frame,
   * the earlier fatal error if framing was already lost, otherwise null.
   */
  end(): FramingError | null {
    if (this.fatal) return this.fatal;
    if (this.idle) return null;
    const held = this.bufferedBytes;
    const what = this.payload === null ? 'length header' : `frame of ${this.payload.length} bytes`;
    return this.lose('TRUNCATED', `stream ended inside a ${what} (${held} bytes held)`, this.consumed, this.consumed);
  }

  private lose(reason: FramingError['reason'], message: string, offset: number, consumed: number): FramingError {
    this.fatal = new FramingError(reason, message, { offset, fatal: true });
    this.consumed = consumed;
    this.payload = null;
    this.payloadFill = 0;
    this.lengthFill = 0;
    return this.fatal;
  }
}

export interface AttachFrameDecoderOptions {
  /**
   * Called with each complete payload, in order. Parse it with parseFramePayload; a non-fatal
   * FramingError thrown from here is passed to onError and decoding continues. A fatal
   * FramingError closes the connection as framing faults do. Any other exception destroys the
   * socket with that error (it surfaces as the socket's 'error' event).
   */
  onFrame(payload: Buffer): void;
  /**
   * Called with framing errors. When `error.fatal` is true the socket is destroyed right after
   * this returns. If this throws, the socket is destroyed with that exception.
   */
  onError(error: FramingError): void;
}

export interface AttachedFrameDecoder {
  readonly decoder: FrameDecoder;
  /** Stop listening to the socket (it is left open). */
  detach(): void;
}

/**
 * Decode frames from a socket (node:net Socket, TLS socket or any Duplex delivering Buffers).
 * Do not call setEncoding on the socket: string chunks are treated as a fatal BAD_ARGUMENT.
 * A stream that ends inside a frame reports a fatal TRUNCATED error.
 */
export function attachFrameDecoder(socket: Duplex, profile: FrameProfile, options: AttachFrameDecoderOptions): AttachedFrameDecoder {
  const decoder = new FrameDecoder(profile);
  let attached = true;

  const detach = (): void => {
    if (!attached) return;
    attached = false;
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', detach);
  };

  /** An exception from a callback ends the connection and surfaces as the socket's 'error' event. */
  const crash = (e: unknown): void => {
    detach();
    socket.destroy(e instanceof Error ? e : new Error(String(e)));
  };

  const fail = (error: FramingError): void => {
    detach();
    try {
      options.onError(error);
    } catch (e) {
      crash(e);
      return;
    }
    socket.destroy();
  };

  function onData(chunk: Buffer | string): void {
    if (typeof chunk === 'string') {
      fail(new FramingError('BAD_ARGUMENT', 'socket delivered a string; framed sockets must not have an encoding set', {
        offset: decoder.bytesConsumed,
        fatal: true,
      }));
      return;
    }
    const { frames, error } = decoder.push(chunk);
    for (const frame of frames) {
      if (!attached || socket.destroyed) return;
      try {
        options.onFrame(frame);
      } catch (e) {
        if (e instanceof FramingError) {
          if (e.fatal) {
            fail(e);
            return;
          }
          try {
            options.onError(e);
          } catch (e2) {
            crash(e2);
            return;
          }
          continue;
        }
        crash(e);
        return;
      }
    }
    if (error && attached) fail(error);
  }

  function onEnd(): void {
    const error = decoder.end();
    if (error) fail(error);
    else detach();
  }

  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', detach);
  return { decoder, detach };
}
