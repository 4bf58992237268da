/**
 * sign-on-new-address (monitor): a terminal signing on (or trying to) from a network host it has
 * not signed on from before (host part only: a new source port is not new). The first successful
 * sign-on of a terminal is learned silently. One alert per terminal and new host.
 *
 * params: severity (default "warning").
 */
import { allowedKeys, type RuleKind } from './definition.js';
import { INERT, severityParam, type AlertSeverity } from './monitor-params.js';

export function signOnNewAddressParams(ruleId: string, params: Record<string, unknown>): { severity: AlertSeverity } {
  allowedKeys(ruleId, params, ['severity']);
  return { severity: severityParam(ruleId, params, 'warning') };
}

export const signOnNewAddressKind: RuleKind = {
  kind: 'sign-on-new-address',
  stage: 'monitor',
  defaultResponseCode: '05',
  compile(ruleId, params) {
    signOnNewAddressParams(ruleId, params);
    return INERT;
  },
};
