/**
 * The terminal master key as the HSM wants it. The terminals row keeps only the LMK-wrapped key
 * block (tmk_block) and its check value (tmk_kcv); the other WrappedKey fields are fixed by policy:
 * a TMK on UnionPay POS is a double-length TDES key. The HSM trusts only the block (it carries the
 * usage, algorithm and length under the LMK's authenticator) and refuses a block that is not a TMK.
 */
import type { WrappedKey } from '../crypto/hsm/hsm.js';
import type { Terminal } from '../store/index.js';

/** The terminal's TMK as a WrappedKey, or null when none is loaded. */
export function terminalTmk(terminal: Terminal): WrappedKey | null {
  if (terminal.tmkBlock === null || terminal.tmkKcv === null) return null;
  return { usage: 'TMK', algorithm: 'tdes', length: 16, kcv: terminal.tmkKcv.toUpperCase(), block: terminal.tmkBlock };
}
