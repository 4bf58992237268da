/** Typed errors of the risk engine: bad rule definitions, unknown alerts. */

export type RiskErrorReason =
  /** A rule definition (kind, params, outcome, response code) is malformed. */
  | 'BAD_RULE'
  /** Other malformed input (e.g. an empty acknowledged-by). */
  | 'BAD_INPUT'
  /** A rule id, alert id or merchant does not exist. */
  | 'NOT_FOUND'
  /** The alert was already acknowledged. */
  | 'ALREADY_ACKNOWLEDGED';

export class RiskError extends Error {
  override readonly name = 'RiskError';
  constructor(
    readonly reason: RiskErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export function badRule(ruleId: string, message: string): RiskError {
  return new RiskError('BAD_RULE', `rule ${ruleId}: ${message}`);
}
