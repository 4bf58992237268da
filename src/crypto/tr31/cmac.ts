/**
 * CMAC (NIST SP 800-38B, equivalently ISO/IEC 9797-1 MAC algorithm 5) over the shared ECB core,
 * plus the ISO/IEC 9797-1 MAC algorithm 1 CBC-MAC that key block versions A and C use.
 * Private to the key-block module.
 */
import { blockSize, encrypt, wipe, type BlockAlgorithm } from '../cipher.js';

/** Left-shift a block by one bit and, if the dropped bit was set, fold in the field constant. */
function doubleBlock(b: Buffer): Buffer {
  const out = Buffer.alloc(b.length);
  let carry = 0;
  for (let i = b.length - 1; i >= 0; i--) {
    const v = b[i]!;
    out[i] = ((v << 1) & 0xff) | carry;
    carry = v >>> 7;
  }
  // Rb: 0x87 for a 128-bit block, 0x1B for a 64-bit block (SP 800-38B section 5.3).
  if (carry) out[out.length - 1]! ^= b.length === 16 ? 0x87 : 0x1b;
  return out;
}

/** The CMAC subkeys K1 and K2 of `key` (SP 800-38B section 6.1). Wipe them when done. */
export function cmacSubkeys(alg: BlockAlgorithm, key: Uint8Array): { k1: Buffer; k2: Buffer } {
  const l = encrypt(alg, 'ecb', key, Buffer.alloc(blockSize(alg)));
  const k1 = doubleBlock(l);
  const k2 = doubleBlock(k1);
  wipe(l);
  return { k1, k2 };
}

/**
 * Full-length CMAC of `msg` under `key` whose subkeys (cmacSubkeys) are already known. The padded
 * message (last block XORed with K1 or K2) goes through one CBC call with a zero IV; the tag is
 * its last block.
 */
export function cmacWithSubkeys(alg: BlockAlgorithm, key: Uint8Array, subkeys: { k1: Uint8Array; k2: Uint8Array }, msg: Uint8Array): Buffer {
  const bs = blockSize(alg);
  const n = msg.length === 0 ? 1 : Math.ceil(msg.length / bs);
  const complete = msg.length > 0 && msg.length % bs === 0;
  const m = Buffer.alloc(n * bs);
  m.set(msg);
  const tailStart = (n - 1) * bs;
  if (!complete) m[msg.length] = 0x80;
  const sub = complete ? subkeys.k1 : subkeys.k2;
  for (let i = 0; i < bs; i++) m[tailStart + i]! ^= sub[i]!;
  const cbc = encrypt(alg, 'cbc', key, m, Buffer.alloc(bs));
  const t = Buffer.from(cbc.subarray(tailStart));
  wipe(m, cbc);
  return t;
}

/** Full-length CMAC of `msg` under `key` with the given block cipher. */
export function cmac(alg: BlockAlgorithm, key: Uint8Array, msg: Uint8Array): Buffer {
  const subkeys = cmacSubkeys(alg, key);
  try {
    return cmacWithSubkeys(alg, key, subkeys, msg);
  } finally {
    wipe(subkeys.k1, subkeys.k2);
  }
}

/** ISO/IEC 9797-1 MAC algorithm 1 (plain CBC-MAC, no padding: input must be block-aligned). */
export function cbcMac(alg: BlockAlgorithm, key: Uint8Array, msg: Uint8Array): Buffer {
  const bs = blockSize(alg);
  const ct = encrypt(alg, 'cbc', key, msg, Buffer.alloc(bs));
  const mac = Buffer.from(ct.subarray(ct.length - bs));
  wipe(ct);
  return mac;
}
