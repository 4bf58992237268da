import { existsSync, readFileSync } from 'node:fs';
import { specFromJSON, type FieldMap, type Spec } from '../iso8583/index.js';
import { getSpec, specNames } from '../specs/index.js';
import { CUP_POS_FRAME, PLAIN_ASCII4, PLAIN_BINARY2, type FrameProfile } from '../framing/index.js';
import { CliError } from './errors.js';

/** `--spec NAME` (a shipped profile) or `--spec path/to/spec.json` (a user-defined dialect). */
export function resolveSpec(value: string | undefined): Spec<FieldMap> {
  if (!value) throw new CliError(`--spec is required (one of ${specNames.join(', ')}, or a spec JSON file)`);
  if ((specNames as readonly string[]).includes(value)) return getSpec(value);
  if (value.endsWith('.json') || existsSync(value)) {
    if (!existsSync(value)) throw new CliError(`spec file not found: ${value}`);
    return specFromJSON(readFileSync(value, 'utf8'));
  }
  return getSpec(value); // raises UNKNOWN_SPEC listing the valid names
}

const FRAME_PROFILES: Record<string, FrameProfile> = {
  cup: CUP_POS_FRAME,
  binary2: PLAIN_BINARY2,
  ascii4: PLAIN_ASCII4,
};

/** `--frame-profile cup|binary2|ascii4`; the default follows the spec (cup for cup-pos). */
export function resolveFrameProfile(value: string | undefined, spec: Spec<FieldMap>): FrameProfile {
  const name = value ?? (spec.name === 'cup-pos' ? 'cup' : spec.name === 'iso87-ascii' ? 'ascii4' : 'binary2');
  const profile = FRAME_PROFILES[name];
  if (!profile) throw new CliError(`unknown --frame-profile '${name}' (one of ${Object.keys(FRAME_PROFILES).join(', ')})`);
  return profile;
}
