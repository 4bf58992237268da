/**
 * card-then-qr: a QR-code payment at a merchant shortly after a card payment there (a card declined
 * or reversed elsewhere is often followed by the same customer paying by QR — or a cashier
 * splitting one sale). Fires on the QR request.
 *
 * params: seconds (QR within this many seconds after the card payment, inclusive; default 120),
 * sameTerminal (default false: any terminal of the merchant), cardKinds (card payments looked at;
 * default ["purchase", "preauth"]), qrKinds (QR requests judged; default ["qr-purchase", "purchase"]),
 * includeDeclined (also look at declined card payments; default false).
 */
import {
  allowedKeys,
  boolParam,
  intParam,
  stringListParam,
  type CompiledRule,
  type RuleKind,
} from './definition.js';

export const cardThenQrKind: RuleKind = {
  kind: 'card-then-qr',
  stage: 'transaction',
  // 34: suspected fraud.
  defaultResponseCode: '34',
  compile(ruleId, params): CompiledRule {
    allowedKeys(ruleId, params, ['seconds', 'sameTerminal', 'cardKinds', 'qrKinds', 'includeDeclined']);
    const seconds = intParam(ruleId, params, 'seconds', 1, 86_400) ?? 120;
    const sameTerminal = boolParam(ruleId, params, 'sameTerminal', false);
    const cardKinds = stringListParam(ruleId, params, 'cardKinds') ?? ['purchase', 'preauth'];
    const qrKinds = stringListParam(ruleId, params, 'qrKinds') ?? ['qr-purchase', 'purchase'];
    const includeDeclined = boolParam(ruleId, params, 'includeDeclined', false);
    return {
      applies: (tx) => tx.channel === 'qr' && qrKinds.includes(tx.kind),
      window: (tx) => ({
        key: 'merchant',
        from: new Date(tx.at.getTime() - seconds * 1000),
        fromInclusive: true,
        to: tx.at,
        channels: ['card'],
        kinds: cardKinds,
        includeDeclined,
        ...(sameTerminal ? { terminalNo: tx.terminalNo } : {}),
      }),
      check(tx, env) {
        const w = env.window;
        if (w === undefined || w.count === 0) return null;
        const ago = w.latest === null ? seconds : Math.round((tx.at.getTime() - w.latest.getTime()) / 1000);
        return `QR payment ${ago} s after a card payment at merchant ${tx.merchantNo} (within ${seconds} s)`;
      },
    };
  },
};
