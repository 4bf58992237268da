/**
 * The canonical form of an event that the audit chain hashes, computed by the database so that
 * both back ends (PostgreSQL and PGlite run the same server code) produce the same text: a JSON
 * array of every column, the time as integer microseconds since the epoch (no time-zone or
 * precision loss through JavaScript dates), `detail` in jsonb's normalised text.
 */
import { createHash } from 'node:crypto';

/** SQL expression over an `events` row aliased `e`. */
export const CANONICAL_SQL = `json_build_array(
  e.id, (extract(epoch FROM e.at) * 1000000)::bigint, e.type, e.merchant_no, e.terminal_no,
  e.operator_no, e.ok, e.detail, e.actor, e.origin, e.resource)::text`;

/** Hash of the chain's starting point (no previous link). */
export const GENESIS_HASH = '0'.repeat(64);

/** The link hash: SHA-256 over the previous hash, the sequence number and the canonical event. */
export function linkHash(prevHash: string, seq: string | number | bigint, canonical: string): string {
  return createHash('sha256').update(`qiandao-audit-v1\n${prevHash}\n${String(seq)}\n${canonical}`, 'utf8').digest('hex');
}
