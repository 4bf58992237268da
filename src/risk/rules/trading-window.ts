/**
 * trading-window: requests outside the merchant's trading hours, in the merchant's own time zone.
 *
 * params: start "HH:MM[:SS]" (default "08:00"), end (default "21:00"), channels (default ["card"]),
 * kinds (default: every kind). The window is [start, end): 08:00:00 is inside, 21:00:00 is outside.
 * start after end means an overnight window (22:00–06:00).
 */
import { badRule } from '../errors.js';
import { inWindow, parseClock } from '../local-time.js';
import { allowedKeys, channelsParam, stringListParam, type CompiledRule, type RuleKind } from './definition.js';

export const DEFAULT_TRADING_START = '08:00';
export const DEFAULT_TRADING_END = '21:00';

export interface TradingHours {
  start: string;
  end: string;
  startSecond: number;
  endSecond: number;
}

/** Validated start/end of a trading-window rule's params (defaults 08:00–21:00). */
export function tradingHours(ruleId: string, params: Record<string, unknown>): TradingHours {
  const start = params['start'] ?? DEFAULT_TRADING_START;
  const end = params['end'] ?? DEFAULT_TRADING_END;
  const startSecond = parseClock(start);
  const endSecond = parseClock(end);
  if (startSecond === undefined || startSecond >= 86_400) throw badRule(ruleId, 'start must be a local time HH:MM or HH:MM:SS before 24:00');
  if (endSecond === undefined) throw badRule(ruleId, 'end must be a local time HH:MM or HH:MM:SS (24:00 allowed)');
  return { start: start as string, end: end as string, startSecond, endSecond };
}

export const tradingWindowKind: RuleKind = {
  kind: 'trading-window',
  stage: 'transaction',
  // 58: transaction not permitted on this terminal (at this time).
  defaultResponseCode: '58',
  compile(ruleId, params): CompiledRule {
    allowedKeys(ruleId, params, ['start', 'end', 'channels', 'kinds']);
    const hours = tradingHours(ruleId, params);
    const channels = channelsParam(ruleId, params, ['card']);
    const kinds = stringListParam(ruleId, params, 'kinds');
    return {
      applies: (tx) => channels.includes(tx.channel) && (kinds === undefined || kinds.includes(tx.kind)),
      check(_tx, env) {
        if (inWindow(env.local.secondOfDay, hours.startSecond, hours.endSecond)) return null;
        return `local time ${env.local.time} (${env.timeZone}) is outside trading hours ${hours.start}-${hours.end}`;
      },
    };
  },
};
