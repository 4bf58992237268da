/**
 * The HSM boundary. Callers hold keys only as `WrappedKey`s — TR-31 key blocks under the HSM's
 * local master key (LMK) — and ask the HSM to use them. No method returns a clear key.
 *
 * Methods are async so an adapter for a network HSM or a cloud payment-cryptography service
 * can implement the same interface; callers never need to change.
 *
 * Failures are `CryptoError`s (../errors.ts) with a reason: USAGE_MISMATCH (the key may not be
 * used that way), BAD_KEY_BLOCK (tampered, or not under this HSM's LMK), BAD_LMK, KCV_MISMATCH,
 * BAD_KEY_LENGTH, BAD_FORMAT, BAD_PIN_BLOCK, PAN_MISMATCH, BAD_INPUT... Messages never contain
 * keys, PINs, PANs or the LMK. See docs/hsm.md.
 */
import type { PinBlockFormat } from '../pinblock.js';

/** What a key may be used for; the HSM refuses any other use. */
export type KeyUsage =
  | 'TMK' // terminal master key: encrypts working keys sent to one terminal (TR-31 K0)
  | 'ZMK' // zone master key: key exchange with another institution (K0)
  | 'PIK' // PIN encryption key, terminal side (P0)
  | 'ZPK' // PIN encryption key, zone/issuer side (P0)
  | 'MAK' // MAC key (M1 single-DES X9.9 / M3 TDES X9.19 / M6 AES-CMAC; UnionPay MAC on M1 or M3)
  | 'TDK' // data (track) encryption key (D0)
  | 'PVK' // PIN verification key (V2, Visa PVV)
  | 'BDK' // DUKPT base derivation key (B0)
  | 'FPK'; // PAN fingerprint key: HMAC-SHA-256 over PANs (M7, algorithm H)

export type KeyAlgorithm = 'tdes' | 'aes' | 'hmac';

export interface KeySpec {
  usage: KeyUsage;
  algorithm: KeyAlgorithm;
  /** Key length in bytes: 8 (single DES), 16, 24 (TDES) or 16, 24, 32 (AES); 32 (HMAC). */
  length: 8 | 16 | 24 | 32;
}

/** A key as it exists outside the HSM: an LMK-wrapped key block plus public facts about it. */
export interface WrappedKey {
  readonly usage: KeyUsage;
  readonly algorithm: KeyAlgorithm;
  readonly length: number;
  /** Key check value, upper-case hex (3 bytes for TDES, 5 for AES-CMAC and HMAC), safe to show. */
  readonly kcv: string;
  /** The TR-31 key block under the LMK (ASCII); opaque to callers, safe to store. */
  readonly block: string;
}

/** A key encrypted under a key-encrypting key, for sending to a terminal or another party. */
export interface ExportedKey {
  /** The cryptogram: ECB encryption under the KEK (UnionPay field 62) or a TR-31 block. */
  readonly cryptogram: Buffer;
  /** Check value of the clear key, `kcvLength` bytes (UnionPay sends 4). */
  readonly kcv: Buffer;
}

export type MacAlgorithm = 'x9.9' | 'x9.19' | 'cup-ecb' | 'aes-cmac';
/** ISO 9564-1 PIN block format (the same type as ../pinblock.ts). */
export type { PinBlockFormat } from '../pinblock.js';

export interface Hsm {
  /** Generate a random key of the given spec, returned wrapped under the LMK. */
  generateKey(spec: KeySpec): Promise<WrappedKey>;
  /** Form a key from clear components (key ceremony): XOR, parity, wrap. */
  importFromComponents(spec: KeySpec, components: readonly Buffer[]): Promise<WrappedKey>;
  /** Import a key that arrives encrypted (ECB) under a KEK the HSM already holds. */
  importUnderKek(spec: KeySpec, kek: WrappedKey, cryptogram: Buffer, expectedKcv?: Buffer): Promise<WrappedKey>;
  /** Export a key encrypted under a KEK (ECB), with its check value (first `kcvLength` bytes). */
  exportUnderKek(key: WrappedKey, kek: WrappedKey, kcvLength?: number): Promise<ExportedKey>;
  /** Check value of a key, `length` bytes. */
  kcv(key: WrappedKey, length?: number): Promise<Buffer>;
  generateMac(key: WrappedKey, algorithm: MacAlgorithm, data: Buffer): Promise<Buffer>;
  /** Constant-time comparison; `mac` may be truncated (compared on its own length, ≥ 4 bytes). */
  verifyMac(key: WrappedKey, algorithm: MacAlgorithm, data: Buffer, mac: Buffer): Promise<boolean>;
  /** Re-encrypt a PIN block from one PIN key to another without the PIN leaving the HSM. */
  translatePin(req: {
    pinBlock: Buffer;
    from: WrappedKey;
    fromFormat: PinBlockFormat;
    to: WrappedKey;
    toFormat: PinBlockFormat;
    pan: string;
  }): Promise<Buffer>;
  /** Compute the Visa PVV of a PIN block under a PVK pair (for enrolling test cards). */
  pvvFromPinBlock(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string; pvk: WrappedKey; pvki: number }): Promise<string>;
  /** Verify an encrypted PIN block against a stored Visa PVV. */
  verifyPinPvv(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string; pvk: WrappedKey; pvki: number; pvv: string }): Promise<boolean>;
  encryptData(key: WrappedKey, data: Buffer, mode?: 'ecb' | 'cbc', iv?: Buffer): Promise<Buffer>;
  decryptData(key: WrappedKey, data: Buffer, mode?: 'ecb' | 'cbc', iv?: Buffer): Promise<Buffer>;
  /**
   * Verify a secret (an operator password) that arrives as a PIN block under a PIN key against a
   * stored scrypt hash (../password.ts) — the clear secret exists only inside the HSM. False on
   * a wrong secret; a CryptoError on a malformed block or stored hash.
   */
  verifyPinBlockSecret(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string; stored: string }): Promise<boolean>;
  /**
   * Hash a new secret (an operator password) that arrives as a PIN block under a PIN key, for
   * storing: returns the scrypt hash (../password.ts) and the number of digits (for length rules).
   * The clear secret exists only inside the HSM.
   */
  hashPinBlockSecret(req: { pinBlock: Buffer; pik: WrappedKey; format: PinBlockFormat; pan: string }): Promise<{ stored: string; digits: number }>;
  /**
   * A keyed fingerprint of a PAN: HMAC-SHA-256 under `key` (an FPK), 64 lower-case hex characters.
   * Lets the store and the risk rules match cards without holding PANs. The FPK is a stored key
   * block like any other (src/transactions/pan-fingerprint.ts), so an LMK rotation re-wraps it and
   * the fingerprints stay the same.
   */
  panFingerprint(key: WrappedKey, pan: string): Promise<string>;
  /** Re-wrap a key block from the previous LMK to the current one (LMK rotation). */
  rewrap(key: WrappedKey): Promise<WrappedKey>;
}
