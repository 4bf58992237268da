/**
 * The 6-byte UnionPay POS header that follows the TPDU:
 *
 * | byte | content |
 * |---|---|
 * | 0 | application type (0x60 magnetic stripe, 0x61 IC card) |
 * | 1 | software version (e.g. 0x31) |
 * | 2 | terminal status (high nibble), processing requirement (low nibble) |
 * | 3..5 | sub-version, kept as 6 upper-case hex characters (e.g. `311108`) |
 *
 * The processing requirement is what the host asks the terminal to do next; only 0..7 are defined
 * and anything else is rejected. Terminal status may be any nibble.
 */
import { FramingError } from './errors.js';

export const CUP_HEADER_LENGTH = 6;

/** Application type byte values seen on UnionPay POS. Other byte values are accepted too. */
export const ApplicationType = {
  MagneticStripe: 0x60,
  IcCard: 0x61,
} as const;

/** Processing-requirement nibble (low nibble of header byte 2). */
export const ProcessingRequirement = {
  None: 0,
  DownloadParameters: 1,
  UploadStatus: 2,
  SignOnAgain: 3,
  DownloadCaPublicKeys: 4,
  DownloadIcParameters: 5,
  DownloadApplication: 6,
  DownloadBlacklist: 7,
} as const;
export type ProcessingRequirement = (typeof ProcessingRequirement)[keyof typeof ProcessingRequirement];

export interface CupHeader {
  /** Byte 0: 0x60 magnetic stripe, 0x61 IC card. */
  readonly applicationType: number;
  /** Byte 1, e.g. 0x31. */
  readonly softwareVersion: number;
  /** High nibble of byte 2, 0..15. */
  readonly terminalStatus: number;
  /** Low nibble of byte 2, 0..7. */
  readonly processingRequirement: ProcessingRequirement;
  /** Bytes 3..5 as 6 hex characters, e.g. '311108'. */
  readonly subVersion: string;
}

export function isProcessingRequirement(n: unknown): n is ProcessingRequirement {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 7;
}

/** Parse the 6 header bytes at `offset`. Throws FramingError TRUNCATED or BAD_HEADER. */
export function parseCupHeader(bytes: Uint8Array, offset = 0): CupHeader {
  if (offset < 0 || bytes.length - offset < CUP_HEADER_LENGTH) {
    throw new FramingError('TRUNCATED', `UnionPay header needs ${CUP_HEADER_LENGTH} bytes, ${Math.max(0, bytes.length - offset)} available`, { offset });
  }
  const status = bytes[offset + 2]!;
  const pr = status & 0x0f;
  if (!isProcessingRequirement(pr)) {
    throw new FramingError('BAD_HEADER', `processing requirement nibble ${pr.toString(16).toUpperCase()} is not defined (0-7)`, { offset: offset + 2 });
  }
  return {
    applicationType: bytes[offset]!,
    softwareVersion: bytes[offset + 1]!,
    terminalStatus: status >>> 4,
    processingRequirement: pr,
    subVersion: Buffer.from(bytes.buffer, bytes.byteOffset + offset + 3, 3).toString('hex').toUpperCase(),
  };
}

function checkByte(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new FramingError('BAD_HEADER', `${what} must be a byte, got ${v}`);
}

function checkHeader(h: CupHeader): void {
  checkByte(h.applicationType, 'application type');
  checkByte(h.softwareVersion, 'software version');
  if (!Number.isInteger(h.terminalStatus) || h.terminalStatus < 0 || h.terminalStatus > 0x0f) {
    throw new FramingError('BAD_HEADER', `terminal status must be a nibble (0-15), got ${h.terminalStatus}`);
  }
  if (!isProcessingRequirement(h.processingRequirement)) {
    throw new FramingError('BAD_HEADER', `processing requirement must be 0-7, got ${String(h.processingRequirement)}`);
  }
  if (typeof h.subVersion !== 'string' || !/^[0-9A-Fa-f]{6}$/.test(h.subVersion)) {
    throw new FramingError('BAD_HEADER', `sub-version must be 6 hex characters, got ${JSON.stringify(h.subVersion)}`);
  }
}

/** Write the header into `target` at `offset`; returns 6. */
export function writeCupHeader(header: CupHeader, target: Uint8Array, offset = 0): number {
  checkHeader(header);
  if (offset < 0 || offset + CUP_HEADER_LENGTH > target.length) {
    throw new FramingError('BAD_ARGUMENT', `no room for a UnionPay header at offset ${offset}`);
  }
  target[offset] = header.applicationType;
  target[offset + 1] = header.softwareVersion;
  target[offset + 2] = (header.terminalStatus << 4) | header.processingRequirement;
  const sv = parseInt(header.subVersion, 16);
  target[offset + 3] = (sv >>> 16) & 0xff;
  target[offset + 4] = (sv >>> 8) & 0xff;
  target[offset + 5] = sv & 0xff;
  return CUP_HEADER_LENGTH;
}

/** The 6 header bytes. */
export function buildCupHeader(header: CupHeader): Buffer {
  const out = Buffer.alloc(CUP_HEADER_LENGTH);
  writeCupHeader(header, out, 0);
  return out;
}
