import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { aesEcbEncrypt, fromHex, tdesEcbEncrypt, toHex, xor } from '../../src/crypto/cipher.js';
import {
  DukptError,
  aesDeriveDerivationKey,
  aesDeriveInitialKey,
  aesDeriveWorkingKey,
  aesDeriveWorkingKeyFromBdk,
  aesKsnCounter,
  aesMakeKsn,
  aesNextKsn,
  isValidAesKsn,
  isValidTdesKsn,
  tdesApplyVariant,
  tdesDeriveIpek,
  tdesDeriveTransactionKey,
  tdesDeriveWorkingKey,
  tdesDeriveWorkingKeyFromBdk,
  tdesKsnCounter,
  tdesNextKsn,
  tdesWorkingKeyFromTransactionKey,
} from '../../src/crypto/dukpt/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DukptError);
    return (e as DukptError).code;
  }
  throw new Error('expected a DukptError');
}

// ---------------------------------------------------------------------------------------------
// TDES DUKPT. ANSI X9.24-1:2009 annex A.4 test data: BDK 0123456789ABCDEFFEDCBA9876543210,
// initial KSN FFFF9876543210E00000, PIN 1234 / PAN 4012345678909 -> clear ISO format 0 PIN block
// 041274EDCBA9876F. Tables A.4.2 (initial sequence) and A.4.3 (rollover sequence) list for each KSN
// the transaction ("current") key and the encrypted PIN block; reproduced in openemv/dukpt
// test/dukpt_tdes_test.c.
// ---------------------------------------------------------------------------------------------
const BDK = '0123456789ABCDEFFEDCBA9876543210';
const IKSN = 'FFFF9876543210E00000';
const IPEK = '6AC292FAA1315B4D858AB3A3D7D5933A';
const CLEAR_PIN_BLOCK = '041274EDCBA9876F';

// [KSN counter suffix, transaction key, encrypted PIN block] — X9.24-1:2009 A.4.2
const INITIAL: [string, string, string][] = [
  ['E00001', '042666B49184CFA368DE9628D0397BC9', '1B9C1845EB993A7A'],
  ['E00002', 'C46551CEF9FD24B0AA9AD834130D3BC7', '10A01C8D02C69107'],
  ['E00003', '0DF3D9422ACA56E547676D07AD6BADFA', '18DC07B94797B466'],
  ['E00004', '279C0F6AEED0BE652B2C733E1383AE91', '0BC79509D5645DF7'],
  ['E00005', '5F8DC6D2C845C125508DDC048093B83F', '5BC0AF22AD87B327'],
  ['E00006', '5E415CB0BAF9F03CD0C14B63FB62FF43', 'A16DF70AE36158D8'],
  ['E00007', '0C8F780B7C8B49D0AE84A9EB2A6CE660', '27711C16CB257F8E'],
  ['E00008', '27F66D5244FF62E1AA6F6120EDEB4280', '50E55547A5027551'],
  ['E00009', '27E31064FDC565698900E2057F658E7E', '536CF7F678ACFC8D'],
  ['E0000A', '6CF2500A22507C7CC776CEADC1E33014', 'EDABBA23221833FE'],
  ['E0000B', '3E8260BA04B2D620C01482B3819A18B7', '2328981C57B4BDBA'],
  ['E0000C', 'B716E1E11CF53D80726CAEE75C3A624F', '038D03CC926CF286'],
  ['E0000D', 'E072EDF95340535FB6C581C58FBF2533', '6C8AA97088B62C68'],
  ['E0000E', 'A80046087F5B8F245AAD95E18429084F', 'F17C9E1D72CD4950'],
  ['E0000F', '93DD5B956C4878472E453AAEFD32A5AA', 'B170F6E7F7F2F64A'],
  ['E00010', '59598DCBD9BD94C094165CE453585F57', 'D5D9638559EF53D6'],
  ['E00011', '2B5F01F4F0CC05EA639D523231BF1BA2', 'D544F8CDD292C863'],
  ['E00012', '9CF640F279C2AEE615F725EEEAC2CBAF', '7A21BD10F36DC41D'],
  ['E00013', 'C3DF489FDF1153B4F03DE97C27DC4C2F', '78649BD17D0DFA60'],
  ['E00014', '658488507721B3F14737FA93F923CBD2', '7E7E16EA0C31AD56'],
  ['E00015', 'E161D1956A61F6D2F37AFD7F9CC3699A', '72105C22EBC791E6'],
];

