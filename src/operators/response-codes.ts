/**
 * Field 39 codes for operator outcomes. UnionPay defines none for operators; qiandao uses two
 * codes of its own in a letter range UnionPay leaves unused (Q), so a terminal can tell "sign an
 * operator on" from "this operator may not" and from every card or terminal refusal, and reuses
 * the PIN codes for the password (which travels as a PIN block). See docs/protocol-operators.md.
 */
export const OperatorResponseCode = {
  /** No operator signed on at the terminal, or the sign-on lapsed (idle, settlement, sign-off). */
  NoOperator: 'Q1',
  /** The signed-on operator lacks the permission and no supervisor approval is pending. */
  NotPermitted: 'Q2',
  /** First use or reset: the operator must change the password before signing on. */
  PasswordChangeRequired: 'Q3',
  /** Operator number unknown at this merchant, or disabled. */
  UnknownOperator: 'Q4',
  /** Wrong password (as ISO "incorrect PIN"). */
  WrongPassword: '55',
  /** Operator locked after too many wrong passwords (as ISO "PIN tries exceeded"). */
  Locked: '75',
} as const;
export type OperatorResponseCode = (typeof OperatorResponseCode)[keyof typeof OperatorResponseCode];

export const OPERATOR_CODE_MEANINGS: Readonly<Record<string, string>> = Object.freeze({
  Q1: 'no operator signed on',
  Q2: 'operator not permitted',
  Q3: 'operator must change password',
  Q4: 'unknown or disabled operator',
});
