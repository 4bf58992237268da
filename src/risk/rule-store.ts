/**
 * Rule overrides in the store (risk_rules) and the effective rule list of a merchant.
 * Scope '*' applies to every merchant; a merchant number to that merchant only.
 */
import { appendEvent, getMerchant, type Db } from '../store/index.js';
import { RiskError } from './errors.js';
import {
  applyPatch,
  compileRule,
  DEFAULT_RULES,
  parsePatch,
  type ResolvedRule,
  type RuleDefinition,
  type RulePatch,
} from './rules/index.js';

export const ALL_MERCHANTS = '*';

export interface StoredRule {
  /** '*' or a merchant number. */
  scope: string;
  ruleId: string;
  /** The override as stored (a full definition or a patch). */
  rule: RulePatch;
  updatedBy: string | null;
  updatedAt: Date;
}

interface RuleRow {
  scope: string;
  rule_id: string;
  rule: unknown;
  updated_by: string | null;
  updated_at: Date;
}

/** Stored overrides, '*' first, then by merchant and id. Unparseable rows are returned as stored. */
export async function listStoredRules(db: Db, opts: { scope?: string } = {}): Promise<StoredRule[]> {
  const r = await db.query<RuleRow>(
    `SELECT scope, rule_id, rule, updated_by, updated_at FROM risk_rules
      WHERE ($1::text IS NULL OR scope = $1) ORDER BY scope = '*' DESC, scope, rule_id`,
    [opts.scope ?? null],
  );
  return r.rows.map((row) => ({
    scope: row.scope,
    ruleId: row.rule_id,
    rule: row.rule as RulePatch,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  }));
}

export interface ResolveOptions {
  /** Built-in rules (default DEFAULT_RULES). */
  builtins?: readonly RuleDefinition[];
  /** Called for an override that does not make a valid rule; the override is skipped. */
  onInvalid?: (rule: StoredRule, error: RiskError) => void;
}

/** Effective rules from built-ins and overrides (overrides in order: '*' first, then the merchant's). */
export function combineRules(
  builtins: readonly RuleDefinition[],
  overrides: readonly StoredRule[],
  onInvalid?: (rule: StoredRule, error: RiskError) => void,
): ResolvedRule[] {
  const out: ResolvedRule[] = [];
  for (const def of builtins) out.push(compileRule(def, 'builtin'));
  for (const o of overrides) {
    try {
      const i = out.findIndex((r) => r.definition.id === o.ruleId);
      const patch = parsePatch(o.ruleId, o.rule);
      const def = applyPatch(o.ruleId, i >= 0 ? out[i]?.definition : undefined, patch);
      const resolved = compileRule(def, o.scope === ALL_MERCHANTS ? 'default' : 'merchant');
      if (i >= 0) out[i] = resolved;
      else out.push(resolved);
    } catch (e) {
      if (!(e instanceof RiskError)) throw e;
      onInvalid?.(o, e);
    }
  }
  return out;
}

/** The rules in force for a merchant (null: for a merchant with no overrides of its own). */
export async function resolveRules(db: Db, merchantNo: string | null, opts: ResolveOptions = {}): Promise<ResolvedRule[]> {
  const r = await db.query<RuleRow>(
    `SELECT scope, rule_id, rule, updated_by, updated_at FROM risk_rules
      WHERE scope = '*' OR scope = $1 ORDER BY scope = '*' DESC, updated_at, rule_id`,
    [merchantNo ?? '*'],
  );
  const stored = r.rows.map((row) => ({
    scope: row.scope,
    ruleId: row.rule_id,
    rule: row.rule as RulePatch,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  }));
  return combineRules(opts.builtins ?? DEFAULT_RULES, stored, opts.onInvalid);
}

async function checkScope(db: Db, scope: string): Promise<void> {
  if (scope === ALL_MERCHANTS) return;
  if (!/^[0-9A-Za-z]{15}$/.test(scope)) throw new RiskError('BAD_RULE', `scope must be '*' or a 15-character merchant number`);
  if ((await getMerchant(db, scope)) === null) throw new RiskError('NOT_FOUND', `merchant ${scope} not found`);
}

