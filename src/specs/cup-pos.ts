/**
 * UnionPay (China UnionPay, CUP) POS terminal dialect, fields 1-64.
 * Sources: docs/cup-pos-fields.md (field reference) and the shared facts file; see there for
 * message usage and sub-field layouts.
 *
 * Wire conventions (apply to every field below):
 * - MTI: 2 bytes BCD. Bitmap: 8 bytes binary, primary only (bit 1 always 0, fields 65+ absent).
 * - n fixed: packed BCD, right-aligned (odd digit count → leading 0 nibble). Exception: field 22
 *   is left-aligned ("021" → 02 10).
 * - n / z variable (2, 32, 33, 35, 36, 48, 60, 61): packed BCD, LEFT-aligned (odd count →
 *   trailing 0 nibble); the length prefix counts digits/characters. Track separator '=' → nibble D.
 * - a / an / ans: ASCII; variable ones have a prefix counting bytes (= characters).
 * - b: raw bytes; the prefix counts bytes.
 * - LLVAR prefix: 1 byte BCD. LLLVAR prefix: 2 bytes BCD (0x01 0x04 = 104).
 *
 * Fields marked "not used" are not sent by UnionPay POS terminals; they are defined with the
 * ISO 8583:1987 format and this dialect's encodings so a stray one still decodes.
 *
 * Doubtful points (see docs/cup-pos-fields.md §8):
 * - 60 max is declared 17 (60.1-60.7); some acquirers append more and would be rejected.
 * - 60.7 is taken as n3 (account type) per the field reference, not n1.
 * - 63 max 163; responses may carry GBK text, so any byte 0x00-0xFF is accepted (latin1 string).
 * - 62 carries working keys (encrypted under the TMK) on 0810 but also parameters and CA keys,
 *   so it is not masked by default.
 * - 28-31 (x+n8) are unused here and modelled as an9 ASCII.
 */
import {
  composite, defineSpec, fixed, llvar, lllvar, sub,
  type Sensitivity, type StringFieldDef, type StringKind, type TextOpts,
} from '../iso8583/index.js';

/** Fixed numeric, BCD right-aligned. */
const bcd = (length: number, name: string) => fixed.n(length, { name, encoding: 'bcd' });
/** Fixed text in ASCII. */
const ascii = <K extends Exclude<StringKind, 'n' | 'z'>>(kind: K, length: number, name: string): StringFieldDef<K> => ({
  kind, lengthType: 'fixed', length, name, encoding: 'ascii',
});
/** Variable BCD digits/track, left-aligned, prefix counts digits. */
const varBcd: TextOpts = { encoding: 'bcd', align: 'left', prefix: 'bcd' };
const varAscii = (name: string, sensitive?: Sensitivity): TextOpts => ({ name, prefix: 'bcd', encoding: 'ascii', ...(sensitive ? { sensitive } : {}) });

