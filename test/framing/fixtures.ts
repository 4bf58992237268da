/** Shared test data and fast-check arbitraries for the framing tests. */
import fc from 'fast-check';
import type { CupHeader, FrameProfile, Tpdu } from '../../src/framing/index.js';

/** Sign-on 0800 request from a public log (see the facts file): LEN 003C, TPDU 60 0601 0000, header 60 31 00 31 18 12. */
export const SIGN_ON_HEX =
  '003C600601000060310031181208000020000000C00012000000323230303336303031303435313235343131313030303100110000000000300003303030';
export const SIGN_ON = Buffer.from(SIGN_ON_HEX, 'hex');
/** Everything after TPDU and header: MTI 0800, bitmap, fields 11, 41, 42, 60, 63. */
export const SIGN_ON_BODY_HEX =
  '08000020000000C00012000000323230303336303031303435313235343131313030303100110000000000300003303030';

export const hexAddress = fc
  .integer({ min: 0, max: 0xffff })
  .map((n) => n.toString(16).toUpperCase().padStart(4, '0'));

export const tpduArb: fc.Arbitrary<Tpdu> = fc.record({ id: fc.constant(0x60), destination: hexAddress, source: hexAddress });

export const cupHeaderArb: fc.Arbitrary<CupHeader> = fc.record({
  applicationType: fc.integer({ min: 0, max: 255 }),
  softwareVersion: fc.integer({ min: 0, max: 255 }),
  terminalStatus: fc.integer({ min: 0, max: 15 }),
  processingRequirement: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7),
  subVersion: fc.integer({ min: 0, max: 0xffffff }).map((n) => n.toString(16).toUpperCase().padStart(6, '0')),
});

/** Profiles exercised by the properties, including small maxima so oversize paths are hit often. */
export const streamProfiles: FrameProfile[] = [
  { lengthHeader: 'binary2', tpdu: true, header: 'cup', maxFrameLength: 8192 },
  { lengthHeader: 'binary2', tpdu: false, header: 'none', maxFrameLength: 8192 },
  { lengthHeader: 'ascii4', tpdu: false, header: 'none', maxFrameLength: 8192 },
  { lengthHeader: 'bcd2', tpdu: false, header: 'none', maxFrameLength: 9999 },
  { lengthHeader: 'binary2', tpdu: false, header: 'none', maxFrameLength: 40 },
  { lengthHeader: 'ascii4', tpdu: true, header: 'cup', maxFrameLength: 300 },
  { lengthHeader: 'bcd2', tpdu: false, header: 'none', maxFrameLength: 0 },
];

/** Split `bytes` at the given cut points (any values; reduced modulo length+1, sorted, deduplicated). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}
