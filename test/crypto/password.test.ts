import { describe, expect, it } from 'vitest';
import { buildPinBlock, encryptPinBlock } from '../../src/crypto/pinblock.js';
import { SoftHsm } from '../../src/crypto/hsm/soft-hsm.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { hashPassword, isPasswordHash, needsRehash, verifyPassword } from '../../src/crypto/password.js';

const FAST = { logN: 10, r: 8, p: 1 };

describe('password hashing (scrypt)', () => {
  it('verifies the right secret and refuses a wrong one; salts differ', async () => {
    const a = await hashPassword('correct horse 1');
    const b = await hashPassword('correct horse 1');
    expect(isPasswordHash(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(await verifyPassword('correct horse 1', a)).toBe(true);
    expect(await verifyPassword('correct horse 2', a)).toBe(false);
  });

  it('matches the RFC 7914 section 12 scrypt vector through the stored form', async () => {
    // RFC 7914 §12: scrypt(P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64) =
    // fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162 2eaf30d9... ; PBKDF2's output
    // blocks come in order, so a 32-byte result is the first half.
    const dk32 = Buffer.from('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162', 'hex');
    const stored = `scrypt$10$8$16$${Buffer.from('NaCl').toString('base64url')}$${dk32.toString('base64url')}`;
    expect(await verifyPassword('password', stored)).toBe(true);
    expect(await verifyPassword('Password', stored)).toBe(false);
  });

  it('rejects malformed stored hashes and flags weak parameters for rehash', async () => {
    await expect(verifyPassword('x', 'plain')).rejects.toThrow(RangeError);
    const weak = await hashPassword('x', FAST);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(await hashPassword('x'))).toBe(false);
  });
});

describe('HSM: secrets that arrive as PIN blocks', () => {
  it('verifies an operator password sent as an ISO-0 block under a PIK without revealing it', async () => {
    const hsm = await SoftHsm.open({ lmkHex: '00'.repeat(32) });
    const clearPik = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
    // Two components whose XOR is clearPik (the second is all zero bytes except parity-neutral).
    const c2 = Buffer.from('01010101010101010101010101010101', 'hex');
    const c1 = Buffer.from(clearPik.map((b, i) => b ^ (c2[i] as number)));
    const pik = await hsm.importFromComponents({ usage: 'PIK', algorithm: 'tdes', length: 16 }, [c1, c2]);
    const pan = '0000000000000001';
    const block = encryptPinBlock(clearPik, buildPinBlock({ format: 0, pin: '246810', pan }));
    const stored = await hashPassword('246810');
    expect(await hsm.verifyPinBlockSecret({ pinBlock: block, pik, format: 0, pan, stored })).toBe(true);
    expect(await hsm.verifyPinBlockSecret({ pinBlock: block, pik, format: 0, pan, stored: await hashPassword('246811') })).toBe(false);
    await expect(hsm.verifyPinBlockSecret({ pinBlock: block, pik, format: 0, pan, stored: 'md5$x' })).rejects.toBeInstanceOf(CryptoError);
    const fresh = await hsm.hashPinBlockSecret({ pinBlock: block, pik, format: 0, pan });
    expect(fresh.digits).toBe(6);
    expect(await verifyPassword('246810', fresh.stored)).toBe(true);
    expect(await hsm.verifyPinBlockSecret({ pinBlock: block, pik, format: 0, pan, stored: fresh.stored })).toBe(true);
    const fpk = await hsm.generateKey({ usage: 'FPK', algorithm: 'hmac', length: 32 });
    const fp = await hsm.panFingerprint(fpk, '6225880000000001');
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(await hsm.panFingerprint(fpk, '6225880000000001')).toBe(fp);
    expect(await hsm.panFingerprint(fpk, '6225880000000002')).not.toBe(fp);
    await expect(hsm.panFingerprint(fpk, '12ab')).rejects.toBeInstanceOf(CryptoError);
    // only an FPK makes fingerprints
    await expect(hsm.panFingerprint(pik, '6225880000000001')).rejects.toMatchObject({ reason: 'USAGE_MISMATCH' });
  });
});
