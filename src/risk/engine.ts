/**
 * The risk engine: rules as data (built-in defaults, then overrides stored per scope) evaluated on
 * every financial request. Per request: the merchant's rules and time zone come from a short-lived
 * cache; every window rule that applies is answered by ONE statement (one index range scan per
 * distinct key over risk_observations, windows/sql.ts) — or, with `windows: 'memory'`, from
 * in-memory windows loaded once per key (windows/memory.ts); firings are written in one INSERT,
 * only when a rule fired. `record` writes one observation row.
 */
import type { Db } from '../store/index.js';
import { raiseAlert } from './alerts.js';
import { recordFirings } from './firings.js';
import { isTimeZone, localTime } from './local-time.js';
import { recordObservation } from './observations.js';
import { resolveRules } from './rule-store.js';
import type { ResolvedRule, RuleDefinition, WindowCounts, WindowSpec } from './rules/index.js';
import { memoryWindows } from './windows/memory.js';
import type { WindowSource } from './windows/source.js';
import { sqlWindows } from './windows/sql.js';
import { DEFAULT_RULES } from './rules/index.js';
import type { RiskDecision, RiskEngine, RiskOutcome, RuleFiring } from './types.js';

export interface RiskLogger {
  warn(obj: object, msg?: string): void;
}

export interface RiskEngineOptions {
  /** Built-in rules, before stored overrides (default DEFAULT_RULES). */
  rules?: readonly RuleDefinition[];
  /** How long a merchant's rules and time zone are cached, ms (default 5000; 0 = read every time). */
  cacheMs?: number;
  /** Outcomes that also raise a monitoring alert, at most one per rule, terminal and hour (default ['review']). */
  alertOn?: readonly Exclude<RiskOutcome, 'allow'>[];
  /** Time zone when the merchant is unknown or its zone is not valid (default Asia/Shanghai). */
  fallbackTimeZone?: string;
  logger?: RiskLogger;
  /**
   * Where window counts come from: 'database' (default: one indexed statement per request, right
   * with any number of host processes) or 'memory' (each key loaded once, then counted in this
   * process — fastest, but only for a single host process per store). Both record every
   * observation in risk_observations.
   */
  windows?: 'database' | 'memory';
  /** With windows 'memory': keys held at most (default 100 000, least recently used dropped). */
  memoryMaxKeys?: number;
}

export interface DefaultRiskEngine extends RiskEngine {
  /** The transaction rules in force for a merchant (cached like evaluate). */
  rulesFor(db: Db, merchantNo: string): Promise<ResolvedRule[]>;
  /** Forget cached rules (one merchant, or all). */
  invalidate(merchantNo?: string): void;
}

const RANK: Record<RiskOutcome, number> = { allow: 0, flag: 1, review: 2, decline: 3 };

/** The strongest of several outcomes: decline > review > flag > allow. */
export function strongestOutcome(outcomes: Iterable<RiskOutcome>): RiskOutcome {
  let best: RiskOutcome = 'allow';
  for (const o of outcomes) if (RANK[o] > RANK[best]) best = o;
  return best;
}

interface MerchantEntry {
  expires: number;
  /** Cache generation when loaded (global, and the merchant's own). */
  gen: number;
  merchantGen: number;
  rules: ResolvedRule[];
  timeZone: string;
}

