import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex, tdesEcbEncrypt, xor } from '../../src/crypto/cipher.js';
import {
  padIso9797, macX99, macX919, cmac, cmacSubkeys, aesCmac, unionPayMac, unionPayMacFold,
  verifyMacX99, verifyMacX919, verifyAesCmac, verifyCmac, verifyUnionPayMac, requireMac,
} from '../../src/crypto/mac.js';
import { CryptoError } from '../../src/crypto/errors.js';

const h = fromHex;
const ascii = (s: string): Buffer => Buffer.from(s, 'ascii');
const DATA1 = ascii('Now is the time for all '); // ISO/IEC 9797-1 Annex B data string 1 (24 bytes)
const DATA2 = ascii('Now is the time for it'); // ISO/IEC 9797-1 Annex B data string 2 (22 bytes)
const K = h('0123456789ABCDEF');
const K2 = h('0123456789ABCDEFFEDCBA9876543210');

describe('ISO/IEC 9797-1 padding', () => {
  it('method 1 pads with the fewest zeros (empty → one block); method 2 always adds 0x80', () => {
    expect(padIso9797(DATA1, 1).equals(DATA1)).toBe(true);
    expect(toHex(padIso9797(h('0102'), 1))).toBe('0102000000000000');
    expect(toHex(padIso9797(Buffer.alloc(0), 1))).toBe('0000000000000000');
    expect(toHex(padIso9797(h('0102'), 2))).toBe('0102800000000000');
    expect(toHex(padIso9797(Buffer.alloc(0), 2))).toBe('8000000000000000');
    expect(padIso9797(DATA1, 2).length).toBe(32);
    expect(toHex(padIso9797(DATA1, 2).subarray(24))).toBe('8000000000000000');
    expect(() => padIso9797(DATA1, 3 as never)).toThrow(CryptoError);
  });
});

describe('ANSI X9.9 / ISO 9797-1 algorithm 1 (DES)', () => {
  // ANSI X9.9 sample (also /work/shared/reference/cup-pos-facts.md): key 0123456789ABCDEF,
  // "Now is the time for all " -> 70A30640CC76DD8B.
  it('matches the published X9.9 vector', () => {
    expect(toHex(macX99(K, DATA1))).toBe('70A30640CC76DD8B');
  });
  // ISO/IEC 9797-1:1999 Annex B.2 (MAC algorithm 1, DES, m = 32 bits).
  it('matches ISO/IEC 9797-1 Annex B.2 for padding methods 1 and 2', () => {
    expect(toHex(macX99(K, DATA1, { padding: 1 }).subarray(0, 4))).toBe('70A30640');
    expect(toHex(macX99(K, DATA1, { padding: 2 }).subarray(0, 4))).toBe('10E1F0F1');
    expect(toHex(macX99(K, DATA2, { padding: 1 }).subarray(0, 4))).toBe('E45B3AD2');
    expect(toHex(macX99(K, DATA2, { padding: 2 }).subarray(0, 4))).toBe('A924C721');
  });
  it('verifies full and truncated (stated-length) MACs', () => {
    expect(verifyMacX99(K, DATA1, h('70A30640CC76DD8B'))).toBe(true);
    expect(verifyMacX99(K, DATA1, h('70A30640'), { length: 4 })).toBe(true);
    expect(verifyMacX99(K, DATA2, h('A924C721'), { padding: 2, length: 4 })).toBe(true);
    expect(verifyMacX99(K, DATA1, h('70A30641'))).toBe(false);
  });
});

