import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt, fromHex, tdesCbcEncrypt, tdesEcbDecrypt, tdesEcbEncrypt, toHex, xor } from '../../src/crypto/cipher.js';
import { combineComponents } from '../../src/crypto/components.js';
import { CryptoError, type CryptoErrorReason } from '../../src/crypto/errors.js';
import { kcv } from '../../src/crypto/kcv.js';
import { aesCmac, macX919, macX99, unionPayMac, unionPayMacFold } from '../../src/crypto/mac.js';
import { buildPinBlock, decryptPinBlock, encryptPinBlock, parsePinBlock, parsePinBlockFormat4, buildPinBlockFormat4 } from '../../src/crypto/pinblock.js';
import { visaPvv } from '../../src/crypto/pvv.js';
import { unwrap, wrap } from '../../src/crypto/tr31/index.js';
import { SoftHsm, type KeySpec, type WrappedKey } from '../../src/crypto/hsm/index.js';
import * as cryptoApi from '../../src/crypto/index.js';

// Test LMKs (AES-256). Never use these anywhere else.
const LMK1 = '6B1A2F0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C1D0E9F8A7B6C5D4E3F2A';
const LMK2 = 'A1B2C3D4E5F60718293A4B5C6D7E8F90112233445566778899AABBCCDDEEFF00';

const TDES8 = (usage: KeySpec['usage']): KeySpec => ({ usage, algorithm: 'tdes', length: 8 });
const TDES16 = (usage: KeySpec['usage']): KeySpec => ({ usage, algorithm: 'tdes', length: 16 });
const AES16 = (usage: KeySpec['usage']): KeySpec => ({ usage, algorithm: 'aes', length: 16 });

// Key components chosen by the test, so the test knows every clear key.
const TMK_C1 = fromHex('0123456789ABCDEFFEDCBA9876543210');
const TMK_C2 = fromHex('89ABCDEF01234567F1E2D3C4B5A69788');
const TMK_CLEAR = combineComponents([TMK_C1, TMK_C2]);
// Single-length MAK 0123456789ABCDEF = 1032547698BADCFE xor 1111111111111111 (already odd parity).
const MAK8_CLEAR = fromHex('0123456789ABCDEF');
const MAK8_C = [xor(MAK8_CLEAR, fromHex('1111111111111111')), fromHex('1111111111111111')];
const MAK16_C = [fromHex('2A3B4C5D6E7F8091A2B3C4D5E6F70819'), fromHex('1F2E3D4C5B6A7988978675645342312F')];
const MAK16_CLEAR = combineComponents(MAK16_C);
const MAKAES_C = [fromHex('000102030405060708090A0B0C0D0E0F'), fromHex('F0E0D0C0B0A090807060504030201000')];
const MAKAES_CLEAR = combineComponents(MAKAES_C, { alg: 'aes' });
const PIK_C = [fromHex('1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A'), fromHex('0123456789ABCDEF0123456789ABCDEF')];
const PIK_CLEAR = combineComponents(PIK_C);
const ZPK_C = [fromHex('3E3E3E3E3E3E3E3E4C4C4C4C4C4C4C4C'), fromHex('FEDCBA9876543210FEDCBA9876543210')];
const ZPK_CLEAR = combineComponents(ZPK_C);
const ZPKAES_C = [fromHex('00112233445566778899AABBCCDDEEFF'), fromHex('0F1E2D3C4B5A69788796A5B4C3D2E1F0')];
const ZPKAES_CLEAR = combineComponents(ZPKAES_C, { alg: 'aes' });
// psec's PVK pair (odd parity, so combining does not change it).
const PVK_CLEAR = fromHex('0123456789ABCDEFFEDCBA9876543210');
const PVK_C = [xor(PVK_CLEAR, fromHex('5A5A5A5A5A5A5A5AA5A5A5A5A5A5A5A5')), fromHex('5A5A5A5A5A5A5A5AA5A5A5A5A5A5A5A5')];

const PAN = '6212345678901234567';
const PIN = '583719';

interface Captured {
  lines: string[];
  logger: { warn(msg: string): void };
}
function capture(): Captured {
  const lines: string[] = [];
  return { lines, logger: { warn: (m: string) => lines.push(m) } };
}

async function reasonOf(p: Promise<unknown> | (() => Promise<unknown>)): Promise<CryptoErrorReason | 'no-throw' | 'untyped'> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e instanceof CryptoError ? e.reason : 'untyped';
  }
  return 'no-throw';
}

let hsm: SoftHsm;
let tmk: WrappedKey;
beforeAll(async () => {
  hsm = await SoftHsm.open({ lmkHex: LMK1, env: {}, logger: capture().logger });
  tmk = await hsm.importFromComponents(TDES16('TMK'), [TMK_C1, TMK_C2]);
});

