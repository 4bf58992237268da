/**
 * Password and passcode hashing: scrypt (RFC 7914), a salted, memory-hard function, as PCI DSS
 * v4 8.3.2 and OWASP ask for stored credentials. Used for back-office users' passwords and POS
 * operators' passwords (the latter verified inside the HSM, see Hsm.verifyPinBlockSecret).
 *
 * Stored form (self-describing, so parameters can be raised later and old hashes still verify):
 *   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  r: number;
  p: number;
}

/** N = 2^15, r = 8, p = 1: 32 MiB and tens of milliseconds per hash (OWASP's scrypt minimum is N = 2^17 with r = 8 p = 1, or equivalents; 2^15 keeps an 8 a.m. cashier sign-on storm affordable). */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ logN: 15, r: 8, p: 1 });

const HASH_BYTES = 32;
const SALT_BYTES = 16;
const STORED_RE = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{4,88})\$([A-Za-z0-9_-]{40,88})$/;

function derive(secret: Buffer | string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const opts: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function checkParams(params: ScryptParams): void {
  const ok = Number.isInteger(params.logN) && params.logN >= 10 && params.logN <= 22 && Number.isInteger(params.r) && params.r >= 1 && params.r <= 32 && Number.isInteger(params.p) && params.p >= 1 && params.p <= 16;
  if (!ok) throw new RangeError('scrypt parameters out of range (logN 10..22, r 1..32, p 1..16)');
}

/** Hash `secret` with a fresh random salt; returns the stored form. */
export async function hashPassword(secret: Buffer | string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, params);
  return `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** True when `stored` looks like a hash this module wrote. */
export function isPasswordHash(stored: string): boolean {
  return STORED_RE.test(stored);
}

/**
 * Check `secret` against a stored hash in constant time. A malformed stored value is an error
 * (RangeError), never a match.
 */
export async function verifyPassword(secret: Buffer | string, stored: string): Promise<boolean> {
  const m = STORED_RE.exec(stored);
  if (!m) throw new RangeError('not a qiandao password hash');
  const params: ScryptParams = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  checkParams(params);
  const salt = Buffer.from(m[4] as string, 'base64url');
  const expected = Buffer.from(m[5] as string, 'base64url');
  const actual = await derive(secret, salt, params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** True when a stored hash was made with weaker parameters than `params` (re-hash on next sign-in). */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const m = STORED_RE.exec(stored);
  if (!m) return true;
  return Number(m[1]) < params.logN || Number(m[2]) < params.r || Number(m[3]) < params.p;
}
