/**
 * sign-on-failures (monitor): repeated failed operator sign-ons. An alert is raised when the
 * failures of one operator at one merchant within windowSeconds reach maxFailures; further
 * failures inside the same window do not raise another.
 *
 * params: maxFailures (default 5), windowSeconds (default 900), severity (default "warning").
 */
import { allowedKeys, intParam, type RuleKind } from './definition.js';
import { INERT, severityParam, type AlertSeverity } from './monitor-params.js';

export interface SignOnFailuresParams {
  maxFailures: number;
  windowSeconds: number;
  severity: AlertSeverity;
}

export function signOnFailuresParams(ruleId: string, params: Record<string, unknown>): SignOnFailuresParams {
  allowedKeys(ruleId, params, ['maxFailures', 'windowSeconds', 'severity']);
  return {
    maxFailures: intParam(ruleId, params, 'maxFailures', 1, 10_000) ?? 5,
    windowSeconds: intParam(ruleId, params, 'windowSeconds', 1, 7 * 86_400) ?? 900,
    severity: severityParam(ruleId, params, 'warning'),
  };
}

export const signOnFailuresKind: RuleKind = {
  kind: 'sign-on-failures',
  stage: 'monitor',
  defaultResponseCode: '05',
  compile(ruleId, params) {
    signOnFailuresParams(ruleId, params);
    return INERT;
  },
};
