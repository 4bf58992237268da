/** Shared set-up for the issuer simulator tests: a SoftHsm, a simulator and a terminal-side PIN pad. */
import { randomBytes } from 'node:crypto';
import { xor } from '../../src/crypto/cipher.js';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import type { WrappedKey } from '../../src/crypto/hsm/hsm.js';
import type { IssuerReference, IssuerRequest } from '../../src/issuer/issuer.js';
import { terminalPinBlock } from '../../src/terminal/card.js';

export const LMK = '0f'.repeat(32);

export async function openHsm(): Promise<SoftHsm> {
  return SoftHsm.open({ lmkHex: LMK, env: {}, logger: { warn: () => {} } });
}

/**
 * A terminal PIN key as the acquirer's HSM holds it, plus its clear value (the PIN pad's copy):
 * formed from two random components so the test knows the clear key.
 */
export async function terminalPik(hsm: SoftHsm): Promise<{ wrapped: WrappedKey; clear: Buffer }> {
  const c1 = randomBytes(16);
  const c2 = randomBytes(16);
  const wrapped = await hsm.importFromComponents({ usage: 'PIK', algorithm: 'tdes', length: 16 }, [c1, c2]);
  return { wrapped, clear: xor(c1, c2) };
}

/** What the acquirer sends the issuer: the PIN pad's block translated from the terminal PIK to the issuer ZPK. */
export async function pinBlockForIssuer(
  hsm: SoftHsm,
  pik: { wrapped: WrappedKey; clear: Buffer },
  zpk: WrappedKey,
  pin: string,
  pan: string,
): Promise<Buffer> {
  const block = terminalPinBlock(pik.clear, pin, pan);
  return hsm.translatePin({ pinBlock: block, from: pik.wrapped, fromFormat: 0, to: zpk, toFormat: 0, pan });
}

let seq = 0;
/** A fresh acquirer reference (unique RRN and STAN). */
export function reference(over: Partial<IssuerReference> = {}): IssuerReference {
  seq += 1;
  return {
    acquirerId: '00010000',
    merchantNo: '898110070110001',
    terminalNo: '12345678',
    rrn: `${String(process.pid % 1000).padStart(3, '0')}${String(seq).padStart(9, '0')}`,
    stan: String(seq % 1_000_000).padStart(6, '0'),
    at: new Date(),
    ...over,
  };
}

export function request(pan: string, kind: IssuerRequest['kind'], amount: number, over: Partial<IssuerRequest> = {}): IssuerRequest {
  return { kind, reference: reference(), pan, amount, currency: '156', ...over };
}
