/**
 * SoftHsm: the `Hsm` interface in software, for development, testing and small deployments.
 *
 * Keys at rest are TR-31 (ANSI X9.143) version D key blocks under a local master key (LMK), an
 * AES-256 key used as the key block protection key. The LMK comes from `lmkHex`, the
 * QIANDAO_LMK environment variable or an LMK file; in development it can be generated.
 *
 * Usage binding. Each block's header carries the TR-31 key usage, algorithm, mode of use and
 * exportability for its `KeyUsage`, plus a proprietary optional block (id "10", X9.143 reserves
 * numeric ids for proprietary use) naming the qiandao usage, because TMK/ZMK (both K0) and
 * PIK/ZPK (both P0) share TR-31 codes but not policy:
 *
 *   usage  TR-31  mode  export  algorithm / length (bytes)
 *   TMK    K0     B     E       TDES 16/24, AES 16/24/32   carries PIK, MAK, TDK
 *   ZMK    K0     B     N       TDES 16/24, AES 16/24/32   carries TMK, ZPK, MAK, TDK (+ PVK, BDK on import)
 *   PIK    P0     B     E       TDES 8/16/24 (formats 0/1/3), AES 16/24/32 (format 4)
 *   ZPK    P0     B     E       same as PIK
 *   MAK    M1     C     E       single DES 8: X9.9, UnionPay ECB MAC (ISO 9797-1 algorithm 1)
 *          M3     C     E       TDES 16: X9.19, UnionPay ECB MAC (ISO 9797-1 algorithm 3)
 *          M6     C     E       AES 16/24/32: AES-CMAC (ISO 9797-1:2011 algorithm 5)
 *   TDK    D0     B     E       TDES 8/16/24, AES 16/24/32
 *   PVK    V2     C     N       TDES 16 (Visa PVK pair)
 *   BDK    B0     X     N       TDES 16/24, AES 16/24/32
 *   FPK    M7     G     N       HMAC (algorithm H) 32: PAN fingerprints (HMAC-SHA-256)
 *
 * Every operation unwraps the block (authenticator checked first), checks the qiandao usage and
 * calls `assertUsage` with the operation's mode (E/D/G/V) and algorithm, and wipes the clear key
 * in `finally`. The public fields of a `WrappedKey` are advisory: only the block is trusted.
 *
 * Errors are `CryptoError`s (USAGE_MISMATCH, BAD_KEY_BLOCK, BAD_LMK, KCV_MISMATCH, ...) whose
 * messages never contain keys, PINs, PANs or the LMK.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CipherError, decrypt, encrypt, toHex, wipe } from '../cipher.js';
import { combineComponents } from '../components.js';
import { CryptoError, type CryptoErrorReason } from '../errors.js';
import { kcv as computeKcv, requireKcv } from '../kcv.js';
import { aesCmac, macX919, macX99, unionPayMac, verifyAesCmac, verifyMacX919, verifyMacX99, verifyUnionPayMac } from '../mac.js';
import { hashPassword, verifyPassword } from '../password.js';
import { decryptPinBlock, encryptPinBlock } from '../pinblock.js';
import { verifyVisaPvv, visaPvv } from '../pvv.js';
import { randomKey } from '../random.js';
import {
  KeyBlockError,
  KeyBlockProtectionKey,
  assertUsage,
  parseHeader,
  unwrap,
  wrap,
  type Exportability,
  type KeyAlgorithm as Tr31Algorithm,
  type KeyBlockHeader,
  type KeyUsage as Tr31Usage,
  type ModeOfUse,
} from '../tr31/index.js';
import type {
  ExportedKey,
  Hsm,
  KeyAlgorithm,
  KeySpec,
  KeyUsage,
  MacAlgorithm,
  PinBlockFormat,
  WrappedKey,
} from './hsm.js';
import { clearBlockFromDigits, digitsFromClearBlock, digitsFromFormat4, format4FromDigits } from './pin-digits.js';

/** Where log lines go. Never receives key, PIN, PAN or LMK material. */
export interface HsmLogger {
  warn(msg: string): void;
}

export interface SoftHsmOptions {
  /** The LMK as 64 hex digits. Takes precedence over the environment and the file. */
  lmkHex?: string;
  /** Path of a file holding the LMK as hex text ('#' comment lines allowed); should be mode 0600. */
  lmkFile?: string;
  /**
   * Development only: when no LMK is configured, generate one (written to `lmkFile` if given,
   * else kept in memory for this process) and warn loudly. Refused when NODE_ENV=production.
   */
  allowDevLmk?: boolean;
  /** The LMK being retired, as 64 hex digits (or QIANDAO_PREVIOUS_LMK); used only by `rewrap`. */
  previousLmkHex?: string;
  logger?: HsmLogger;
  /** Environment to read QIANDAO_LMK / QIANDAO_PREVIOUS_LMK / NODE_ENV from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Opened key blocks kept in memory, by block text (default 4096; 0: open every block for every
   * operation). A busy host uses the same few blocks per terminal (PIK, MAK) for every request;
   * see docs/hsm.md for what this keeps in memory.
   */
  openedKeyCache?: number;
}

export type LmkSource = 'option' | 'env' | 'file' | 'dev-file' | 'dev-memory';

