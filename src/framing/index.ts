export { FramingError, isFramingError, type FramingErrorReason, type FramingErrorOptions } from './errors.js';
export {
  type LengthHeaderKind,
  LENGTH_HEADER_KINDS,
  lengthHeaderSize,
  maxEncodableLength,
  writeLengthHeader,
  encodeLengthHeader,
  decodeLengthHeader,
} from './length-header.js';
export { type Tpdu, type ParseTpduOptions, TPDU_LENGTH, TPDU_ID, parseTpdu, writeTpdu, buildTpdu, makeTpdu, swapTpdu } from './tpdu.js';
export {
  type CupHeader,
  CUP_HEADER_LENGTH,
  ApplicationType,
  ProcessingRequirement,
  isProcessingRequirement,
  parseCupHeader,
  writeCupHeader,
  buildCupHeader,
} from './cup-header.js';
export {
  type FrameProfile,
  type FrameParts,
  type ParsedFrame,
  type ParseFrameOptions,
  defineFrameProfile,
  assertFrameProfile,
  CUP_POS_FRAME,
  PLAIN_BINARY2,
  PLAIN_ASCII4,
  payloadPrefixLength,
  encodeFrame,
  encodeHeartbeat,
  parseFramePayload,
  decodeWholeFrame,
} from './frame.js';
export {
  FrameDecoder,
  type FrameDecoderResult,
  attachFrameDecoder,
  type AttachFrameDecoderOptions,
  type AttachedFrameDecoder,
} from './stream.js';
