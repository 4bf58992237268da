/**
 * ISO 8583:1987 data elements 2-128 as one table (kind, length type, length, name, sensitivity),
 * shared by the ASCII and binary profiles, which only choose encodings. Lengths of `b` fields
 * are in bytes (the standard writes bits: b64 = 8 bytes).
 *
 * Interpretation notes:
 * - x+n fields (28-31, 46 amount-style fee fields, 97) carry a 'C'/'D' sign before the digits;
 *   they are modelled as `an` of the total length, sent as ASCII in both profiles.
 * - 55 is "reserved ISO" in 1987; like most 1987-based networks it is used here for EMV ICC data
 *   (BER-TLV, up to 255 bytes, the 1993 definition).
 * - 1 (secondary bitmap) and 65 (tertiary bitmap) are not fields: the bitmap logic handles bit 1
 *   and bit 65 is rejected.
 */
import type {
  BinaryFieldDef, LengthType, Sensitivity, StringFieldDef, StringKind, TlvFieldDef,
} from '../iso8583/index.js';

type Row = readonly [kind: StringKind | 'b' | 'tlv', lengthType: LengthType, length: number, name: string, sensitive?: Sensitivity];

export const ISO87_FIELDS = {
  2: ['n', 'LL', 19, 'Primary account number', 'pan'],
  3: ['n', 'fixed', 6, 'Processing code'],
  4: ['n', 'fixed', 12, 'Amount, transaction'],
  5: ['n', 'fixed', 12, 'Amount, settlement'],
  6: ['n', 'fixed', 12, 'Amount, cardholder billing'],
  7: ['n', 'fixed', 10, 'Transmission date and time'],
  8: ['n', 'fixed', 8, 'Amount, cardholder billing fee'],
  9: ['n', 'fixed', 8, 'Conversion rate, settlement'],
  10: ['n', 'fixed', 8, 'Conversion rate, cardholder billing'],
  11: ['n', 'fixed', 6, 'System trace audit number'],
  12: ['n', 'fixed', 6, 'Time, local transaction (hhmmss)'],
  13: ['n', 'fixed', 4, 'Date, local transaction (MMDD)'],
  14: ['n', 'fixed', 4, 'Date, expiration (YYMM)'],
  15: ['n', 'fixed', 4, 'Date, settlement'],
  16: ['n', 'fixed', 4, 'Date, conversion'],
  17: ['n', 'fixed', 4, 'Date, capture'],
  18: ['n', 'fixed', 4, 'Merchant type'],
  19: ['n', 'fixed', 3, 'Acquiring institution country code'],
  20: ['n', 'fixed', 3, 'PAN extended, country code'],
  21: ['n', 'fixed', 3, 'Forwarding institution country code'],
  22: ['n', 'fixed', 3, 'Point of service entry mode'],
  23: ['n', 'fixed', 3, 'Card sequence number'],
  24: ['n', 'fixed', 3, 'Network international identifier'],
  25: ['n', 'fixed', 2, 'Point of service condition code'],
  26: ['n', 'fixed', 2, 'Point of service capture code'],
  27: ['n', 'fixed', 1, 'Authorizing identification response length'],
  28: ['an', 'fixed', 9, 'Amount, transaction fee (x+n8)'],
  29: ['an', 'fixed', 9, 'Amount, settlement fee (x+n8)'],
  30: ['an', 'fixed', 9, 'Amount, transaction processing fee (x+n8)'],
  31: ['an', 'fixed', 9, 'Amount, settlement processing fee (x+n8)'],
  32: ['n', 'LL', 11, 'Acquiring institution identification code'],
  33: ['n', 'LL', 11, 'Forwarding institution identification code'],
  34: ['ans', 'LL', 28, 'Primary account number, extended', 'pan'],
  35: ['z', 'LL', 37, 'Track 2 data', 'track'],
  36: ['z', 'LLL', 104, 'Track 3 data', 'track'],
  37: ['an', 'fixed', 12, 'Retrieval reference number'],
  38: ['an', 'fixed', 6, 'Authorization identification response'],
  39: ['an', 'fixed', 2, 'Response code'],
  40: ['an', 'fixed', 3, 'Service restriction code'],
  41: ['ans', 'fixed', 8, 'Card acceptor terminal identification'],
  42: ['ans', 'fixed', 15, 'Card acceptor identification code'],
  43: ['ans', 'fixed', 40, 'Card acceptor name/location'],
  44: ['an', 'LL', 25, 'Additional response data'],
  45: ['ans', 'LL', 76, 'Track 1 data', 'track'],
  46: ['ans', 'LLL', 999, 'Additional data - ISO'],
  47: ['ans', 'LLL', 999, 'Additional data - national'],
  48: ['ans', 'LLL', 999, 'Additional data - private'],
  49: ['an', 'fixed', 3, 'Currency code, transaction'],
  50: ['an', 'fixed', 3, 'Currency code, settlement'],
  51: ['an', 'fixed', 3, 'Currency code, cardholder billing'],
  52: ['b', 'fixed', 8, 'Personal identification number data', 'pin'],
  53: ['n', 'fixed', 16, 'Security related control information'],
  54: ['an', 'LLL', 120, 'Additional amounts'],
  55: ['tlv', 'LLL', 255, 'ICC data (EMV)'],
  56: ['ans', 'LLL', 999, 'Reserved ISO'],
  57: ['ans', 'LLL', 999, 'Reserved national'],
  58: ['ans', 'LLL', 999, 'Reserved national'],
  59: ['ans', 'LLL', 999, 'Reserved national'],
  60: ['ans', 'LLL', 999, 'Reserved national'],
  61: ['ans', 'LLL', 999, 'Reserved private'],
  62: ['ans', 'LLL', 999, 'Reserved private'],
  63: ['ans', 'LLL', 999, 'Reserved private'],
  64: ['b', 'fixed', 8, 'Message authentication code', 'mac'],
  66: ['n', 'fixed', 1, 'Settlement code'],
  67: ['n', 'fixed', 2, 'Extended payment code'],
  68: ['n', 'fixed', 3, 'Receiving institution country code'],
  69: ['n', 'fixed', 3, 'Settlement institution country code'],
  70: ['n', 'fixed', 3, 'Network management information code'],
  71: ['n', 'fixed', 4, 'Message number'],
  72: ['n', 'fixed', 4, 'Message number, last'],
  73: ['n', 'fixed', 6, 'Date, action (YYMMDD)'],
  74: ['n', 'fixed', 10, 'Credits, number'],
  75: ['n', 'fixed', 10, 'Credits, reversal number'],
  76: ['n', 'fixed', 10, 'Debits, number'],
  77: ['n', 'fixed', 10, 'Debits, reversal number'],
  78: ['n', 'fixed', 10, 'Transfer, number'],
  79: ['n', 'fixed', 10, 'Transfer, reversal number'],
  80: ['n', 'fixed', 10, 'Inquiries, number'],
  81: ['n', 'fixed', 10, 'Authorizations, number'],
  82: ['n', 'fixed', 12, 'Credits, processing fee amount'],
  83: ['n', 'fixed', 12, 'Credits, transaction fee amount'],
  84: ['n', 'fixed', 12, 'Debits, processing fee amount'],
  85: ['n', 'fixed', 12, 'Debits, transaction fee amount'],
  86: ['n', 'fixed', 16, 'Credits, amount'],
  87: ['n', 'fixed', 16, 'Credits, reversal amount'],
  88: ['n', 'fixed', 16, 'Debits, amount'],
  89: ['n', 'fixed', 16, 'Debits, reversal amount'],
  90: ['n', 'fixed', 42, 'Original data elements'],
  91: ['an', 'fixed', 1, 'File update code'],
  92: ['an', 'fixed', 2, 'File security code'],
  93: ['an', 'fixed', 5, 'Response indicator'],
  94: ['an', 'fixed', 7, 'Service indicator'],
  95: ['an', 'fixed', 42, 'Replacement amounts'],
  96: ['b', 'fixed', 8, 'Message security code', 'key'],
  97: ['an', 'fixed', 17, 'Amount, net settlement (x+n16)'],
  98: ['ans', 'fixed', 25, 'Payee'],
  99: ['n', 'LL', 11, 'Settlement institution identification code'],
  100: ['n', 'LL', 11, 'Receiving institution identification code'],
  101: ['ans', 'LL', 17, 'File name'],
  102: ['ans', 'LL', 28, 'Account identification 1'],
  103: ['ans', 'LL', 28, 'Account identification 2'],
  104: ['ans', 'LLL', 100, 'Transaction description'],
  105: ['ans', 'LLL', 999, 'Reserved ISO'],
  106: ['ans', 'LLL', 999, 'Reserved ISO'],
  107: ['ans', 'LLL', 999, 'Reserved ISO'],
  108: ['ans', 'LLL', 999, 'Reserved ISO'],
  109: ['ans', 'LLL', 999, 'Reserved ISO'],
  110: ['ans', 'LLL', 999, 'Reserved ISO'],
  111: ['ans', 'LLL', 999, 'Reserved ISO'],
  112: ['ans', 'LLL', 999, 'Reserved national'],
  113: ['ans', 'LLL', 999, 'Reserved national'],
  114: ['ans', 'LLL', 999, 'Reserved national'],
  115: ['ans', 'LLL', 999, 'Reserved national'],
  116: ['ans', 'LLL', 999, 'Reserved national'],
  117: ['ans', 'LLL', 999, 'Reserved national'],
  118: ['ans', 'LLL', 999, 'Reserved national'],
  119: ['ans', 'LLL', 999, 'Reserved national'],
  120: ['ans', 'LLL', 999, 'Reserved private'],
  121: ['ans', 'LLL', 999, 'Reserved private'],
  122: ['ans', 'LLL', 999, 'Reserved private'],
  123: ['ans', 'LLL', 999, 'Reserved private'],
  124: ['ans', 'LLL', 999, 'Reserved private'],
  125: ['ans', 'LLL', 999, 'Reserved private'],
  126: ['ans', 'LLL', 999, 'Reserved private'],
  127: ['ans', 'LLL', 999, 'Reserved private'],
  128: ['b', 'fixed', 8, 'Message authentication code', 'mac'],
} as const satisfies Record<number, Row>;