describe('ANSI X9.19 / ISO 9797-1 algorithm 3 (retail MAC)', () => {
  it('matches the published X9.19 vector', () => {
    // Key K = 0123456789ABCDEF, K' = FEDCBA9876543210, "Now is the time for all " -> A1C72E74EA3FA9B6.
    expect(toHex(macX919(K2, DATA1))).toBe('A1C72E74EA3FA9B6');
  });
  // ISO/IEC 9797-1:1999 Annex B.4 (MAC algorithm 3, DES, m = 32 bits).
  it('matches ISO/IEC 9797-1 Annex B.4 for padding methods 1 and 2', () => {
    expect(toHex(macX919(K2, DATA1, { padding: 2 }).subarray(0, 4))).toBe('E9086230');
    expect(toHex(macX919(K2, DATA2, { padding: 1 }).subarray(0, 4))).toBe('2E2B1428');
    expect(toHex(macX919(K2, DATA2, { padding: 2 }).subarray(0, 4))).toBe('5A692CE6');
  });
  // ICAO Doc 9303 Part 11, Appendix D.3 (BAC mutual authentication): retail MAC, padding method 2,
  // K_MAC = 7962D9ECE03D1ACD4C76089DCE131543 over E_IFD -> M_IFD = 5F1448EEA8AD90A7.
  it('matches ICAO 9303-11 Appendix D.3 (padding method 2)', () => {
    const eIfd = h('72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2');
    expect(toHex(macX919(h('7962D9ECE03D1ACD4C76089DCE131543'), eIfd, { padding: 2 }))).toBe('5F1448EEA8AD90A7');
  });
  it('verifies and rejects', () => {
    expect(verifyMacX919(K2, DATA1, h('A1C72E74EA3FA9B6'))).toBe(true);
    expect(verifyMacX919(K2, DATA1, h('A1C72E74'), { length: 4 })).toBe(true);
    expect(verifyMacX919(K2, DATA1, h('A1C72E74EA3FA9B7'))).toBe(false);
  });
});

describe('CMAC', () => {
  // RFC 4493 §4 test vectors (same as NIST SP 800-38B D.1, AES-128).
  const key = h('2B7E151628AED2A6ABF7158809CF4F3C');
  const msg = h(
    '6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710',
  );
  it('RFC 4493 subkey generation', () => {
    const { l, k1, k2 } = cmacSubkeys('aes', key);
    expect(toHex(l)).toBe('7DF76B0C1AB899B33E42F047B91B546F');
    expect(toHex(k1)).toBe('FBEED618357133667C85E08F7236A8DE');
    expect(toHex(k2)).toBe('F7DDAC306AE266CCF90BC11EE46D513B');
  });
  it('RFC 4493 examples 1-4', () => {
    expect(toHex(aesCmac(key, Buffer.alloc(0)))).toBe('BB1D6929E95937287FA37D129B756746');
    expect(toHex(aesCmac(key, msg.subarray(0, 16)))).toBe('070A16B46B4D4144F79BDD9DD04A287C');
    expect(toHex(aesCmac(key, msg.subarray(0, 40)))).toBe('DFA66747DE9AE63030CA32611497C827');
    expect(toHex(aesCmac(key, msg))).toBe('51F0BEBF7E3B9D92FC49741779363CFE');
  });
  // NIST SP 800-38B Appendix D.3, Example 12 (AES-256, 64-byte message).
  it('SP 800-38B D.3 example 12 (AES-256)', () => {
    const k256 = h('603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4');
    expect(toHex(aesCmac(k256, msg))).toBe('E1992190549F6ED5696A2C056C315410');
  });
  // NIST SP 800-38B Appendix D.4 (three-key TDEA), examples 13-16 with the published errata values.
  it('SP 800-38B D.4 (3-key TDEA) subkeys and examples 13-16', () => {
    const k3 = h('8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5');
    const s = cmacSubkeys('tdes', k3);
    expect(toHex(s.l)).toBe('C8CC74E98A7329A2');
    expect(toHex(s.k1)).toBe('9198E9D314E6535F');
    expect(toHex(s.k2)).toBe('2331D3A629CCA6A5');
    expect(toHex(cmac('tdes', k3, Buffer.alloc(0)))).toBe('B7A688E122FFAF95');
    expect(toHex(cmac('tdes', k3, msg.subarray(0, 8)))).toBe('8E8F293136283797');
    expect(toHex(cmac('tdes', k3, msg.subarray(0, 20)))).toBe('743DDBE0CE2DC2ED');
    expect(toHex(cmac('tdes', k3, msg.subarray(0, 32)))).toBe('33E6B1092400EAE5');
  });
  it('verifies full and truncated CMACs', () => {
    expect(verifyAesCmac(key, msg, h('51F0BEBF7E3B9D92FC49741779363CFE'))).toBe(true);
    expect(verifyAesCmac(key, msg, h('51F0BEBF7E3B9D92'), { length: 8 })).toBe(true);
    expect(verifyAesCmac(key, msg, h('51F0BEBF7E3B9D93'), { length: 8 })).toBe(false);
    expect(verifyCmac('tdes', h('8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5'), Buffer.alloc(0), h('B7A688E1'))).toBe(true);
  });
});

