/**
 * The access-review report (PCI DSS 7.2.4, 8.2.6): every account with its role, merchants,
 * permissions, status and last activity; accounts idle more than 90 days flagged; the last review
 * and when the next is due (every six months).
 */
import type { Db } from '../store/index.js';
import { PERMISSIONS, type Permission, type Role } from './roles.js';
import { listReviews, type AccessReview } from './store/reviews.js';
import { listUsers } from './store/users.js';
import { getTotp } from './store/totp.js';

export const REVIEW_INTERVAL_MONTHS = 6;

export interface AccountReviewLine {
  username: string;
  role: Role;
  merchants: string[];
  permissions: readonly Permission[];
  status: 'active' | 'disabled';
  disabledReason: string | null;
  mfaEnrolled: boolean;
  createdAt: Date;
  createdBy: string;
  lastSignInAt: Date | null;
  lastActivityAt: Date | null;
  idleDays: number;
  idleFlag: boolean;
  passwordChangedAt: Date;
  lockedUntil: Date | null;
}

export interface AccessReviewReport {
  generatedAt: Date;
  accounts: AccountReviewLine[];
  lastReview: AccessReview | null;
  nextReviewDue: Date;
  reviewOverdue: boolean;
}

export function addMonths(d: Date, months: number): Date {
  const out = new Date(d.getTime());
  out.setUTCMonth(out.getUTCMonth() + months);
  return out;
}

export async function accessReviewReport(db: Db, now: Date, idleDays = 90): Promise<AccessReviewReport> {
  const users = await listUsers(db);
  const accounts: AccountReviewLine[] = [];
  for (const u of users) {
    const last = u.lastActivityAt ?? u.createdAt;
    const idle = Math.max(0, Math.floor((now.getTime() - last.getTime()) / 86_400_000));
    accounts.push({
      username: u.username,
      role: u.role,
      merchants: u.merchants,
      permissions: PERMISSIONS[u.role],
      status: u.status,
      disabledReason: u.disabledReason,
      mfaEnrolled: (await getTotp(db, u.username)) !== null,
      createdAt: u.createdAt,
      createdBy: u.createdBy,
      lastSignInAt: u.lastSignInAt,
      lastActivityAt: u.lastActivityAt,
      idleDays: idle,
      idleFlag: now.getTime() - last.getTime() > idleDays * 86_400_000,
      passwordChangedAt: u.passwordChangedAt,
      lockedUntil: u.lockedUntil,
    });
  }
  const [lastReview] = await listReviews(db, 1);
  // No review yet: one is due now (counting from the oldest account).
  const nextReviewDue = lastReview ? addMonths(lastReview.reviewedAt, REVIEW_INTERVAL_MONTHS) : now;
  return { generatedAt: now, accounts, lastReview: lastReview ?? null, nextReviewDue, reviewOverdue: now.getTime() >= nextReviewDue.getTime() };
}