export const cupPos = defineSpec({
  name: 'cup-pos',
  description: 'China UnionPay POS terminal dialect (BCD MTI, primary bitmap, BCD numerics)',
  mti: { encoding: 'bcd' },
  bitmap: { encoding: 'binary', secondary: false },
  fields: {
    // 1: secondary bitmap — never sent (primary bitmap only); not a field here.
    /** 2 PAN · n..19 LLVAR · 1-byte BCD prefix (digits) · BCD left-aligned. */
    2: llvar.n(19, { ...varBcd, name: 'Primary account number', sensitive: 'pan' }),
    /** 3 Processing code · n6 · BCD (3 bytes). */
    3: bcd(6, 'Processing code'),
    /** 4 Amount, transaction · n12 · BCD (6 bytes), minor units (fen). */
    4: bcd(12, 'Amount, transaction'),
    /** 5 Amount, settlement · n12 · BCD · not used. */
    5: bcd(12, 'Amount, settlement'),
    /** 6 Amount, cardholder billing · n12 · BCD · not used. */
    6: bcd(12, 'Amount, cardholder billing'),
    /** 7 Transmission date and time · n10 · BCD · not used. */
    7: bcd(10, 'Transmission date and time'),
    /** 8 Amount, cardholder billing fee · n8 · BCD · not used. */
    8: bcd(8, 'Amount, cardholder billing fee'),
    /** 9 Conversion rate, settlement · n8 · BCD · not used. */
    9: bcd(8, 'Conversion rate, settlement'),
    /** 10 Conversion rate, cardholder billing · n8 · BCD · not used. */
    10: bcd(8, 'Conversion rate, cardholder billing'),
    /** 11 System trace audit number (POS STAN) · n6 · BCD (3 bytes). */
    11: bcd(6, 'System trace audit number'),
    /** 12 Time, local transaction · n6 hhmmss · BCD. */
    12: bcd(6, 'Time, local transaction'),
    /** 13 Date, local transaction · n4 MMDD · BCD. */
    13: bcd(4, 'Date, local transaction'),
    /** 14 Date, expiration · n4 YYMM · BCD. */
    14: bcd(4, 'Date, expiration'),
    /** 15 Date, settlement · n4 MMDD · BCD. */
    15: bcd(4, 'Date, settlement'),
    /** 16 Date, conversion · n4 · BCD · not used. */
    16: bcd(4, 'Date, conversion'),
    /** 17 Date, capture · n4 · BCD · not used. */
    17: bcd(4, 'Date, capture'),
    /** 18 Merchant type · n4 · BCD · not used (MCC is inside field 42). */
    18: bcd(4, 'Merchant type'),
    /** 19 Acquiring institution country code · n3 · BCD · not used. */
    19: bcd(3, 'Acquiring institution country code'),
    /** 20 PAN extended, country code · n3 · BCD · not used. */
    20: bcd(3, 'PAN extended, country code'),
    /** 21 Forwarding institution country code · n3 · BCD · not used. */
    21: bcd(3, 'Forwarding institution country code'),
    /** 22 POS entry mode · n3 · BCD LEFT-aligned ("021" → 02 10). */
    22: fixed.n(3, { name: 'Point of service entry mode', encoding: 'bcd', align: 'left' }),
    /** 23 Card sequence number · n3 · BCD right-aligned ("001" → 00 01). */
    23: bcd(3, 'Card sequence number'),
    /** 24 Network international identifier · n3 · BCD · not used (TPDU routes). */
    24: bcd(3, 'Network international identifier'),
    /** 25 POS condition code · n2 · BCD (00 normal, 06 pre-auth family …). */
    25: bcd(2, 'Point of service condition code'),
    /** 26 POS PIN capture code · n2 · BCD (usually 12). */
    26: bcd(2, 'Point of service PIN capture code'),
    /** 27 Authorizing identification response length · n1 · BCD · not used. */
    27: bcd(1, 'Authorizing identification response length'),
    /** 28 Amount, transaction fee · x+n8 · modelled an9 ASCII · not used. */
    28: ascii('an', 9, 'Amount, transaction fee'),
    /** 29 Amount, settlement fee · x+n8 · an9 ASCII · not used. */
    29: ascii('an', 9, 'Amount, settlement fee'),
    /** 30 Amount, transaction processing fee · x+n8 · an9 ASCII · not used. */
    30: ascii('an', 9, 'Amount, transaction processing fee'),
    /** 31 Amount, settlement processing fee · x+n8 · an9 ASCII · not used. */
    31: ascii('an', 9, 'Amount, settlement processing fee'),
    /** 32 Acquiring institution identification code · n..11 LLVAR · BCD left-aligned, prefix counts digits. */
    32: llvar.n(11, { ...varBcd, name: 'Acquiring institution identification code' }),
    /** 33 Forwarding institution identification code · n..11 LLVAR · as 32 · not used. */
    33: llvar.n(11, { ...varBcd, name: 'Forwarding institution identification code' }),
    /** 34 PAN, extended · ns..28 LLVAR · ASCII · not used. */
    34: llvar.ans(28, varAscii('Primary account number, extended', 'pan')),
    /** 35 Track 2 data · z..37 LLVAR · BCD left-aligned, '=' as D, prefix counts characters. */
    35: llvar.z(37, { ...varBcd, name: 'Track 2 data', sensitive: 'track' }),
    /** 36 Track 3 data · z..104 LLLVAR · as 35 with a 2-byte prefix. */
    36: lllvar.z(104, { ...varBcd, name: 'Track 3 data', sensitive: 'track' }),
    /** 37 Retrieval reference number · an12 · ASCII. */
    37: ascii('an', 12, 'Retrieval reference number'),
    /** 38 Authorization identification response · an6 · ASCII. */
    38: ascii('an', 6, 'Authorization identification response'),
    /** 39 Response code · an2 · ASCII. */
    39: ascii('an', 2, 'Response code'),
    /** 40 Service restriction code · an3 · ASCII · not used. */
    40: ascii('an', 3, 'Service restriction code'),
    /** 41 Card acceptor terminal identification · ans8 · ASCII. */
    41: ascii('ans', 8, 'Card acceptor terminal identification'),
    /** 42 Card acceptor identification code (merchant number) · ans15 · ASCII. */
    42: ascii('ans', 15, 'Card acceptor identification code'),
    /** 43 Card acceptor name/location · ans40 · ASCII · not used. */
    43: ascii('ans', 40, 'Card acceptor name/location'),
    /** 44 Additional response data · an..25 LLVAR · ASCII (44.1 issuer an11, 44.2 acquirer an11). */
    44: llvar.an(25, varAscii('Additional response data')),
    /** 45 Track 1 data · ans..76 LLVAR · ASCII · not used. */
    45: llvar.ans(76, varAscii('Track 1 data', 'track')),
    /** 46 Additional data - ISO · ans...999 LLLVAR · ASCII · not used. */
    46: lllvar.ans(999, varAscii('Additional data - ISO')),
    /** 47 Additional data - national · ans...999 LLLVAR · ASCII · not used. */
    47: lllvar.ans(999, varAscii('Additional data - national')),
    /** 48 Additional data - private · n...322 LLLVAR · BCD left-aligned, prefix counts digits (settlement totals, batch records). */
    48: lllvar.n(322, { ...varBcd, name: 'Additional data - private' }),
    /** 49 Currency code, transaction · an3 · ASCII ("156"). */
    49: ascii('an', 3, 'Currency code, transaction'),
    /** 50 Currency code, settlement · n3 · BCD · not used. */
    50: bcd(3, 'Currency code, settlement'),
    /** 51 Currency code, cardholder billing · n3 · BCD · not used. */
    51: bcd(3, 'Currency code, cardholder billing'),
    /** 52 PIN data · b64 (8 bytes) · encrypted ISO 9564 PIN block. */
    52: fixed.b(8, { name: 'PIN data', sensitive: 'pin' }),
    /** 53 Security related control information · n16 · BCD (8 bytes). */
    53: bcd(16, 'Security related control information'),
    /** 54 Additional amounts (balance) · an...020 LLLVAR · ASCII. */
    54: lllvar.an(20, varAscii('Additional amounts')),
    /** 55 IC card data · b...255 LLLVAR · BER-TLV, prefix counts bytes. */
    55: lllvar.tlv(255, { name: 'IC card data', prefix: 'bcd' }),
    /** 56 Reserved ISO · ans...999 LLLVAR · ASCII · not used. */
    56: lllvar.ans(999, varAscii('Reserved ISO')),
    /** 57 Reserved national · ans...999 LLLVAR · ASCII · not used. */
    57: lllvar.ans(999, varAscii('Reserved national')),
    /** 58 PBOC electronic purse data · ...100 LLLVAR · binary (as implementations send it). */
    58: lllvar.b(100, { name: 'PBOC e-purse transaction data', prefix: 'bcd' }),
    /** 59 Reserved national · ans...999 LLLVAR · ASCII · not used. */
    59: lllvar.ans(999, varAscii('Reserved national')),
    /**
     * 60 Reserved private · n...017 LLLVAR · BCD left-aligned, prefix counts digits.
     * 60.1 message type code n2 · 60.2 batch number n6 · 60.3 network management code n3 ·
     * 60.4 terminal read capability n1 · 60.5 IC condition code n1 · 60.6 partial-approval flag n1 ·
     * 60.7 account type n3. 60.4-60.7 are optional (management messages send 11 digits).
     */
    60: composite(
      'LLL',
      17,
      {
        1: sub.n(2, 'Message type code'),
        2: sub.n(6, 'Batch number'),
        3: sub.n(3, 'Network management information code'),
        4: sub.n(1, 'Terminal read capability', { optional: true }),
        5: sub.n(1, 'IC card condition code', { optional: true }),
        6: sub.n(1, 'Partial approval / balance return flag', { optional: true }),
        7: sub.n(3, 'Account type', { optional: true }),
      },
      { name: 'Reserved private (transaction info)', encoding: 'bcd', align: 'left', prefix: 'bcd' },
    ),
    /**
     * 61 Original message data · n...029 LLLVAR · BCD left-aligned, prefix counts digits.
     * 61.1 original batch n6 · 61.2 original STAN n6 · 61.3 original date MMDD n4 ·
     * 61.4 original authorisation method n2 · 61.5 original authorising institution n11.
     */
    61: composite(
      'LLL',
      29,
      {
        1: sub.n(6, 'Original batch number'),
        2: sub.n(6, 'Original POS STAN'),
        3: sub.n(4, 'Original transaction date', { optional: true }),
        4: sub.n(2, 'Original authorisation method', { optional: true }),
        5: sub.n(11, 'Original authorising institution code', { optional: true }),
      },
      { name: 'Original message data', encoding: 'bcd', align: 'left', prefix: 'bcd' },
    ),
    /** 62 Reserved private · b...512 LLLVAR · binary, prefix counts bytes (0810 working keys, downloads). */
    62: lllvar.b(512, { name: 'Reserved private (keys / downloads)', prefix: 'bcd' }),
    /** 63 Reserved private · ans...163 LLLVAR · ASCII (operator / card organisation / messages). */
    63: lllvar.ans(163, { ...varAscii('Reserved private (operator / card organisation)'), anyByte: true }),
    /** 64 Message authentication code · b64 (8 bytes). */
    64: fixed.b(8, { name: 'Message authentication code', sensitive: 'mac' }),
  },
});
