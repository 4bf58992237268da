/**
 * JSON form of a message: `{ "mti": "0810", "fields": { "11": "500211", "60": { "1": "00" }, "62": "0A1B…" } }`.
 * Binary fields are upper-case hex, TLV fields `[{ tag, value }]` with hex values, composites
 * objects keyed by sub-field number. Sensitive values are masked unless `reveal`.
 */
import { VT_BINARY, VT_COMPOSITE, VT_TEXT, prepareValue } from './compile.js';
import { checkMti } from './codec.js';
import { fail } from './errors.js';
import { parseHexString, toHexUpper } from './encodings.js';
import type { FieldMap } from './fields.js';
import { MASK, maskText, tlvValueHex } from './mask.js';
import { IsoMessage } from './message.js';
import { COMPILED, type Spec } from './spec.js';
import type { TlvItem } from './tlv.js';

export type FieldJson = string | Record<string, string> | Array<{ tag: string; value: string }>;

export interface MessageJson {
  mti: string;
  fields: Record<string, FieldJson>;
}

export interface RevealOption {
  /** Show PANs, tracks, PIN blocks, keys, CVVs and MACs in clear. Default false. */
  reveal?: boolean;
}

/** JSON-ready object for a message (decodes every field). */
export function toJson<F extends FieldMap>(spec: Spec<F>, msg: IsoMessage<F>, opts: RevealOption = {}): MessageJson {
  const reveal = opts.reveal === true;
  const c = spec[COMPILED];
  const fields: Record<string, FieldJson> = {};
  for (const n of msg.fields()) {
    const cf = c.fields[n];
    if (!cf) fail('UNDEFINED_FIELD', `field ${n} is not defined in spec ${spec.name}`, n);
    const v: unknown = msg.get(n);
    const hide = !reveal && cf.sensitive !== undefined;
    switch (cf.vt) {
      case VT_TEXT:
        fields[n] = hide ? maskText(v as string, cf.sensitive!) : (v as string);
        break;
      case VT_BINARY:
        fields[n] = hide ? MASK : toHexUpper(v as Buffer);
        break;
      case VT_COMPOSITE: {
        const out: Record<string, string> = {};
        for (const [k, s] of Object.entries(v as Record<string, string>)) out[k] = hide ? MASK : s;
        fields[n] = out;
        break;
      }
      default:
        fields[n] = (v as TlvItem[]).map((it) => ({ tag: it.tag, value: hide ? MASK : tlvValueHex(it, reveal) }));
    }
  }
  return { mti: msg.mti, fields };
}

/** Build a message from its JSON form, validating every value (throws Iso8583Error). */
export function fromJson<F extends FieldMap>(spec: Spec<F>, json: unknown): IsoMessage<F> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('BAD_VALUE', 'message JSON must be an object');
  const obj = json as Record<string, unknown>;
  if (obj.mti === undefined) fail('MISSING_FIELD', 'message JSON has no "mti"');
  const mti = checkMti(obj.mti);
  const fj = obj.fields ?? {};
  if (typeof fj !== 'object' || fj === null || Array.isArray(fj)) fail('BAD_VALUE', '"fields" must be an object');
  for (const k of Object.keys(obj)) if (k !== 'mti' && k !== 'fields') fail('BAD_VALUE', `unexpected key ${JSON.stringify(k)} in message JSON`);
  const c = spec[COMPILED];
  const msg = new IsoMessage<F>(spec, mti);
  for (const [key, raw] of Object.entries(fj as Record<string, unknown>)) {
    const n = Number(key);
    const cf = Number.isInteger(n) && n >= 0 && n <= 128 && String(n) === key ? c.fields[n] : null;
    if (!cf) fail('UNDEFINED_FIELD', `field ${key} is not defined in spec ${spec.name}`, key);
    let v: unknown;
    switch (cf.vt) {
      case VT_TEXT:
      case VT_COMPOSITE:
        v = raw;
        break;
      case VT_BINARY:
        v = hexValue(raw, n);
        break;
      default: {
        if (!Array.isArray(raw)) fail('BAD_VALUE', 'TLV field must be an array of {tag, value}', n);
        v = raw.map((it: unknown, i) => {
          if (typeof it !== 'object' || it === null) fail('BAD_VALUE', `TLV item ${i} must be an object`, n);
          const { tag, value } = it as Record<string, unknown>;
          if (typeof tag !== 'string') fail('BAD_TLV', `TLV item ${i} has no tag`, n);
          return { tag: tag.toUpperCase(), value: hexValue(value, n) };
        });
      }
    }
    prepareValue(cf, v); // validation only
    msg._put(n, v);
  }
  return msg;
}

function hexValue(raw: unknown, n: number): Buffer {
  if (typeof raw !== 'string') fail('BAD_VALUE', 'binary value must be a hex string', n);
  const b = parseHexString(raw);
  if (b === undefined) fail('BAD_CHARSET', `${JSON.stringify(raw.length > 20 ? raw.slice(0, 20) + '…' : raw)} is not even-length hex`, n);
  return b;
}