// X9.24-1:2009 A.4.3 rollover sequence.
const ROLLOVER: [string, string, string][] = [
  ['EFF800', 'F9CDFEBF4F5B1D9EB3EC12454527E176', '33365F5CC6F23C35'],
  ['EFF801', '5BEE92627E97825C911BF619DF72CA3B', '3A86BF003F835C9D'],
  ['EFF802', '64CA2F8AB93F61B01620B00BF77C7301', '3DB977D05C36DF3F'],
  ['EFF804', '35A168695B3BA83307E871C42021DD37', 'BA83243305712099'],
  ['EFF808', '12C380FCB72ED3C26FC6079AF63F4787', 'B0DA04AC90A36D85'],
  ['EFF810', 'D8007C833A1E3C49C6889B97A68C54FF', '2CF02BD9C309EEDA'],
  ['EFF820', 'A9C9FF9B735FDD49591F296B0BF0FD70', '9D1E2F77AEEE81C6'],
  ['EFF840', '0E3E221062CB5E03A384602783A004FA', '40870B0F8BA2011C'],
  ['EFF880', 'CA8225C587124DFBB87F279C0BE29727', '22E340D6ABB40981'],
  ['EFF900', '906AAC1751D4971A144D52C76C6E1F97', '1A4C10AFBA03A430'],
  ['EFFA00', '2B9E2CE7C2750337E10B54D2989EA6AF', '849763B43E5F9CFF'],
  ['EFFC00', 'F9430DF975082491C77BE4EF4FDB91EE', 'DEFC6F09F8927B71'],
  ['F00000', 'AA4D58DB653EC74A48C75F2F047DD2B5', '73EC88AD0AC5830E'],
];
const ksnOf = (suffix: string): string => `FFFF9876543210${suffix}`;

