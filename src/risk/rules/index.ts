/**
 * The rule kinds, the built-in default rules, and how stored overrides combine with them:
 *   built-in defaults  <-  scope '*' overrides  <-  the merchant's overrides
 * An override with an inherited id patches that rule (params merged key by key, null removes a
 * key); an override with a new id (or another kind) must be a full definition.
 */
import { badRule } from '../errors.js';
import { cardThenQrKind } from './card-then-qr.js';
import { RULE_OUTCOMES, type CompiledRule, type RuleDefinition, type RuleKind, type RulePatch } from './definition.js';
import { signOnFailuresKind } from './sign-on-failures.js';
import { signOnNewAddressKind } from './sign-on-new-address.js';
import { signOnOutsideHoursKind } from './sign-on-outside-hours.js';
import { tradingWindowKind } from './trading-window.js';
import { velocityKind } from './velocity.js';

export * from './definition.js';

export const RULE_KINDS: ReadonlyMap<string, RuleKind> = new Map(
  [tradingWindowKind, velocityKind, cardThenQrKind, signOnFailuresKind, signOnOutsideHoursKind, signOnNewAddressKind].map(
    (k) => [k.kind, k] as const,
  ),
);

export const RULE_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const RESPONSE_CODE_RE = /^[0-9A-Z]{2}$/;

/** The rules every merchant has unless overridden. Codes: see docs/risk.md. */
export const DEFAULT_RULES: readonly RuleDefinition[] = Object.freeze([
  {
    id: 'trading-window',
    kind: 'trading-window',
    params: { start: '08:00', end: '21:00', channels: ['card'] },
    outcome: 'decline',
    responseCode: '58',
    description: 'Card payments only within trading hours (merchant local time)',
  },
  {
    id: 'velocity-card-count',
    kind: 'velocity',
    params: { key: 'card', windowSeconds: 600, maxCount: 5, channels: ['card'] },
    outcome: 'decline',
    responseCode: '61',
    description: 'At most 5 approved card requests per card in 10 minutes',
  },
  {
    id: 'velocity-card-amount',
    kind: 'velocity',
    params: { key: 'card', windowSeconds: 86_400, maxAmount: 5_000_000, channels: ['card'], kinds: ['purchase', 'preauth'] },
    outcome: 'decline',
    responseCode: '61',
    description: 'At most 50 000.00 in purchases per card in 24 hours',
  },
  {
    id: 'velocity-terminal-count',
    kind: 'velocity',
    params: { key: 'terminal', windowSeconds: 60, maxCount: 20 },
    outcome: 'review',
    description: 'More than 20 approved requests on one terminal in a minute: review',
  },
  {
    id: 'velocity-terminal-amount',
    kind: 'velocity',
    params: { key: 'terminal', windowSeconds: 3600, maxAmount: 20_000_000, kinds: ['purchase', 'qr-purchase', 'preauth'] },
    outcome: 'flag',
    description: 'More than 200 000.00 in purchases on one terminal in an hour: flag',
  },
  {
    id: 'card-then-qr',
    kind: 'card-then-qr',
    params: { seconds: 120 },
    outcome: 'flag',
    description: 'QR payment within 2 minutes after a card payment at the same merchant: flag',
  },
  {
    id: 'sign-on-failures',
    kind: 'sign-on-failures',
    params: { maxFailures: 5, windowSeconds: 900, severity: 'warning' },
    outcome: 'flag',
    description: '5 failed sign-ons of one operator within 15 minutes: alert',
  },
  {
    id: 'sign-on-outside-hours',
    kind: 'sign-on-outside-hours',
    params: { severity: 'warning' },
    outcome: 'flag',
    description: 'Terminal sign-on outside trading hours: alert (once per terminal per local day)',
  },
  {
    id: 'sign-on-new-address',
    kind: 'sign-on-new-address',
    params: { severity: 'warning' },
    outcome: 'flag',
    description: 'Terminal sign-on from a network host not seen before: alert',
  },
] satisfies RuleDefinition[]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check the JSON shape of an override (from the database or the CLI). */
export function parsePatch(ruleId: string, raw: unknown): RulePatch {
  if (!RULE_ID_RE.test(ruleId)) throw badRule(ruleId, 'id must be lower-case letters, digits, ".", "_" or "-" (at most 64)');
  if (!isObject(raw)) throw badRule(ruleId, 'definition must be a JSON object');
  const out: RulePatch = {};
  for (const [k, v] of Object.entries(raw)) {
    switch (k) {
      case 'id':
        if (v !== ruleId) throw badRule(ruleId, `id in the definition (${JSON.stringify(v)}) does not match`);
        break;
      case 'kind':
        if (typeof v !== 'string' || !RULE_KINDS.has(v)) throw badRule(ruleId, `unknown kind ${JSON.stringify(v)} (known: ${[...RULE_KINDS.keys()].join(', ')})`);
        out.kind = v;
        break;
      case 'params':
        if (!isObject(v)) throw badRule(ruleId, 'params must be a JSON object');
        out.params = v;
        break;
      case 'outcome':
        if (typeof v !== 'string' || !(RULE_OUTCOMES as readonly string[]).includes(v)) throw badRule(ruleId, `outcome must be one of ${RULE_OUTCOMES.join(', ')}`);
        out.outcome = v as RulePatch['outcome'] & string;
        break;
      case 'responseCode':
        if (typeof v !== 'string' || !RESPONSE_CODE_RE.test(v) || v === '00') throw badRule(ruleId, 'responseCode must be two characters (0-9, A-Z), not 00');
        out.responseCode = v;
        break;
      case 'enabled':
        if (typeof v !== 'boolean') throw badRule(ruleId, 'enabled must be true or false');
        out.enabled = v;
        break;
      case 'description':
        if (typeof v !== 'string' || v.length > 200) throw badRule(ruleId, 'description must be text of at most 200 characters');
        out.description = v;
        break;
      default:
        throw badRule(ruleId, `unknown property '${k}' (expected kind, params, outcome, responseCode, enabled, description)`);
    }
  }
  return out;
}

/** The rule an override produces on top of the inherited one (undefined: none inherited). */
export function applyPatch(ruleId: string, base: RuleDefinition | undefined, patch: RulePatch): RuleDefinition {
  if (base === undefined || (patch.kind !== undefined && patch.kind !== base.kind)) {
    if (patch.kind === undefined) throw badRule(ruleId, 'a new rule needs kind, params and outcome');
    if (patch.outcome === undefined) throw badRule(ruleId, 'a new rule needs an outcome');
    const def: RuleDefinition = { id: ruleId, kind: patch.kind, params: dropNulls(patch.params ?? {}), outcome: patch.outcome };
    if (patch.responseCode !== undefined) def.responseCode = patch.responseCode;
    if (patch.enabled !== undefined) def.enabled = patch.enabled;
    if (patch.description !== undefined) def.description = patch.description;
    return def;
  }
  return {
    ...base,
    ...(patch.outcome !== undefined ? { outcome: patch.outcome } : {}),
    ...(patch.responseCode !== undefined ? { responseCode: patch.responseCode } : {}),
    ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    params: dropNulls({ ...base.params, ...(patch.params ?? {}) }),
  };
}

function dropNulls(p: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null));
}