type Table = typeof ISO87_FIELDS;
type DefOf<R> = R extends readonly ['b', ...unknown[]]
  ? BinaryFieldDef
  : R extends readonly ['tlv', ...unknown[]]
    ? TlvFieldDef
    : R extends readonly [infer K extends StringKind, ...unknown[]]
      ? StringFieldDef<K>
      : never;

/** Field map type of the ISO 8583:1987 profiles. */
export type Iso87Fields = { readonly [N in keyof Table]: DefOf<Table[N]> };

export interface Iso87Profile {
  /** Encoding options for a row; returns the extra properties of its definition. */
  text(kind: StringKind, lengthType: LengthType): Partial<StringFieldDef>;
  binary(lengthType: LengthType): Partial<BinaryFieldDef>;
}

/** Build the 1987 field map with a profile's encodings. */
export function iso87Fields(profile: Iso87Profile): Iso87Fields {
  const out: Record<number, unknown> = {};
  for (const [key, row] of Object.entries(ISO87_FIELDS) as Array<[string, Row]>) {
    const [kind, lengthType, length, name, sensitive] = row;
    const extra = kind === 'b' || kind === 'tlv' ? profile.binary(lengthType) : profile.text(kind, lengthType);
    out[Number(key)] = { ...extra, kind, lengthType, length, name, ...(sensitive ? { sensitive } : {}) };
  }
  return out as Iso87Fields;
}