/** Proprietary optional block carrying the qiandao key usage. */
const USAGE_BLOCK_ID = '10';

interface Policy {
  mode: ModeOfUse;
  exportability: Exportability;
  tdes: readonly number[];
  aes: readonly number[];
  hmac: readonly number[];
}

const KEK_LENGTHS = { tdes: [16, 24], aes: [16, 24, 32], hmac: [] } as const;
const POLICY: Record<KeyUsage, Policy> = {
  TMK: { mode: 'B', exportability: 'E', ...KEK_LENGTHS },
  ZMK: { mode: 'B', exportability: 'N', ...KEK_LENGTHS },
  PIK: { mode: 'B', exportability: 'E', tdes: [8, 16, 24], aes: [16, 24, 32], hmac: [] },
  ZPK: { mode: 'B', exportability: 'E', tdes: [8, 16, 24], aes: [16, 24, 32], hmac: [] },
  MAK: { mode: 'C', exportability: 'E', tdes: [8, 16], aes: [16, 24, 32], hmac: [] },
  TDK: { mode: 'B', exportability: 'E', tdes: [8, 16, 24], aes: [16, 24, 32], hmac: [] },
  PVK: { mode: 'C', exportability: 'N', tdes: [16], aes: [], hmac: [] },
  BDK: { mode: 'X', exportability: 'N', tdes: [16, 24], aes: [16, 24, 32], hmac: [] },
  FPK: { mode: 'G', exportability: 'N', tdes: [], aes: [], hmac: [32] },
};

/** What a key-encrypting key may carry out of (export) or into (import) the HSM. */
const EXPORTABLE_UNDER: Record<'TMK' | 'ZMK', readonly KeyUsage[]> = {
  TMK: ['PIK', 'MAK', 'TDK'],
  ZMK: ['TMK', 'ZPK', 'MAK', 'TDK'],
};
const IMPORTABLE_UNDER: Record<'TMK' | 'ZMK', readonly KeyUsage[]> = {
  TMK: ['PIK', 'MAK', 'TDK'],
  ZMK: ['TMK', 'ZPK', 'MAK', 'TDK', 'PVK', 'BDK'],
};

const MAC_RULES: Record<MacAlgorithm, { codes: readonly Tr31Usage[]; algorithms: readonly Tr31Algorithm[] }> = {
  'x9.9': { codes: ['M1'], algorithms: ['D'] },
  'x9.19': { codes: ['M3'], algorithms: ['T'] },
  'cup-ecb': { codes: ['M1', 'M3'], algorithms: ['D', 'T'] },
  'aes-cmac': { codes: ['M6'], algorithms: ['A'] },
};

const USAGES = Object.keys(POLICY) as KeyUsage[];
const TDES_ALGS: readonly Tr31Algorithm[] = ['D', 'T'];
const AES_ALGS: readonly Tr31Algorithm[] = ['A'];

function isUsage(u: unknown): u is KeyUsage {
  return typeof u === 'string' && (USAGES as string[]).includes(u);
}

function tr31Usage(usage: KeyUsage, alg: KeyAlgorithm, length: number): Tr31Usage {
  switch (usage) {
    case 'TMK':
    case 'ZMK':
      return 'K0';
    case 'PIK':
    case 'ZPK':
      return 'P0';
    case 'MAK':
      return alg === 'aes' ? 'M6' : length === 8 ? 'M1' : 'M3';
    case 'TDK':
      return 'D0';
    case 'PVK':
      return 'V2';
    case 'BDK':
      return 'B0';
    case 'FPK':
      return 'M7';
  }
}

function tr31Algorithm(alg: KeyAlgorithm, length: number): Tr31Algorithm {
  return alg === 'aes' ? 'A' : alg === 'hmac' ? 'H' : length === 8 ? 'D' : 'T';
}

/** The algorithm a TR-31 algorithm code stands for (only those SoftHsm makes). */
function algorithmOf(code: Tr31Algorithm): KeyAlgorithm {
  return code === 'A' ? 'aes' : code === 'H' ? 'hmac' : 'tdes';
}

/**
 * Key check value of a clear key: TDES and AES as src/crypto/kcv.ts (zero block; AES-CMAC). An
 * HMAC key has no block cipher to encrypt zeros with: its check value is the first bytes (5 by
 * default) of HMAC-SHA-256 over 32 zero bytes (a qiandao convention, stated in docs/hsm.md).
 */
function keyCheck(key: Buffer, algorithm: KeyAlgorithm, length?: number): Buffer {
  if (algorithm !== 'hmac') return computeKcv(key, { alg: algorithm, ...(length !== undefined ? { length } : {}) });
  const n = length ?? 5;
  if (!Number.isInteger(n) || n < 1 || n > 32) fail('BAD_INPUT', `KCV length must be 1..32 bytes, got ${n}`);
  return createHmac('sha256', key).update(Buffer.alloc(32)).digest().subarray(0, n);
}

function fail(reason: CryptoErrorReason, message: string): never {
  throw new CryptoError(reason, message);
}

