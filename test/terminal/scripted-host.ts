/**
 * A scripted UnionPay host for terminal tests: a real TCP server on 127.0.0.1 that decodes
 * frames with the real framing and codec and lets each test decide what to answer and how to
 * write it (whole, split, coalesced, late, never).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import {
  CUP_POS_FRAME,
  ProcessingRequirement,
  attachFrameDecoder,
  encodeFrame,
  parseFramePayload,
  swapTpdu,
  type CupHeader,
  type Tpdu,
} from '../../src/framing/index.js';
import { createMessage, pack, unpack } from '../../src/iso8583/index.js';
import { cupPos } from '../../src/specs/cup-pos.js';
import { tdesEcbEncrypt } from '../../src/crypto/cipher.js';
import { kcv } from '../../src/crypto/kcv.js';
import type { CupFieldValues, CupMessage, KeyScheme } from '../../src/terminal/index.js';

export const TEST_TMK = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
export const TERMINAL_NO = '22003600';
export const MERCHANT_NO = '104512541110001';

/** Clear working keys the scripted host hands out. */
export const CLEAR_KEYS = {
  pik16: Buffer.from('1111222233334444AAAABBBBCCCCDDDD', 'hex'),
  pik8: Buffer.from('1122334455667788', 'hex'),
  mak8: Buffer.from('0102030405060708', 'hex'),
  tdk16: Buffer.from('F0E1D2C3B4A59687A1B2C3D4E5F60718', 'hex'),
};

export interface ReceivedRequest {
  readonly conn: HostConnection;
  readonly message: CupMessage;
  readonly tpdu: Tpdu;
  readonly header: CupHeader;
}

export class HostConnection {
  constructor(readonly socket: Socket) {}

  /** Write raw bytes. */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Write bytes in pieces of `size`, pausing `gapMs` between them. */
  async writeSplit(bytes: Uint8Array, size: number, gapMs = 5): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      this.socket.write(bytes.subarray(i, i + size));
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }
}

export class ScriptedHost {
  readonly requests: ReceivedRequest[] = [];
  readonly connections: HostConnection[] = [];
  private waiters: Array<() => void> = [];
  private taken = 0;
  private server: Server | null = null;
  port = 0;

  async start(port = 0): Promise<this> {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      const conn = new HostConnection(socket);
      this.connections.push(conn);
      attachFrameDecoder(socket, CUP_POS_FRAME, {
        onFrame: (payload) => {
          if (payload.length === 0) return;
          const f = parseFramePayload(CUP_POS_FRAME, payload);
          this.requests.push({ conn, message: unpack(cupPos, f.body, { eager: true }), tpdu: f.tpdu!, header: f.header! });
          const w = this.waiters;
          this.waiters = [];
          for (const fn of w) fn();
        },
        onError: () => undefined,
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The next request not yet taken, waiting up to `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<ReceivedRequest> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length <= this.taken) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('scripted host: no request arrived');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.requests[this.taken++]!;
  }

  /** Drop every client connection (the server keeps listening). */
  dropAll(): void {
    for (const c of this.connections) c.socket.destroy();
  }

  /** Stop listening and drop every connection. */
  async stop(): Promise<void> {
    this.dropAll();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Build the response frame to `req`: swapped TPDU, same header with `nibble`, MTI + 10, 11/41/42 echoed. */
export function responseFrame(req: ReceivedRequest, fields: CupFieldValues, nibble: ProcessingRequirement = 0): Buffer {
  const m = req.message;
  const mti = m.mti.slice(0, 2) + String(Number(m.mti[2]) + 1) + m.mti[3];
  const base: CupFieldValues = { 11: m.get(11)!, 41: m.get(41)!, 42: m.get(42)! };
  const msg = createMessage(cupPos, mti, { ...base, ...fields });
  return encodeFrame(CUP_POS_FRAME, {
    tpdu: swapTpdu(req.tpdu),
    header: { ...req.header, processingRequirement: nibble },
    body: pack(cupPos, msg),
  });
}

const kcv4 = (key: Buffer): Buffer => kcv(key, { alg: 'tdes', length: 4 });

/** Field 62 for `scheme`: keys encrypted under `tmk` with real KCVs; `corrupt` flips a KCV byte. */
export function keyBlock(scheme: KeyScheme, tmk: Buffer = TEST_TMK, corrupt?: 'pik' | 'mak' | 'tdk'): Buffer {
  const { pik16, pik8, mak8, tdk16 } = CLEAR_KEYS;
  const pik = scheme === '001' ? pik8 : pik16;
  const parts: Buffer[] = [];
  const add = (key: Buffer, which: 'pik' | 'mak' | 'tdk', filler = false): void => {
    parts.push(tdesEcbEncrypt(tmk, key));
    if (filler) parts.push(Buffer.alloc(8));
    const check = kcv4(key);
    if (corrupt === which) check[0]! ^= 0x01;
    parts.push(check);
  };
  add(pik, 'pik');
  add(mak8, 'mak', scheme !== '001');
  if (scheme === '004') add(tdk16, 'tdk');
  return Buffer.concat(parts);
}

/** A successful 0810 field set for `req` with keys for `scheme`. */
export function signOnFields(scheme: KeyScheme, extra: CupFieldValues = {}): CupFieldValues {
  return {
    12: '104512',
    13: '0521',
    32: '01020000',
    37: '000012345678',
    39: '00',
    60: { 1: '00', 2: '000519', 3: scheme },
    62: keyBlock(scheme),
    ...extra,
  };
}
