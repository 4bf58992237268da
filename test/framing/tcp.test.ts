import { describe, it, expect, afterEach } from 'vitest';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import {
  CUP_POS_FRAME,
  FrameDecoder,
  FramingError,
  attachFrameDecoder,
  encodeFrame,
  parseFramePayload,
  swapTpdu,
} from '../../src/framing/index.js';
import { SIGN_ON } from './fixtures.js';

interface Conn {
  frames: Buffer[];
  errors: FramingError[];
  closed: Promise<void>;
  socket: Socket;
}

/** Server that decodes CUP frames and answers each with the body "ACK<n>" under a swapped TPDU. */
async function startServer(): Promise<{ server: Server; port: number; conns: Conn[]; nextConn: () => Promise<Conn> }> {
  const conns: Conn[] = [];
  const waiting: ((c: Conn) => void)[] = [];
  const server = createServer((socket) => {
    const conn: Conn = { frames: [], errors: [], socket, closed: once(socket, 'close').then(() => undefined) };
    socket.on('error', () => undefined);
    attachFrameDecoder(socket, CUP_POS_FRAME, {
      onFrame(payload) {
        conn.frames.push(payload);
        const f = parseFramePayload(CUP_POS_FRAME, payload);
        socket.write(encodeFrame(CUP_POS_FRAME, { tpdu: swapTpdu(f.tpdu!), header: f.header!, body: Buffer.from(`ACK${conn.frames.length}`) }));
      },
      onError(error) {
        conn.errors.push(error);
      },
    });
    conns.push(conn);
    waiting.shift()?.(conn);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let taken = 0;
  const nextConn = (): Promise<Conn> => {
    const i = taken++;
    if (conns[i]) return Promise.resolve(conns[i]);
    return new Promise((resolve) => waiting.push(resolve));
  };
  return { server, port, conns, nextConn };
}

/** Client that collects the server's reply bodies. */
async function startClient(port: number): Promise<{ socket: Socket; replies: string[]; waitReplies: (n: number) => Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const replies: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  attachFrameDecoder(socket, CUP_POS_FRAME, {
    onFrame(payload) {
      const f = parseFramePayload(CUP_POS_FRAME, payload);
      expect(f.tpdu).toEqual({ id: 0x60, destination: '0000', source: '0601' });
      replies.push(f.body.toString('latin1'));
      for (const w of waiters) if (replies.length >= w.n) w.resolve();
    },
    onError(error) {
      throw error;
    },
  });
  const waitReplies = (n: number): Promise<void> =>
    replies.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
  return { socket, replies, waitReplies };
}

function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Three distinct sign-on frames (STAN 000001..000003 patched into the body). */
function frames(base: number): Buffer[] {
  return [0, 1, 2].map((i) => {
    const f = Buffer.from(SIGN_ON);
    f[25] = base + i; // last byte of field 11 (STAN), BCD digits
    return f;
  });
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('attachFrameDecoder over real TCP', () => {
  it('receives frames written byte by byte and all at once, in order; an oversized frame kills only its connection', async () => {
    const { server, port, nextConn } = await startServer();
    cleanup.push(() => new Promise((r) => server.close(() => r())));

    const a = await startClient(port);
    const connA = await nextConn();
    const b = await startClient(port);
    const connB = await nextConn();
    cleanup.push(async () => {
      a.socket.destroy();
      b.socket.destroy();
    });

    const slow = frames(0x11);
    const fast = frames(0x21);
    for (const f of slow) {
      for (const byte of f) {
        await write(a.socket, Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
    }
    await write(a.socket, Buffer.concat(fast));
    await a.waitReplies(6);

    expect(connA.errors).toEqual([]);
    expect(connA.frames.map((f) => f.toString('hex'))).toEqual([...slow, ...fast].map((f) => f.subarray(2).toString('hex')));
    expect(a.replies).toEqual(['ACK1', 'ACK2', 'ACK3', 'ACK4', 'ACK5', 'ACK6']);

    // Length header 0x2001 = 8193 > 8192: fatal, server closes A.
    const aClosed = once(a.socket, 'close');
    await write(a.socket, Buffer.from([0x20, 0x01, 0x60, 0x06]));
    await connA.closed;
    await aClosed;
    expect(connA.errors).toHaveLength(1);
    expect(connA.errors[0]).toBeInstanceOf(FramingError);
    expect(connA.errors[0]!.reason).toBe('FRAME_TOO_LARGE');
    expect(connA.errors[0]!.fatal).toBe(true);
    expect(connA.errors[0]!.offset).toBe(6 * SIGN_ON.length);
    expect(connA.socket.destroyed).toBe(true);

    // B is unaffected.
    expect(b.socket.destroyed).toBe(false);
    await write(b.socket, Buffer.concat(frames(0x31)));
    await b.waitReplies(3);
    expect(b.replies).toEqual(['ACK1', 'ACK2', 'ACK3']);
    expect(connB.errors).toEqual([]);
    expect(connB.frames).toHaveLength(3);
  });

  it('reports non-fatal errors thrown by onFrame and keeps decoding', async () => {
    const { server, port, nextConn } = await startServer();
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const c = await startClient(port);
    cleanup.push(async () => void c.socket.destroy());
    const conn = await nextConn();
    const bad = Buffer.from(SIGN_ON);
    bad[2] = 0x61; // TPDU id: parseFramePayload in onFrame throws BAD_TPDU (not fatal)
    await write(c.socket, Buffer.concat([SIGN_ON, bad, SIGN_ON]));
    await c.waitReplies(2);
    expect(c.replies).toEqual(['ACK1', 'ACK3']);
    expect(conn.errors.map((e) => [e.reason, e.fatal])).toEqual([['BAD_TPDU', false]]);
    expect(conn.socket.destroyed).toBe(false);
  });

  it('a peer that ends the stream mid-frame yields a fatal TRUNCATED error', async () => {
    const { server, port, nextConn } = await startServer();
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const c = await startClient(port);
    const conn = await nextConn();
    c.socket.end(SIGN_ON.subarray(0, 20));
    await conn.closed;
    expect(conn.errors.map((e) => [e.reason, e.fatal])).toEqual([['TRUNCATED', true]]);
    expect(conn.frames).toHaveLength(0);
  });

  it('detach() stops decoding; strings from an encoded socket are fatal', async () => {
    const { PassThrough } = await import('node:stream');
    const s1 = new PassThrough();
    const got: Buffer[] = [];
    const h = attachFrameDecoder(s1, CUP_POS_FRAME, { onFrame: (p) => got.push(p), onError: () => undefined });
    expect(h.decoder).toBeInstanceOf(FrameDecoder);
    s1.write(SIGN_ON);
    await new Promise((r) => setImmediate(r));
    h.detach();
    s1.write(SIGN_ON);
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(1);

    const s2 = new PassThrough();
    s2.setEncoding('latin1');
    const errors: FramingError[] = [];
    attachFrameDecoder(s2, CUP_POS_FRAME, { onFrame: () => undefined, onError: (e) => errors.push(e) });
    s2.write(SIGN_ON);
    await new Promise((r) => setImmediate(r));
    expect(errors.map((e) => [e.reason, e.fatal])).toEqual([['BAD_ARGUMENT', true]]);
    expect(s2.destroyed).toBe(true);
  });

  it('an ordinary exception from onFrame destroys the socket with that error', async () => {
    const { PassThrough } = await import('node:stream');
    const s = new PassThrough();
    const boom = new Error('handler bug');
    const seen: unknown[] = [];
    s.on('error', (e) => seen.push(e));
    attachFrameDecoder(s, CUP_POS_FRAME, {
      onFrame: () => {
        throw boom;
      },
      onError: () => undefined,
    });
    s.write(Buffer.concat([SIGN_ON, SIGN_ON]));
    await new Promise((r) => setImmediate(r));
    expect(s.destroyed).toBe(true);
    expect(seen).toEqual([boom]);
  });
});
