/**
 * Key components for split knowledge / dual control (ANSI X9.24-1, PCI PIN): a key is the XOR of
 * N clear components, each held by a different custodian and checked by its KCV.
 */
import { wipe } from './cipher.js';
import { CryptoError } from './errors.js';
import { kcv, verifyKcv } from './kcv.js';
import { withOddParity } from './parity.js';
import { randomKey, type KeyAlgorithm } from './random.js';

export interface KeyComponent {
  component: Buffer;
  /** KCV of the component as if it were a key (TDES: zero method, 3 bytes; AES: CMAC, 5 bytes). */
  kcv: Buffer;
}

export interface GeneratedComponents {
  alg: KeyAlgorithm;
  components: KeyComponent[];
  /** KCV of the combined key (same method and length as the component KCVs). */
  kcv: Buffer;
}

const MIN_COMPONENTS = 2;
const MAX_COMPONENTS = 9;

const KEY_LENGTHS: Record<KeyAlgorithm, readonly number[]> = {
  des: [8],
  tdes: [8, 16, 24],
  aes: [16, 24, 32],
};

function kcvOf(alg: KeyAlgorithm, key: Uint8Array): Buffer {
  return kcv(key, { alg: alg === 'aes' ? 'aes' : 'tdes' });
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < MIN_COMPONENTS || n > MAX_COMPONENTS) {
    throw new CryptoError('BAD_COMPONENTS', `component count must be ${MIN_COMPONENTS}..${MAX_COMPONENTS}, got ${n}`);
  }
}

function xorAll(parts: readonly Uint8Array[]): Buffer {
  const out = Buffer.alloc(parts[0]!.length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i]! ^= p[i]!;
  return out;
}

/**
 * Generate `n` random clear components of a new key. DES/TDES components have odd parity. The
 * combined key is not returned: only its KCV, so custodians can check their combination.
 */
export function generateComponents(n: number, alg: KeyAlgorithm, keyLength?: number): GeneratedComponents {
  checkCount(n);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(randomKey(alg, keyLength));
  const key = combineComponents(parts, { alg });
  const result: GeneratedComponents = {
    alg,
    components: parts.map((component) => ({ component, kcv: kcvOf(alg, component) })),
    kcv: kcvOf(alg, key),
  };
  wipe(key);
  return result;
}

export interface CombineOptions {
  /** Key algorithm; default 'tdes'. DES/TDES results are parity-adjusted to odd parity. */
  alg?: KeyAlgorithm;
  /** When given, the combined key's KCV must match (its length sets how many bytes are compared). */
  expectedKcv?: Uint8Array;
}

/**
 * XOR clear components into a key. Components are raw buffers or {component, kcv} records; a
 * record's KCV is checked before combining. All components must have the same, valid key length.
 */
export function combineComponents(components: readonly (Uint8Array | KeyComponent)[], opts: CombineOptions = {}): Buffer {
  const alg = opts.alg ?? 'tdes';
  const allowed = KEY_LENGTHS[alg];
  if (!allowed) throw new CryptoError('BAD_INPUT', 'key algorithm must be des, tdes or aes');
  checkCount(components.length);
  const parts = components.map((c) => (c instanceof Uint8Array ? c : c.component));
  const len = parts[0]!.length;
  if (!allowed.includes(len)) {
    throw new CryptoError('BAD_KEY_LENGTH', `${alg} component must be ${allowed.join(', ')} bytes, got ${len}`);
  }
  parts.forEach((p, i) => {
    if (p.length !== len) throw new CryptoError('BAD_COMPONENTS', `component ${i + 1} is ${p.length} bytes, expected ${len}`);
  });
  components.forEach((c, i) => {
    if (!(c instanceof Uint8Array) && !verifyKcv(c.component, c.kcv, { alg: alg === 'aes' ? 'aes' : 'tdes' })) {
      throw new CryptoError('KCV_MISMATCH', `component ${i + 1} does not match its check value`);
    }
  });
  const raw = xorAll(parts);
  let key = raw;
  if (alg !== 'aes') {
    key = withOddParity(raw);
    wipe(raw);
  }
  if (opts.expectedKcv && !verifyKcv(key, opts.expectedKcv, { alg: alg === 'aes' ? 'aes' : 'tdes' })) {
    wipe(key);
    throw new CryptoError('KCV_MISMATCH', 'combined key does not match the expected check value');
  }
  return key;
}