describe('SoftHsm: keys and UnionPay field 62 export', () => {
  it('exposes the LMK KCV (AES-CMAC, 5 bytes) and never the LMK', () => {
    expect(hsm.lmkKcv).toBe(toHex(kcv(fromHex(LMK1), { alg: 'aes' })));
    expect(hsm.lmkSource).toBe('option');
    expect(JSON.stringify(hsm)).not.toContain(LMK1);
    expect(Object.keys(hsm).join()).not.toMatch(/lmk$/i);
  });

  it('wraps keys as TR-31 version D blocks bound to their usage', async () => {
    expect(tmk.block.slice(0, 1)).toBe('D');
    expect(tmk.block.slice(5, 12)).toBe('K0TB00E');
    expect(tmk).toMatchObject({ usage: 'TMK', algorithm: 'tdes', length: 16, kcv: toHex(kcv(TMK_CLEAR, { alg: 'tdes' })) });
    const mak = await hsm.generateKey(TDES8('MAK'));
    expect(mak.block.slice(5, 12)).toBe('M1DC00E');
    expect((await hsm.generateKey(TDES16('MAK'))).block.slice(5, 12)).toBe('M3TC00E');
    expect((await hsm.generateKey(AES16('MAK'))).block.slice(5, 12)).toBe('M6AC00E');
    expect((await hsm.generateKey(TDES16('PIK'))).block.slice(5, 12)).toBe('P0TB00E');
    expect((await hsm.generateKey(TDES16('TDK'))).block.slice(5, 12)).toBe('D0TB00E');
    expect((await hsm.generateKey(TDES16('PVK'))).block.slice(5, 12)).toBe('V2TC00N');
    expect((await hsm.generateKey(TDES16('BDK'))).block.slice(5, 12)).toBe('B0TX00N');
    expect((await hsm.generateKey(TDES16('ZMK'))).block.slice(5, 12)).toBe('K0TB00N');
    expect(Object.isFrozen(mak)).toBe(true);
  });

  it('exports PIK (16), MAK (8) and TDK (16) under the TMK; the terminal side decrypts them with the clear TMK', async () => {
    for (const spec of [TDES16('PIK'), TDES8('MAK'), TDES16('TDK')]) {
      const wk = await hsm.generateKey(spec);
      const ex = await hsm.exportUnderKek(wk, tmk);
      expect(ex.cryptogram.length).toBe(spec.length);
      expect(ex.kcv.length).toBe(4);
      // What the terminal does with field 62: ECB-decrypt under its TMK, check the KCV.
      const clear = tdesEcbDecrypt(TMK_CLEAR, ex.cryptogram);
      expect(ex.kcv).toEqual(kcv(clear, { alg: 'tdes', length: 4 }));
      expect(wk.kcv).toBe(toHex(kcv(clear, { alg: 'tdes' })));
      expect(await hsm.kcv(wk, 4)).toEqual(ex.kcv);
      // And back in: the same key under the LMK.
      const back = await hsm.importUnderKek(spec, tmk, ex.cryptogram, ex.kcv);
      expect(back.kcv).toBe(wk.kcv);
      expect(back.block).not.toBe(wk.block);
    }
  });

  it('exports a known single-length MAK byte-exactly (DES KCV of 0123456789ABCDEF is D5D44FF7...)', async () => {
    const mak = await hsm.importFromComponents(TDES8('MAK'), MAK8_C);
    const ex = await hsm.exportUnderKek(mak, tmk);
    expect(ex.cryptogram).toEqual(tdesEcbEncrypt(TMK_CLEAR, MAK8_CLEAR));
    // DES(K=0123456789ABCDEF, 0000000000000000) = D5D44FF720683D0D (classic DES test value).
    expect(toHex(ex.kcv)).toBe('D5D44FF7');
    expect(toHex((await hsm.exportUnderKek(mak, tmk, 3)).kcv)).toBe('D5D44F');
    expect(mak.kcv).toBe('D5D44F');
  });

  it('imports under a KEK: checks the KCV and the KEK policy', async () => {
    const cryptogram = tdesEcbEncrypt(TMK_CLEAR, PIK_CLEAR);
    const good = kcv(PIK_CLEAR, { alg: 'tdes', length: 4 });
    const pik = await hsm.importUnderKek(TDES16('PIK'), tmk, cryptogram, good);
    expect(pik.kcv).toBe(toHex(kcv(PIK_CLEAR, { alg: 'tdes' })));
    const bad = Buffer.from(good);
    bad[0]! ^= 1;
    expect(await reasonOf(hsm.importUnderKek(TDES16('PIK'), tmk, cryptogram, bad))).toBe('KCV_MISMATCH');
    expect(await reasonOf(hsm.importUnderKek(TDES16('PIK'), tmk, cryptogram.subarray(0, 8)))).toBe('BAD_KEY_LENGTH');
    expect(await reasonOf(hsm.importUnderKek(TDES16('PVK'), tmk, cryptogram))).toBe('USAGE_MISMATCH');
    expect(await reasonOf(hsm.importUnderKek(TDES16('ZMK'), tmk, cryptogram))).toBe('USAGE_MISMATCH');
    const zmk = await hsm.generateKey(TDES16('ZMK'));
    expect((await hsm.importUnderKek(TDES16('PVK'), zmk, cryptogram)).usage).toBe('PVK');
  });

  it('ZMK carries a TMK to another party; AES KEKs carry AES keys', async () => {
    const zmk = await hsm.generateKey(TDES16('ZMK'));
    const ex = await hsm.exportUnderKek(tmk, zmk);
    const tmk2 = await hsm.importUnderKek(TDES16('TMK'), zmk, ex.cryptogram, ex.kcv);
    expect(tmk2.kcv).toBe(tmk.kcv);
    const aesTmk = await hsm.generateKey(AES16('TMK'));
    const aesPik = await hsm.generateKey(AES16('PIK'));
    const exAes = await hsm.exportUnderKek(aesPik, aesTmk, 5);
    expect((await hsm.importUnderKek(AES16('PIK'), aesTmk, exAes.cryptogram, exAes.kcv)).kcv).toBe(aesPik.kcv);
    expect(await reasonOf(hsm.exportUnderKek(await hsm.generateKey(TDES8('MAK')), aesTmk))).toBe('BAD_KEY_LENGTH');
  });

  it('importFromComponents checks spec, counts and lengths', async () => {
    expect(await reasonOf(hsm.importFromComponents(TDES16('PIK'), [TMK_C1]))).toBe('BAD_COMPONENTS');
    expect(await reasonOf(hsm.importFromComponents(TDES8('PIK'), [TMK_C1, TMK_C2]))).toBe('BAD_KEY_LENGTH');
    expect(await reasonOf(hsm.importFromComponents(TDES8('TMK'), MAK8_C))).toBe('BAD_KEY_LENGTH');
    expect(await reasonOf(hsm.generateKey({ usage: 'MAK', algorithm: 'tdes', length: 24 }))).toBe('BAD_KEY_LENGTH');
    expect(await reasonOf(hsm.generateKey({ usage: 'PVK', algorithm: 'aes', length: 16 }))).toBe('BAD_KEY_LENGTH');
    expect(await reasonOf(hsm.generateKey({ usage: 'XYZ' as 'TMK', algorithm: 'tdes', length: 16 }))).toBe('BAD_INPUT');
  });
});

