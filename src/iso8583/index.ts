/** Public API of the ISO 8583 codec. */
export { Iso8583Error, type Iso8583Reason, type Iso8583ErrorDetails } from './errors.js';
export {
  fixed, llvar, lllvar, llllvar, composite, sub,
  type FieldDef, type FieldMap, type FieldKind, type StringKind, type StringFieldDef, type BinaryFieldDef,
  type TlvFieldDef, type CompositeFieldDef, type SubfieldDef, type SubfieldMap, type LengthType,
  type PrefixEncoding, type TextEncoding, type BinaryEncoding, type LengthUnit, type Sensitivity,
  type TextOpts, type BinaryOpts, type TlvOpts, type CompositeOpts,
  type FieldValue, type FieldValues, type FieldNumber, type CompositeValue,
} from './fields.js';
export {
  defineSpec, fieldFormat,
  type Spec, type SpecDefinition, type MtiEncoding, type BitmapEncoding,
} from './spec.js';
export { specToJSON, specFromJSON, type SpecJson, type FieldJsonDef, type SubfieldJson } from './spec-json.js';
export { IsoMessage, createMessage } from './message.js';
export { pack, unpack, peek, type UnpackOptions, type PeekResult } from './codec.js';
export { toJson, fromJson, type MessageJson, type FieldJson, type RevealOption } from './json.js';
export { dump } from './dump.js';
export { maskPan, maskTrack } from './mask.js';
export { parseTlv, buildTlv, tlvGet, tlvSet, tlvToMap, type TlvItem } from './tlv.js';
