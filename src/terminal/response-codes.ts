/**
 * UnionPay POS response codes (field 39) and what they mean to a terminal operator.
 * Codes not in the table are reported as "unknown response code".
 */

const MEANINGS: Readonly<Record<string, string>> = Object.freeze({
  '00': 'approved',
  '01': 'refer to card issuer',
  '03': 'invalid merchant',
  '04': 'pick up card',
  '05': 'do not honour',
  '06': 'error',
  '12': 'invalid transaction',
  '13': 'invalid amount',
  '14': 'invalid card number',
  '15': 'no such issuer',
  '22': 'operation error',
  '25': 'original transaction not found',
  '30': 'format error',
  '33': 'expired card, pick up',
  '34': 'suspected fraud',
  '38': 'PIN tries exceeded',
  '40': 'function not supported',
  '41': 'lost card',
  '43': 'stolen card',
  '51': 'insufficient funds',
  '54': 'expired card',
  '55': 'incorrect PIN',
  '57': 'transaction not permitted to cardholder',
  '58': 'transaction not permitted on this terminal',
  '59': 'suspected fraud',
  '61': 'amount limit exceeded',
  '62': 'restricted card',
  '64': 'original amount incorrect',
  '65': 'withdrawal count exceeded',
  '68': 'response received too late (timeout)',
  '75': 'PIN tries exceeded',
  '90': 'cut-over in progress, try later',
  '91': 'issuer unavailable',
  '92': 'issuer or switch unreachable',
  '94': 'duplicate transaction',
  '96': 'system malfunction',
  '97': 'terminal not registered',
  '98': 'issuer timeout',
  '99': 'PIN format error, sign on again',
  A0: 'MAC error, sign on again',
  A7: 'security processing failed',
  // qiandao operator codes (docs/protocol-operators.md)
  Q1: 'no operator signed on',
  Q2: 'operator not permitted',
  Q3: 'operator must change password',
  Q4: 'unknown or disabled operator',
});

/** Human meaning of a field-39 response code (case-insensitive), or a generic text for unknown codes. */
export function describeResponseCode(code: string): string {
  return MEANINGS[code.toUpperCase()] ?? `unknown response code ${code}`;
}

/** True when the code is in the table. */
export function isKnownResponseCode(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(MEANINGS, code.toUpperCase());
}

/** Codes after which the terminal should sign on again before further transactions. */
export const SIGN_ON_AGAIN_CODES: readonly string[] = Object.freeze(['99', 'A0']);
