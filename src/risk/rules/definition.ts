/**
 * Rules as data: the JSON shape of a rule definition and of a stored override, and the contract
 * each rule kind (one file per kind in this folder) implements.
 */
import type { PaymentChannel, RiskOutcome, RiskTransaction } from '../types.js';
import type { LocalTime } from '../local-time.js';
import { badRule } from '../errors.js';

/** What a rule yields when it fires (a rule never "allows": allow is the absence of firings). */
export type RuleOutcome = Exclude<RiskOutcome, 'allow'>;
export const RULE_OUTCOMES: readonly RuleOutcome[] = ['flag', 'review', 'decline'];

/** One rule as data (JSON). */
export interface RuleDefinition {
  /** Lower-case letters, digits, '.', '_', '-'; at most 64 characters. */
  id: string;
  /** trading-window | velocity | card-then-qr | sign-on-failures | sign-on-outside-hours | sign-on-new-address */
  kind: string;
  /** Kind-specific parameters (see docs/risk.md). */
  params: Record<string, unknown>;
  outcome: RuleOutcome;
  /** Field 39 answered when the outcome is decline (two characters). Default: the kind's code. */
  responseCode?: string;
  /** Default true. */
  enabled?: boolean;
  description?: string;
}

/** A stored override: a full definition, or a patch of the inherited rule with the same id. */
export interface RulePatch {
  kind?: string;
  /** Merged key by key into the inherited params (a key set to null is removed). */
  params?: Record<string, unknown>;
  outcome?: RuleOutcome;
  responseCode?: string;
  enabled?: boolean;
  description?: string;
}

/** Outcome of the window query a rule asked for. */
export interface WindowCounts {
  /** Matching observations in the window (this request not included). */
  count: number;
  /** Sum of their amounts, minor units. */
  total: number;
  /** Time of the latest one, null when none. */
  latest: Date | null;
}

export interface RuleEnv {
  /** The request time in the merchant's time zone. */
  local: LocalTime;
  timeZone: string;
  /** Set when the rule has a window query. */
  window: WindowCounts | undefined;
}

/** Pushes a SQL parameter and returns its placeholder ($n). */
export type Bind = (value: unknown) => string;

/** What a window is keyed by. */
export type WindowKey = 'terminal' | 'card' | 'operator' | 'merchant';

/**
 * The observations a rule counts: those of one key (the request's terminal, card fingerprint,
 * operator or merchant) between `from` and `to` (inclusive), filtered by channel, kind, result and
 * (merchant key) terminal. The engine answers it from the database or from its in-memory windows.
 */
export interface WindowSpec {
  key: WindowKey;
  from: Date;
  /** Whether an observation exactly at `from` counts. */
  fromInclusive: boolean;
  to: Date;
  /** Undefined: every channel. */
  channels?: readonly PaymentChannel[];
  /** Undefined: every kind. */
  kinds?: readonly string[];
  /** Count declined requests too. */
  includeDeclined: boolean;
  /** Only this terminal of the merchant. */
  terminalNo?: string;
}

/** The value a window key takes for a request (null: the request has none, e.g. no operator). */
export function windowKeyValue(key: WindowKey, tx: RiskTransaction): string | null {
  switch (key) {
    case 'terminal':
      return tx.terminalNo;
    case 'card':
      return tx.cardFingerprint;
    case 'operator':
      return tx.operatorNo;
    case 'merchant':
      return tx.merchantNo;
  }
}

/** A rule compiled from its definition, ready to evaluate transactions. */
export interface CompiledRule {
  /** Whether the rule looks at this transaction at all (channel, kind, key present). */
  applies(tx: RiskTransaction): boolean;
  /** Optional window: the engine counts matching observations, sums their amounts, takes the latest time. */
  window?(tx: RiskTransaction): WindowSpec;
  /** The reason when the rule fires, else null. */
  check(tx: RiskTransaction, env: RuleEnv): string | null;
}

/** One rule kind. `stage: 'monitor'` kinds are read by the sign-on monitor, not by evaluate. */
export interface RuleKind {
  readonly kind: string;
  readonly stage: 'transaction' | 'monitor';
  /** Response code on decline when the rule does not name one. */
  readonly defaultResponseCode: string;
  /** Validate params (throws RiskError BAD_RULE naming the rule) and compile. */
  compile(ruleId: string, params: Record<string, unknown>): CompiledRule;
}

// ---- parameter helpers shared by the kinds ----

export const CHANNELS: readonly PaymentChannel[] = ['card', 'qr'];

export function allowedKeys(ruleId: string, params: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(params)) {
    if (!keys.includes(k)) throw badRule(ruleId, `unknown parameter '${k}' (expected ${keys.join(', ')})`);
  }
}

export function intParam(
  ruleId: string,
  params: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw badRule(ruleId, `${name} must be an integer from ${min} to ${max}`);
  }
  return v;
}

export function requiredInt(ruleId: string, params: Record<string, unknown>, name: string, min: number, max: number): number {
  const v = intParam(ruleId, params, name, min, max);
  if (v === undefined) throw badRule(ruleId, `${name} is required`);
  return v;
}

export function boolParam(ruleId: string, params: Record<string, unknown>, name: string, dflt: boolean): boolean {
  const v = params[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw badRule(ruleId, `${name} must be true or false`);
  return v;
}

export function stringListParam(ruleId: string, params: Record<string, unknown>, name: string): string[] | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 40)) {
    throw badRule(ruleId, `${name} must be a non-empty list of names`);
  }
  return v as string[];
}

export function channelsParam(ruleId: string, params: Record<string, unknown>, dflt: readonly PaymentChannel[]): PaymentChannel[] {
  const v = stringListParam(ruleId, params, 'channels');
  if (v === undefined) return [...dflt];
  for (const c of v) if (!(CHANNELS as readonly string[]).includes(c)) throw badRule(ruleId, `channels: '${c}' is not card or qr`);
  return v as PaymentChannel[];
}

export function oneOfParam<T extends string>(ruleId: string, params: Record<string, unknown>, name: string, allowed: readonly T[]): T | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw badRule(ruleId, `${name} must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}