function checkSpec(spec: KeySpec): void {
  if (!spec || typeof spec !== 'object') fail('BAD_INPUT', 'key spec is required');
  if (!isUsage(spec.usage)) fail('BAD_INPUT', 'unknown key usage');
  if (spec.algorithm !== 'tdes' && spec.algorithm !== 'aes' && spec.algorithm !== 'hmac') fail('BAD_INPUT', 'key algorithm must be tdes, aes or hmac');
  const allowed = POLICY[spec.usage][spec.algorithm];
  if (!allowed.includes(spec.length)) {
    fail('BAD_KEY_LENGTH', `a ${spec.algorithm} ${spec.usage} must be ${allowed.length ? allowed.join(', ') + ' bytes' : 'another algorithm'}, not ${String(spec.length)}`);
  }
}

function checkBuffer(b: unknown, what: string): asserts b is Buffer {
  if (!(b instanceof Uint8Array)) fail('BAD_INPUT', `${what} must be a Buffer`);
}

function checkFormat(f: unknown): asserts f is PinBlockFormat {
  if (f !== 0 && f !== 1 && f !== 3 && f !== 4) fail('BAD_FORMAT', 'PIN block format must be 0, 1, 3 or 4');
}

/** Turn lower-layer errors into CryptoErrors with HSM reasons; messages are already secret-free. */
function mapError(e: unknown): unknown {
  if (e instanceof CryptoError) return e;
  if (e instanceof KeyBlockError) {
    const usage = e.code === 'USAGE_MISMATCH' || e.code === 'MODE_MISMATCH' || e.code === 'ALGORITHM_MISMATCH';
    return new CryptoError(usage ? 'USAGE_MISMATCH' : 'BAD_KEY_BLOCK', usage ? `key not permitted for this operation: ${e.message}` : `key block refused: ${e.message}`);
  }
  if (e instanceof CipherError) return new CryptoError('BAD_INPUT', e.message);
  return e;
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw mapError(e);
  }
}

function parseLmkHex(text: string, what: string): Buffer {
  const hex = text
    .split(/\r?\n/)
    .filter((l) => !l.trim().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  if (!/^[0-9A-Fa-f]{64}$/.test(hex)) fail('BAD_LMK', `${what} must be 64 hex digits (an AES-256 key)`);
  return Buffer.from(hex, 'hex');
}

function errnoCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'unknown error';
}

interface Opened {
  key: Buffer;
  header: KeyBlockHeader;
  usage: KeyUsage;
  algorithm: KeyAlgorithm;
}

interface Requirement {
  /** qiandao usages accepted. */
  usages: readonly KeyUsage[];
  /** Operation for assertUsage; null when the key is not being used (KCV, export, rewrap). */
  op: 'E' | 'D' | 'G' | 'V' | 'X' | null;
  /** TR-31 usage codes accepted; default: the code the key's qiandao usage maps to. */
  codes?: readonly Tr31Usage[];
  algorithms?: readonly Tr31Algorithm[];
  what: string;
}

const defaultLogger: HsmLogger = { warn: (msg) => console.warn(msg) };

export class SoftHsm implements Hsm {
  #lmk: Buffer;
  /**
   * The LMK as a key block protection key: the TR-31 key-block keys derived from it (KBEK, KBAK
   * and CMAC subkeys) are kept for the life of the HSM instead of being re-derived for every
   * block, and wiped by close() with the LMK. See docs/hsm.md (key material in memory).
   */
  #lmkKbpk: KeyBlockProtectionKey;
  /** Same for the previous LMK (rewrap), created on first use. */
  #previousKbpk: KeyBlockProtectionKey | null = null;
  #previous: Buffer | null;
  #closed = false;
  /** Opened blocks under the current LMK, least recently used first (Map order). */
  readonly #opened = new Map<string, { header: KeyBlockHeader; key: Buffer }>();
  #openedMax = 4096;
  /** KCV of the LMK (AES-CMAC, 5 bytes, hex): safe to show; identifies which LMK is loaded. */
  readonly lmkKcv: string;
  /** KCV of the previous LMK when one was given, else null. */
  readonly previousLmkKcv: string | null;
  readonly lmkSource: LmkSource;

  private constructor(lmk: Buffer, previous: Buffer | null, source: LmkSource) {
    this.#lmk = lmk;
    this.#lmkKbpk = new KeyBlockProtectionKey(lmk);
    this.#previous = previous;
    this.lmkSource = source;
    this.lmkKcv = toHex(computeKcv(lmk, { alg: 'aes' }));
    this.previousLmkKcv = previous ? toHex(computeKcv(previous, { alg: 'aes' })) : null;
  }

  /** A fresh random LMK as 64 upper-case hex digits (for the CLI's LMK generation). */
  static generateLmk(): string {
    const k = randomBytes(32);
    const hex = toHex(k);
    wipe(k);
    return hex;
  }

