/**
 * Operator passwords on the wire: an ISO 9564-1 format 0 PIN block, encrypted (ECB) under the
 * session PIN key (PIK) of the terminal. Format 0 needs a 12-digit account field; operators have
 * no card, so qiandao derives one from the terminal and operator numbers:
 *
 *   account field (12 digits) = "00" + T + operator number (2 digits)
 *
 * where T is the 8-character terminal number (field 41) with every digit kept and every other
 * character replaced by its ASCII code modulo 10. The HSM takes a "PAN" and uses its 12 digits
 * before the last (check-digit) position, so the PAN handed to it is the account field plus "0".
 *
 * Binding the block to terminal and operator means a captured block cannot be replayed for
 * another operator number or at another terminal (which has another PIK anyway).
 */

/** The 12-digit account field for `terminalNo` and `operatorNo`. */
export function operatorAccountField(terminalNo: string, operatorNo: string): string {
  let t = '';
  for (const ch of terminalNo) t += /[0-9]/.test(ch) ? ch : String(ch.charCodeAt(0) % 10);
  return ('00' + t.padStart(8, '0').slice(-8) + operatorNo).slice(-12);
}

/** The PAN to give PIN-block functions (13 digits: account field + a check-digit placeholder). */
export function operatorPan(terminalNo: string, operatorNo: string): string {
  return operatorAccountField(terminalNo, operatorNo) + '0';
}

/** Field 53 for an operator password block: format 0 with PAN (2), single DES (0) or TDES (6). */
export function securityControl(pikLength: number): string {
  return (pikLength === 8 ? '20' : '26') + '0'.repeat(14);
}
