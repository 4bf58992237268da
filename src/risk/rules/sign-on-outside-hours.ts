/**
 * sign-on-outside-hours (monitor): a terminal signing on (or trying to) outside the merchant's
 * trading hours, judged in the merchant's time zone. At most one alert per terminal per local day.
 *
 * params: start, end (default: those of the merchant's enabled trading-window rule, else
 * 08:00–21:00), severity (default "warning").
 */
import { allowedKeys, type RuleKind } from './definition.js';
import { INERT, severityParam, type AlertSeverity } from './monitor-params.js';
import { tradingHours, type TradingHours } from './trading-window.js';

export interface SignOnOutsideHoursParams {
  /** Undefined: take the merchant's trading-window rule. */
  hours: TradingHours | undefined;
  severity: AlertSeverity;
}

export function signOnOutsideHoursParams(ruleId: string, params: Record<string, unknown>): SignOnOutsideHoursParams {
  allowedKeys(ruleId, params, ['start', 'end', 'severity']);
  const own = params['start'] !== undefined || params['end'] !== undefined;
  return { hours: own ? tradingHours(ruleId, params) : undefined, severity: severityParam(ruleId, params, 'warning') };
}

export const signOnOutsideHoursKind: RuleKind = {
  kind: 'sign-on-outside-hours',
  stage: 'monitor',
  defaultResponseCode: '05',
  compile(ruleId, params) {
    signOnOutsideHoursParams(ruleId, params);
    return INERT;
  },
};