  /** Open a SoftHsm; see {@link SoftHsmOptions} for where the LMK comes from. */
  static async open(opts: SoftHsmOptions = {}): Promise<SoftHsm> {
    if (opts.openedKeyCache !== undefined && (!Number.isInteger(opts.openedKeyCache) || opts.openedKeyCache < 0)) {
      fail('BAD_INPUT', 'openedKeyCache must be a non-negative integer');
    }
    const logger = opts.logger ?? defaultLogger;
    const env = opts.env ?? process.env;
    let lmk: Buffer;
    let source: LmkSource;
    const envLmk = env['QIANDAO_LMK'];
    if (opts.lmkHex !== undefined) {
      lmk = parseLmkHex(opts.lmkHex, 'lmkHex');
      source = 'option';
    } else if (envLmk !== undefined && envLmk !== '') {
      lmk = parseLmkHex(envLmk, 'QIANDAO_LMK');
      source = 'env';
    } else if (opts.lmkFile !== undefined) {
      const loaded = await SoftHsm.#readLmkFile(opts.lmkFile, logger);
      if (loaded) {
        lmk = loaded;
        source = 'file';
      } else {
        SoftHsm.#checkDevAllowed(opts, env);
        lmk = await SoftHsm.#createDevLmkFile(opts.lmkFile, logger);
        source = 'dev-file';
      }
    } else {
      SoftHsm.#checkDevAllowed(opts, env);
      lmk = randomBytes(32);
      source = 'dev-memory';
    }
    const prevHex = opts.previousLmkHex ?? env['QIANDAO_PREVIOUS_LMK'];
    const previous = prevHex !== undefined && prevHex !== '' ? parseLmkHex(prevHex, 'previous LMK') : null;
    const hsm = new SoftHsm(lmk, previous, source);
    if (opts.openedKeyCache !== undefined) hsm.#openedMax = opts.openedKeyCache;
    if (source === 'dev-memory') {
      logger.warn(
        `!!! SoftHsm: DEVELOPMENT LMK generated in memory (KCV ${hsm.lmkKcv}). Keys wrapped under it are lost when ` +
          'the process exits. Never use this in production: set QIANDAO_LMK or an lmkFile. !!!',
      );
    } else if (source === 'dev-file') {
      logger.warn(
        `!!! SoftHsm: DEVELOPMENT LMK generated and written to ${opts.lmkFile ?? ''} (KCV ${hsm.lmkKcv}). Every stored key is ` +
          'only as safe as that file. Never use a generated development LMK in production: create the LMK under dual ' +
          'control and pass it via QIANDAO_LMK or a protected (0600) lmkFile. !!!',
      );
    }
    return hsm;
  }

