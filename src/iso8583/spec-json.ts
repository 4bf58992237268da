/**
 * Specs as plain JSON documents, so a dialect can be described without code.
 * specToJSON writes every setting explicitly (defaults resolved); specFromJSON checks the
 * document's shape (unknown keys are errors, to catch typos) and then compiles it with defineSpec.
 */
import { E_BCD, VT_BINARY, VT_TLV } from './compile.js';
import { fail } from './errors.js';
import type { FieldDef, FieldMap } from './fields.js';
import { COMPILED, defineSpec, type Spec, type SpecDefinition } from './spec.js';

export interface SubfieldJson {
  name: string;
  kind: 'n' | 'a' | 'an' | 'ans';
  length: number;
  optional?: boolean;
}

export interface FieldJsonDef {
  name: string;
  kind: FieldDef['kind'];
  lengthType: FieldDef['lengthType'];
  length: number;
  prefix?: string;
  unit: 'chars' | 'bytes';
  encoding: string;
  align?: 'left' | 'right';
  pad?: number;
  padOnPack?: boolean;
  anyByte?: boolean;
  sensitive?: string;
  subfields?: Record<string, SubfieldJson>;
}

export interface SpecJson {
  name: string;
  description?: string;
  mti: { encoding: string };
  bitmap: { encoding: string; secondary: boolean };
  fields: Record<string, FieldJsonDef>;
}

/** Plain-JSON description of a spec with all defaults made explicit. */
export function specToJSON(spec: Spec<FieldMap>): SpecJson {
  const c = spec[COMPILED];
  const fields: Record<string, FieldJsonDef> = {};
  for (const n of c.numbers) {
    const cf = c.fields[n]!;
    const d = cf.def as FieldDef & Record<string, unknown>;
    const binary = cf.vt === VT_BINARY || cf.vt === VT_TLV;
    const out: FieldJsonDef = {
      name: cf.name,
      kind: d.kind,
      lengthType: d.lengthType,
      length: d.length,
      unit: cf.unitBytes ? 'bytes' : 'chars',
      encoding: (d.encoding as string | undefined) ?? (binary ? 'binary' : 'ascii'),
    };
    if (!cf.fixed) out.prefix = d.prefix ?? 'ascii';
    if (cf.enc === E_BCD) {
      out.align = cf.left ? 'left' : 'right';
      out.pad = cf.pad;
    }
    if (cf.padOnPack) out.padOnPack = true;
    if (d.anyByte === true) out.anyByte = true;
    if (cf.sensitive !== undefined) out.sensitive = cf.sensitive;
    if (cf.subs) {
      out.subfields = {};
      for (const s of cf.subs) {
        out.subfields[s.key] = { name: s.name, kind: s.kind, length: s.length, ...(s.optional ? { optional: true } : {}) };
      }
    }
    fields[n] = out;
  }
  const json: SpecJson = {
    name: spec.name,
    mti: { encoding: spec.mti.encoding },
    bitmap: { encoding: spec.bitmap.encoding, secondary: spec.bitmap.secondary },
    fields,
  };
  if (spec.description !== undefined) json.description = spec.description;
  return json;
}

const FIELD_KEYS = new Set([
  'name', 'kind', 'lengthType', 'length', 'prefix', 'unit', 'encoding', 'align', 'pad', 'padOnPack', 'anyByte',
  'sensitive', 'subfields',
]);
const SUB_KEYS = new Set(['name', 'kind', 'length', 'optional']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Record<string, unknown>, allowed: Set<string>, where: string, field?: number | string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) fail('BAD_SPEC', `unknown key ${JSON.stringify(k)} in ${where}`, field);
  }
}

/**
 * Load a spec from its JSON form (object or JSON text). Throws Iso8583Error('BAD_SPEC') with
 * the field number for any problem. Field value types are not known statically for such specs.
 */
export function specFromJSON(json: unknown): Spec<FieldMap> {
  let doc = json;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc) as unknown;
    } catch (e) {
      fail('BAD_SPEC', `spec is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isObject(doc)) fail('BAD_SPEC', 'spec document must be an object');
  checkKeys(doc, new Set(['name', 'description', 'mti', 'bitmap', 'fields']), 'the spec');
  if (!isObject(doc.mti)) fail('BAD_SPEC', '"mti" must be an object');
  checkKeys(doc.mti, new Set(['encoding']), '"mti"');
  if (!isObject(doc.bitmap)) fail('BAD_SPEC', '"bitmap" must be an object');
  checkKeys(doc.bitmap, new Set(['encoding', 'secondary']), '"bitmap"');
  if (!isObject(doc.fields)) fail('BAD_SPEC', '"fields" must be an object');
  if (doc.description !== undefined && typeof doc.description !== 'string') fail('BAD_SPEC', '"description" must be a string');
  for (const [k, raw] of Object.entries(doc.fields)) {
    const key: number | string = String(Number(k)) === k ? Number(k) : k;
    if (!isObject(raw)) fail('BAD_SPEC', 'field definition must be an object', key);
    checkKeys(raw, FIELD_KEYS, `field ${key}`, key);
    if (raw.subfields !== undefined) {
      if (!isObject(raw.subfields)) fail('BAD_SPEC', '"subfields" must be an object', key);
      for (const [sk, sv] of Object.entries(raw.subfields)) {
        if (!isObject(sv)) fail('BAD_SPEC', 'sub-field definition must be an object', `${key}.${sk}`);
        checkKeys(sv, SUB_KEYS, `sub-field ${key}.${sk}`, `${key}.${sk}`);
      }
    } else if (raw.kind === 'composite') {
      fail('BAD_SPEC', 'composite needs "subfields"', key);
    }
    if (raw.padOnPack !== undefined && typeof raw.padOnPack !== 'boolean') fail('BAD_SPEC', '"padOnPack" must be a boolean', key);
    if (raw.anyByte !== undefined && typeof raw.anyByte !== 'boolean') fail('BAD_SPEC', '"anyByte" must be a boolean', key);
    if (raw.kind !== 'composite' && raw.subfields !== undefined) fail('BAD_SPEC', 'only composites take "subfields"', key);
    const binary = raw.kind === 'b' || raw.kind === 'tlv';
    if (binary && (raw.align !== undefined || raw.pad !== undefined)) fail('BAD_SPEC', 'align/pad apply to BCD text fields only', key);
  }
  return defineSpec(doc as unknown as SpecDefinition<FieldMap>);
}
