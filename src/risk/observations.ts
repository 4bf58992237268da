/** risk_observations: what RiskEngine.record writes and the window queries read. */
import type { Db } from '../store/index.js';
import type { RiskTransaction } from './types.js';

export type ObservationResult = 'approved' | 'declined';

export async function recordObservation(db: Db, tx: RiskTransaction, result: ObservationResult): Promise<void> {
  await db.query(
    `INSERT INTO risk_observations (at, merchant_no, terminal_no, operator_no, card_fingerprint, channel, kind, amount, result, reference)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [tx.at, tx.merchantNo, tx.terminalNo, tx.operatorNo, tx.cardFingerprint, tx.channel, tx.kind, tx.amount, result, tx.reference],
  );
}

/** Remove observations older than `before` (the longest window needs nothing older). Returns the count. */
export async function pruneObservations(db: Db, before: Date): Promise<number> {
  const r = await db.query('DELETE FROM risk_observations WHERE at < $1', [before]);
  return r.rowCount;
}
