import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CUP_POS_FRAME,
  FramingError,
  PLAIN_ASCII4,
  PLAIN_BINARY2,
  ProcessingRequirement,
  decodeWholeFrame,
  defineFrameProfile,
  encodeFrame,
  encodeHeartbeat,
  parseFramePayload,
  payloadPrefixLength,
  swapTpdu,
  type FrameProfile,
} from '../../src/framing/index.js';
import { SIGN_ON, SIGN_ON_BODY_HEX, SIGN_ON_HEX, cupHeaderArb, tpduArb } from './fixtures.js';

function errorOf(f: () => unknown): FramingError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FramingError);
    return e as FramingError;
  }
  throw new Error('expected a FramingError');
}

describe('profiles', () => {
  it('CUP_POS_FRAME is binary2 + TPDU + UnionPay header, max 8192', () => {
    expect(CUP_POS_FRAME).toEqual({ lengthHeader: 'binary2', tpdu: true, header: 'cup', maxFrameLength: 8192 });
    expect(Object.isFrozen(CUP_POS_FRAME)).toBe(true);
    expect(payloadPrefixLength(CUP_POS_FRAME)).toBe(11);
    expect(PLAIN_BINARY2.lengthHeader).toBe('binary2');
    expect(PLAIN_ASCII4.lengthHeader).toBe('ascii4');
    expect(payloadPrefixLength(PLAIN_BINARY2)).toBe(0);
  });

  it('rejects maxima the length header cannot express and malformed profiles', () => {
    expect(errorOf(() => defineFrameProfile({ ...PLAIN_ASCII4, maxFrameLength: 10000 })).reason).toBe('BAD_ARGUMENT');
    expect(errorOf(() => defineFrameProfile({ ...PLAIN_BINARY2, maxFrameLength: 65536 })).reason).toBe('BAD_ARGUMENT');
    expect(errorOf(() => defineFrameProfile({ ...PLAIN_BINARY2, maxFrameLength: -1 })).reason).toBe('BAD_ARGUMENT');
    expect(errorOf(() => defineFrameProfile({ ...PLAIN_BINARY2, lengthHeader: 'bcd3' as never })).reason).toBe('BAD_ARGUMENT');
    expect(errorOf(() => defineFrameProfile({ ...PLAIN_BINARY2, header: 'iso' as never })).reason).toBe('BAD_ARGUMENT');
    expect(defineFrameProfile({ ...PLAIN_BINARY2, maxFrameLength: 65535 }).maxFrameLength).toBe(65535);
  });
});

describe('the sign-on example frame', () => {
  it('decodes every part', () => {
    const f = decodeWholeFrame(CUP_POS_FRAME, SIGN_ON);
    expect(f.tpdu).toEqual({ id: 0x60, destination: '0601', source: '0000' });
    expect(f.header).toEqual({ applicationType: 0x60, softwareVersion: 0x31, terminalStatus: 0, processingRequirement: 0, subVersion: '311812' });
    expect(f.body.toString('hex').toUpperCase()).toBe(SIGN_ON_BODY_HEX);
    expect(f.body.length).toBe(49);
    expect(f.body.subarray(0, 2).toString('hex')).toBe('0800');
    expect(f.body.subarray(2, 10).toString('hex').toUpperCase()).toBe('0020000000C00012');
  });

  it('parses the payload the same way', () => {
    const f = parseFramePayload(CUP_POS_FRAME, SIGN_ON.subarray(2));
    expect(f.tpdu?.destination).toBe('0601');
    expect(f.header?.subVersion).toBe('311812');
    expect(f.body.toString('hex').toUpperCase()).toBe(SIGN_ON_BODY_HEX);
  });

  it('re-encodes byte for byte', () => {
    const f = decodeWholeFrame(CUP_POS_FRAME, SIGN_ON);
    const again = encodeFrame(CUP_POS_FRAME, { tpdu: f.tpdu!, header: f.header!, body: f.body });
    expect(again.toString('hex').toUpperCase()).toBe(SIGN_ON_HEX);
  });

  it('builds the reply framing: swapped TPDU, requirement set by the host', () => {
    const f = decodeWholeFrame(CUP_POS_FRAME, SIGN_ON);
    const reply = encodeFrame(CUP_POS_FRAME, {
      tpdu: swapTpdu(f.tpdu!),
      header: { ...f.header!, processingRequirement: ProcessingRequirement.DownloadParameters },
      body: Buffer.from('0810', 'hex'),
    });
    expect(reply.toString('hex')).toBe('000d' + '6000000601' + '603101311812' + '0810');
  });

  it('as a plain binary2 frame the whole payload is the body', () => {
    const f = decodeWholeFrame(PLAIN_BINARY2, SIGN_ON);
    expect(f.tpdu).toBeUndefined();
    expect(f.header).toBeUndefined();
    expect(f.body.equals(SIGN_ON.subarray(2))).toBe(true);
  });
});

