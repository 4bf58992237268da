/**
 * TR-31 / ANSI X9.143 key block wrap and unwrap.
 *
 * - Version B (TDES, key derivation binding): KBEK and KBAK are derived from the KBPK with TDES
 *   CMAC over an 8-byte derivation input; the authenticator is the 8-byte TDES CMAC of
 *   header || clear payload and doubles as the CBC IV for the payload.
 * - Version D (AES, key derivation binding): the same with AES CMAC and a 16-byte authenticator.
 * - Versions A and C (TDES, key variant binding, deprecated): KBEK = KBPK xor 45.., KBAK = KBPK
 *   xor 4D..; payload TDES-CBC with the first eight header characters as IV; authenticator is the
 *   leftmost four bytes of the TDES CBC-MAC of header || binary ciphertext. Supported for import
 *   of legacy blocks; wrap refuses them unless `allowLegacy` is set.
 *
 * Clear payload = key length in bits (2 bytes, big-endian) || key || padding to the block size.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { blockSize, decrypt, encrypt, toHex, wipe, type BlockAlgorithm } from '../cipher.js';
import { cbcMac, cmac, cmacSubkeys, cmacWithSubkeys } from './cmac.js';
import { KeyBlockError } from './errors.js';
import {
  buildHeader,
  checkAttributes,
  encodeOptionalBlocks,
  FIXED_HEADER_LENGTH,
  parseHeader,
  type Exportability,
  type KeyAlgorithm,
  type KeyBlockHeader,
  type KeyBlockVersion,
  type KeyUsage,
  type ModeOfUse,
  type OptionalBlock,
} from './header.js';

export interface KeyBlockAttributes {
  /** Key block version; defaults to "D" (AES KBPK), the X9.143 recommendation. */
  version?: KeyBlockVersion;
  usage: KeyUsage;
  algorithm: KeyAlgorithm;
  modeOfUse: ModeOfUse;
  exportability: Exportability;
  /** Two characters, "00" (the default) when versioning is not used. */
  keyVersion?: string;
  optionalBlocks?: OptionalBlock[];
}

export interface WrapOptions {
  /**
   * Pad the key field as if the key were this many bytes long, hiding the real key length
   * (e.g. 24 to make double- and triple-length TDES keys indistinguishable).
   */
  maskedKeyLength?: number;
  /** Source of padding bytes; defaults to node:crypto randomBytes. */
  random?: (n: number) => Uint8Array;
  /** Permit producing version A/C blocks (deprecated variant binding). */
  allowLegacy?: boolean;
}

export interface UnwrappedKey {
  header: KeyBlockHeader;
  key: Buffer;
}

/** What a caller is about to do with a key; see {@link assertUsage}. */
export interface UsageRequirement {
  /** Acceptable key usage code(s). */
  usage: KeyUsage | readonly KeyUsage[];
  /**
   * The operation: E encrypt/wrap, D decrypt/unwrap, G generate (MAC, PIN...), V verify,
   * S sign, X derive keys, Y create variants. A key with header mode B satisfies E and D,
   * C satisfies G and V, T satisfies S and D, N satisfies anything its usage allows.
   */
  modeOfUse: 'E' | 'D' | 'G' | 'V' | 'S' | 'X' | 'Y';
  /** Acceptable algorithm(s), if the caller cares. */
  algorithm?: KeyAlgorithm | readonly KeyAlgorithm[];
}

const MODE_GRANTS: Record<UsageRequirement['modeOfUse'], readonly ModeOfUse[]> = {
  E: ['E', 'B', 'N'],
  D: ['D', 'B', 'T', 'N'],
  G: ['G', 'C', 'N'],
  V: ['V', 'C', 'N'],
  S: ['S', 'T', 'N'],
  X: ['X', 'N'],
  Y: ['Y', 'N'],
};

/**
 * Refuse to use a key outside the usage, mode of use (and optionally algorithm) bound into its
 * key block. Throws KeyBlockError USAGE_MISMATCH / MODE_MISMATCH / ALGORITHM_MISMATCH.
 */
export function assertUsage(header: Pick<KeyBlockHeader, 'usage' | 'modeOfUse' | 'algorithm'>, req: UsageRequirement): void {
  const usages: readonly string[] = typeof req.usage === 'string' ? [req.usage] : req.usage;
  if (!usages.includes(header.usage)) {
    throw new KeyBlockError('USAGE_MISMATCH', `key usage ${header.usage} is not ${usages.join('/')}`);
  }
  const grants = MODE_GRANTS[req.modeOfUse];
  if (!grants || !grants.includes(header.modeOfUse)) {
    throw new KeyBlockError('MODE_MISMATCH', `mode of use ${header.modeOfUse} does not permit operation ${String(req.modeOfUse)}`);
  }
  if (req.algorithm !== undefined) {
    const algs: readonly string[] = typeof req.algorithm === 'string' ? [req.algorithm] : req.algorithm;
    if (!algs.includes(header.algorithm)) {
      throw new KeyBlockError('ALGORITHM_MISMATCH', `key algorithm ${header.algorithm} is not ${algs.join('/')}`);
    }
  }
}

