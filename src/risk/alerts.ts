/** Monitoring alerts: raised by the sign-on monitor and by risk rules, listed and acknowledged by people. */
import type { Db } from '../store/index.js';
import { appendEvent } from '../store/index.js';
import { RiskError } from './errors.js';
import type { AlertSeverity } from './rules/monitor-params.js';

export type { AlertSeverity } from './rules/monitor-params.js';

export interface Alert {
  id: string;
  kind: string;
  severity: AlertSeverity;
  merchantNo: string | null;
  terminalNo: string | null;
  operatorNo: string | null;
  summary: string;
  detail: unknown;
  raisedAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
}

export interface NewAlert {
  kind: string;
  severity: AlertSeverity;
  merchantNo?: string | null;
  terminalNo?: string | null;
  operatorNo?: string | null;
  summary: string;
  detail?: unknown;
  /** When set, an alert with the same key is raised only once. */
  dedupeKey?: string;
  /** What the alert is about (for suppressing repeats within a window). */
  subject?: string;
  /** Time of the event that caused the alert. */
  eventAt?: Date;
  /** Default now(). */
  raisedAt?: Date;
}

interface AlertRow {
  id: string | number;
  kind: string;
  severity: AlertSeverity;
  merchant_no: string | null;
  terminal_no: string | null;
  operator_no: string | null;
  summary: string;
  detail: unknown;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
}

const COLUMNS = 'id, kind, severity, merchant_no, terminal_no, operator_no, summary, detail, raised_at, acknowledged_at, acknowledged_by';

function toAlert(r: AlertRow): Alert {
  return {
    id: String(r.id),
    kind: r.kind,
    severity: r.severity,
    merchantNo: r.merchant_no,
    terminalNo: r.terminal_no,
    operatorNo: r.operator_no,
    summary: r.summary,
    detail: r.detail,
    raisedAt: r.raised_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
  };
}

/** Raise an alert; null when one with the same dedupe key exists already. */
export async function raiseAlert(db: Db, a: NewAlert): Promise<Alert | null> {
  const r = await db.query<AlertRow>(
    `INSERT INTO alerts (kind, severity, merchant_no, terminal_no, operator_no, summary, detail, dedupe_key, subject, event_at, raised_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9, $10, coalesce($11, now()))
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING ${COLUMNS}`,
    [
      a.kind,
      a.severity,
      a.merchantNo ?? null,
      a.terminalNo ?? null,
      a.operatorNo ?? null,
      a.summary.slice(0, 500),
      a.detail === undefined ? null : JSON.stringify(a.detail),
      a.dedupeKey ?? null,
      a.subject ?? null,
      a.eventAt ?? null,
      a.raisedAt ?? null,
    ],
  );
  return r.rows[0] ? toAlert(r.rows[0]) : null;
}

export interface ListAlertsOptions {
  /** Only alerts not yet acknowledged. */
  open?: boolean;
  kind?: string;
  merchantNo?: string;
  terminalNo?: string;
  severity?: AlertSeverity;
  /** id < beforeId (paging, newest first). */
  beforeId?: string;
  /** Default 100, at most 10 000. */
  limit?: number;
}

/** Alerts, newest first. */
export async function listAlerts(db: Db, opts: ListAlertsOptions = {}): Promise<Alert[]> {
  const r = await db.query<AlertRow>(
    `SELECT ${COLUMNS} FROM alerts
      WHERE ($1::boolean IS NOT TRUE OR acknowledged_at IS NULL)
        AND ($2::text IS NULL OR kind = $2)
        AND ($3::text IS NULL OR merchant_no = $3)
        AND ($4::text IS NULL OR terminal_no = $4)
        AND ($5::text IS NULL OR severity = $5)
        AND ($6::bigint IS NULL OR id < $6)
      ORDER BY id DESC LIMIT $7`,
    [
      opts.open ?? null,
      opts.kind ?? null,
      opts.merchantNo ?? null,
      opts.terminalNo ?? null,
      opts.severity ?? null,
      opts.beforeId ?? null,
      Math.min(Math.max(Math.trunc(opts.limit ?? 100), 0), 10_000),
    ],
  );
  return r.rows.map(toAlert);
}

export async function getAlert(db: Db, id: string): Promise<Alert | null> {
  if (!/^[0-9]{1,18}$/.test(id)) return null;
  const r = await db.query<AlertRow>(`SELECT ${COLUMNS} FROM alerts WHERE id = $1`, [id]);
  return r.rows[0] ? toAlert(r.rows[0]) : null;
}

/**
 * Acknowledge an alert (who and when are recorded, with an `alert.acknowledged` event).
 * NOT_FOUND for an unknown id; ALREADY_ACKNOWLEDGED when someone did it before.
 */
export async function acknowledgeAlert(db: Db, id: string, by: string): Promise<Alert> {
  if (by.length < 1 || by.length > 200) throw new RiskError('BAD_INPUT', 'acknowledged-by must be 1 to 200 characters');
  return db.transaction(async (tx) => {
    if (!/^[0-9]{1,18}$/.test(id)) throw new RiskError('NOT_FOUND', `alert ${id} not found`);
    const r = await tx.query<AlertRow>(
      `UPDATE alerts SET acknowledged_at = now(), acknowledged_by = $2 WHERE id = $1 AND acknowledged_at IS NULL RETURNING ${COLUMNS}`,
      [id, by],
    );
    const row = r.rows[0];
    if (!row) {
      const existing = await getAlert(tx, id);
      if (existing === null) throw new RiskError('NOT_FOUND', `alert ${id} not found`);
      throw new RiskError('ALREADY_ACKNOWLEDGED', `alert ${id} was acknowledged by ${existing.acknowledgedBy ?? '?'} at ${existing.acknowledgedAt?.toISOString() ?? '?'}`);
    }
    const alert = toAlert(row);
    await appendEvent(tx, {
      type: 'alert.acknowledged',
      ok: true,
      merchantNo: alert.merchantNo,
      terminalNo: alert.terminalNo,
      actor: by,
      resource: `alert:${alert.id}`,
      detail: { kind: alert.kind },
    });
    return alert;
  });
}
