/**
 * UnionPay TPDU: 5 bytes in front of the UnionPay header, `id(1) | destination(2) | source(2)`.
 * The id is 0x60 on UnionPay POS. Addresses are kept as 4 upper-case hex characters
 * (`60 06 01 00 00` -> `{ id: 0x60, destination: '0601', source: '0000' }`).
 * A reply carries the request's TPDU with destination and source swapped.
 */
import { FramingError } from './errors.js';

export const TPDU_LENGTH = 5;
/** TPDU id byte used on UnionPay POS. */
export const TPDU_ID = 0x60;

export interface Tpdu {
  /** Id byte, 0x60 on UnionPay POS. */
  readonly id: number;
  /** Destination address, 4 hex characters. */
  readonly destination: string;
  /** Source address, 4 hex characters. */
  readonly source: string;
}

export interface ParseTpduOptions {
  /** Accept any id byte instead of requiring 0x60. Default false. */
  allowAnyId?: boolean;
}

const ADDRESS = /^[0-9A-Fa-f]{4}$/;

function addressHex(bytes: Uint8Array, at: number): string {
  return (((bytes[at]! << 8) | bytes[at + 1]!) >>> 0).toString(16).toUpperCase().padStart(4, '0');
}

/** Parse the 5 TPDU bytes at `offset`. Throws FramingError TRUNCATED or BAD_TPDU (id not 0x60). */
export function parseTpdu(bytes: Uint8Array, offset = 0, options: ParseTpduOptions = {}): Tpdu {
  if (offset < 0 || bytes.length - offset < TPDU_LENGTH) {
    throw new FramingError('TRUNCATED', `TPDU needs ${TPDU_LENGTH} bytes, ${Math.max(0, bytes.length - offset)} available`, { offset });
  }
  const id = bytes[offset]!;
  if (!options.allowAnyId && id !== TPDU_ID) {
    throw new FramingError('BAD_TPDU', `TPDU id byte is ${id.toString(16).toUpperCase().padStart(2, '0')}, expected 60`, { offset });
  }
  return { id, destination: addressHex(bytes, offset + 1), source: addressHex(bytes, offset + 3) };
}

function checkTpdu(tpdu: Tpdu): void {
  if (!Number.isInteger(tpdu.id) || tpdu.id < 0 || tpdu.id > 0xff) {
    throw new FramingError('BAD_TPDU', `TPDU id must be a byte, got ${tpdu.id}`);
  }
  if (typeof tpdu.destination !== 'string' || !ADDRESS.test(tpdu.destination)) {
    throw new FramingError('BAD_TPDU', `TPDU destination must be 4 hex characters, got ${JSON.stringify(tpdu.destination)}`);
  }
  if (typeof tpdu.source !== 'string' || !ADDRESS.test(tpdu.source)) {
    throw new FramingError('BAD_TPDU', `TPDU source must be 4 hex characters, got ${JSON.stringify(tpdu.source)}`);
  }
}

/** Write the TPDU into `target` at `offset`; returns 5. Any id byte is accepted here. */
export function writeTpdu(tpdu: Tpdu, target: Uint8Array, offset = 0): number {
  checkTpdu(tpdu);
  if (offset < 0 || offset + TPDU_LENGTH > target.length) {
    throw new FramingError('BAD_ARGUMENT', `no room for a TPDU at offset ${offset}`);
  }
  const d = parseInt(tpdu.destination, 16);
  const s = parseInt(tpdu.source, 16);
  target[offset] = tpdu.id;
  target[offset + 1] = d >>> 8;
  target[offset + 2] = d & 0xff;
  target[offset + 3] = s >>> 8;
  target[offset + 4] = s & 0xff;
  return TPDU_LENGTH;
}

/** The 5 TPDU bytes. */
export function buildTpdu(tpdu: Tpdu): Buffer {
  const out = Buffer.alloc(TPDU_LENGTH);
  writeTpdu(tpdu, out, 0);
  return out;
}

/** A UnionPay TPDU (id 0x60) with upper-cased addresses. */
export function makeTpdu(destination: string, source = '0000'): Tpdu {
  const t: Tpdu = { id: TPDU_ID, destination: destination.toUpperCase(), source: source.toUpperCase() };
  checkTpdu(t);
  return t;
}

/**
 * The TPDU for a reply: destination and source swapped, id kept.
 * Given bytes, returns new bytes (`60 06 01 00 00` -> `60 00 00 06 01`); given a Tpdu, a new Tpdu.
 */
export function swapTpdu(tpdu: Tpdu): Tpdu;
export function swapTpdu(bytes: Uint8Array): Buffer;
export function swapTpdu(t: Tpdu | Uint8Array): Tpdu | Buffer {
  if (t instanceof Uint8Array) {
    if (t.length !== TPDU_LENGTH) {
      throw new FramingError('BAD_TPDU', `TPDU must be ${TPDU_LENGTH} bytes, got ${t.length}`);
    }
    return Buffer.from([t[0]!, t[3]!, t[4]!, t[1]!, t[2]!]);
  }
  checkTpdu(t);
  return { id: t.id, destination: t.source.toUpperCase(), source: t.destination.toUpperCase() };
}
