/**
 * An HSM key the store keeps as its LMK-wrapped block (the journal and console data keys, the PAN
 * fingerprint key; the issuer simulator's ZPK and PVK pair, two keys in one row), made on first use: read it; if there is none, make one in the HSM and insert
 * it unless another process did first (the insert must do nothing on conflict), then read again,
 * so every process ends up with the one stored key. Cached per store handle; a failed load is not
 * cached, so the next call tries again.
 */
import type { WrappedKey } from '../crypto/hsm/hsm.js';
import type { Db } from './db.js';

export interface StoredKeyIo<K = WrappedKey> {
  /** The stored key, or null when there is none yet. */
  read(db: Db): Promise<K | null>;
  /** A new key, made in the HSM. */
  make(): Promise<K>;
  /** Store `key` unless a key is already stored (ON CONFLICT DO NOTHING). */
  insert(db: Db, key: K): Promise<void>;
  /** For the error when the key can be neither read nor stored. */
  what: string;
}

/** The stored key, made and stored first when there is none (not cached). */
export async function loadOrCreate<K>(db: Db, io: StoredKeyIo<K>): Promise<K> {
  const existing = await io.read(db);
  if (existing !== null) return existing;
  await io.insert(db, await io.make());
  const stored = await io.read(db);
  if (stored === null) throw new Error(`${io.what} could not be stored`);
  return stored;
}

/** The key `io` describes, from `cache` when this store handle has loaded it before. */
export function storedKey(cache: WeakMap<Db, Promise<WrappedKey>>, db: Db, io: StoredKeyIo): Promise<WrappedKey> {
  let p = cache.get(db);
  if (p === undefined) {
    p = loadOrCreate(db, io);
    cache.set(db, p);
    p.catch(() => cache.delete(db));
  }
  return p;
}