describe('UnionPay POS ECB MAC', () => {
  // Published worked example (solo123/pgate, test/integration/pos_mac_test.rb, comment block):
  // MAB 1234567890ABCDEF ABCDEF1234567890, MAK 2222222222222222 (single DES):
  //   XOR -> B9F9B96AA4FDB57F; as hex text -> 4239463942393641 4134464442353746;
  //   E(first 8) -> 9FDE90A34CF73B2E; XOR last 8 -> DEEAD6E70EC20C68; E -> E267B6E21913D339;
  //   MAC = "E267B6E2".
  it('matches the published worked example, including every intermediate', () => {
    const mab = h('1234567890ABCDEFABCDEF1234567890');
    const mak = h('2222222222222222');
    expect(toHex(unionPayMacFold(mab))).toBe('B9F9B96AA4FDB57F');
    const hexText = ascii('B9F9B96AA4FDB57F');
    expect(toHex(hexText)).toBe('42394639423936414134464442353746');
    const e1 = tdesEcbEncrypt(mak, hexText.subarray(0, 8));
    expect(toHex(e1)).toBe('9FDE90A34CF73B2E');
    const x = xor(e1, hexText.subarray(8));
    expect(toHex(x)).toBe('DEEAD6E70EC20C68');
    expect(toHex(tdesEcbEncrypt(mak, x))).toBe('E267B6E21913D339');
    const mac = unionPayMac(mak, mab);
    expect(mac.toString('ascii')).toBe('E267B6E2');
    expect(toHex(mac)).toBe('4532363742364532');
  });
  // Public CSDN walk-through ("MAC算法演示", blog.csdn.net/zhu244912654/article/details/80005341):
  // XOR of the first four 8-byte blocks of its sample 0200 message = 9A1753638ED222D9.
  it('folds blocks as in the public CSDN walk-through', () => {
    const m = h('0200302004C020C098110000000000000000510018340210000632439226000' + '9');
    expect(toHex(unionPayMacFold(m))).toBe('9A1753638ED222D9');
  });

  // Expected value built step by step from the DES/TDES primitive (not via unionPayMac), for a
  // 16-byte MAK and a MAC block whose length is not a multiple of 8. No published TDES example found.
  function referenceUnionPayMac(mak: Buffer, mab: Buffer, hexCase: 'upper' | 'lower'): Buffer {
    const padded = Buffer.alloc(Math.ceil(mab.length / 8) * 8);
    mab.copy(padded);
    let acc: Buffer = Buffer.alloc(8);
    for (let i = 0; i < padded.length; i += 8) acc = xor(acc, padded.subarray(i, i + 8));
    const text = (b: Buffer): string => (hexCase === 'upper' ? b.toString('hex').toUpperCase() : b.toString('hex'));
    const hexText = ascii(text(acc));
    const e1 = tdesEcbEncrypt(mak, hexText.subarray(0, 8));
    const e2 = tdesEcbEncrypt(mak, xor(e1, hexText.subarray(8, 16)));
    return ascii(text(e2).slice(0, 8));
  }
  const MAK16 = h('C24A8FB57AA20123FEDCBA9876543210');
  const MAB = h('0200302004C020C0981100000000000000005100183402100006324392260009942820D1312101120084393136');

  it('16-byte MAK: matches a step-by-step TDES construction', () => {
    expect(MAB.length % 8).not.toBe(0);
    expect(unionPayMac(MAK16, MAB).equals(referenceUnionPayMac(MAK16, MAB, 'upper'))).toBe(true);
  });
  it('uses upper-case hex: the lower-case variant (a known bug) gives a different MAC', () => {
    const upper = unionPayMac(MAK16, MAB);
    const lower = referenceUnionPayMac(MAK16, MAB, 'lower');
    expect(upper.equals(lower)).toBe(false);
    expect(upper.toString('ascii')).toMatch(/^[0-9A-F]{8}$/);
    // Same for the published single-DES example.
    expect(unionPayMac(h('2222222222222222'), h('1234567890ABCDEFABCDEF1234567890')).equals(
      referenceUnionPayMac(h('2222222222222222'), h('1234567890ABCDEFABCDEF1234567890'), 'lower'),
    )).toBe(false);
  });
  it('zero padding: trailing zero bytes up to the block boundary do not change the MAC; aligned input is not padded', () => {
    const aligned = MAB.subarray(0, 40);
    expect(unionPayMac(MAK16, aligned).equals(referenceUnionPayMac(MAK16, aligned, 'upper'))).toBe(true);
    const padded = Buffer.concat([MAB, Buffer.alloc(8 - (MAB.length % 8))]);
    expect(unionPayMac(MAK16, MAB).equals(unionPayMac(MAK16, padded))).toBe(true);
  });
  it('verifies, and rejects bad MAK lengths', () => {
    expect(verifyUnionPayMac(h('2222222222222222'), h('1234567890ABCDEFABCDEF1234567890'), ascii('E267B6E2'))).toBe(true);
    expect(verifyUnionPayMac(h('2222222222222222'), h('1234567890ABCDEFABCDEF1234567890'), ascii('E267B6E3'))).toBe(false);
    expect(() => unionPayMac(Buffer.alloc(24), MAB)).toThrow(CryptoError);
  });
});

