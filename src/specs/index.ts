/** Registry of the shipped ISO 8583 dialects. */
import { Iso8583Error, type FieldMap, type Spec } from '../iso8583/index.js';
import { cupPos } from './cup-pos.js';
import { iso87Ascii } from './iso87-ascii.js';
import { iso87Binary } from './iso87-binary.js';

export { cupPos, iso87Ascii, iso87Binary };

const SPECS = {
  'cup-pos': cupPos,
  'iso87-ascii': iso87Ascii,
  'iso87-binary': iso87Binary,
} as const;

export type SpecName = keyof typeof SPECS;
export type ShippedSpec<N extends SpecName> = (typeof SPECS)[N];

export const specNames: readonly SpecName[] = Object.keys(SPECS) as SpecName[];

/** A shipped spec by name; an unknown name raises Iso8583Error('UNKNOWN_SPEC') listing valid ones. */
export function getSpec<N extends SpecName>(name: N): ShippedSpec<N>;
export function getSpec(name: string): Spec<FieldMap>;
export function getSpec(name: string): Spec<FieldMap> {
  if (!Object.prototype.hasOwnProperty.call(SPECS, name)) {
    throw new Iso8583Error('UNKNOWN_SPEC', `unknown spec ${JSON.stringify(name)}; valid names: ${specNames.join(', ')}`);
  }
  return SPECS[name as SpecName];
}