interface VersionParams {
  cipher: BlockAlgorithm;
  macLength: number;
  derivation: boolean;
}

function params(version: KeyBlockVersion): VersionParams {
  switch (version) {
    case 'A':
    case 'C':
      return { cipher: 'tdes', macLength: 4, derivation: false };
    case 'B':
      return { cipher: 'tdes', macLength: 8, derivation: true };
    case 'D':
      return { cipher: 'aes', macLength: 16, derivation: true };
  }
}

function checkKbpk(version: KeyBlockVersion, kbpk: Uint8Array): void {
  const ok = version === 'D' ? [16, 24, 32] : [16, 24];
  if (!(kbpk instanceof Uint8Array) || !ok.includes(kbpk.length)) {
    throw new KeyBlockError('BAD_KBPK', `version ${version} needs a ${version === 'D' ? 'AES' : 'double- or triple-length TDES'} KBPK (${ok.join('/')} bytes)`);
  }
}

/**
 * Derive the key block encryption and authentication keys from the KBPK
 * (TR-31:2018 5.3.2.1 / 5.3.2.3 for B and D; the variant method for A and C).
 */
export function deriveBlockKeys(version: KeyBlockVersion, kbpk: Uint8Array): { kbek: Buffer; kbak: Buffer } {
  checkKbpk(version, kbpk);
  const p = params(version);
  if (!p.derivation) {
    const kbek = Buffer.alloc(kbpk.length);
    const kbak = Buffer.alloc(kbpk.length);
    for (let i = 0; i < kbpk.length; i++) {
      kbek[i] = kbpk[i]! ^ 0x45;
      kbak[i] = kbpk[i]! ^ 0x4d;
    }
    return { kbek, kbak };
  }
  // Derivation input: counter(1) | key usage(2: 0000 encryption, 0001 MAC) | separator 00 |
  // algorithm(2) | length in bits(2).
  let algorithm: number;
  if (p.cipher === 'tdes') algorithm = kbpk.length === 16 ? 0x0000 : 0x0001;
  else algorithm = kbpk.length === 16 ? 0x0002 : kbpk.length === 24 ? 0x0003 : 0x0004;
  const bs = blockSize(p.cipher);
  const derive = (usage: number): Buffer => {
    const out = Buffer.alloc(Math.ceil(kbpk.length / bs) * bs);
    const input = Buffer.alloc(8);
    for (let i = 0, counter = 1; i < out.length; i += bs, counter++) {
      input[0] = counter;
      input.writeUInt16BE(usage, 1);
      input[3] = 0;
      input.writeUInt16BE(algorithm, 4);
      input.writeUInt16BE(kbpk.length * 8, 6);
      const t = cmac(p.cipher, kbpk, input);
      t.copy(out, i);
      wipe(t);
    }
    const key = Buffer.from(out.subarray(0, kbpk.length));
    wipe(out);
    return key;
  };
  return { kbek: derive(0x0000), kbak: derive(0x0001) };
}

/** Derived key-block keys of one KBPK and version, with the KBAK's CMAC subkeys (B and D). */
interface BlockKeys {
  kbek: Buffer;
  kbak: Buffer;
  /** null for versions A and C (no CMAC). */
  subkeys: { k1: Buffer; k2: Buffer } | null;
}

function blockKeys(version: KeyBlockVersion, kbpk: Uint8Array): BlockKeys {
  const { kbek, kbak } = deriveBlockKeys(version, kbpk);
  const p = params(version);
  return { kbek, kbak, subkeys: p.derivation ? cmacSubkeys(p.cipher, kbak) : null };
}

function wipeBlockKeys(k: BlockKeys): void {
  wipe(k.kbek, k.kbak, k.subkeys?.k1, k.subkeys?.k2);
}

/**
 * A key block protection key that keeps its derived keys (KBEK, KBAK and the KBAK's CMAC
 * subkeys, per key block version) for its lifetime, so wrapping and unwrapping many blocks under
 * one KBPK (an HSM's LMK) derives them once instead of per block. Pass it to wrap / unwrap
 * wherever a KBPK is accepted. The derived keys are as sensitive as the KBPK itself: call wipe()
 * when done; every later use throws BAD_KBPK.
 */