describe('SoftHsm: usage binding', () => {
  it('refuses keys outside their usage with USAGE_MISMATCH', async () => {
    const mak8 = await hsm.generateKey(TDES8('MAK'));
    const mak16 = await hsm.generateKey(TDES16('MAK'));
    const pik = await hsm.generateKey(TDES16('PIK'));
    const pikAes = await hsm.generateKey(AES16('PIK'));
    const tdk = await hsm.generateKey(TDES16('TDK'));
    const pvk = await hsm.importFromComponents(TDES16('PVK'), PVK_C);
    const bdk = await hsm.generateKey(TDES16('BDK'));
    const zmk = await hsm.generateKey(TDES16('ZMK'));
    const block = encryptPinBlock(PIK_CLEAR, buildPinBlock({ format: 0, pin: PIN, pan: PAN }));
    const refusals: [string, () => Promise<unknown>][] = [
      ['MAK translating a PIN', () => hsm.translatePin({ pinBlock: block, from: mak16, fromFormat: 0, to: pik, toFormat: 0, pan: PAN })],
      ['MAK as the target PIN key', () => hsm.translatePin({ pinBlock: block, from: pik, fromFormat: 0, to: mak16, toFormat: 0, pan: PAN })],
      ['PIK exported under a MAK', () => hsm.exportUnderKek(pik, mak16)],
      ['PIK exported under a PIK', () => hsm.exportUnderKek(pik, pik)],
      ['TMK exporting a PVK', () => hsm.exportUnderKek(pvk, tmk)],
      ['TMK exporting a BDK', () => hsm.exportUnderKek(bdk, tmk)],
      ['TMK exporting a ZMK', () => hsm.exportUnderKek(zmk, tmk)],
      ['TMK exporting a TMK', () => hsm.exportUnderKek(tmk, tmk)],
      ['ZMK exporting a PVK', () => hsm.exportUnderKek(pvk, zmk)],
      ['ZMK exporting a BDK', () => hsm.exportUnderKek(bdk, zmk)],
      ['X9.19 with a single-length MAK', () => hsm.generateMac(mak8, 'x9.19', Buffer.alloc(8))],
      ['X9.9 with a double-length MAK', () => hsm.generateMac(mak16, 'x9.9', Buffer.alloc(8))],
      ['AES-CMAC with a TDES MAK', () => hsm.verifyMac(mak16, 'aes-cmac', Buffer.alloc(8), Buffer.alloc(8))],
      ['TDK as a MAC key', () => hsm.generateMac(tdk, 'cup-ecb', Buffer.alloc(8))],
      ['PIK encrypting data', () => hsm.encryptData(pik, Buffer.alloc(8))],
      ['MAK decrypting data', () => hsm.decryptData(mak16, Buffer.alloc(8))],
      ['TMK encrypting data', () => hsm.encryptData(tmk, Buffer.alloc(8))],
      ['PVK as a PIN key', () => hsm.pvvFromPinBlock({ pinBlock: block, pik: pvk, format: 0, pan: PAN, pvk, pvki: 1 })],
      ['PIK as a PVK', () => hsm.verifyPinPvv({ pinBlock: block, pik, format: 0, pan: PAN, pvk: pik, pvki: 1, pvv: '1234' })],
      ['TDES PIK for format 4', () => hsm.translatePin({ pinBlock: block, from: pik, fromFormat: 0, to: pik, toFormat: 4, pan: PAN })],
      ['AES PIK for format 0', () => hsm.translatePin({ pinBlock: block, from: pikAes, fromFormat: 0, to: pik, toFormat: 0, pan: PAN })],
    ];
    for (const [what, p] of refusals) expect([what, await reasonOf(p)]).toEqual([what, 'USAGE_MISMATCH']);
  });

  it('refuses to translate a PAN-bound PIN block to format 1', async () => {
    const pik = await hsm.importFromComponents(TDES16('PIK'), PIK_C);
    const block = encryptPinBlock(PIK_CLEAR, buildPinBlock({ format: 0, pin: PIN, pan: PAN }));
    expect(await reasonOf(hsm.translatePin({ pinBlock: block, from: pik, fromFormat: 0, to: pik, toFormat: 1, pan: PAN }))).toBe('BAD_FORMAT');
  });

  it('refuses tampered, relabelled and foreign blocks with BAD_KEY_BLOCK', async () => {
    const mak = await hsm.importFromComponents(TDES16('MAK'), MAK16_C);
    const data = Buffer.from('0200 sale');
    const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
    // Header says M3 -> P0: MAC over the header no longer verifies.
    const relabelledHeader = { ...mak, block: mak.block.slice(0, 5) + 'P0' + mak.block.slice(7) };
    expect(await reasonOf(hsm.generateMac(relabelledHeader, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(hsm.generateMac({ ...mak, block: flip(mak.block, mak.block.length - 40) }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(hsm.generateMac({ ...mak, block: flip(mak.block, mak.block.length - 1) }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(hsm.generateMac({ ...mak, block: mak.block.slice(0, -2) }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(hsm.generateMac({ ...mak, block: 'not a key block' }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    // The label outside the block disagrees with the block.
    expect(await reasonOf(hsm.generateMac({ ...mak, usage: 'PIK' }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    // Valid TR-31 blocks under the same LMK but without qiandao's usage block, or inconsistent with it.
    const lmk = fromHex(LMK1);
    const bare = wrap(lmk, { version: 'D', usage: 'M3', algorithm: 'T', modeOfUse: 'C', exportability: 'E' }, MAK16_CLEAR);
    expect(await reasonOf(hsm.generateMac({ ...mak, block: bare }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    const lying = wrap(lmk, { version: 'D', usage: 'M3', algorithm: 'T', modeOfUse: 'C', exportability: 'E', optionalBlocks: [{ id: '10', data: 'PIK' }] }, MAK16_CLEAR);
    expect(await reasonOf(hsm.generateMac({ ...mak, usage: 'PIK', block: lying }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    const exportablePvk = wrap(lmk, { version: 'D', usage: 'V2', algorithm: 'T', modeOfUse: 'C', exportability: 'E', optionalBlocks: [{ id: '10', data: 'PVK' }] }, PVK_CLEAR);
    expect(await reasonOf(hsm.exportUnderKek({ ...mak, usage: 'PVK', block: exportablePvk }, tmk))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(hsm.kcv(undefined as unknown as WrappedKey))).toBe('BAD_INPUT');
  });

  it('refuses blocks made under another LMK', async () => {
    const other = await SoftHsm.open({ lmkHex: LMK2, env: {}, logger: capture().logger });
    const mak = await hsm.generateKey(TDES16('MAK'));
    expect(await reasonOf(other.generateMac(mak, 'x9.19', Buffer.alloc(16)))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(other.kcv(tmk))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(other.rewrap(tmk))).toBe('BAD_KEY_BLOCK');
  });
});

describe('SoftHsm: MACs equal the primitives', () => {
  const data = Buffer.from('0200302004C030C09811000000000000000001000012345678', 'ascii');
  it('x9.9, cup-ecb (8-byte MAK), x9.19, cup-ecb (16-byte MAK), aes-cmac', async () => {
    const mak8 = await hsm.importFromComponents(TDES8('MAK'), MAK8_C);
    const mak16 = await hsm.importFromComponents(TDES16('MAK'), MAK16_C);
    const makAes = await hsm.importFromComponents(AES16('MAK'), MAKAES_C);
    const cases = [
      { key: mak8, alg: 'x9.9', want: macX99(MAK8_CLEAR, data) },
      { key: mak8, alg: 'cup-ecb', want: unionPayMac(MAK8_CLEAR, data) },
      { key: mak16, alg: 'x9.19', want: macX919(MAK16_CLEAR, data) },
      { key: mak16, alg: 'cup-ecb', want: unionPayMac(MAK16_CLEAR, data) },
      { key: makAes, alg: 'aes-cmac', want: aesCmac(MAKAES_CLEAR, data) },
    ] as const;
    for (const c of cases) {
      const mac = await hsm.generateMac(c.key, c.alg, data);
      expect([c.alg, toHex(mac)]).toEqual([c.alg, toHex(c.want)]);
      expect(await hsm.verifyMac(c.key, c.alg, data, mac)).toBe(true);
      expect(await hsm.verifyMac(c.key, c.alg, data, mac.subarray(0, 4))).toBe(true);
      const bad = Buffer.from(mac);
      bad[bad.length - 1]! ^= 0x01;
      expect(await hsm.verifyMac(c.key, c.alg, data, bad)).toBe(false);
      expect(await hsm.verifyMac(c.key, c.alg, Buffer.concat([data, Buffer.from('0')]), mac)).toBe(false);
      expect(await reasonOf(hsm.verifyMac(c.key, c.alg, data, mac.subarray(0, 3)))).toBe('BAD_INPUT');
    }
    expect(await reasonOf(hsm.generateMac(mak8, 'hmac' as 'x9.9', data))).toBe('BAD_INPUT');
  });

  it('the UnionPay MAC is an ISO 9797-1 algorithm 1 CBC-MAC over the 16 ASCII hex digits of the XOR fold (the adapter route in docs/hsm.md)', () => {
    for (const key of [MAK8_CLEAR, MAK16_CLEAR]) {
      const hexOfFold = Buffer.from(unionPayMacFold(data).toString('hex').toUpperCase(), 'ascii');
      const cbcMac = tdesCbcEncrypt(key, hexOfFold).subarray(8);
      expect(Buffer.from(toHex(cbcMac).slice(0, 8), 'ascii')).toEqual(unionPayMac(key, data));
    }
  });
});

describe('SoftHsm: data keys', () => {
  it('encrypts and decrypts ECB/CBC with a TDK like the cipher core', async () => {
    const tdk = await hsm.importFromComponents(TDES16('TDK'), PIK_C);
    const track = Buffer.from('6212345678901234D251210100000000', 'hex');
    const ct = await hsm.encryptData(tdk, track);
    expect(ct).toEqual(tdesEcbEncrypt(PIK_CLEAR, track));
    expect(await hsm.decryptData(tdk, ct)).toEqual(track);
    const iv = Buffer.from('0102030405060708', 'hex');
    const cbc = await hsm.encryptData(tdk, track, 'cbc', iv);
    expect(await hsm.decryptData(tdk, cbc, 'cbc', iv)).toEqual(track);
    expect(await reasonOf(hsm.encryptData(tdk, Buffer.alloc(7)))).toBe('BAD_INPUT');
    expect(await reasonOf(hsm.encryptData(tdk, track, 'ecb', iv))).toBe('BAD_INPUT');
    const aesTdk = await hsm.importFromComponents(AES16('TDK'), MAKAES_C);
    const block = Buffer.alloc(32, 7);
    expect(decrypt('aes', 'ecb', MAKAES_CLEAR, await hsm.encryptData(aesTdk, block))).toEqual(block);
  });
});

describe('SoftHsm: PIN translation and PVV', () => {
  it('translates format 0 -> 0 under another key, 0 -> 4, 4 -> 0, 0 -> 3 and 1 -> 0', async () => {
    const pik = await hsm.importFromComponents(TDES16('PIK'), PIK_C);
    const zpk = await hsm.importFromComponents(TDES16('ZPK'), ZPK_C);
    const zpkAes = await hsm.importFromComponents(AES16('ZPK'), ZPKAES_C);
    const clear0 = buildPinBlock({ format: 0, pin: PIN, pan: PAN });
    const fromTerminal = encryptPinBlock(PIK_CLEAR, clear0);

    const to0 = await hsm.translatePin({ pinBlock: fromTerminal, from: pik, fromFormat: 0, to: zpk, toFormat: 0, pan: PAN });
    expect(to0).toEqual(encryptPinBlock(ZPK_CLEAR, clear0));
    expect(parsePinBlock(decryptPinBlock(ZPK_CLEAR, to0), { pan: PAN }).pin).toBe(PIN);

    const to4 = await hsm.translatePin({ pinBlock: fromTerminal, from: pik, fromFormat: 0, to: zpkAes, toFormat: 4, pan: PAN });
    expect(to4.length).toBe(16);
    expect(parsePinBlockFormat4(ZPKAES_CLEAR, to4, PAN)).toBe(PIN);

    const back0 = await hsm.translatePin({ pinBlock: buildPinBlockFormat4(ZPKAES_CLEAR, { pin: PIN, pan: PAN }), from: zpkAes, fromFormat: 4, to: zpk, toFormat: 0, pan: PAN });
    expect(back0).toEqual(to0);

    const to3 = await hsm.translatePin({ pinBlock: fromTerminal, from: pik, fromFormat: 0, to: zpk, toFormat: 3, pan: PAN });
    expect(parsePinBlock(decryptPinBlock(ZPK_CLEAR, to3), { pan: PAN, format: 3 }).pin).toBe(PIN);

    const f1 = encryptPinBlock(PIK_CLEAR, buildPinBlock({ format: 1, pin: PIN }));
    expect(await hsm.translatePin({ pinBlock: f1, from: pik, fromFormat: 1, to: zpk, toFormat: 0, pan: PAN })).toEqual(to0);
  });

  it('reports a wrong PAN, a wrong format and a wrong key with typed errors', async () => {
    const pik = await hsm.importFromComponents(TDES16('PIK'), PIK_C);
    const zpk = await hsm.importFromComponents(TDES16('ZPK'), ZPK_C);
    const block = encryptPinBlock(PIK_CLEAR, buildPinBlock({ format: 0, pin: PIN, pan: PAN }));
    const t = (over: Partial<Parameters<SoftHsm['translatePin']>[0]>): Promise<unknown> =>
      hsm.translatePin({ pinBlock: block, from: pik, fromFormat: 0, to: zpk, toFormat: 0, pan: PAN, ...over });
    expect(await reasonOf(t({ pan: '6212345678901234557' }))).toBe('PAN_MISMATCH');
    expect(await reasonOf(t({ fromFormat: 3 }))).toBe('BAD_FORMAT');
    expect(await reasonOf(t({ toFormat: 2 as 0 }))).toBe('BAD_FORMAT');
    expect(await reasonOf(t({ pinBlock: block.subarray(0, 7) }))).toBe('BAD_PIN_BLOCK');
    expect(await reasonOf(t({ pan: '12' }))).toBe('BAD_PAN');
    expect(await reasonOf(t({ from: zpk }))).not.toBe('no-throw');
  });

  it('computes and verifies a Visa PVV from an encrypted PIN block (psec vector: PVKI 1, PIN 4524 -> 8523)', async () => {
    const pik = await hsm.importFromComponents(TDES16('PIK'), PIK_C);
    const pvk = await hsm.importFromComponents(TDES16('PVK'), PVK_C);
    const pan = '1122334455667788';
    const block = encryptPinBlock(PIK_CLEAR, buildPinBlock({ format: 0, pin: '4524', pan }));
    expect(await hsm.pvvFromPinBlock({ pinBlock: block, pik, format: 0, pan, pvk, pvki: 1 })).toBe('8523');
    expect(await hsm.verifyPinPvv({ pinBlock: block, pik, format: 0, pan, pvk, pvki: 1, pvv: '8523' })).toBe(true);
    expect(await hsm.verifyPinPvv({ pinBlock: block, pik, format: 0, pan, pvk, pvki: 1, pvv: '8524' })).toBe(false);
    expect(await hsm.verifyPinPvv({ pinBlock: block, pik, format: 0, pan, pvk, pvki: 2, pvv: '8523' })).toBe(false);
    const wrongPin = encryptPinBlock(PIK_CLEAR, buildPinBlock({ format: 0, pin: '4525', pan }));
    expect(await hsm.verifyPinPvv({ pinBlock: wrongPin, pik, format: 0, pan, pvk, pvki: 1, pvv: '8523' })).toBe(false);
    // Longer PIN, format 4 under an AES PIK: same primitive result.
    const pikAes = await hsm.importFromComponents(AES16('PIK'), ZPKAES_C);
    const b4 = buildPinBlockFormat4(ZPKAES_CLEAR, { pin: PIN, pan: PAN });
    expect(await hsm.pvvFromPinBlock({ pinBlock: b4, pik: pikAes, format: 4, pan: PAN, pvk, pvki: 3 })).toBe(visaPvv(PVK_CLEAR, { pan: PAN, pvki: 3, pin: PIN }));
    expect(await reasonOf(hsm.verifyPinPvv({ pinBlock: block, pik, format: 0, pan, pvk, pvki: 1, pvv: 'x' }))).toBe('BAD_INPUT');
  });
});

describe('SoftHsm: LMK rotation', () => {
  it('carries the PAN fingerprint key through a rotation: the same fingerprints under LMK2 alone', async () => {
    const h1 = await SoftHsm.open({ lmkHex: LMK1, env: {} });
    const fpk = await h1.generateKey({ usage: 'FPK', algorithm: 'hmac', length: 32 });
    const before = await h1.panFingerprint(fpk, PAN);
    const rot = await SoftHsm.open({ lmkHex: LMK2, previousLmkHex: LMK1, env: {} });
    const moved = await rot.rewrap(fpk);
    expect(moved).toMatchObject({ usage: 'FPK', algorithm: 'hmac', kcv: fpk.kcv });
    const h2 = await SoftHsm.open({ lmkHex: LMK2, env: {} });
    expect(await h2.panFingerprint(moved, PAN)).toBe(before);
    expect(await reasonOf(h2.panFingerprint(fpk, PAN))).toBe('BAD_KEY_BLOCK');
    for (const h of [h1, rot, h2]) await h.close();
  });

  it('rewraps blocks from LMK1 to LMK2; they keep working; old blocks die with LMK1', async () => {
    const log = capture();
    const h1 = await SoftHsm.open({ lmkHex: LMK1, env: {}, logger: log.logger });
    const oldTmk = await h1.importFromComponents(TDES16('TMK'), [TMK_C1, TMK_C2]);
    const oldMak = await h1.importFromComponents(TDES16('MAK'), MAK16_C);
    const oldPvk = await h1.importFromComponents(TDES16('PVK'), PVK_C);
    const data = Buffer.from('rotation');
    const mac1 = await h1.generateMac(oldMak, 'x9.19', data);

    const rot = await SoftHsm.open({ lmkHex: LMK2, previousLmkHex: LMK1, env: {}, logger: log.logger });
    expect(rot.previousLmkKcv).toBe(h1.lmkKcv);
    // Normal operations use the current LMK only.
    expect(await reasonOf(rot.generateMac(oldMak, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    const newTmk = await rot.rewrap(oldTmk);
    const newMak = await rot.rewrap(oldMak);
    const newPvk = await rot.rewrap(oldPvk);
    for (const [o, n] of [[oldTmk, newTmk], [oldMak, newMak], [oldPvk, newPvk]] as const) {
      expect(n.block).not.toBe(o.block);
      expect(n.block.slice(0, 16).slice(5)).toBe(o.block.slice(0, 16).slice(5));
      expect({ ...n, block: '' }).toEqual({ ...o, block: '' });
    }
    expect(await rot.generateMac(newMak, 'x9.19', data)).toEqual(mac1);
    // Rewrapping a current block is a no-op.
    expect((await rot.rewrap(newMak)).block).toBe(newMak.block);
    expect(await reasonOf(rot.exportUnderKek(newPvk, newTmk))).toBe('USAGE_MISMATCH');

    // Drop LMK1.
    const h2 = await SoftHsm.open({ lmkHex: LMK2, env: {}, logger: log.logger });
    expect(await h2.generateMac(newMak, 'x9.19', data)).toEqual(mac1);
    const pik = await h2.importFromComponents(TDES16('PIK'), PIK_C);
    expect((await h2.exportUnderKek(pik, newTmk)).cryptogram).toEqual(tdesEcbEncrypt(TMK_CLEAR, PIK_CLEAR));
    expect(await reasonOf(h2.rewrap(oldMak))).toBe('BAD_KEY_BLOCK');
    expect(await reasonOf(h2.generateMac(oldMak, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    expect(log.lines).toEqual([]);
  });

  it('blocks made with the cached LMK-derived keys are plain TR-31 version D blocks under the LMK, and back', async () => {
    const h = await SoftHsm.open({ lmkHex: LMK1, env: {}, logger: capture().logger });
    const lmk = fromHex(LMK1);
    const tmk = await h.importFromComponents(TDES16('TMK'), [TMK_C1, TMK_C2]);
    // Many blocks through the same cached keys: each unwraps with the LMK bytes (keys derived afresh).
    for (let i = 0; i < 5; i++) {
      const pik = await h.importFromComponents(TDES16('PIK'), PIK_C);
      expect(toHex(unwrap(lmk, pik.block).key)).toBe(toHex(PIK_CLEAR));
      expect((await h.exportUnderKek(pik, tmk)).cryptogram).toEqual(tdesEcbEncrypt(TMK_CLEAR, PIK_CLEAR));
    }
    expect(toHex(unwrap(lmk, tmk.block).key)).toBe(toHex(TMK_CLEAR));
    await h.close();
    // After close() neither the LMK nor its derived keys are usable.
    expect(await reasonOf(h.generateKey(TDES16('PIK')))).toBe('BAD_LMK');
    expect(await reasonOf(h.exportUnderKek(tmk, tmk))).toBe('BAD_LMK');
    expect(await reasonOf(h.rewrap(tmk))).toBe('BAD_LMK');
  });

  it('generateLmk returns 64 hex digits that open an HSM; close() wipes it', async () => {
    const hex = SoftHsm.generateLmk();
    expect(hex).toMatch(/^[0-9A-F]{64}$/);
    expect(SoftHsm.generateLmk()).not.toBe(hex);
    const h = await SoftHsm.open({ lmkHex: hex, env: {}, logger: capture().logger });
    const k = await h.generateKey(TDES16('TDK'));
    await h.close();
    expect(await reasonOf(h.kcv(k))).toBe('BAD_LMK');
  });
});

describe('SoftHsm: where the LMK comes from', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qiandao-hsm-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a development LMK file (mode 0600) with a loud warning, then reuses it quietly', async () => {
    const file = join(dir, 'sub', 'lmk.hex');
    const log = capture();
    const h = await SoftHsm.open({ lmkFile: file, allowDevLmk: true, env: {}, logger: log.logger });
    expect(h.lmkSource).toBe('dev-file');
    const text = await readFile(file, 'utf8');
    const hex = text.split('\n').find((l) => /^[0-9A-F]{64}$/.test(l))!;
    expect(hex).toBeDefined();
    expect(h.lmkKcv).toBe(toHex(kcv(fromHex(hex), { alg: 'aes' })));
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(log.lines.length).toBe(1);
    expect(log.lines[0]).toMatch(/DEVELOPMENT LMK/);
    expect(log.lines[0]).toContain(h.lmkKcv);
    expect(log.lines[0]!.toUpperCase()).not.toContain(hex);

    const k = await h.generateKey(TDES16('PIK'));
    const log2 = capture();
    const again = await SoftHsm.open({ lmkFile: file, env: {}, logger: log2.logger });
    expect(again.lmkSource).toBe('file');
    expect(again.lmkKcv).toBe(h.lmkKcv);
    expect(await again.kcv(k)).toEqual(fromHex(k.kcv));
    expect(log2.lines).toEqual([]);
  });

  it('warns when the LMK file is readable by others', async () => {
    if (process.platform === 'win32') return;
    const file = join(dir, 'open.hex');
    await writeFile(file, `${LMK1}\n`);
    await chmod(file, 0o644);
    const log = capture();
    const h = await SoftHsm.open({ lmkFile: file, env: {}, logger: log.logger });
    expect(h.lmkSource).toBe('file');
    expect(log.lines.length).toBe(1);
    expect(log.lines[0]).toMatch(/0644.*chmod 600/);
    expect(log.lines[0]).not.toContain(LMK1);
  });

  it('takes QIANDAO_LMK from the environment before the file, and QIANDAO_PREVIOUS_LMK', async () => {
    const file = join(dir, 'ignored.hex');
    await writeFile(file, `${LMK2}\n`, { mode: 0o600 });
    const h = await SoftHsm.open({ lmkFile: file, env: { QIANDAO_LMK: LMK1.toLowerCase(), QIANDAO_PREVIOUS_LMK: LMK2 }, logger: capture().logger });
    expect(h.lmkSource).toBe('env');
    expect(h.lmkKcv).toBe(hsm.lmkKcv);
    expect(h.previousLmkKcv).toBe(toHex(kcv(fromHex(LMK2), { alg: 'aes' })));
    expect(await h.kcv(tmk)).toEqual(fromHex(tmk.kcv));
  });

  it('refuses bad or missing LMKs with BAD_LMK', async () => {
    const log = capture();
    const open = (o: Parameters<typeof SoftHsm.open>[0]) => () => SoftHsm.open({ logger: log.logger, env: {}, ...o });
    expect(await reasonOf(open({ lmkHex: 'zz' }))).toBe('BAD_LMK');
    expect(await reasonOf(open({ lmkHex: LMK1.slice(0, 63) }))).toBe('BAD_LMK');
    expect(await reasonOf(open({ lmkHex: LMK1 + '00' }))).toBe('BAD_LMK');
    expect(await reasonOf(open({ env: { QIANDAO_LMK: 'not hex' } }))).toBe('BAD_LMK');
    expect(await reasonOf(open({ lmkHex: LMK1, previousLmkHex: '1234' }))).toBe('BAD_LMK');
    const badFile = join(dir, 'bad.hex');
    await writeFile(badFile, 'G'.repeat(64), { mode: 0o600 });
    expect(await reasonOf(open({ lmkFile: badFile }))).toBe('BAD_LMK');
    expect(await reasonOf(open({}))).toBe('BAD_LMK');
    expect(await reasonOf(open({ lmkFile: join(dir, 'missing.hex') }))).toBe('BAD_LMK');
    expect(await reasonOf(open({ lmkFile: join(dir, 'prod.hex'), allowDevLmk: true, env: { NODE_ENV: 'production' } }))).toBe('BAD_LMK');
    expect(await reasonOf(open({ lmkFile: dir }))).toBe('BAD_LMK');
    expect(log.lines).toEqual([]);
  });

  it('allowDevLmk without a file keeps an in-memory LMK and warns', async () => {
    const log = capture();
    const h = await SoftHsm.open({ allowDevLmk: true, env: {}, logger: log.logger });
    expect(h.lmkSource).toBe('dev-memory');
    expect(log.lines.length).toBe(1);
    expect(log.lines[0]).toMatch(/DEVELOPMENT LMK/);
  });
});

describe('SoftHsm: nothing secret leaks into logs or errors', () => {
  it('across many operations and bad inputs', async () => {
    const log = capture();
    const dir = await mkdtemp(join(tmpdir(), 'qiandao-leak-'));
    const texts: string[] = [];
    const errors: unknown[] = [];
    const attempt = async (f: () => Promise<unknown>): Promise<void> => {
      try {
        const r = await f();
        texts.push(JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? '<buffer>' : v)) ?? '');
      } catch (e) {
        errors.push(e);
      }
    };
    try {
      const filePerm = join(dir, 'lmk.hex');
      await writeFile(filePerm, `${LMK1}\n`, { mode: 0o644 });
      await chmod(filePerm, 0o644);
      const h = await SoftHsm.open({ lmkFile: filePerm, previousLmkHex: LMK2, env: {}, logger: log.logger });
      await attempt(() => SoftHsm.open({ lmkFile: join(dir, 'dev.hex'), allowDevLmk: true, env: {}, logger: log.logger }));
      const devHex = (await readFile(join(dir, 'dev.hex'), 'utf8')).split('\n')[1]!;
      await attempt(() => SoftHsm.open({ lmkHex: LMK1.slice(0, 62), env: {}, logger: log.logger }));
      await attempt(() => SoftHsm.open({ lmkHex: LMK1 + 'A', env: {}, logger: log.logger }));
      await attempt(() => SoftHsm.open({ env: { QIANDAO_LMK: LMK2.slice(2) }, logger: log.logger }));
      await attempt(() => SoftHsm.open({ lmkHex: LMK1, previousLmkHex: LMK2.replace('A', 'X'), env: {}, logger: log.logger }));

      const tmkL = await h.importFromComponents(TDES16('TMK'), [TMK_C1, TMK_C2]);
      const pik = await h.importFromComponents(TDES16('PIK'), PIK_C);
      const zpk = await h.importFromComponents(TDES16('ZPK'), ZPK_C);
      const zpkAes = await h.importFromComponents(AES16('ZPK'), ZPKAES_C);
      const mak = await h.importFromComponents(TDES16('MAK'), MAK16_C);
      const mak8 = await h.importFromComponents(TDES8('MAK'), MAK8_C);
      const pvk = await h.importFromComponents(TDES16('PVK'), PVK_C);
      const block = encryptPinBlock(PIK_CLEAR, buildPinBlock({ format: 0, pin: PIN, pan: PAN }));
      const otherPan = '6212345678901234575';
      for (const [from, to, ff, tf, pan] of [
        [pik, zpk, 0, 0, PAN], [pik, zpkAes, 0, 4, PAN], [pik, zpk, 0, 0, otherPan], [pik, zpk, 3, 0, PAN], [zpk, pik, 0, 0, PAN],
        [mak, zpk, 0, 0, PAN], [pik, mak, 0, 0, PAN], [pik, zpk, 0, 1, PAN], [pik, zpkAes, 0, 0, PAN], [pik, zpk, 0, 0, PAN + '12'],
      ] as const) {
        await attempt(() => h.translatePin({ pinBlock: block, from, to, fromFormat: ff, toFormat: tf, pan }));
      }
      await attempt(() => h.translatePin({ pinBlock: block.subarray(1), from: pik, to: zpk, fromFormat: 0, toFormat: 0, pan: PAN }));
      await attempt(() => h.pvvFromPinBlock({ pinBlock: block, pik, format: 0, pan: PAN, pvk, pvki: 1 }));
      await attempt(() => h.pvvFromPinBlock({ pinBlock: block, pik, format: 0, pan: PAN, pvk, pvki: 11 }));
      await attempt(() => h.verifyPinPvv({ pinBlock: block, pik, format: 0, pan: otherPan, pvk, pvki: 1, pvv: '0000' }));
      await attempt(() => h.verifyPinPvv({ pinBlock: block, pik: pvk, format: 0, pan: PAN, pvk: pik, pvki: 1, pvv: '0000' }));
      for (const [k, kek] of [[pik, tmkL], [mak8, tmkL], [pvk, tmkL], [pik, mak], [tmkL, tmkL], [pik, zpk]] as const) {
        await attempt(() => h.exportUnderKek(k, kek));
      }
      await attempt(() => h.exportUnderKek(pik, tmkL, 0));
      await attempt(() => h.importUnderKek(TDES16('PIK'), tmkL, tdesEcbEncrypt(TMK_CLEAR, PIK_CLEAR), Buffer.from('00000000', 'hex')));
      await attempt(() => h.importUnderKek(TDES16('PIK'), tmkL, tdesEcbEncrypt(TMK_CLEAR, PIK_CLEAR).subarray(0, 15)));
      await attempt(() => h.importUnderKek(TDES16('PVK'), tmkL, tdesEcbEncrypt(TMK_CLEAR, PVK_CLEAR)));
      await attempt(() => h.importFromComponents(TDES8('PIK'), PIK_C));
      await attempt(() => h.importFromComponents(TDES16('PIK'), [PIK_C[0]!, MAK8_C[0]!]));
      const data = Buffer.from(`PAN=${PAN}`);
      for (const alg of ['x9.9', 'x9.19', 'cup-ecb', 'aes-cmac'] as const) {
        for (const k of [mak, mak8, pik]) {
          await attempt(() => h.generateMac(k, alg, data));
          await attempt(() => h.verifyMac(k, alg, data, Buffer.from('12')));
        }
      }
      const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      for (let i = 16; i < mak.block.length; i += 7) await attempt(() => h.generateMac({ ...mak, block: flip(mak.block, i) }, 'x9.19', data));
      await attempt(() => h.encryptData(pik, data));
      await attempt(() => h.decryptData(mak, Buffer.alloc(9)));
      await attempt(() => h.rewrap({ ...mak, block: mak.block.replace('M3', 'M1') }));
      await attempt(() => h.kcv(pik, 99));

      const secrets = [
        LMK1, LMK2, devHex, PIN, PAN, PAN.slice(-13, -1), otherPan,
        ...[TMK_CLEAR, TMK_C1, TMK_C2, MAK8_CLEAR, ...MAK8_C, MAK16_CLEAR, ...MAK16_C, MAKAES_CLEAR, PIK_CLEAR, ...PIK_C, ZPK_CLEAR, ZPKAES_CLEAR, PVK_CLEAR, ...PVK_C].map(toHex),
      ];
      // Also the halves of every double-length key (a message might show part of a key).
      const allSecrets = secrets.flatMap((s) => (s.length >= 32 ? [s, s.slice(0, 16), s.slice(16, 32)] : [s]));
      expect(errors.length).toBeGreaterThan(40);
      expect(log.lines.length).toBe(2); // the 0644 warning and the dev-LMK warning
      const haystack = [
        ...log.lines,
        ...texts,
        ...errors.map((e) => {
          expect(e).toBeInstanceOf(CryptoError);
          const err = e as Error;
          return `${err.message}\n${String(err)}\n${JSON.stringify(err)}\n${err.stack ?? ''}`;
        }),
      ]
        .join('\n')
        .toUpperCase();
      for (const s of allSecrets) expect(haystack.includes(s.toUpperCase()), `leaked a secret of length ${s.length}`).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('crypto public API', () => {
  it('exports the primitives flat and tr31 / dukpt / hsm as namespaces', () => {
    expect(typeof cryptoApi.kcv).toBe('function');
    expect(typeof cryptoApi.visaPvv).toBe('function');
    expect(typeof cryptoApi.unionPayMac).toBe('function');
    expect(typeof cryptoApi.tr31.wrap).toBe('function');
    expect(typeof cryptoApi.dukpt.tdesDeriveIpek).toBe('function');
    expect(cryptoApi.hsm.SoftHsm).toBe(SoftHsm);
    expect(cryptoApi.SoftHsm).toBe(SoftHsm);
  });
});

describe('SoftHsm: PAN fingerprint keys (FPK)', () => {
  it('are 32-byte HMAC keys (TR-31 M7, algorithm H, generate only, not exportable) used for nothing else', async () => {
    const h = await SoftHsm.open({ lmkHex: LMK1, env: {} });
    try {
      const fpk = await h.generateKey({ usage: 'FPK', algorithm: 'hmac', length: 32 });
      expect(fpk.block.slice(5, 12)).toBe('M7HG00N'); // usage, algorithm, mode, version, exportability
      expect(fpk.kcv).toMatch(/^[0-9A-F]{10}$/);
      expect(toHex(await h.kcv(fpk))).toBe(fpk.kcv);
      expect(await reasonOf(h.generateKey({ usage: 'FPK', algorithm: 'aes', length: 32 }))).toBe('BAD_KEY_LENGTH');
      expect(await reasonOf(h.generateKey({ usage: 'FPK', algorithm: 'hmac', length: 16 }))).toBe('BAD_KEY_LENGTH');
      expect(await reasonOf(h.generateKey({ usage: 'TDK', algorithm: 'hmac', length: 32 }))).toBe('BAD_KEY_LENGTH');
      expect(await reasonOf(h.importFromComponents({ usage: 'FPK', algorithm: 'hmac', length: 32 }, [Buffer.alloc(32, 1), Buffer.alloc(32, 2)]))).toBe('BAD_INPUT');
      const tmk = await h.importFromComponents(TDES16('TMK'), [TMK_C1, TMK_C2]);
      expect(await reasonOf(h.exportUnderKek(fpk, tmk))).toBe('USAGE_MISMATCH');
      expect(await reasonOf(h.encryptData(fpk, Buffer.alloc(16)))).toBe('USAGE_MISMATCH');
      expect(await reasonOf(h.generateMac(fpk, 'aes-cmac', Buffer.alloc(16)))).toBe('USAGE_MISMATCH');
      // A usage label that lies about the block is refused before anything is computed.
      expect(await reasonOf(h.panFingerprint({ ...fpk, usage: 'TDK' }, PAN))).toBe('BAD_KEY_BLOCK');
      expect(await reasonOf(h.panFingerprint(fpk, '4111x'))).toBe('BAD_INPUT');
    } finally {
      await h.close();
    }
  });
});

describe('SoftHsm cache of opened key blocks', () => {
  const data = Buffer.from('0200 purchase 000000001234');

  it('gives the same results as opening every block, also when entries are evicted', async () => {
    const cached = await SoftHsm.open({ lmkHex: LMK1, openedKeyCache: 2 });
    const uncached = await SoftHsm.open({ lmkHex: LMK1, openedKeyCache: 0 });
    try {
      // Three MAKs through a cache of two: every round evicts one.
      const maks = [
        await cached.importFromComponents(TDES16('MAK'), MAK16_C),
        await cached.importFromComponents(TDES8('MAK'), MAK8_C),
        await cached.importFromComponents(AES16('MAK'), MAKAES_C),
      ];
      const algs = ['x9.19', 'x9.9', 'aes-cmac'] as const;
      const expected = [macX919(MAK16_CLEAR, data), macX99(MAK8_CLEAR, data), aesCmac(MAKAES_CLEAR, data)];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 3; i++) {
          const mac = await cached.generateMac(maks[i]!, algs[i]!, data);
          expect(toHex(mac)).toBe(toHex(expected[i]!));
          expect(toHex(await uncached.generateMac(maks[i]!, algs[i]!, data))).toBe(toHex(mac));
          expect(await cached.verifyMac(maks[i]!, algs[i]!, data, mac)).toBe(true);
        }
      }
    } finally {
      await cached.close();
      await uncached.close();
    }
  });

  it('still checks usage and tampering for a block it has opened before', async () => {
    const hsm = await SoftHsm.open({ lmkHex: LMK1 });
    try {
      const mak = await hsm.importFromComponents(TDES16('MAK'), MAK16_C);
      await hsm.generateMac(mak, 'x9.19', data); // now cached
      // The same block asked for as another usage, or with one character changed, is still refused.
      expect(await reasonOf(hsm.generateMac({ ...mak, usage: 'PIK' }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
      expect(await reasonOf(hsm.generateMac(mak, 'x9.9', data))).toBe('USAGE_MISMATCH');
      const flipped = mak.block.slice(0, -1) + (mak.block.endsWith('0') ? '1' : '0');
      expect(await reasonOf(hsm.generateMac({ ...mak, block: flipped }, 'x9.19', data))).toBe('BAD_KEY_BLOCK');
    } finally {
      await hsm.close();
    }
  });

  it('remembers a key it has just made: the same export, KCV and refusals as after opening its block', async () => {
    const cached = await SoftHsm.open({ lmkHex: LMK1 });
    const uncached = await SoftHsm.open({ lmkHex: LMK1, openedKeyCache: 0 });
    try {
      const kek = await cached.importFromComponents(TDES16('TMK'), [TMK_C1, TMK_C2]);
      for (const spec of [TDES16('PIK'), TDES8('MAK'), TDES16('TDK')]) {
        const made = await cached.generateKey(spec); // cached as opened when made, never unwrapped here
        const fresh = await cached.exportUnderKek(made, kek, 4);
        const opened = await uncached.exportUnderKek(made, kek, 4); // unwraps the block
        expect(toHex(fresh.cryptogram)).toBe(toHex(opened.cryptogram));
        expect(toHex(fresh.kcv)).toBe(toHex(opened.kcv));
        expect(toHex(fresh.kcv).slice(0, 6)).toBe(made.kcv);
        // The header remembered from the wrap enforces usage as the unwrapped one does.
        expect(await reasonOf(cached.generateMac(made, 'x9.9', data))).toBe(await reasonOf(uncached.generateMac(made, 'x9.9', data)));
        expect(await reasonOf(cached.generateMac({ ...made, usage: 'MAK' }, 'x9.9', data))).toBe(spec.usage === 'MAK' ? 'no-throw' : 'BAD_KEY_BLOCK');
      }
    } finally {
      await cached.close();
      await uncached.close();
    }
  });

  it('is emptied by close(): a cached block cannot be used afterwards', async () => {
    const hsm = await SoftHsm.open({ lmkHex: LMK1 });
    const mak = await hsm.importFromComponents(TDES16('MAK'), MAK16_C);
    await hsm.generateMac(mak, 'x9.19', data);
    await hsm.close();
    expect(await reasonOf(hsm.generateMac(mak, 'x9.19', data))).toBe('BAD_LMK');
  });

  it('refuses a cache size that is not a non-negative integer', async () => {
    expect(await reasonOf(SoftHsm.open({ lmkHex: LMK1, openedKeyCache: -1 }))).toBe('BAD_INPUT');
    expect(await reasonOf(SoftHsm.open({ lmkHex: LMK1, openedKeyCache: 1.5 }))).toBe('BAD_INPUT');
  });
});