describe('whole-frame errors', () => {
  it('truncated and trailing bytes', () => {
    const t = errorOf(() => decodeWholeFrame(CUP_POS_FRAME, SIGN_ON.subarray(0, SIGN_ON.length - 1)));
    expect(t.reason).toBe('TRUNCATED');
    expect(t.fatal).toBe(false);
    const x = errorOf(() => decodeWholeFrame(CUP_POS_FRAME, Buffer.concat([SIGN_ON, Buffer.from([0])])));
    expect(x.reason).toBe('TRAILING_BYTES');
    expect(x.offset).toBe(62);
    expect(errorOf(() => decodeWholeFrame(CUP_POS_FRAME, Buffer.from([0x00]))).reason).toBe('TRUNCATED');
  });

  it('oversized, empty, short, bad TPDU, bad header (offsets within the input)', () => {
    const big = Buffer.alloc(2 + 8193);
    big.writeUInt16BE(8193, 0);
    expect(errorOf(() => decodeWholeFrame(CUP_POS_FRAME, big)).reason).toBe('FRAME_TOO_LARGE');
    expect(errorOf(() => decodeWholeFrame(CUP_POS_FRAME, Buffer.from('0000', 'hex'))).reason).toBe('EMPTY_FRAME');
    expect(errorOf(() => parseFramePayload(PLAIN_BINARY2, Buffer.alloc(0))).reason).toBe('EMPTY_FRAME');
    expect(errorOf(() => decodeWholeFrame(CUP_POS_FRAME, Buffer.from('000A60060100006031003118', 'hex'))).reason).toBe('TRUNCATED');
    const badId = Buffer.from(SIGN_ON);
    badId[2] = 0x61;
    const e1 = errorOf(() => decodeWholeFrame(CUP_POS_FRAME, badId));
    expect([e1.reason, e1.offset]).toEqual(['BAD_TPDU', 2]);
    expect(decodeWholeFrame(CUP_POS_FRAME, badId, { allowAnyTpduId: true }).tpdu?.id).toBe(0x61);
    const badPr = Buffer.from(SIGN_ON);
    badPr[9] = 0x0f;
    const e2 = errorOf(() => decodeWholeFrame(CUP_POS_FRAME, badPr));
    expect([e2.reason, e2.offset]).toEqual(['BAD_HEADER', 9]);
  });

  it('encoding checks the profile and the maximum', () => {
    const tpdu = { id: 0x60, destination: '0601', source: '0000' };
    const header = { applicationType: 0x60, softwareVersion: 0x31, terminalStatus: 0, processingRequirement: 0, subVersion: '311812' } as const;
    expect(errorOf(() => encodeFrame(CUP_POS_FRAME, { header, body: Buffer.alloc(1) })).reason).toBe('PROFILE_MISMATCH');
    expect(errorOf(() => encodeFrame(CUP_POS_FRAME, { tpdu, body: Buffer.alloc(1) })).reason).toBe('PROFILE_MISMATCH');
    expect(errorOf(() => encodeFrame(PLAIN_BINARY2, { tpdu, body: Buffer.alloc(1) })).reason).toBe('PROFILE_MISMATCH');
    expect(errorOf(() => encodeFrame(PLAIN_BINARY2, { header, body: Buffer.alloc(1) })).reason).toBe('PROFILE_MISMATCH');
    expect(encodeFrame(CUP_POS_FRAME, { tpdu, header, body: Buffer.alloc(8192 - 11) }).length).toBe(8194);
    expect(errorOf(() => encodeFrame(CUP_POS_FRAME, { tpdu, header, body: Buffer.alloc(8192 - 10) })).reason).toBe('FRAME_TOO_LARGE');
    expect(encodeFrame(PLAIN_ASCII4, { body: Buffer.from('hi') }).toString('latin1')).toBe('0002hi');
  });

  it('heartbeats', () => {
    expect(encodeHeartbeat(CUP_POS_FRAME).toString('hex')).toBe('0000');
    expect(encodeHeartbeat(PLAIN_ASCII4).toString('latin1')).toBe('0000');
    expect(errorOf(() => encodeHeartbeat({ ...PLAIN_BINARY2, lengthHeader: 'none' })).reason).toBe('NO_LENGTH_HEADER');
  });

  it("'none' length header: the whole input is the payload", () => {
    const p: FrameProfile = { lengthHeader: 'none', tpdu: true, header: 'cup', maxFrameLength: 8192 };
    const bytes = encodeFrame(p, { tpdu: { id: 0x60, destination: '0601', source: '0000' }, header: decodeWholeFrame(CUP_POS_FRAME, SIGN_ON).header!, body: Buffer.from('0800', 'hex') });
    expect(bytes.toString('hex')).toBe('6006010000' + '603100311812' + '0800');
    expect(decodeWholeFrame(p, bytes).body.toString('hex')).toBe('0800');
  });
});

describe('frame properties', () => {
  const profiles: FrameProfile[] = [CUP_POS_FRAME, PLAIN_BINARY2, PLAIN_ASCII4, { lengthHeader: 'bcd2', tpdu: true, header: 'none', maxFrameLength: 9999 }];

  it('encode then decode returns the same parts', () => {
    fc.assert(
      fc.property(fc.constantFrom(...profiles), tpduArb, cupHeaderArb, fc.uint8Array({ minLength: 1, maxLength: 600 }), (p, tpdu, header, body) => {
        const parts = { body: Buffer.from(body), ...(p.tpdu ? { tpdu } : {}), ...(p.header === 'cup' ? { header } : {}) };
        const f = decodeWholeFrame(p, encodeFrame(p, parts));
        expect(f.body.equals(Buffer.from(body))).toBe(true);
        expect(f.tpdu).toEqual(p.tpdu ? tpdu : undefined);
        expect(f.header).toEqual(p.header === 'cup' ? header : undefined);
      }),
    );
  });

  it('decoding arbitrary bytes returns or throws a FramingError, nothing else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...profiles), fc.uint8Array({ maxLength: 80 }), (p, bytes) => {
        try {
          decodeWholeFrame(p, bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(FramingError);
        }
      }),
    );
  });
});