export class KeyBlockProtectionKey {
  #kbpk: Buffer;
  readonly #derived = new Map<KeyBlockVersion, BlockKeys>();
  #wiped = false;

  /** `kbpk` is copied; the caller may wipe its own copy. */
  constructor(kbpk: Uint8Array) {
    if (!(kbpk instanceof Uint8Array)) throw new KeyBlockError('BAD_KBPK', 'KBPK must be a byte array');
    this.#kbpk = Buffer.from(kbpk);
  }

  /** Internal to the key-block module: the derived keys for `version` (derived on first use). */
  blockKeys(version: KeyBlockVersion): BlockKeys {
    if (this.#wiped) throw new KeyBlockError('BAD_KBPK', 'KBPK has been wiped');
    let k = this.#derived.get(version);
    if (k === undefined) {
      k = blockKeys(version, this.#kbpk);
      this.#derived.set(version, k);
    }
    return k;
  }

  /** Overwrite the KBPK and every derived key; the object is unusable afterwards. */
  wipe(): void {
    for (const k of this.#derived.values()) wipeBlockKeys(k);
    this.#derived.clear();
    wipe(this.#kbpk);
    this.#wiped = true;
  }
}

/** A KBPK as bytes or as a KeyBlockProtectionKey (derived keys cached). */
export type Kbpk = Uint8Array | KeyBlockProtectionKey;

/** The derived keys for one operation, and whether the caller must wipe them afterwards. */
function keysFor(version: KeyBlockVersion, kbpk: Kbpk): { keys: BlockKeys; owned: boolean } {
  if (kbpk instanceof KeyBlockProtectionKey) return { keys: kbpk.blockKeys(version), owned: false };
  return { keys: blockKeys(version, kbpk), owned: true };
}

function checkClearKey(algorithm: KeyAlgorithm, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length === 0) throw new KeyBlockError('BAD_KEY', 'clear key must be a non-empty byte array');
  const allowed: Partial<Record<KeyAlgorithm, number[]>> = { T: [16, 24], A: [16, 24, 32], D: [8] };
  const ok = allowed[algorithm];
  if (ok && !ok.includes(key.length)) {
    throw new KeyBlockError('BAD_KEY', `a key of algorithm ${algorithm} must be ${ok.join('/')} bytes, got ${key.length}`);
  }
  if (key.length * 8 > 0xffff) throw new KeyBlockError('BAD_KEY', 'clear key is too long');
}

/** Wrap `clearKey` under `kbpk` into an ASCII key block. */
export function wrap(kbpk: Kbpk, attrs: KeyBlockAttributes, clearKey: Uint8Array, opts: WrapOptions = {}): string {
  const version = attrs.version ?? 'D';
  if (version !== 'A' && version !== 'B' && version !== 'C' && version !== 'D') {
    throw new KeyBlockError('UNSUPPORTED_VERSION', `key block version "${String(version)}" is not supported`);
  }
  if ((version === 'A' || version === 'C') && !opts.allowLegacy) {
    throw new KeyBlockError('UNSUPPORTED_VERSION', `version ${version} (variant binding) is deprecated; use B or D, or pass allowLegacy`);
  }
  const fields = {
    version,
    usage: attrs.usage,
    algorithm: attrs.algorithm,
    modeOfUse: attrs.modeOfUse,
    keyVersion: attrs.keyVersion ?? '00',
    exportability: attrs.exportability,
  };
  checkAttributes(fields);
  if (!(kbpk instanceof KeyBlockProtectionKey)) checkKbpk(version, kbpk);
  checkClearKey(attrs.algorithm, clearKey);
  const p = params(version);
  const bs = blockSize(p.cipher);

  const masked = opts.maskedKeyLength ?? 0;
  if (!Number.isInteger(masked) || masked < 0 || masked > 4096) throw new KeyBlockError('BAD_KEY', 'maskedKeyLength must be a small non-negative integer');
  const field = Math.max(clearKey.length, masked);
  const payloadLength = Math.ceil((2 + field) / bs) * bs;
  const padLength = payloadLength - 2 - clearKey.length;
  const pad = (opts.random ?? randomBytes)(padLength);
  if (pad.length !== padLength) throw new KeyBlockError('BAD_KEY', 'padding source returned the wrong number of bytes');

  const { text: optText, count } = encodeOptionalBlocks(attrs.optionalBlocks ?? [], bs === 16 ? 16 : 8);
  const headerLength = FIXED_HEADER_LENGTH + optText.length;
  const total = headerLength + 2 * payloadLength + 2 * p.macLength;
  const header = buildHeader(fields, optText, count, total);
  const headerBytes = Buffer.from(header, 'latin1');

  const payload = Buffer.alloc(payloadLength);
  payload.writeUInt16BE(clearKey.length * 8, 0);
  payload.set(clearKey, 2);
  payload.set(pad, 2 + clearKey.length);

  const { keys, owned } = keysFor(version, kbpk);
  const { kbek, kbak } = keys;
  try {
    if (p.derivation && keys.subkeys !== null) {
      const mac = cmacWithSubkeys(p.cipher, kbak, keys.subkeys, Buffer.concat([headerBytes, payload])).subarray(0, p.macLength);
      const ct = encrypt(p.cipher, 'cbc', kbek, payload, mac);
      return header + toHex(ct) + toHex(mac);
    }
    const ct = encrypt('tdes', 'cbc', kbek, payload, headerBytes.subarray(0, 8));
    const mac = cbcMac('tdes', kbak, Buffer.concat([headerBytes, ct])).subarray(0, p.macLength);
    return header + toHex(ct) + toHex(mac);
  } finally {
    wipe(payload);
    if (owned) wipeBlockKeys(keys);
  }
}

/** Internal: unwrap and also return the padding (used to reproduce published blocks in tests). */
export function unwrapDetailed(kbpk: Kbpk, block: string): UnwrappedKey & { padding: Buffer } {
  const { header, headerLength } = parseHeader(block);
  const p = params(header.version);
  const bs = blockSize(p.cipher);
  if (headerLength % (bs === 16 ? 16 : 8) !== 0) {
    throw new KeyBlockError('BAD_LENGTH', `version ${header.version} header length must be a multiple of ${bs === 16 ? 16 : 8}`);
  }
  const rest = block.slice(headerLength);
  if (!/^[0-9A-F]*$/.test(rest)) throw new KeyBlockError('MALFORMED', 'encrypted payload and authenticator must be upper-case hexadecimal');
  const payloadChars = rest.length - 2 * p.macLength;
  if (payloadChars <= 0 || payloadChars % (2 * bs) !== 0) {
    throw new KeyBlockError('BAD_LENGTH', `encrypted payload must be a positive multiple of ${bs} bytes`);
  }
  if (!(kbpk instanceof KeyBlockProtectionKey)) checkKbpk(header.version, kbpk);
  const ct = Buffer.from(rest.slice(0, payloadChars), 'hex');
  const mac = Buffer.from(rest.slice(payloadChars), 'hex');
  const headerBytes = Buffer.from(block.slice(0, headerLength), 'latin1');

  const { keys, owned } = keysFor(header.version, kbpk);
  const { kbek, kbak } = keys;
  let payload: Buffer | null = null;
  try {
    let expected: Buffer;
    if (p.derivation && keys.subkeys !== null) {
      payload = decrypt(p.cipher, 'cbc', kbek, ct, mac);
      expected = cmacWithSubkeys(p.cipher, kbak, keys.subkeys, Buffer.concat([headerBytes, payload])).subarray(0, p.macLength);
    } else {
      expected = cbcMac('tdes', kbak, Buffer.concat([headerBytes, ct])).subarray(0, p.macLength);
    }
    if (!timingSafeEqual(expected, mac)) throw new KeyBlockError('MAC_MISMATCH', 'key block authenticator does not verify');
    payload ??= decrypt('tdes', 'cbc', kbek, ct, headerBytes.subarray(0, 8));
    const bits = payload.readUInt16BE(0);
    if (bits === 0 || bits % 8 !== 0 || bits / 8 > payload.length - 2) {
      throw new KeyBlockError('BAD_PAYLOAD', 'decrypted key length field is invalid');
    }
    const n = bits / 8;
    return {
      header,
      key: Buffer.from(payload.subarray(2, 2 + n)),
      padding: Buffer.from(payload.subarray(2 + n)),
    };
  } finally {
    wipe(payload);
    if (owned) wipeBlockKeys(keys);
  }
}

/**
 * Verify and decrypt a key block. The authenticator is checked in constant time before the
 * payload is interpreted. Pass `expect` to enforce usage binding at the same time.
 */
export function unwrap(kbpk: Kbpk, block: string, expect?: UsageRequirement): UnwrappedKey {
  const { header, key, padding } = unwrapDetailed(kbpk, block);
  wipe(padding);
  if (expect) {
    try {
      assertUsage(header, expect);
    } catch (e) {
      wipe(key);
      throw e;
    }
  }
  return { header, key };
}
