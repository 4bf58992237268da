import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ApplicationType,
  FramingError,
  ProcessingRequirement,
  buildCupHeader,
  buildTpdu,
  makeTpdu,
  parseCupHeader,
  parseTpdu,
  swapTpdu,
} from '../../src/framing/index.js';
import { SIGN_ON, cupHeaderArb, tpduArb } from './fixtures.js';

function errorOf(f: () => unknown): FramingError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FramingError);
    return e as FramingError;
  }
  throw new Error('expected a FramingError');
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('TPDU', () => {
  it('parses the sign-on example TPDU 60 0601 0000', () => {
    expect(parseTpdu(SIGN_ON, 2)).toEqual({ id: 0x60, destination: '0601', source: '0000' });
  });

  it('builds and swaps for a reply', () => {
    const req = { id: 0x60, destination: '0601', source: '0000' };
    expect(buildTpdu(req).toString('hex')).toBe('6006010000');
    expect(swapTpdu(req)).toEqual({ id: 0x60, destination: '0000', source: '0601' });
    expect(buildTpdu(swapTpdu(req)).toString('hex')).toBe('6000000601');
    expect(swapTpdu(hex('60 06 01 00 00')).toString('hex')).toBe('6000000601');
  });

  it('parses field-seen destinations and upper-cases hex', () => {
    expect(parseTpdu(hex('60 00 05 00 00')).destination).toBe('0005');
    expect(parseTpdu(hex('60 AB cd 12 34')).destination).toBe('ABCD');
    expect(makeTpdu('abcd')).toEqual({ id: 0x60, destination: 'ABCD', source: '0000' });
  });

  it('validates', () => {
    expect(errorOf(() => parseTpdu(hex('61 06 01 00 00'))).reason).toBe('BAD_TPDU');
    expect(parseTpdu(hex('68 06 01 00 00'), 0, { allowAnyId: true }).id).toBe(0x68);
    const short = errorOf(() => parseTpdu(hex('60 06 01 00')));
    expect(short.reason).toBe('TRUNCATED');
    expect(short.fatal).toBe(false);
    expect(errorOf(() => buildTpdu({ id: 0x60, destination: '060', source: '0000' })).reason).toBe('BAD_TPDU');
    expect(errorOf(() => buildTpdu({ id: 0x60, destination: '0601', source: 'zzzz' })).reason).toBe('BAD_TPDU');
    expect(errorOf(() => buildTpdu({ id: 256, destination: '0601', source: '0000' })).reason).toBe('BAD_TPDU');
    expect(errorOf(() => swapTpdu(hex('60 06 01'))).reason).toBe('BAD_TPDU');
  });

  it('round-trips and swapping twice is the identity (property)', () => {
    fc.assert(
      fc.property(tpduArb, (t) => {
        const bytes = buildTpdu(t);
        expect(parseTpdu(bytes)).toEqual(t);
        expect(swapTpdu(swapTpdu(t))).toEqual(t);
        expect(swapTpdu(bytes)).toEqual(buildTpdu(swapTpdu(t)));
      }),
    );
  });
});

describe('UnionPay header', () => {
  it('parses the sign-on example header 60 31 00 31 18 12', () => {
    expect(parseCupHeader(SIGN_ON, 7)).toEqual({
      applicationType: ApplicationType.MagneticStripe,
      softwareVersion: 0x31,
      terminalStatus: 0,
      processingRequirement: ProcessingRequirement.None,
      subVersion: '311812',
    });
  });

  it('parses the IC example 61 31 00 31 11 08 and rebuilds it', () => {
    const h = parseCupHeader(hex('61 31 00 31 11 08'));
    expect(h).toEqual({ applicationType: 0x61, softwareVersion: 0x31, terminalStatus: 0, processingRequirement: 0, subVersion: '311108' });
    expect(buildCupHeader(h).toString('hex')).toBe('613100311108');
  });

  it('splits byte 2 into status (high nibble) and processing requirement (low nibble)', () => {
    const h = parseCupHeader(hex('60 31 A3 31 11 08'));
    expect(h.terminalStatus).toBe(0xa);
    expect(h.processingRequirement).toBe(ProcessingRequirement.SignOnAgain);
    const reply = buildCupHeader({ ...h, terminalStatus: 0, processingRequirement: ProcessingRequirement.DownloadBlacklist });
    expect(reply.toString('hex')).toBe('603107311108');
  });

  it('names the processing requirements', () => {
    expect(ProcessingRequirement).toEqual({
      None: 0,
      DownloadParameters: 1,
      UploadStatus: 2,
      SignOnAgain: 3,
      DownloadCaPublicKeys: 4,
      DownloadIcParameters: 5,
      DownloadApplication: 6,
      DownloadBlacklist: 7,
    });
  });

  it('validates nibble ranges and lengths', () => {
    const bad = errorOf(() => parseCupHeader(hex('60 31 08 31 11 08')));
    expect(bad.reason).toBe('BAD_HEADER');
    expect(bad.offset).toBe(2);
    expect(errorOf(() => parseCupHeader(hex('60 31 00 31 11'))).reason).toBe('TRUNCATED');
    const base = parseCupHeader(hex('60 31 00 31 11 08'));
    expect(errorOf(() => buildCupHeader({ ...base, terminalStatus: 16 })).reason).toBe('BAD_HEADER');
    expect(errorOf(() => buildCupHeader({ ...base, processingRequirement: 8 as never })).reason).toBe('BAD_HEADER');
    expect(errorOf(() => buildCupHeader({ ...base, subVersion: '3111' })).reason).toBe('BAD_HEADER');
    expect(errorOf(() => buildCupHeader({ ...base, applicationType: 0x100 })).reason).toBe('BAD_HEADER');
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(cupHeaderArb, (h) => {
        expect(parseCupHeader(buildCupHeader(h))).toEqual(h);
      }),
    );
  });

  it('parses any 6 bytes whose low nibble of byte 2 is 0-7, rejects the rest (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
        if ((b[2]! & 0x0f) <= 7) expect(buildCupHeader(parseCupHeader(b))).toEqual(Buffer.from(b));
        else expect(errorOf(() => parseCupHeader(b)).reason).toBe('BAD_HEADER');
      }),
    );
  });
});
