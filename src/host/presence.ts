/**
 * Which terminals are connected, mirrored into the store (terminals.connection_state). A terminal
 * may be connected several times at once; it is online while at least one of its connections is
 * open. Store updates for one terminal are applied in order, and failures are only logged.
 */
import type { Logger } from 'pino';
import { setConnection, type Db, type TerminalRef } from '../store/index.js';

export class Presence {
  private readonly counts = new Map<string, number>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** A connection started carrying messages for `ref`. */
  up(ref: TerminalRef, address: string): void {
    const key = keyOf(ref);
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    // Record every new connection so last_address follows the most recent one.
    this.enqueue(key, ref, 'online', address);
  }

  /** A connection that carried messages for `ref` closed. */
  down(ref: TerminalRef): void {
    const key = keyOf(ref);
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n > 0) {
      this.counts.set(key, n);
      return;
    }
    this.counts.delete(key);
    this.enqueue(key, ref, 'offline');
  }

  /** Resolves once every store update queued so far is done. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private enqueue(key: string, ref: TerminalRef, state: 'online' | 'offline', address?: string): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() =>
      setConnection(this.db, ref, state, address).then(
        () => undefined,
        (e: unknown) => this.logger.warn({ err: { message: e instanceof Error ? e.message : String(e) }, state }, 'could not record connection state'),
      ),
    );
    this.chains.set(key, next);
    this.pending.add(next);
    void next.finally(() => {
      this.pending.delete(next);
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }
}

function keyOf(ref: TerminalRef): string {
  return `${ref.merchantNo}/${ref.terminalNo}`;
}
