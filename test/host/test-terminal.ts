/**
 * The terminal side of the host tests: a raw TCP client that frames requests with the CUP POS
 * profile and collects responses. Deliberately independent of src/terminal.
 */
import { connect, type Socket } from 'node:net';
import {
  CUP_POS_FRAME,
  FrameDecoder,
  encodeFrame,
  makeTpdu,
  parseFramePayload,
  type CupHeader,
  type Tpdu,
} from '../../src/framing/index.js';
import { createMessage, pack, unpack, type FieldValues } from '../../src/iso8583/index.js';
import { cupPos } from '../../src/specs/cup-pos.js';
import type { CupPosMessage } from '../../src/host/index.js';

export const REQUEST_TPDU: Tpdu = makeTpdu('0601', '0000');
export const REQUEST_HEADER: CupHeader = {
  applicationType: 0x60,
  softwareVersion: 0x31,
  terminalStatus: 0,
  processingRequirement: 0,
  subVersion: '311812',
};

export interface Received {
  tpdu: Tpdu;
  header: CupHeader;
  message: CupPosMessage;
}

type CupFields = FieldValues<(typeof cupPos)['fields']>;

let stanCounter = 0;
export function nextStan(): string {
  stanCounter = (stanCounter % 999_999) + 1;
  return String(stanCounter).padStart(6, '0');
}

export function requestFrame(mti: string, fields: CupFields): Buffer {
  const msg = createMessage(cupPos, mti, fields);
  return encodeFrame(CUP_POS_FRAME, { tpdu: REQUEST_TPDU, header: REQUEST_HEADER, body: pack(cupPos, msg) });
}

export class TestTerminal {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder(CUP_POS_FRAME);
  private readonly queue: Received[] = [];
  private waiters: Array<{ match: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      const { frames } = this.decoder.push(chunk);
      for (const f of frames) {
        const p = parseFramePayload(CUP_POS_FRAME, f);
        this.deliver({ tpdu: p.tpdu!, header: p.header!, message: unpack(cupPos, p.body, { eager: true }) });
      }
    });
  }

  static connect(port: number): Promise<TestTerminal> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(new TestTerminal(s));
      });
      s.once('error', reject);
    });
  }

  private deliver(r: Received): void {
    const i = this.waiters.findIndex((w) => w.match(r));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(r);
    } else {
      this.queue.push(r);
    }
  }

  /** The next response matching `match` (already received or yet to come). */
  receive(match: (r: Received) => boolean = () => true, timeoutMs = 10_000): Promise<Received> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (r: Received) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('no response'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Responses received and not yet taken. */
  get unclaimed(): number {
    return this.queue.length;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Send a request (STAN filled in unless given) and wait for the response with that STAN. */
  async request(mti: string, fields: CupFields): Promise<Received> {
    const stan = fields[11] ?? nextStan();
    this.write(requestFrame(mti, { ...fields, 11: stan }));
    return this.receive((r) => r.message.get(11) === stan);
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
