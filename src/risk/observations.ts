/** risk_observations: what RiskEngine.record writes and the window queries read. */
import { batcherFor, batchesInFlight } from '../store/batch.js';
import type { Db } from '../store/index.js';
import type { RiskTransaction } from './types.js';

export type ObservationResult = 'approved' | 'declined';

/**
 * Record one observation. Outside a transaction, concurrent calls are grouped into one INSERT
 * (src/store/batch.ts), committed before any caller continues.
 */
export async function recordObservation(db: Db, tx: RiskTransaction, result: ObservationResult): Promise<void> {
  const b = batcherFor<Observation, void>(db, OBSERVATION_BATCH, {
    single: (d, o) => insertOne(d, o.tx, o.result),
    many: insertMany,
    maxBatch: 200,
    maxConcurrent: batchesInFlight(db),
  });
  if (b === null) await insertOne(db, tx, result);
  else await b.call({ tx, result });
}

interface Observation {
  tx: RiskTransaction;
  result: ObservationResult;
}

const OBSERVATION_BATCH = {};

async function insertOne(db: Db, tx: RiskTransaction, result: ObservationResult): Promise<void> {
  await db.query(
    `INSERT INTO risk_observations (at, merchant_no, terminal_no, operator_no, card_fingerprint, channel, kind, amount, result, reference)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [tx.at, tx.merchantNo, tx.terminalNo, tx.operatorNo, tx.cardFingerprint, tx.channel, tx.kind, tx.amount, result, tx.reference],
  );
}

async function insertMany(db: Db, inputs: readonly Observation[]): Promise<void[]> {
  const doc = JSON.stringify(
    inputs.map(({ tx, result }) => ({
      at: tx.at.toISOString(),
      m: tx.merchantNo,
      t: tx.terminalNo,
      op: tx.operatorNo,
      fp: tx.cardFingerprint,
      ch: tx.channel,
      k: tx.kind,
      amt: tx.amount,
      res: result,
      ref: tx.reference,
    })),
  );
  await db.query(
    `INSERT INTO risk_observations (at, merchant_no, terminal_no, operator_no, card_fingerprint, channel, kind, amount, result, reference)
     SELECT v.at, v.m, v.t, v.op, v.fp, v.ch, v.k, v.amt, v.res, v.ref
       FROM jsonb_to_recordset($1::text::jsonb) AS v(at timestamptz, m text, t text, op text, fp text, ch text, k text, amt bigint, res text, ref text)`,
    [doc],
  );
  return inputs.map(() => undefined);
}

/** Remove observations older than `before` (the longest window needs nothing older). Returns the count. */
export async function pruneObservations(db: Db, before: Date): Promise<number> {
  const r = await db.query('DELETE FROM risk_observations WHERE at < $1', [before]);
  return r.rowCount;
}
