/**
 * Which terminals are connected, mirrored into the store (terminals.connection_state). A terminal
 * may be connected several times at once; it is online while at least one of its connections is
 * open.
 *
 * Store updates are batched: changes collect in a map keyed by terminal (a later change replaces
 * an earlier one that is not yet written; an `online` change's address is kept when an
 * `offline` follows, as sequential writes would leave it) and one writer at a time sends
 * everything collected in one statement per chunk (setConnections), FLUSH_DELAY_MS after the
 * first change of a batch arrived. While a write is in flight new changes wait for the next one,
 * so under load many connects and disconnects cost one statement, and a terminal that connects,
 * signs on and hangs up within the delay costs one row update instead of two. Because
 * there is one writer and a terminal appears once per batch, the store sees each terminal's
 * changes in order. Failures are only logged (connection state is advisory).
 */
import type { Logger } from 'pino';
import { setConnections, type ConnectionUpdate } from '../store/terminals.js';
import type { Db, TerminalRef } from '../store/index.js';

/** Most terminals written by one statement. */
const CHUNK = 500;
/** How long changes gather before a batch is written (connection state is advisory). */
const FLUSH_DELAY_MS = 20;

export class Presence {
  private readonly counts = new Map<string, number>();
  /** Changes not yet handed to the writer, by terminal. */
  private readonly queued = new Map<string, ConnectionUpdate>();
  private writer: Promise<void> | null = null;

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
    while (this.writer !== null) await this.writer;
  }

  private enqueue(key: string, ref: TerminalRef, state: 'online' | 'offline', address?: string): void {
    const earlier = this.queued.get(key);
    const addr = address ?? earlier?.address ?? null;
    this.queued.set(key, { merchantNo: ref.merchantNo, terminalNo: ref.terminalNo, state, address: addr });
    this.writer ??= this.write();
  }

  private async write(): Promise<void> {
    try {
      while (this.queued.size > 0) {
        await new Promise<void>((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
        const batch = [...this.queued.values()];
        this.queued.clear();
        for (let i = 0; i < batch.length; i += CHUNK) {
          const chunk = batch.slice(i, i + CHUNK);
          try {
            await setConnections(this.db, chunk);
          } catch (e) {
            this.logger.warn(
              { err: { message: e instanceof Error ? e.message : String(e) }, terminals: chunk.length },
              'could not record connection state',
            );
          }
        }
      }
    } finally {
      this.writer = null;
    }
  }
}

function keyOf(ref: TerminalRef): string {
  return `${ref.merchantNo}/${ref.terminalNo}`;
}