describe('MAC verification properties', () => {
  const algs = [
    { name: 'X9.9', key: 8, mac: (k: Buffer, d: Buffer) => macX99(k, d), verify: (k: Buffer, d: Buffer, m: Buffer) => verifyMacX99(k, d, m) },
    { name: 'X9.19', key: 16, mac: (k: Buffer, d: Buffer) => macX919(k, d, { padding: 2 }), verify: (k: Buffer, d: Buffer, m: Buffer) => verifyMacX919(k, d, m, { padding: 2 }) },
    { name: 'AES-CMAC', key: 16, mac: (k: Buffer, d: Buffer) => aesCmac(k, d), verify: (k: Buffer, d: Buffer, m: Buffer) => verifyAesCmac(k, d, m) },
    { name: 'UnionPay', key: 16, mac: (k: Buffer, d: Buffer) => unionPayMac(k, d), verify: (k: Buffer, d: Buffer, m: Buffer) => verifyUnionPayMac(k, d, m) },
  ];
  for (const a of algs) {
    it(`${a.name}: computed MAC verifies; any 1-bit flip of the MAC fails`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: a.key, maxLength: a.key }),
          fc.uint8Array({ maxLength: 100 }),
          fc.nat(),
          (kRaw, dRaw, bit) => {
            const k = Buffer.from(kRaw);
            const d = Buffer.from(dRaw);
            const m = a.mac(k, d);
            expect(a.verify(k, d, m)).toBe(true);
            const flipped = Buffer.from(m);
            const b = bit % (m.length * 8);
            flipped[b >> 3]! ^= 0x80 >> (b & 7);
            expect(a.verify(k, d, flipped)).toBe(false);
          },
        ),
        { numRuns: 60 },
      );
    });
  }
  it('a 1-bit change in the data changes the X9.19 MAC (verify fails)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (kRaw, dRaw, bit) => {
        const k = Buffer.from(kRaw);
        const d = Buffer.from(dRaw);
        const m = macX919(k, d);
        const d2 = Buffer.from(d);
        const b = bit % (d.length * 8);
        d2[b >> 3]! ^= 0x80 >> (b & 7);
        expect(verifyMacX919(k, d2, m)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
  it('stated length must match the received MAC and be 4..full bytes', () => {
    const reason = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as CryptoError).reason;
      }
      return undefined;
    };
    expect(reason(() => verifyMacX99(K, DATA1, h('70A306'), { length: 3 }))).toBe('BAD_INPUT');
    expect(reason(() => verifyMacX99(K, DATA1, h('70A30640'), { length: 8 }))).toBe('BAD_INPUT');
    expect(reason(() => verifyMacX99(K, DATA1, h('70A30640CC76DD8B00')))).toBe('BAD_INPUT');
    expect(reason(() => macX99(K2, DATA1))).toBe('BAD_KEY_LENGTH');
    expect(reason(() => macX919(K, DATA1))).toBe('BAD_KEY_LENGTH');
    expect(reason(() => requireMac(false))).toBe('MAC_MISMATCH');
    expect(() => requireMac(true)).not.toThrow();
  });
});
