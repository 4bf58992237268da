/**
 * Message authentication on the host side.
 *
 * A MAC'ed UnionPay POS message carries field 64 as its last field; the MAC covers the message
 * from the MTI to the end of the field before 64, i.e. every body byte except the last eight
 * (the bitmap already has bit 64 set). The default algorithm is the UnionPay POS "ECB" MAC
 * (Hsm MacAlgorithm 'cup-ecb'); X9.9 / X9.19 can be chosen per call.
 *
 * Requests are verified with the terminal's current MAC key, then with the previous generation
 * while it is inside the grace window (messages already in flight when the terminal signed on
 * again). Responses are MAC'ed with the key that verified the request.
 */
import type { MacAlgorithm, WrappedKey } from '../crypto/hsm/hsm.js';
import { pack } from '../iso8583/index.js';
import { cupPos } from '../specs/cup-pos.js';
import { currentAndGraceKeys, type CurrentAndGraceKeys, type KeyGeneration, type TerminalRef } from '../store/index.js';
import type { CupPosMessage, HostContext, HostRequest } from './context.js';

export const DEFAULT_MAC_ALGORITHM: MacAlgorithm = 'cup-ecb';
const MAC_LENGTH = 8;

/** The key generation's MAC key as the HSM wants it (only the block is trusted). */
export function macKeyOf(keys: KeyGeneration): WrappedKey {
  return { usage: 'MAK', algorithm: 'tdes', length: 8, kcv: keys.makKcv.toUpperCase(), block: keys.makBlock };
}

/** The key generation's PIN key as the HSM wants it. */
export function pinKeyOf(keys: KeyGeneration): WrappedKey {
  return { usage: 'PIK', algorithm: 'tdes', length: keys.scheme === '001' ? 8 : 16, kcv: keys.pikKcv.toUpperCase(), block: keys.pikBlock };
}

/** What a MAC covers: the body without its trailing field 64. */
export function macData(body: Buffer): Buffer {
  return body.subarray(0, body.length - MAC_LENGTH);
}

export type MacCheck =
  | {
      ok: true;
      /** The generation whose MAK verified the request: use its keys (PIK, MAK) for this exchange. */
      keys: KeyGeneration;
      /** True when the previous generation (grace window) verified it. */
      grace: boolean;
      mak: WrappedKey;
    }
  | {
      ok: false;
      reason: 'no-mac' | 'no-keys' | 'mismatch';
    };

/**
 * Verify field 64 of `req` for terminal `ref`. Never throws for a wrong or missing MAC (that is a
 * result); HSM or store failures propagate.
 */
export async function verifyRequestMac(
  ctx: HostContext,
  req: HostRequest,
  ref: TerminalRef,
  algorithm: MacAlgorithm = DEFAULT_MAC_ALGORITHM,
  /** The terminal's keys when already read (authorize with `withKeys`); otherwise read here. */
  preloaded?: CurrentAndGraceKeys,
): Promise<MacCheck> {
  let mac: Buffer | undefined;
  try {
    mac = req.message.get(64);
  } catch {
    mac = undefined;
  }
  if (mac === undefined || mac.length !== MAC_LENGTH || req.body.length <= MAC_LENGTH) return { ok: false, reason: 'no-mac' };
  const { current, previous } = preloaded ?? (await currentAndGraceKeys(ctx.db, ref, ctx.graceSeconds));
  if (current === null) return { ok: false, reason: 'no-keys' };
  const data = macData(req.body);
  for (const keys of previous === null ? [current] : [current, previous]) {
    const mak = macKeyOf(keys);
    if (await ctx.hsm.verifyMac(mak, algorithm, data, mac)) return { ok: true, keys, grace: keys !== current, mak };
  }
  return { ok: false, reason: 'mismatch' };
}

/** Set field 64 of `rsp` to its MAC under `mak` (the message is packed to compute it). */
export async function macResponse(
  ctx: HostContext,
  rsp: CupPosMessage,
  mak: WrappedKey,
  algorithm: MacAlgorithm = DEFAULT_MAC_ALGORITHM,
): Promise<void> {
  rsp.set(64, Buffer.alloc(MAC_LENGTH));
  const body = pack(cupPos, rsp);
  const mac = await ctx.hsm.generateMac(mak, algorithm, macData(body));
  rsp.set(64, mac.subarray(0, MAC_LENGTH));
}
