/** Access review records (PCI DSS 7.2.4). */
import type { Db } from '../../store/index.js';

export interface AccessReview {
  id: string;
  reviewedBy: string;
  reviewedAt: Date;
  notes: string;
  changes: string[];
  accounts: number;
}

interface Row {
  id: string | number;
  reviewed_by: string;
  reviewed_at: Date;
  notes: string;
  changes: unknown;
  accounts: number;
}

function toReview(r: Row): AccessReview {
  const changes = typeof r.changes === 'string' ? (JSON.parse(r.changes) as string[]) : (r.changes as string[]);
  return { id: String(r.id), reviewedBy: r.reviewed_by, reviewedAt: r.reviewed_at, notes: r.notes, changes, accounts: Number(r.accounts) };
}

export async function insertReview(db: Db, r: { reviewedBy: string; reviewedAt: Date; notes: string; changes: string[]; accounts: number }): Promise<AccessReview> {
  const q = await db.query<Row>(
    `INSERT INTO console_access_reviews (reviewed_by, reviewed_at, notes, changes, accounts) VALUES ($1, $2, $3, $4::text::jsonb, $5)
     RETURNING id, reviewed_by, reviewed_at, notes, changes, accounts`,
    [r.reviewedBy, r.reviewedAt, r.notes, JSON.stringify(r.changes), r.accounts],
  );
  return toReview(q.rows[0] as Row);
}

export async function listReviews(db: Db, limit = 100): Promise<AccessReview[]> {
  const q = await db.query<Row>(`SELECT id, reviewed_by, reviewed_at, notes, changes, accounts FROM console_access_reviews ORDER BY reviewed_at DESC, id DESC LIMIT $1`, [limit]);
  return q.rows.map(toReview);
}
