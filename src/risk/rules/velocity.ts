/**
 * velocity: too many requests, or too much money, on one key in a sliding window.
 *
 * params:
 *   key            terminal | card | operator | merchant   (card = card fingerprint)
 *   windowSeconds  window length; it holds observations with at > now - windowSeconds
 *   maxCount       fires when the count including this request exceeds it (N allowed, N+1 fires)
 *   maxAmount      fires when the sum including this request exceeds it (minor units)
 *   channels       card / qr (default both); kinds (default every kind)
 *   includeDeclined  count declined requests too (default false: approved only)
 * At least one of maxCount and maxAmount.
 */
import { badRule } from '../errors.js';
import type { RiskTransaction } from '../types.js';
import {
  allowedKeys,
  boolParam,
  CHANNELS,
  channelsParam,
  intParam,
  oneOfParam,
  requiredInt,
  stringListParam,
  windowKeyValue,
  type CompiledRule,
  type RuleKind,
  type WindowKey,
} from './definition.js';

export type VelocityKey = WindowKey;
const KEYS: readonly VelocityKey[] = ['terminal', 'card', 'operator', 'merchant'];

function subject(key: VelocityKey, tx: RiskTransaction): string {
  switch (key) {
    case 'terminal':
      return `terminal ${tx.terminalNo}`;
    case 'card':
      return 'card';
    case 'operator':
      return `operator ${tx.operatorNo ?? '-'}`;
    case 'merchant':
      return `merchant ${tx.merchantNo}`;
  }
}

export const velocityKind: RuleKind = {
  kind: 'velocity',
  stage: 'transaction',
  // 61: exceeds amount limit (the closest UnionPay code; ISO 65 "frequency limit" is not used on CUP POS).
  defaultResponseCode: '61',
  compile(ruleId, params): CompiledRule {
    allowedKeys(ruleId, params, ['key', 'windowSeconds', 'maxCount', 'maxAmount', 'channels', 'kinds', 'includeDeclined']);
    const key = oneOfParam(ruleId, params, 'key', KEYS);
    if (key === undefined) throw badRule(ruleId, `key is required (${KEYS.join(', ')})`);
    const windowSeconds = requiredInt(ruleId, params, 'windowSeconds', 1, 31 * 86_400);
    const maxCount = intParam(ruleId, params, 'maxCount', 0, 1_000_000);
    const maxAmount = intParam(ruleId, params, 'maxAmount', 0, Number.MAX_SAFE_INTEGER);
    if (maxCount === undefined && maxAmount === undefined) throw badRule(ruleId, 'maxCount or maxAmount is required');
    const channels = channelsParam(ruleId, params, CHANNELS);
    const kinds = stringListParam(ruleId, params, 'kinds');
    const includeDeclined = boolParam(ruleId, params, 'includeDeclined', false);
    return {
      applies: (tx) => channels.includes(tx.channel) && (kinds === undefined || kinds.includes(tx.kind)) && windowKeyValue(key, tx) !== null,
      window: (tx) => ({
        key,
        from: new Date(tx.at.getTime() - windowSeconds * 1000),
        fromInclusive: false,
        to: tx.at,
        ...(channels.length < CHANNELS.length ? { channels } : {}),
        ...(kinds !== undefined ? { kinds } : {}),
        includeDeclined,
      }),
      check(tx, env) {
        const w = env.window ?? { count: 0, total: 0, latest: null };
        const reasons: string[] = [];
        if (maxCount !== undefined && w.count + 1 > maxCount) {
          reasons.push(`${subject(key, tx)}: ${w.count + 1} requests in ${windowSeconds} s (limit ${maxCount})`);
        }
        if (maxAmount !== undefined && w.total + tx.amount > maxAmount) {
          reasons.push(`${subject(key, tx)}: amount ${w.total + tx.amount} in ${windowSeconds} s (limit ${maxAmount})`);
        }
        return reasons.length === 0 ? null : reasons.join('; ');
      },
    };
  },
};
