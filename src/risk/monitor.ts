/**
 * Sign-on anomaly monitor: reads the event log from where it stopped (a cursor in
 * monitor_cursors) and raises alerts for
 *   - repeated failed operator sign-ons            (rule kind sign-on-failures)
 *   - a terminal signing on outside trading hours   (sign-on-outside-hours)
 *   - a terminal signing on from a new network host (sign-on-new-address)
 * Thresholds are rules as data, per merchant like the transaction rules. Each batch is one
 * database transaction: the cursor row is locked, the alerts are written and the cursor moves
 * together, so every event is judged exactly once even with several hosts running monitors.
 */
import type { Db, StoreEvent } from '../store/index.js';
import { getMerchant, listEvents } from '../store/index.js';
import { hostOf } from './address.js';
import { raiseAlert, type Alert } from './alerts.js';
import { inWindow, isTimeZone, localTime } from './local-time.js';
import { resolveRules } from './rule-store.js';
import { DEFAULT_RULES, type ResolvedRule, type RuleDefinition } from './rules/index.js';
import { signOnFailuresParams } from './rules/sign-on-failures.js';
import { signOnNewAddressParams } from './rules/sign-on-new-address.js';
import { signOnOutsideHoursParams } from './rules/sign-on-outside-hours.js';
import { tradingHours, type TradingHours } from './rules/trading-window.js';

export interface MonitorOptions {
  /** Cursor name (default 'sign-on'). */
  name?: string;
  /**
   * Event types of operator sign-ons; failures are those with ok = false. Default
   * ['operator.sign-on', 'operator.sign-on.refused'] (src/host/handlers/operators: a refused
   * operator sign-on — wrong password, locked, unknown operator, bad MAC — is `operator.sign-on.refused`).
   */
  operatorSignOnTypes?: readonly string[];
  /** Event types of successful terminal sign-ons (default ['keys.rotated']). */
  terminalSignOnTypes?: readonly string[];
  /** Event types of refused terminal sign-ons (default ['sign-on.refused']). */
  terminalRefusedTypes?: readonly string[];
  /** Events read per transaction (default 500). */
  batchSize?: number;
  /**
   * Leave events younger than this alone until the next run (default 0 for runMonitorOnce, 2000
   * for startMonitor): event ids are handed out before commit, so a slow transaction can commit
   * an id below one already read.
   */
  settleMs?: number;
  /** Built-in rules (default DEFAULT_RULES). */
  rules?: readonly RuleDefinition[];
}

export interface MonitorRunResult {
  /** Events judged in this run. */
  processed: number;
  /** The cursor after the run (events.id). */
  cursor: string;
  alerts: Alert[];
}

interface Resolved {
  opTypes: Set<string>;
  okTypes: Set<string>;
  refusedTypes: Set<string>;
  all: string[];
}

function types(opts: MonitorOptions): Resolved {
  const opTypes = new Set(opts.operatorSignOnTypes ?? ['operator.sign-on', 'operator.sign-on.refused']);
  const okTypes = new Set(opts.terminalSignOnTypes ?? ['keys.rotated']);
  const refusedTypes = new Set(opts.terminalRefusedTypes ?? ['sign-on.refused']);
  return { opTypes, okTypes, refusedTypes, all: [...new Set([...opTypes, ...okTypes, ...refusedTypes])] };
}

/** Per-run memo of merchants' rules and time zones. */
class MerchantInfo {
  readonly #rules = new Map<string, ResolvedRule[]>();
  readonly #zones = new Map<string, string | null>();
  constructor(private readonly builtins: readonly RuleDefinition[]) {}

  async rules(db: Db, merchantNo: string | null): Promise<ResolvedRule[]> {
    const key = merchantNo ?? '*';
    let r = this.#rules.get(key);
    if (r === undefined) {
      r = await resolveRules(db, merchantNo, { builtins: this.builtins });
      this.#rules.set(key, r);
    }
    return r;
  }

  async zone(db: Db, merchantNo: string): Promise<string | null> {
    if (!this.#zones.has(merchantNo)) {
      const m = await getMerchant(db, merchantNo);
      this.#zones.set(merchantNo, m !== null && isTimeZone(m.timeZone) ? m.timeZone : null);
    }
    return this.#zones.get(merchantNo) ?? null;
  }
}

function enabled(rules: ResolvedRule[], kind: string): ResolvedRule[] {
  return rules.filter((r) => r.kind.kind === kind && r.definition.enabled !== false);
}

function eventAddress(ev: StoreEvent): string | null {
  const d = ev.detail;
  const fromDetail = typeof d === 'object' && d !== null ? (d as Record<string, unknown>)['address'] : undefined;
  return hostOf(fromDetail) ?? hostOf(ev.origin);
}