export interface SetRuleInput {
  /** '*' (every merchant) or a merchant number. */
  scope: string;
  ruleId: string;
  /** Merged into the scope's existing override for this id (params key by key). */
  patch: unknown;
  /** Audit actor, e.g. `cli` or `user:alice`. */
  actor: string;
  builtins?: readonly RuleDefinition[];
}

/**
 * Store (or extend) an override and return the rule now in force for the scope. The combined
 * definition is validated first: BAD_RULE leaves the store unchanged.
 */
export async function setRule(db: Db, input: SetRuleInput): Promise<ResolvedRule> {
  const patch = parsePatch(input.ruleId, input.patch);
  return db.transaction(async (tx) => {
    await checkScope(tx, input.scope);
    const rows = await listStoredRules(tx);
    const relevant = rows.filter((r) => r.scope === ALL_MERCHANTS || r.scope === input.scope);
    const existing = relevant.find((r) => r.scope === input.scope && r.ruleId === input.ruleId);
    const merged: RulePatch = existing
      ? { ...existing.rule, ...patch, ...(existing.rule.params || patch.params ? { params: { ...existing.rule.params, ...patch.params } } : {}) }
      : patch;
    const next: StoredRule = { scope: input.scope, ruleId: input.ruleId, rule: merged, updatedBy: input.actor, updatedAt: new Date() };
    const others = relevant.filter((r) => r !== existing);
    // '*' overrides first, then the merchant's, as resolveRules applies them.
    const ordered = [...others.filter((r) => r.scope === ALL_MERCHANTS), ...(input.scope === ALL_MERCHANTS ? [next] : []), ...others.filter((r) => r.scope !== ALL_MERCHANTS), ...(input.scope === ALL_MERCHANTS ? [] : [next])];
    let failure: RiskError | undefined;
    const rules = combineRules(input.builtins ?? DEFAULT_RULES, ordered, (o, e) => {
      if (o === next) failure = e;
    });
    if (failure !== undefined) throw failure;
    const rule = rules.find((r) => r.definition.id === input.ruleId);
    if (rule === undefined) throw new RiskError('BAD_RULE', `rule ${input.ruleId}: not in force after the change`);
    await tx.query(
      `INSERT INTO risk_rules (scope, rule_id, rule, updated_by) VALUES ($1, $2, $3::text::jsonb, $4)
       ON CONFLICT (scope, rule_id) DO UPDATE SET rule = EXCLUDED.rule, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [input.scope, input.ruleId, JSON.stringify(merged), input.actor],
    );
    await appendEvent(tx, {
      type: 'risk.rule.set',
      ok: true,
      merchantNo: input.scope === ALL_MERCHANTS ? null : input.scope,
      actor: input.actor,
      resource: `risk-rule:${input.scope}/${input.ruleId}`,
      detail: { scope: input.scope, ruleId: input.ruleId, override: merged },
    });
    return rule;
  });
}

/** Remove a scope's override of one rule (or all its overrides); returns how many were removed. */
export async function resetRules(db: Db, input: { scope: string; ruleId?: string; actor: string }): Promise<number> {
  return db.transaction(async (tx) => {
    await checkScope(tx, input.scope);
    const r = await tx.query(`DELETE FROM risk_rules WHERE scope = $1 AND ($2::text IS NULL OR rule_id = $2)`, [
      input.scope,
      input.ruleId ?? null,
    ]);
    if (r.rowCount > 0) {
      await appendEvent(tx, {
        type: 'risk.rule.reset',
        ok: true,
        merchantNo: input.scope === ALL_MERCHANTS ? null : input.scope,
        actor: input.actor,
        resource: `risk-rule:${input.scope}/${input.ruleId ?? '*'}`,
        detail: { scope: input.scope, ruleId: input.ruleId ?? null, removed: r.rowCount },
      });
    }
    return r.rowCount;
  });
}
