/**
 * Verifying the audit chain: walk event_seals in sequence order, recompute every link from the
 * event's current content and the previous link, and report the first link that does not hold.
 *
 * Broken-link kinds:
 * - `sequence`: a seal is missing (seq gap) or the chain does not start at 1;
 * - `prev-hash`: a seal's prev_hash is not the previous seal's hash (a seal was altered);
 * - `missing-event`: the sealed event is gone (deleted);
 * - `content`: the event's content no longer gives the sealed hash (modified), or the seal's hash
 *   was altered.
 */
import type { Db } from '../store/index.js';
import { CANONICAL_SQL, GENESIS_HASH, linkHash } from './canonical.js';

export type BrokenLinkKind = 'sequence' | 'prev-hash' | 'missing-event' | 'content';

export interface BrokenLink {
  kind: BrokenLinkKind;
  /** Sequence number of the first link that fails. */
  seq: string;
  eventId: string | null;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Links checked (up to and excluding the first broken one). */
  verified: number;
  /** Events present but not yet sealed. */
  unsealed: number;
  headSeq: string;
  broken: BrokenLink | null;
}

const PAGE = 5000;

export async function verifyChain(db: Db): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let expected = 1n;
  let verified = 0;
  let after = '0';
  for (;;) {
    const page = await db.query<{ seq: string; event_id: string; prev_hash: string; hash: string; canon: string | null }>(
      `SELECT s.seq::text AS seq, s.event_id::text AS event_id, s.prev_hash, s.hash,
              CASE WHEN e.id IS NULL THEN NULL ELSE ${CANONICAL_SQL} END AS canon
         FROM event_seals s LEFT JOIN events e ON e.id = s.event_id
        WHERE s.seq > $1::bigint ORDER BY s.seq LIMIT ${PAGE}`,
      [after],
    );
    for (const r of page.rows) {
      const seq = BigInt(r.seq);
      const broken = (kind: BrokenLinkKind, detail: string): BrokenLink => ({ kind, seq: r.seq, eventId: r.event_id, detail });
      let fault: BrokenLink | null = null;
      if (seq !== expected) fault = broken('sequence', `expected link ${expected.toString()}, found ${r.seq}`);
      else if (r.prev_hash !== prev) fault = broken('prev-hash', 'the link does not follow the previous one');
      else if (r.canon === null) fault = broken('missing-event', `event ${r.event_id} has been removed`);
      else if (linkHash(prev, seq, r.canon) !== r.hash) fault = broken('content', `event ${r.event_id} differs from what was sealed`);
      if (fault !== null) return { ok: false, verified, unsealed: await countUnsealed(db), headSeq: await headSeq(db), broken: fault };
      prev = r.hash;
      expected += 1n;
      verified += 1;
      after = r.seq;
    }
    if (page.rows.length < PAGE) break;
  }
  return { ok: true, verified, unsealed: await countUnsealed(db), headSeq: (expected - 1n).toString(), broken: null };
}

async function countUnsealed(db: Db): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_seals s WHERE s.event_id = e.id)`,
  );
  return r.rows[0]?.n ?? 0;
}

async function headSeq(db: Db): Promise<string> {
  const r = await db.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM event_seals`);
  return r.rows[0]?.seq ?? '0';
}