async function failedOperatorSignOn(db: Db, ev: StoreEvent, t: Resolved, info: MerchantInfo, now: Date): Promise<Alert[]> {
  const out: Alert[] = [];
  for (const rule of enabled(await info.rules(db, ev.merchantNo), 'sign-on-failures')) {
    const p = signOnFailuresParams(rule.definition.id, rule.definition.params);
    const from = new Date(ev.at.getTime() - p.windowSeconds * 1000);
    const who = ev.operatorNo !== null ? `operator ${ev.operatorNo}` : `terminal ${ev.terminalNo ?? '?'} (no operator)`;
    const subject = `${rule.definition.id}:${ev.merchantNo ?? '-'}/${ev.operatorNo !== null ? `op:${ev.operatorNo}` : `t:${ev.terminalNo ?? '-'}`}`;
    const c = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events
        WHERE type IN (SELECT jsonb_array_elements_text($1::text::jsonb)) AND ok = false
          AND merchant_no IS NOT DISTINCT FROM $2
          AND (CASE WHEN $3::text IS NULL THEN operator_no IS NULL AND terminal_no IS NOT DISTINCT FROM $4 ELSE operator_no = $3 END)
          AND at > $5 AND id <= $6`,
      [JSON.stringify([...t.opTypes]), ev.merchantNo, ev.operatorNo, ev.terminalNo, from, ev.id],
    );
    const n = Number(c.rows[0]?.n ?? 0);
    if (n < p.maxFailures) continue;
    const recent = await db.query('SELECT 1 FROM alerts WHERE kind = $1 AND subject = $2 AND event_at > $3 LIMIT 1', [
      'sign-on-failures',
      subject,
      from,
    ]);
    if (recent.rowCount > 0) continue;
    const a = await raiseAlert(db, {
      kind: 'sign-on-failures',
      severity: p.severity,
      merchantNo: ev.merchantNo,
      terminalNo: ev.terminalNo,
      operatorNo: ev.operatorNo,
      subject,
      eventAt: ev.at,
      raisedAt: now,
      summary: `${who} of merchant ${ev.merchantNo ?? '?'}: ${n} failed sign-ons within ${p.windowSeconds} s (limit ${p.maxFailures})`,
      detail: { ruleId: rule.definition.id, failures: n, windowSeconds: p.windowSeconds, maxFailures: p.maxFailures, lastEventId: ev.id },
      dedupeKey: `${subject}:${ev.id}`,
    });
    if (a !== null) out.push(a);
  }
  return out;
}

async function terminalSignOn(db: Db, ev: StoreEvent, t: Resolved, info: MerchantInfo, now: Date): Promise<Alert[]> {
  const out: Alert[] = [];
  const merchantNo = ev.merchantNo;
  const terminalNo = ev.terminalNo;
  if (merchantNo === null || terminalNo === null) return out;
  const succeeded = t.okTypes.has(ev.type) && ev.ok;
  const rules = await info.rules(db, merchantNo);
  const what = succeeded ? 'signed on' : 'tried to sign on (refused)';

  // Outside trading hours (merchant's zone). Unknown merchants have no hours to judge by.
  const zone = await info.zone(db, merchantNo);
  if (zone !== null) {
    for (const rule of enabled(rules, 'sign-on-outside-hours')) {
      const p = signOnOutsideHoursParams(rule.definition.id, rule.definition.params);
      const window = rules.find((r) => r.kind.kind === 'trading-window');
      const hours: TradingHours = p.hours ?? tradingHours(window?.definition.id ?? 'trading-window', window?.definition.params ?? {});
      const local = localTime(ev.at, zone);
      if (inWindow(local.secondOfDay, hours.startSecond, hours.endSecond)) continue;
      const a = await raiseAlert(db, {
        kind: 'sign-on-outside-hours',
        severity: p.severity,
        merchantNo,
        terminalNo,
        operatorNo: ev.operatorNo,
        subject: `${rule.definition.id}:${merchantNo}/${terminalNo}`,
        eventAt: ev.at,
        raisedAt: now,
        summary: `terminal ${terminalNo} of merchant ${merchantNo} ${what} at ${local.time} local (${zone}), outside trading hours ${hours.start}-${hours.end}`,
        detail: { ruleId: rule.definition.id, eventId: ev.id, eventType: ev.type, localDate: local.date, localTime: local.time, timeZone: zone },
        dedupeKey: `${rule.definition.id}:${merchantNo}/${terminalNo}:${local.date}`,
      });
      if (a !== null) out.push(a);
    }
  }

  // New network host.
  const host = eventAddress(ev);
  if (host === null) return out;
  const known = await db.query<{ host: string }>('SELECT host FROM terminal_addresses WHERE merchant_no = $1 AND terminal_no = $2', [
    merchantNo,
    terminalNo,
  ]);
  const hosts = new Set(known.rows.map((r) => r.host));
  if (hosts.size > 0 && !hosts.has(host)) {
    for (const rule of enabled(rules, 'sign-on-new-address')) {
      const p = signOnNewAddressParams(rule.definition.id, rule.definition.params);
      const a = await raiseAlert(db, {
        kind: 'sign-on-new-address',
        severity: p.severity,
        merchantNo,
        terminalNo,
        operatorNo: ev.operatorNo,
        subject: `${rule.definition.id}:${merchantNo}/${terminalNo}`,
        eventAt: ev.at,
        raisedAt: now,
        summary: `terminal ${terminalNo} of merchant ${merchantNo} ${what} from new address ${host} (known: ${[...hosts].sort().join(', ')})`,
        detail: { ruleId: rule.definition.id, eventId: ev.id, eventType: ev.type, host, knownHosts: [...hosts].sort() },
        dedupeKey: `${rule.definition.id}:${merchantNo}/${terminalNo}:${host}`,
      });
      if (a !== null) out.push(a);
    }
  }
  // Only successful sign-ons teach the monitor an address.
  if (succeeded) {
    await db.query(
      `INSERT INTO terminal_addresses (merchant_no, terminal_no, host, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (merchant_no, terminal_no, host) DO UPDATE SET last_seen_at = greatest(terminal_addresses.last_seen_at, EXCLUDED.last_seen_at)`,
      [merchantNo, terminalNo, host, ev.at],
    );
  }
  return out;
}

/** Judge every event after the cursor (older than settleMs), in batches; returns what was raised. */
export async function runMonitorOnce(db: Db, now: Date = new Date(), opts: MonitorOptions = {}): Promise<MonitorRunResult> {
  const name = opts.name ?? 'sign-on';
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 10_000));
  const cutoff = now.getTime() - (opts.settleMs ?? 0);
  const t = types(opts);
  const info = new MerchantInfo(opts.rules ?? DEFAULT_RULES);
  const result: MonitorRunResult = { processed: 0, cursor: '0', alerts: [] };
  for (;;) {
    const more = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO monitor_cursors (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
      const cur = await tx.query<{ last_id: string | number }>('SELECT last_id FROM monitor_cursors WHERE name = $1 FOR UPDATE', [name]);
      let cursor = String(cur.rows[0]?.last_id ?? '0');
      const events = await listEvents(tx, { types: t.all, afterId: cursor, order: 'asc', limit: batchSize });
      let judged = 0;
      for (const ev of events) {
        if (ev.at.getTime() > cutoff) break;
        if (t.opTypes.has(ev.type) && !ev.ok) result.alerts.push(...(await failedOperatorSignOn(tx, ev, t, info, now)));
        if (t.okTypes.has(ev.type) || t.refusedTypes.has(ev.type)) result.alerts.push(...(await terminalSignOn(tx, ev, t, info, now)));
        cursor = ev.id;
        judged += 1;
      }
      if (judged > 0) await tx.query('UPDATE monitor_cursors SET last_id = $2, updated_at = now() WHERE name = $1', [name, cursor]);
      result.cursor = cursor;
      result.processed += judged;
      return judged === batchSize;
    });
    if (!more) return result;
  }
}

export interface MonitorLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface StartMonitorOptions extends MonitorOptions {
  db: Db;
  logger: MonitorLogger;
  /** Default 10 000 ms. */
  intervalMs?: number;
}

export interface MonitorHandle {
  /** Stop the timer and wait for a run in progress. */
  stop(): Promise<void>;
}

/** Run the monitor every intervalMs until stop(). A failed run is logged; the next one retries. */
export function startMonitor(opts: StartMonitorOptions): MonitorHandle {
  const intervalMs = opts.intervalMs ?? 10_000;
  const runOpts: MonitorOptions = { ...opts, settleMs: opts.settleMs ?? 2000 };
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    running = (async () => {
      try {
        const r = await runMonitorOnce(opts.db, new Date(), runOpts);
        for (const a of r.alerts) {
          opts.logger.info({ alert: a.id, kind: a.kind, severity: a.severity, merchantNo: a.merchantNo, terminalNo: a.terminalNo }, a.summary);
        }
      } catch (e) {
        opts.logger.error({ err: e instanceof Error ? { name: e.name, message: e.message } : String(e) }, 'sign-on monitor run failed');
      }
    })();
    void running.then(() => {
      if (!stopped) {
        timer = setTimeout(tick, intervalMs);
        timer.unref();
      }
    });
  };
  timer = setTimeout(tick, 0);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