export function createRiskEngine(opts: RiskEngineOptions = {}): DefaultRiskEngine {
  const builtins = opts.rules ?? DEFAULT_RULES;
  const cacheMs = opts.cacheMs ?? 5000;
  const alertOn = new Set(opts.alertOn ?? ['review']);
  const fallbackZone = opts.fallbackTimeZone ?? 'Asia/Shanghai';
  const caches = new WeakMap<Db, Map<string, MerchantEntry>>();
  const inflight = new WeakMap<Db, Map<string, Promise<MerchantEntry>>>();
  const source: WindowSource =
    opts.windows === 'memory' ? memoryWindows(opts.memoryMaxKeys !== undefined ? { maxKeys: opts.memoryMaxKeys } : {}) : sqlWindows();
  let gen = 0;
  const merchantGens = new Map<string, number>();

  async function load(db: Db, merchantNo: string): Promise<MerchantEntry> {
    let cache = caches.get(db);
    if (cache === undefined) {
      cache = new Map();
      caches.set(db, cache);
    }
    const now = Date.now();
    const hit = cache.get(merchantNo);
    const merchantGen = merchantGens.get(merchantNo) ?? 0;
    if (hit !== undefined && hit.expires > now && hit.gen === gen && hit.merchantGen === merchantGen) return hit;
    // Concurrent requests of one merchant share one reload.
    const flightKey = `${gen}/${merchantGen}/${merchantNo}`;
    let flights = inflight.get(db);
    if (flights === undefined) {
      flights = new Map();
      inflight.set(db, flights);
    }
    const pending = flights.get(flightKey);
    if (pending !== undefined) return pending;
    const started = (async (): Promise<MerchantEntry> => {
      const rules = await resolveRules(db, merchantNo, {
        builtins,
        onInvalid: (o, e) => opts.logger?.warn({ scope: o.scope, ruleId: o.ruleId, err: e.message }, 'invalid risk rule override skipped'),
      });
      const tz = await db.query<{ time_zone: string }>('SELECT time_zone FROM merchants WHERE merchant_no = $1', [merchantNo]);
      const zone = tz.rows[0]?.time_zone;
      const entry: MerchantEntry = {
        expires: Date.now() + cacheMs,
        gen,
        merchantGen,
        rules: rules.filter((r) => r.kind.stage === 'transaction' && r.definition.enabled !== false),
        timeZone: zone !== undefined && isTimeZone(zone) ? zone : fallbackZone,
      };
      if (cacheMs > 0) cache.set(merchantNo, entry);
      return entry;
    })();
    if (cacheMs <= 0) return started;
    flights.set(flightKey, started);
    try {
      return await started;
    } finally {
      flights.delete(flightKey);
    }
  }

  return {
    async evaluate(db, tx) {
      const entry = await load(db, tx.merchantNo);
      const rules = entry.rules.filter((r) => r.compiled.applies(tx));
      if (rules.length === 0) return { outcome: 'allow', firings: [] };
      const windowed: number[] = [];
      const specs: WindowSpec[] = [];
      rules.forEach((r, i) => {
        if (r.compiled.window === undefined) return;
        windowed.push(i);
        specs.push(r.compiled.window(tx));
      });
      const counted = await source.counts(db, tx, specs);
      const counts = new Map<number, WindowCounts>(windowed.map((i, j) => [i, counted[j] ?? { count: 0, total: 0, latest: null }]));
      const local = localTime(tx.at, entry.timeZone);
      const firings: RuleFiring[] = [];
      rules.forEach((r, i) => {
        const reason = r.compiled.check(tx, { local, timeZone: entry.timeZone, window: counts.get(i) });
        if (reason === null) return;
        const f: RuleFiring = { ruleId: r.definition.id, outcome: r.definition.outcome, reason };
        if (r.definition.outcome === 'decline') f.responseCode = r.responseCode;
        firings.push(f);
      });
      const decision: RiskDecision = { outcome: strongestOutcome(firings.map((f) => f.outcome)), firings };
      if (decision.outcome === 'decline') decision.responseCode = firings.find((f) => f.outcome === 'decline')?.responseCode ?? '05';
      if (firings.length > 0) {
        await recordFirings(db, tx, firings);
        for (const f of firings) {
          if (f.outcome === 'allow' || !alertOn.has(f.outcome)) continue;
          await raiseAlert(db, {
            kind: `risk.${f.outcome}`,
            severity: f.outcome === 'decline' ? 'warning' : 'info',
            merchantNo: tx.merchantNo,
            terminalNo: tx.terminalNo,
            operatorNo: tx.operatorNo,
            summary: `rule ${f.ruleId} (${f.outcome}) on ${tx.reference}: ${f.reason}`,
            detail: { ruleId: f.ruleId, reference: tx.reference, reason: f.reason, amount: tx.amount, channel: tx.channel, kind: tx.kind },
            eventAt: tx.at,
            // One alert per rule, terminal and hour (UTC); every firing is in risk_firings.
            dedupeKey: `risk:${f.ruleId}:${tx.merchantNo}/${tx.terminalNo}:${tx.at.toISOString().slice(0, 13)}`,
          });
        }
      }
      return decision;
    },

    async record(db, tx, result) {
      await recordObservation(db, tx, result);
      source.observed(tx, result);
    },

    observed(tx, result) {
      source.observed(tx, result);
    },

    async rulesFor(db, merchantNo) {
      return (await load(db, merchantNo)).rules;
    },

    invalidate(merchantNo) {
      // Entries of an older generation are reloaded on next use.
      if (merchantNo === undefined) gen += 1;
      else merchantGens.set(merchantNo, (merchantGens.get(merchantNo) ?? 0) + 1);
    },
  };
}