  static #checkDevAllowed(opts: SoftHsmOptions, env: Readonly<Record<string, string | undefined>>): void {
    if (!opts.allowDevLmk) {
      fail('BAD_LMK', 'no LMK configured: set QIANDAO_LMK, pass lmkHex, or give an existing lmkFile (allowDevLmk generates one for development)');
    }
    if (env['NODE_ENV'] === 'production') fail('BAD_LMK', 'allowDevLmk is refused when NODE_ENV=production');
  }

  static async #readLmkFile(path: string, logger: HsmLogger): Promise<Buffer | null> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return null;
      fail('BAD_LMK', `cannot read the LMK file (${errnoCode(e)})`);
    }
    if (process.platform !== 'win32') {
      const st = await stat(path);
      if ((st.mode & 0o077) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
        logger.warn(`SoftHsm: LMK file ${path} is accessible to group or others (mode ${mode}); restrict it with chmod 600`);
      }
    }
    return parseLmkHex(text, 'LMK file');
  }

  static async #createDevLmkFile(path: string, logger: HsmLogger): Promise<Buffer> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const lmk = randomBytes(32);
    const text = `# qiandao SoftHsm DEVELOPMENT LMK (AES-256). Not for production.\n${toHex(lmk)}\n`;
    try {
      await writeFile(path, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      wipe(lmk);
      // Another process created it first: use theirs.
      if (errnoCode(e) === 'EEXIST') {
        const loaded = await SoftHsm.#readLmkFile(path, logger);
        if (loaded) return loaded;
      }
      fail('BAD_LMK', `cannot write the development LMK file (${errnoCode(e)})`);
    }
    return lmk;
  }

  /** Wipe the LMKs from memory; every later call fails with BAD_LMK. */
  close(): Promise<void> {
    wipe(this.#lmk, this.#previous);
    this.#lmkKbpk.wipe();
    this.#previousKbpk?.wipe();
    this.#previousKbpk = null;
    for (const e of this.#opened.values()) wipe(e.key);
    this.#opened.clear();
    this.#previous = null;
    this.#closed = true;
    return Promise.resolve();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  #currentLmk(): Buffer {
    if (this.#closed) fail('BAD_LMK', 'the HSM is closed');
    return this.#lmk;
  }

  /** The current LMK with its cached key-block keys, for wrap / unwrap. */
  #currentKbpk(): KeyBlockProtectionKey {
    if (this.#closed) fail('BAD_LMK', 'the HSM is closed');
    return this.#lmkKbpk;
  }

  #previousLmkKbpk(): KeyBlockProtectionKey | null {
    if (this.#previous === null) return null;
    this.#previousKbpk ??= new KeyBlockProtectionKey(this.#previous);
    return this.#previousKbpk;
  }

  #wrapNew(usage: KeyUsage, algorithm: KeyAlgorithm, key: Buffer): WrappedKey {
    const block = wrap(
      this.#currentKbpk(),
      {
        version: 'D',
        usage: tr31Usage(usage, algorithm, key.length),
        algorithm: tr31Algorithm(algorithm, key.length),
        modeOfUse: POLICY[usage].mode,
        exportability: POLICY[usage].exportability,
        optionalBlocks: [{ id: USAGE_BLOCK_ID, data: usage }],
      },
      key,
    );
    // A key is usually used soon after it is made (a sign-on exports its new working keys at once,
    // and the terminal's first MACs follow): remember it as opened, so that costs no unwrap.
    this.#remember(block, parseHeader(block).header, key);
    return describe(usage, algorithm, key, block);
  }

  /** Validate a block's qiandao usage against its TR-31 header (both are under the LMK's MAC). */
  static #usageOf(header: KeyBlockHeader, keyLength: number): { usage: KeyUsage; algorithm: KeyAlgorithm } {
    const blocks = header.optionalBlocks.filter((b) => b.id === USAGE_BLOCK_ID);
    const usage = blocks[0]?.data;
    if (blocks.length !== 1 || !isUsage(usage)) fail('BAD_KEY_BLOCK', 'key block carries no qiandao key usage');
    const algorithm = algorithmOf(header.algorithm);
    const p = POLICY[usage];
    const consistent =
      (header.algorithm === 'A' || header.algorithm === 'T' || header.algorithm === 'D' || header.algorithm === 'H') &&
      header.algorithm === tr31Algorithm(algorithm, keyLength) &&
      p[algorithm].includes(keyLength) &&
      header.usage === tr31Usage(usage, algorithm, keyLength) &&
      header.modeOfUse === p.mode &&
      header.exportability === p.exportability;
    if (!consistent) fail('BAD_KEY_BLOCK', 'key block header is inconsistent with its qiandao key usage');
    return { usage, algorithm };
  }

  /**
   * Open a block under the current LMK: from the cache of opened blocks when it is there (a block
   * text opens to the same key and header every time: its authenticator was checked when it was
   * first opened), else unwrapped and cached. Returns a copy of the key for the caller to wipe.
   */
  #open(block: string): { header: KeyBlockHeader; key: Buffer } {
    const kbpk = this.#currentKbpk();
    const hit = this.#opened.get(block);
    if (hit !== undefined) {
      this.#opened.delete(block);
      this.#opened.set(block, hit);
      return { header: hit.header, key: Buffer.from(hit.key) };
    }
    const opened = unwrap(kbpk, block);
    this.#remember(block, opened.header, opened.key);
    return opened;
  }

  /**
   * Cache `block` as opened to `header` and (a copy of) `key`: only for a block whose authenticator
   * was just checked (#open) or that this HSM just made under its current LMK (#wrapNew).
   */
  #remember(block: string, header: KeyBlockHeader, key: Buffer): void {
    if (this.#openedMax <= 0 || this.#opened.has(block)) return;
    // Callers get this header object on every hit: frozen, so none can alter what the next sees.
    for (const b of header.optionalBlocks) Object.freeze(b);
    Object.freeze(header.optionalBlocks);
    Object.freeze(header);
    this.#opened.set(block, { header, key: Buffer.from(key) });
    if (this.#opened.size > this.#openedMax) {
      const [oldest, entry] = this.#opened.entries().next().value as [string, { key: Buffer }];
      this.#opened.delete(oldest);
      wipe(entry.key);
    }
  }

  /** Unwrap under the current LMK, enforce `req`, and hand the clear key to `fn`; the key is wiped after. */
  #withKey<T>(wk: WrappedKey, req: Requirement, fn: (k: Opened) => T): T {
    if (!wk || typeof wk !== 'object' || typeof wk.block !== 'string') fail('BAD_INPUT', `${req.what} must be a wrapped key`);
    const { header, key } = this.#open(wk.block);
    try {
      const { usage, algorithm } = SoftHsm.#usageOf(header, key.length);
      if (wk.usage !== usage) fail('BAD_KEY_BLOCK', `${req.what}: the key's usage label does not match its block (${usage})`);
      if (!req.usages.includes(usage)) {
        fail('USAGE_MISMATCH', `${req.what} must be a ${req.usages.join('/')} key, not a ${usage}`);
      }
      if (req.op !== null) {
        assertUsage(header, {
          usage: req.codes ?? header.usage,
          modeOfUse: req.op,
          ...(req.algorithms ? { algorithm: req.algorithms } : {}),
        });
      }
      return fn({ key, header, usage, algorithm });
    } finally {
      wipe(key);
    }
  }

  #pinDigits(key: Opened, block: Buffer, format: PinBlockFormat, pan: string): Buffer {
    checkBuffer(block, 'PIN block');
    if (format === 4) return digitsFromFormat4(key.key, block, pan);
    const clear = decryptPinBlock(key.key, block);
    try {
      return digitsFromClearBlock(clear, format, pan);
    } finally {
      wipe(clear);
    }
  }

  #pinBlock(key: Opened, digits: Buffer, format: PinBlockFormat, pan: string): Buffer {
    if (format === 4) return format4FromDigits(key.key, digits, pan);
    const clear = clearBlockFromDigits(digits, format, pan);
    try {
      return encryptPinBlock(key.key, clear);
    } finally {
      wipe(clear);
    }
  }

  #decryptPinWith<T>(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string }, fn: (digits: Buffer) => T): T {
    checkFormat(req.format);
    const digits = this.#withKey(
      req.pik,
      { usages: ['PIK', 'ZPK'], op: 'D', algorithms: req.format === 4 ? AES_ALGS : TDES_ALGS, what: 'PIN key' },
      (k) => this.#pinDigits(k, req.pinBlock, req.format, req.pan),
    );
    try {
      return fn(digits);
    } finally {
      wipe(digits);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Hsm

  async generateKey(spec: KeySpec): Promise<WrappedKey> {
    return guard(() => {
      checkSpec(spec);
      const key = spec.algorithm === 'hmac' ? randomBytes(spec.length) : randomKey(spec.algorithm, spec.length);
      try {
        return this.#wrapNew(spec.usage, spec.algorithm, key);
      } finally {
        wipe(key);
      }
    });
  }

  async importFromComponents(spec: KeySpec, components: readonly Buffer[]): Promise<WrappedKey> {
    return guard(() => {
      checkSpec(spec);
      if (!Array.isArray(components)) fail('BAD_COMPONENTS', 'components must be an array of Buffers');
      if (spec.algorithm === 'hmac') fail('BAD_INPUT', 'an HMAC key is generated in the HSM, not formed from components');
      const key = combineComponents(components, { alg: spec.algorithm });
      try {
        if (key.length !== spec.length) fail('BAD_KEY_LENGTH', `components are ${key.length} bytes, the spec says ${spec.length}`);
        return this.#wrapNew(spec.usage, spec.algorithm, key);
      } finally {
        wipe(key);
      }
    });
  }

  async importUnderKek(spec: KeySpec, kek: WrappedKey, cryptogram: Buffer, expectedKcv?: Buffer): Promise<WrappedKey> {
    return guard(() => {
      checkSpec(spec);
      checkBuffer(cryptogram, 'cryptogram');
      if (expectedKcv !== undefined) checkBuffer(expectedKcv, 'expected KCV');
      return this.#withKey(kek, { usages: ['TMK', 'ZMK'], op: 'D', what: 'KEK' }, (k) => {
        const allowed = IMPORTABLE_UNDER[k.usage as 'TMK' | 'ZMK'];
        if (!allowed.includes(spec.usage)) fail('USAGE_MISMATCH', `a ${k.usage} cannot import a ${spec.usage}`);
        if (cryptogram.length !== spec.length) fail('BAD_KEY_LENGTH', `cryptogram is ${cryptogram.length} bytes, the spec says ${spec.length}`);
        const clear = ecb(false, k, cryptogram);
        try {
          if (expectedKcv !== undefined) requireKcv(clear, expectedKcv, { alg: spec.algorithm === 'hmac' ? fail('USAGE_MISMATCH', 'an HMAC key is not imported under a KEK') : spec.algorithm });
          return this.#wrapNew(spec.usage, spec.algorithm, clear);
        } finally {
          wipe(clear);
        }
      });
    });
  }

  async exportUnderKek(key: WrappedKey, kek: WrappedKey, kcvLength = 4): Promise<ExportedKey> {
    return guard(() =>
      this.#withKey(kek, { usages: ['TMK', 'ZMK'], op: 'E', what: 'KEK' }, (kk) => {
        const allowed = EXPORTABLE_UNDER[kk.usage as 'TMK' | 'ZMK'];
        return this.#withKey(key, { usages: allowed, op: null, what: `key exported under a ${kk.usage}` }, (k) => {
          if (k.header.exportability === 'N') fail('USAGE_MISMATCH', `a ${k.usage} is not exportable`);
          const check = keyCheck(k.key, k.algorithm, kcvLength);
          return { cryptogram: ecb(true, kk, k.key), kcv: check };
        });
      }),
    );
  }

  async kcv(key: WrappedKey, length?: number): Promise<Buffer> {
    return guard(() =>
      this.#withKey(key, { usages: USAGES, op: null, what: 'key' }, (k) =>
        keyCheck(k.key, k.algorithm, length),
      ),
    );
  }

  async generateMac(key: WrappedKey, algorithm: MacAlgorithm, data: Buffer): Promise<Buffer> {
    return guard(() => {
      const rule = macRule(algorithm);
      checkBuffer(data, 'MAC data');
      return this.#withKey(key, { usages: ['MAK'], op: 'G', codes: rule.codes, algorithms: rule.algorithms, what: 'MAC key' }, (k) => {
        switch (algorithm) {
          case 'x9.9':
            return macX99(k.key, data);
          case 'x9.19':
            return macX919(k.key, data);
          case 'cup-ecb':
            return unionPayMac(k.key, data);
          case 'aes-cmac':
            return aesCmac(k.key, data);
        }
      });
    });
  }

  async verifyMac(key: WrappedKey, algorithm: MacAlgorithm, data: Buffer, mac: Buffer): Promise<boolean> {
    return guard(() => {
      const rule = macRule(algorithm);
      checkBuffer(data, 'MAC data');
      checkBuffer(mac, 'MAC');
      return this.#withKey(key, { usages: ['MAK'], op: 'V', codes: rule.codes, algorithms: rule.algorithms, what: 'MAC key' }, (k) => {
        switch (algorithm) {
          case 'x9.9':
            return verifyMacX99(k.key, data, mac);
          case 'x9.19':
            return verifyMacX919(k.key, data, mac);
          case 'cup-ecb':
            return verifyUnionPayMac(k.key, data, mac);
          case 'aes-cmac':
            return verifyAesCmac(k.key, data, mac);
        }
      });
    });
  }

  async translatePin(req: { pinBlock: Buffer; from: WrappedKey; fromFormat: PinBlockFormat; to: WrappedKey; toFormat: PinBlockFormat; pan: string }): Promise<Buffer> {
    return guard(() => {
      checkFormat(req.fromFormat);
      checkFormat(req.toFormat);
      // PCI PIN Security Requirement 3 / ISO 9564-1: a PIN block bound to the PAN (formats 0, 3, 4)
      // must not be translated into format 1, which is not.
      if (req.fromFormat !== 1 && req.toFormat === 1) fail('BAD_FORMAT', `a format ${req.fromFormat} PIN block is not translated to format 1`);
      // The target key is checked before the PIN is decrypted: no PIN is recovered for an
      // operation that cannot complete.
      return this.#withKey(
        req.to,
        { usages: ['PIK', 'ZPK'], op: 'E', algorithms: req.toFormat === 4 ? AES_ALGS : TDES_ALGS, what: 'target PIN key' },
        (to) =>
          this.#decryptPinWith({ pinBlock: req.pinBlock, pik: req.from, format: req.fromFormat, pan: req.pan }, (digits) =>
            this.#pinBlock(to, digits, req.toFormat, req.pan),
          ),
      );
    });
  }

  async pvvFromPinBlock(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string; pvk: WrappedKey; pvki: number }): Promise<string> {
    return guard(() => {
      checkPvvInputs(req.pvki);
      return this.#withKey(req.pvk, { usages: ['PVK'], op: 'G', algorithms: ['T'], what: 'PVK' }, (k) =>
        this.#decryptPinWith(req, (digits) => visaPvv(k.key, { pan: req.pan, pvki: req.pvki, pin: digits })),
      );
    });
  }

  async verifyPinPvv(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string; pvk: WrappedKey; pvki: number; pvv: string }): Promise<boolean> {
    return guard(() => {
      checkPvvInputs(req.pvki, req.pvv);
      return this.#withKey(req.pvk, { usages: ['PVK'], op: 'V', algorithms: ['T'], what: 'PVK' }, (k) =>
        this.#decryptPinWith(req, (digits) => verifyVisaPvv(k.key, { pan: req.pan, pvki: req.pvki, pin: digits, pvv: req.pvv })),
      );
    });
  }

  async verifyPinBlockSecret(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string; stored: string }): Promise<boolean> {
    if (typeof req.stored !== 'string' || !/^scrypt\$/.test(req.stored)) throw new CryptoError('BAD_INPUT', 'stored secret hash is not a scrypt hash');
    // The secret is hashed as ASCII digits ('1234'), the form hashPassword is given when an
    // operator's password is set; the copy is wiped once hashed.
    const digits = guard(() =>
      this.#decryptPinWith(req, (d) => {
        const ascii = Buffer.alloc(d.length);
        for (let i = 0; i < d.length; i++) ascii[i] = 0x30 + (d[i] as number);
        return ascii;
      }),
    );
    try {
      return await verifyPassword(digits, req.stored);
    } catch (e) {
      throw e instanceof RangeError ? new CryptoError('BAD_INPUT', 'stored secret hash is malformed') : mapError(e);
    } finally {
      wipe(digits);
    }
  }

  async hashPinBlockSecret(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string }): Promise<{ stored: string; digits: number }> {
    const digits = guard(() =>
      this.#decryptPinWith(req, (d) => {
        const ascii = Buffer.alloc(d.length);
        for (let i = 0; i < d.length; i++) ascii[i] = 0x30 + (d[i] as number);
        return ascii;
      }),
    );
    try {
      return { stored: await hashPassword(digits), digits: digits.length };
    } finally {
      wipe(digits);
    }
  }

  async panFingerprint(key: WrappedKey, pan: string): Promise<string> {
    return guard(() => {
      if (typeof pan !== 'string' || !/^[0-9]{12,19}$/.test(pan)) fail('BAD_INPUT', 'PAN must be 12 to 19 digits');
      return this.#withKey(key, { usages: ['FPK'], op: 'G', what: 'PAN fingerprint key' }, (k) =>
        createHmac('sha256', k.key).update(pan, 'ascii').digest('hex'),
      );
    });
  }

  /**
   * The PAN fingerprint key of stores made before the key was stored: HKDF-SHA-256 of the LMK
   * (info "qiandao pan fingerprint v1"), the key SoftHsm used to derive on its own. Wrapped (under
   * the current LMK) as an FPK block so that such a store keeps its fingerprints and, from then on,
   * carries the key through an LMK rotation like any other block
   * (src/transactions/pan-fingerprint.ts). `from: 'previous'` derives it from the previous LMK: a
   * rotation of a store whose key was never stored (`qiandao lmk rewrap`).
   */
  async fingerprintKeyFromLmk(from: 'current' | 'previous' = 'current'): Promise<WrappedKey> {
    return guard(() => {
      const lmk = from === 'current' ? this.#currentLmk() : this.#previous;
      if (lmk === null || this.#closed) fail('BAD_LMK', from === 'previous' ? 'no previous LMK is loaded' : 'the HSM is closed');
      const key = Buffer.from(hkdfSync('sha256', lmk, Buffer.alloc(0), 'qiandao pan fingerprint v1', 32));
      try {
        return this.#wrapNew('FPK', 'hmac', key);
      } finally {
        wipe(key);
      }
    });
  }

  async encryptData(key: WrappedKey, data: Buffer, mode: 'ecb' | 'cbc' = 'ecb', iv?: Buffer): Promise<Buffer> {
    return guard(() => this.#data(true, key, data, mode, iv));
  }

  async decryptData(key: WrappedKey, data: Buffer, mode: 'ecb' | 'cbc' = 'ecb', iv?: Buffer): Promise<Buffer> {
    return guard(() => this.#data(false, key, data, mode, iv));
  }

  #data(enc: boolean, key: WrappedKey, data: Buffer, mode: 'ecb' | 'cbc', iv: Buffer | undefined): Buffer {
    checkBuffer(data, 'data');
    if (mode !== 'ecb' && mode !== 'cbc') fail('BAD_INPUT', 'mode must be ecb or cbc');
    if (mode === 'ecb' && iv !== undefined) fail('BAD_INPUT', 'ECB takes no IV');
    if (iv !== undefined) checkBuffer(iv, 'IV');
    return this.#withKey(key, { usages: ['TDK'], op: enc ? 'E' : 'D', what: 'data key' }, (k) =>
      enc ? encrypt(cipherOf(k), mode, k.key, data, iv) : decrypt(cipherOf(k), mode, k.key, data, iv),
    );
  }

  async rewrap(key: WrappedKey): Promise<WrappedKey> {
    return guard(() => {
      if (!key || typeof key !== 'object' || typeof key.block !== 'string') fail('BAD_INPUT', 'key must be a wrapped key');
      const current = this.#currentKbpk();
      let opened: { header: KeyBlockHeader; key: Buffer };
      let underCurrent = true;
      try {
        opened = unwrap(current, key.block);
      } catch (e) {
        const previous = this.#previousLmkKbpk();
        if (!(e instanceof KeyBlockError && e.code === 'MAC_MISMATCH' && previous !== null)) throw e;
        opened = unwrap(previous, key.block);
        underCurrent = false;
      }
      const { header, key: clear } = opened;
      try {
        const { usage, algorithm } = SoftHsm.#usageOf(header, clear.length);
        if (underCurrent) return describe(usage, algorithm, clear, key.block);
        const block = wrap(
          current,
          {
            version: 'D',
            usage: header.usage,
            algorithm: header.algorithm,
            modeOfUse: header.modeOfUse,
            exportability: header.exportability,
            keyVersion: header.keyVersion,
            optionalBlocks: header.optionalBlocks,
          },
          clear,
        );
        return describe(usage, algorithm, clear, block);
      } finally {
        wipe(clear);
      }
    });
  }
}