/** A validated rule with its kind and compiled form. */
export interface ResolvedRule {
  definition: RuleDefinition;
  kind: RuleKind;
  compiled: CompiledRule;
  /** Response code on decline. */
  responseCode: string;
  /** Where the effective definition came from last. */
  source: 'builtin' | 'default' | 'merchant';
}

/** Validate a full definition (kind known, params valid) and compile it. */
export function compileRule(def: RuleDefinition, source: ResolvedRule['source'] = 'builtin'): ResolvedRule {
  if (!RULE_ID_RE.test(def.id)) throw badRule(def.id, 'id must be lower-case letters, digits, ".", "_" or "-" (at most 64)');
  const kind = RULE_KINDS.get(def.kind);
  if (kind === undefined) throw badRule(def.id, `unknown kind ${JSON.stringify(def.kind)}`);
  if (!(RULE_OUTCOMES as readonly string[]).includes(def.outcome)) throw badRule(def.id, `outcome must be one of ${RULE_OUTCOMES.join(', ')}`);
  if (def.responseCode !== undefined && (!RESPONSE_CODE_RE.test(def.responseCode) || def.responseCode === '00')) {
    throw badRule(def.id, 'responseCode must be two characters (0-9, A-Z), not 00');
  }
  if (!isObject(def.params)) throw badRule(def.id, 'params must be a JSON object');
  const compiled = kind.compile(def.id, def.params);
  return { definition: def, kind, compiled, responseCode: def.responseCode ?? kind.defaultResponseCode, source };
}