describe('TDES DUKPT (ANSI X9.24-1:2009 annex A)', () => {
  it('derives the IPEK from the BDK (A.4: 6AC292FAA1315B4D858AB3A3D7D5933A)', () => {
    expect(toHex(tdesDeriveIpek(fromHex(BDK), fromHex(IKSN)))).toBe(IPEK);
    // The counter bits are ignored.
    expect(toHex(tdesDeriveIpek(BDK, 'FFFF9876543210E00001'))).toBe(IPEK);
  });

  for (const [name, table] of [['A.4.2 initial sequence', INITIAL], ['A.4.3 rollover sequence', ROLLOVER]] as const) {
    it(`${name}: transaction keys and encrypted PIN blocks`, () => {
      for (const [suffix, txnKey, epb] of table) {
        const ksn = ksnOf(suffix);
        expect(toHex(tdesDeriveTransactionKey(IPEK, ksn)), ksn).toBe(txnKey);
        const pinKey = tdesDeriveWorkingKey(IPEK, ksn, 'pin');
        expect(toHex(tdesEcbEncrypt(pinKey, fromHex(CLEAR_PIN_BLOCK))), ksn).toBe(epb);
        expect(toHex(tdesDeriveWorkingKeyFromBdk(BDK, ksn, 'pin'))).toBe(toHex(pinKey));
      }
    });
  }

  it('advances the KSN like the originator, skipping counters with more than ten one bits (A.4.3 sequence)', () => {
    let ksn = fromHex(ksnOf(ROLLOVER[0]![0]));
    for (const [suffix] of ROLLOVER.slice(1)) {
      ksn = tdesNextKsn(ksn);
      expect(toHex(ksn)).toBe(ksnOf(suffix));
    }
    let k = fromHex(IKSN);
    for (const [suffix] of INITIAL) {
      k = tdesNextKsn(k);
      expect(toHex(k)).toBe(ksnOf(suffix));
    }
  });

  // PIN and MAC variants for KSN E00001..E00005: X9.24-1:2009 A.4 ("PIN Encryption Key" and "MAC Key"
  // columns) as reproduced in the dukpt2000 verify table of a public Python DUKPT module and in a public
  // Node DUKPT test file; the MAC response variant of counter 1 as reproduced in public C# and CyberChef
  // DUKPT test suites. The data-request keys (variant, then each half TDES-encrypted under the variant) are
  // the values reproduced by public PHP (DerivedKey::calculateDataEncryptionRequestKey) and Node test suites;
  // the plain data variant of counter 1 is from the CyberChef "DUKPT Derive TDES Key" tests.
  const VARIANTS: [string, string, string, string][] = [
    ['E00001', '042666B49184CF5C68DE9628D0397B36', '042666B4918430A368DE9628D03984C9', '448D3F076D8304036A55A3D7E0055A78'],
    ['E00002', 'C46551CEF9FD244FAA9AD834130D3B38', 'C46551CEF9FDDBB0AA9AD834130DC4C7', 'F1BE73B36135C5C26CF937D50ABBE5AF'],
    ['E00003', '0DF3D9422ACA561A47676D07AD6BAD05', '0DF3D9422ACAA9E547676D07AD6B52FA', 'EEEEF522C67239E4A2A65FEBF4C511F4'],
    ['E00004', '279C0F6AEED0BE9A2B2C733E1383AE6E', '279C0F6AEED041652B2C733E13835191', 'BCF2610997C3AC3C5F13AE965A1B773B'],
    ['E00005', '5F8DC6D2C845C1DA508DDC048093B8C0', '5F8DC6D2C8453E25508DDC048093473F', 'F3054D8B7471284BDB4EE18AFC3B091B'],
  ];
  it('PIN, MAC request and data request working keys', () => {
    for (const [suffix, pin, mac, data] of VARIANTS) {
      const ksn = ksnOf(suffix);
      expect(toHex(tdesDeriveWorkingKey(IPEK, ksn, 'pin'))).toBe(pin);
      expect(toHex(tdesDeriveWorkingKey(IPEK, ksn, 'macRequest'))).toBe(mac);
      expect(toHex(tdesDeriveWorkingKeyFromBdk(BDK, ksn, 'dataRequest'))).toBe(data);
    }
  });

  it('MAC response and plain data variants of counter 1', () => {
    const tk = tdesDeriveTransactionKey(IPEK, ksnOf('E00001'));
    expect(toHex(tdesWorkingKeyFromTransactionKey(tk, 'macResponse'))).toBe('042666B46E84CFA368DE96282F397BC9');
    expect(toHex(tdesApplyVariant(tk, 'dataRequest'))).toBe('042666B4917BCFA368DE9628D0C67BC9');
  });

  it('the data response key is the response variant put through the same one-way step', () => {
    const tk = tdesDeriveTransactionKey(IPEK, ksnOf('E00007'));
    const v = tdesApplyVariant(tk, 'dataResponse');
    expect(toHex(xor(v, tk))).toBe('000000FF00000000000000FF00000000');
    const expected = Buffer.concat([tdesEcbEncrypt(v, v.subarray(0, 8)), tdesEcbEncrypt(v, v.subarray(8))]);
    expect(toHex(tdesDeriveWorkingKey(IPEK, ksnOf('E00007'), 'dataResponse'))).toBe(toHex(expected));
  });

  it('typed errors', () => {
    expect(codeOf(() => tdesDeriveIpek(BDK, 'FFFF9876543210E000'))).toBe('BAD_KSN_LENGTH');
    expect(codeOf(() => tdesDeriveIpek(BDK, 'FFFF9876543210E0000G'))).toBe('BAD_KSN_LENGTH');
    expect(codeOf(() => tdesDeriveIpek('0123456789ABCDEF', IKSN))).toBe('BAD_KEY_LENGTH');
    expect(codeOf(() => tdesDeriveTransactionKey(IPEK, IKSN))).toBe('COUNTER_ZERO');
    // 0x0007FF has eleven one bits.
    expect(codeOf(() => tdesDeriveTransactionKey(IPEK, 'FFFF9876543210E007FF'))).toBe('TOO_MANY_ONE_BITS');
    expect(isValidTdesKsn('FFFF9876543210E007FF')).toBe(false);
    expect(isValidTdesKsn('FFFF9876543210E003FF')).toBe(true);
    // 0x1FF800 has ten one bits; every later counter has more than ten or overflows.
    expect(codeOf(() => tdesNextKsn('FFFF9876543210FFF800'))).toBe('COUNTER_EXHAUSTED');
    expect(codeOf(() => tdesApplyVariant(IPEK, 'nope' as 'pin'))).toBe('BAD_USAGE');
  });

  it('next KSN always yields a valid, larger counter (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x1ff000 }), (c) => {
        const ksn = Buffer.from('FFFF9876543210E00000', 'hex');
        ksn[7] = (ksn[7]! & 0xe0) | (c >>> 16);
        ksn[8] = (c >>> 8) & 0xff;
        ksn[9] = c & 0xff;
        const next = tdesNextKsn(ksn);
        expect(tdesKsnCounter(next)).toBeGreaterThan(c);
        expect(isValidTdesKsn(next)).toBe(true);
        expect(toHex(next.subarray(0, 7))).toBe('FFFF9876543210');
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// AES DUKPT. ANSI X9.24-3-2017 supplement "X9.24-3-2017 Test Vectors" (ASC X9, 2018-01-29):
// BDK FEDCBA9876543210F1F1F1F1F1F1F1F1 (AES-128) and the same twice (AES-256), Initial Key ID
// 1234567890123456. Initial keys, derivation keys and AES-128 PIN/MAC/data keys for counters 1..8 as
// reproduced in openemv/dukpt test/dukpt_aes128_test.c and test/dukpt_aes256_test.c; MAC-verify,
// MAC-both, data-decrypt, data-both and KEK keys of counter 1, the 2TDEA/3TDEA and AES-256 working keys and
// the DUKPT update key (counter FFFFFFFF) as reproduced in public DUKPT test suites citing the supplement.
// ---------------------------------------------------------------------------------------------
const BDK128 = 'FEDCBA9876543210F1F1F1F1F1F1F1F1';
const BDK256 = BDK128 + BDK128;
const IKID = '1234567890123456';
const IK128 = '1273671EA26AC29AFA4D1084127652A1';
const IK256 = 'CE9CE0C101D1138F97FB6CAD4DF045A7083D4EAE2D35A31789D01CCF0949550F';

// counter -> [derivation key, PIN key, MAC generation key, data encryption (encrypt) key], AES-128 BDK.
const AES128_FIRST: [string, string, string, string][] = [
  ['4F21B565BAD9835E112B6465635EAE44', 'AF8CB133A78F8DC2D1359F18527593FB', 'A2DC23DE6FDE0824A2BC321E08E4B8B7', 'A35C412EFD41FDB98B69797C02DCD08F'],
  ['2F34D68DE10F68D38091A73B9E7C437C', 'D30BDC73EC9714B000BEC66BDB7B6D09', '484C3B06E8562704528CD5B46FB12FB6', 'D639514AA33AC43AD9229E433D6D4E5B'],
  ['031504E530365CF81264238540518318', '7D69F01F3B45449F62C7816ECE723268', 'A5DF7D9D800CA769766F0C77CA4E6E6C', 'EF17F6AB45B4820C93A3DCB21BC491AD'],
  ['0EEFC7ADA628BA68878DA9165A8A1887', '91A0588318EC2673214271F70137896E', 'E6E4679647D8A9057C1FC15537CB4C4E', 'B3BD44C08BB6BA27C3BB4711D7D70387'],
  ['C2A7AC328A5DA2D6002D62465BFC028B', '35A43BC9EFEB09C756204B57E3FB7D4D', '0588185FE1FF8C7E22FAD78C1C61F065', 'CA02DF6F30B39E14BD0B4A30E460920F'],
  ['D30F7D9351DA58448A2F5E92B4EE3B7D', '02DCC6CD1201A3A2CA7099559C862123', '7B60F72A5639C0EE7EB2100FA80BB793', 'C9B8A7C4E486180B2229115164F0B293'],
  ['A8253CEED9AC042C54F75D35C8352278', '6ECF912F3B18CA11A7A27BB60705FD09', 'BAA08CA263C69525BC6B1BA8F4275D69', '0FA8F1F0A2DD7B1005A862D77CDED698'],
  ['718EE6CF0B27E53D5F7AF99C4D8146A2', '4D9DF3FBEE3448FC3E676D04320A90F5', '6FD572E5D59E618875F193484F9178FB', '650F34204ABD4E57764D61AC3D266FB1'],
];
// Encrypted AES PIN block (ISO format 4, PIN 1234, PAN 4111111111111111, random 2F69ADDE2E9E7ACE) per counter.
const AES128_EPB = [
  'A912150391AB65A67E52883D81CE2D15',
  '52A00503BD34BA1383F6A7EE9FE2547F',
  'A5A27E82B43A9A866A93D7ABE89CEF93',
  '71B3D0528669498777555A8BE6698E44',
  '881A7F77A2E04E5BEA985E342FD0B628',
  'BDC1C3871AFB0B340AA5B5CEFD08695E',
  '4A8E6B8C7DBEE6CBA6DC774F0CB83396',
  '8308BB857C17F390369F761F8EB358FA',
];
const PIN_FIELD = '441234AAAAAAAAAA2F69ADDE2E9E7ACE';
const PAN_FIELD = '44111111111111111000000000000000';

const ksnAt = (counter: number): Buffer => aesMakeKsn(IKID, counter);

describe('AES DUKPT (ANSI X9.24-3-2017 supplement test vectors)', () => {
  it('initial keys for AES-128 and AES-256 BDKs', () => {
    expect(toHex(aesDeriveInitialKey(fromHex(BDK128), fromHex(IKID)))).toBe(IK128);
    expect(toHex(aesDeriveInitialKey(BDK256, IKID))).toBe(IK256);
  });

  it('AES-128: derivation, PIN, MAC and data keys for counters 1..8, and the format 4 PIN blocks', () => {
    AES128_FIRST.forEach(([dk, pin, mac, data], i) => {
      const ksn = ksnAt(i + 1);
      expect(toHex(aesDeriveDerivationKey(IK128, ksn)), `counter ${i + 1}`).toBe(dk);
      const pinKey = aesDeriveWorkingKey(IK128, ksn, 'pinEncryption', 'AES128');
      expect(toHex(pinKey)).toBe(pin);
      expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'macGeneration', 'AES128'))).toBe(mac);
      expect(toHex(aesDeriveWorkingKeyFromBdk(BDK128, ksn, 'dataEncrypt', 'AES128'))).toBe(data);
      // Format 4: E(K, E(K, PIN field) xor PAN field).
      const a = aesEcbEncrypt(pinKey, fromHex(PIN_FIELD));
      expect(toHex(aesEcbEncrypt(pinKey, xor(a, fromHex(PAN_FIELD))))).toBe(AES128_EPB[i]);
    });
  });

  it('AES-128: every key usage of counter 1', () => {
    const ksn = ksnAt(1);
    const want = {
      pinEncryption: 'AF8CB133A78F8DC2D1359F18527593FB',
      macGeneration: 'A2DC23DE6FDE0824A2BC321E08E4B8B7',
      macVerification: 'DBB463945B286C07CD3AD82EE96FD9C9',
      macBoth: '85675439D18D7F1158BD8E3EAA3D502B',
      dataEncrypt: 'A35C412EFD41FDB98B69797C02DCD08F',
      dataDecrypt: '16292C6EA8F64C5420A0584BFBC577BE',
      dataBoth: 'A308E080DD15A1B741F1721BF67DE11C',
      keyEncryption: '36A724B7BEFA5A25F5E7B5782A4554A2',
    } as const;
    for (const [usage, key] of Object.entries(want)) {
      expect(toHex(aesDeriveWorkingKey(IK128, ksn, usage as keyof typeof want, 'AES128')), usage).toBe(key);
    }
  });

  it('2TDEA and 3TDEA working keys from the AES-128 BDK, counter 1', () => {
    const ksn = ksnAt(1);
    expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'pinEncryption', 'TDES2'))).toBe('630C706D9546E47D4449313F61C4D4AB');
    expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'macGeneration', 'TDES2'))).toBe('5D8FD787E8A796D07035FFCA9B5800BB');
    expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'dataEncrypt', 'TDES2'))).toBe('BD44121C223F831446A01EE3A4CB58D2');
    expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'pinEncryption', 'TDES3'))).toBe('EA8B3F37EB9B15831167EF2977FD8762D9B5913F35766F6A');
    expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'macGeneration', 'TDES3'))).toBe('2A1061A6EAC2C14FAC3758EA07B3648A624B24E942785BF1');
    expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'dataEncrypt', 'TDES3'))).toBe('F716DFBC6B2D2D5825B694EEEE181A013F2F1C09380BBE0C');
  });

  it('AES-128: derivation keys around the first skipped counter and at the end of the counter space', () => {
    const cases: [number, string][] = [
      [0x1fffe, 'E21E8C8D347F8561A2BE752DAA85A111'],
      [0x20000, 'F7AE9025468A25D37B7249CFFED224C8'],
      [0x20001, '692C8EA4013645135B36497131DF9D2C'],
      [0xfffe2000, '48E585B694EB0B18D5C35443E163C0BA'],
      [0xfffe4000, '396C2C7CA1EA701C03B86B7D41F0C562'],
      [0xfffe8000, '0387625F189B58AE03EF0E8CCA41105E'],
      [0xffff0000, 'F6BA59389BD14A9855BE9727E7C52E3C'],
    ];
    for (const [c, dk] of cases) expect(toHex(aesDeriveDerivationKey(IK128, ksnAt(c))), c.toString(16)).toBe(dk);
  });

  it('AES-256 BDK: derivation keys and counter-1 working keys', () => {
    const dks: [number, string][] = [
      [1, '54AC2B32B145EA4A554CB8BC44B17467063A799856B1CCC2A138D36E8DBF78B3'],
      [2, '5DD5A0253842BBBE1D7C0DA27021412C6F1FAB53FB928DEAE56DA06090A9DE97'],
      [8, '20A796D5077D51B8E7613893A4F095B134E02917DC84BD391F3661D0873FF308'],
      [0x1fffe, 'A289508CBF1228452CD86AB77B15CB35577AC828C18BB66681E5A16D6C9CCED3'],
      [0x20000, 'D62DDA94A47D7DA5D763443B4ECB15EA8DD62E0E4F915958BA459591F8312E37'],
      [0xffff0000, '6D6DB7AAAE8B3EA90E57A39E4BBA71E173B21B446B30A78D64BFC6A8806C55EE'],
    ];
    for (const [c, dk] of dks) expect(toHex(aesDeriveDerivationKey(IK256, ksnAt(c))), c.toString(16)).toBe(dk);
    const ksn = ksnAt(1);
    expect(toHex(aesDeriveWorkingKey(IK256, ksn, 'pinEncryption', 'AES256'))).toBe('8C1AB7BEE973829E30242E0BBBDD4946D540C98FC1B5BDCF94790001A23FD502');
    expect(toHex(aesDeriveWorkingKey(IK256, ksn, 'macGeneration', 'AES256'))).toBe('61DABDF4B340CF461EE860B1D1AB55357142BD2D6977306859CF49AEFE8F1549');
    expect(toHex(aesDeriveWorkingKeyFromBdk(BDK256, ksn, 'dataEncrypt', 'AES256'))).toBe('71EB36C9A6B7F801D1D1700C29741FC5A5C4E9B45D742DA7AF6992B8AA29AF58');
  });

  it('DUKPT update key (counter FFFFFFFF, key encryption usage)', () => {
    const ksn = ksnAt(0xffffffff);
    expect(toHex(aesDeriveDerivationKey(IK128, ksn))).toBe('36C6EBBCC0536FC91C1D50660D4F82AE');
    expect(toHex(aesDeriveWorkingKey(IK128, ksn, 'keyEncryption', 'AES128'))).toBe('9A9770AEE1ACD1B13473D0463A1883B9');
    expect(toHex(aesDeriveDerivationKey(IK256, ksn))).toBe('39064FDC8373D710AFAA823E757E59190C92DD8FBF86B87B673632F4E04C97D2');
    expect(toHex(aesDeriveWorkingKey(IK256, ksn, 'keyEncryption', 'AES256'))).toBe('AEFB210C136278A1279F7C8815F446DB8EBE2AA910B157AA4E6484D8DE9C4807');
    expect(codeOf(() => aesDeriveWorkingKey(IK128, ksn, 'pinEncryption', 'AES128'))).toBe('BAD_USAGE');
    expect(isValidAesKsn(ksn)).toBe(false);
  });

  it('advances the KSN, skipping counters with more than 16 one bits, until exhausted', () => {
    expect(aesKsnCounter(aesNextKsn(ksnAt(0)))).toBe(1);
    expect(aesKsnCounter(aesNextKsn(ksnAt(0x1fffe)))).toBe(0x20000);
    let k = ksnAt(0xfffe2000);
    for (const c of [0xfffe4000, 0xfffe8000, 0xffff0000]) {
      k = aesNextKsn(k);
      expect(aesKsnCounter(k)).toBe(c);
      expect(toHex(k.subarray(0, 8))).toBe(IKID);
    }
    expect(codeOf(() => aesNextKsn(k))).toBe('COUNTER_EXHAUSTED');
  });

  it('typed errors', () => {
    expect(codeOf(() => aesDeriveInitialKey(BDK128, '12345678901234'))).toBe('BAD_KSN_LENGTH');
    expect(codeOf(() => aesDeriveInitialKey('00'.repeat(15), IKID))).toBe('BAD_KEY_LENGTH');
    expect(codeOf(() => aesDeriveWorkingKey(IK128, '1234567890123456000001', 'pinEncryption', 'AES128'))).toBe('BAD_KSN_LENGTH');
    expect(codeOf(() => aesDeriveWorkingKey(IK128, ksnAt(0), 'pinEncryption', 'AES128'))).toBe('COUNTER_ZERO');
    expect(codeOf(() => aesDeriveWorkingKey(IK128, ksnAt(0x1ffff), 'pinEncryption', 'AES128'))).toBe('TOO_MANY_ONE_BITS');
    expect(codeOf(() => aesDeriveWorkingKey(IK128, ksnAt(1), 'pinEncryption', 'AES256'))).toBe('BAD_USAGE');
    expect(codeOf(() => aesDeriveWorkingKey(IK128, ksnAt(1), 'bogus' as 'pinEncryption', 'AES128'))).toBe('BAD_USAGE');
    expect(codeOf(() => aesDeriveWorkingKey(IK128, ksnAt(1), 'pinEncryption', 'DES' as 'AES128'))).toBe('BAD_USAGE');
    expect(codeOf(() => aesMakeKsn(IKID, -1))).toBe('BAD_KSN_LENGTH');
  });

  it('host (from BDK) and device (from IK) paths agree (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff0000 }).filter((c) => isValidAesKsn(aesMakeKsn(IKID, c))),
        fc.constantFrom('pinEncryption', 'macGeneration', 'dataDecrypt', 'keyEncryption') as fc.Arbitrary<'pinEncryption'>,
        (c, usage) => {
          const ksn = aesMakeKsn(IKID, c);
          expect(toHex(aesDeriveWorkingKeyFromBdk(BDK128, ksn, usage, 'AES128'))).toBe(toHex(aesDeriveWorkingKey(IK128, ksn, usage, 'AES128')));
        },
      ),
      { numRuns: 40 },
    );
  });
});