/** Validate PVV inputs before any PIN is decrypted. */
function checkPvvInputs(pvki: unknown, pvv?: unknown): void {
  if (!Number.isInteger(pvki) || (pvki as number) < 0 || (pvki as number) > 9) fail('BAD_INPUT', 'PVKI must be one decimal digit');
  if (pvv !== undefined && (typeof pvv !== 'string' || !/^[0-9]{4}$/.test(pvv))) fail('BAD_INPUT', 'PVV must be 4 decimal digits');
}

function macRule(algorithm: MacAlgorithm): (typeof MAC_RULES)[MacAlgorithm] {
  const rule = Object.prototype.hasOwnProperty.call(MAC_RULES, algorithm) ? MAC_RULES[algorithm] : undefined;
  if (!rule) fail('BAD_INPUT', 'MAC algorithm must be x9.9, x9.19, cup-ecb or aes-cmac');
  return rule;
}

/** The block cipher of an opened key (usage policy keeps HMAC keys away from ciphers; this makes sure). */
function cipherOf(k: Opened): 'tdes' | 'aes' {
  if (k.algorithm === 'hmac') fail('USAGE_MISMATCH', 'an HMAC key is not a cipher key');
  return k.algorithm;
}

/** ECB under a KEK: TDES for a TDES KEK, AES (key length a multiple of 16) for an AES KEK. */
function ecb(enc: boolean, kek: Opened, data: Buffer): Buffer {
  const alg = cipherOf(kek);
  if (alg === 'aes' && data.length % 16 !== 0) {
    fail('BAD_KEY_LENGTH', `an AES KEK can carry only keys whose length is a multiple of 16 bytes, not ${data.length}`);
  }
  return enc ? encrypt(alg, 'ecb', kek.key, data) : decrypt(alg, 'ecb', kek.key, data);
}

function describe(usage: KeyUsage, algorithm: KeyAlgorithm, key: Buffer, block: string): WrappedKey {
  const check = keyCheck(key, algorithm);
  const wk: WrappedKey = { usage, algorithm, length: key.length, kcv: toHex(check), block };
  wipe(check);
  return Object.freeze(wk);
}
