/** Where the engine gets window counts from: the database (default) or in-memory windows. */
import type { Db } from '../../store/index.js';
import type { WindowCounts, WindowSpec } from '../rules/definition.js';
import type { RiskTransaction } from '../types.js';

export interface WindowSource {
  /** Counts for each spec (same order), for request `tx`. */
  counts(db: Db, tx: RiskTransaction, specs: readonly WindowSpec[]): Promise<WindowCounts[]>;
  /** An observation was stored (RiskEngine.record). */
  observed(tx: RiskTransaction, result: 'approved' | 'declined'): void;
}
