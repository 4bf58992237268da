/**
 * One terminal connection: frames in, responses out. Several requests may be in flight at once;
 * each response is written as soon as its handler finishes, so responses can leave in a different
 * order than the requests arrived (terminals match them by STAN, field 11).
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { attachFrameDecoder, encodeFrame, swapTpdu, type CupHeader, type FrameProfile, type Tpdu } from '../framing/index.js';
import { createMessage, pack } from '../iso8583/index.js';
import { cupPos } from '../specs/cup-pos.js';
import { appendEvent, type Terminal } from '../store/index.js';
import type { CupPosMessage, HandlerResult, HostContext } from './context.js';
import { decodeRequest } from './decode-request.js';
import type { Presence } from './presence.js';
import { processingRequirementFor } from './processing-requirement.js';
import { ResponseCode } from './response-codes.js';
import { ECHOED_FIELDS, safeText, startResponse } from './response.js';
import { route, type Route } from './router.js';

export interface ConnectionOptions {
  ctx: HostContext;
  profile: FrameProfile;
  routes: readonly Route[];
  idleTimeoutMs: number;
  /** Register a background store update so the host can wait for it on close. */
  track(p: Promise<unknown>): void;
  /** Connected terminals, mirrored into the store. */
  presence: Presence;
}

export class Connection {
  readonly socket: Socket;
  readonly remoteAddress: string;
  readonly logger: Logger;
  private readonly opts: ConnectionOptions;
  private readonly inflight = new Set<Promise<void>>();
  /** Terminals (merchantNo/terminalNo) seen on this connection, marked online in the store. */
  private readonly terminals = new Map<string, { merchantNo: string; terminalNo: string }>();
  private draining = false;
  private closed = false;

  constructor(socket: Socket, id: number, opts: ConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.logger = opts.ctx.logger.child({ conn: id, remote: this.remoteAddress });
    socket.setNoDelay(true);
    if (opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs);
      socket.on('timeout', () => {
        if (this.inflight.size > 0) return;
        this.logger.info('idle timeout: closing connection');
        socket.destroy();
      });
    }
    socket.on('error', (e) => this.logger.warn({ err: { message: e.message } }, 'socket error'));
    socket.on('close', () => this.onClose());
    attachFrameDecoder(socket, opts.profile, {
      onFrame: (payload) => this.onFrame(payload),
      onError: (e) => {
        this.logger.warn({ reason: e.reason, fatal: e.fatal, offset: e.offset }, e.fatal ? 'framing lost: closing connection' : 'bad frame');
      },
    });
    this.logger.debug('connection opened');
  }

  /** Requests being handled. */
  get pending(): number {
    return this.inflight.size;
  }

  /** Stop taking new requests; resolves once every request in flight has been answered. */
  async drain(): Promise<void> {
    this.draining = true;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private onFrame(payload: Buffer): void {
    if (this.draining) {
      this.logger.info({ bytes: payload.length }, 'host closing: request ignored');
      return;
    }
    const decoded = decodeRequest(this.opts.profile, payload);
    switch (decoded.kind) {
      case 'heartbeat':
        return;
      case 'drop':
        this.logger.warn({ bytes: payload.length, reason: decoded.reason }, 'undecodable frame ignored');
        return;
      case 'format-error':
        this.logger.warn({ bytes: payload.length, reason: decoded.reason, mti: decoded.response.mti }, 'malformed request: answering 30');
        this.write(decoded.tpdu, decoded.header, decoded.response, 0);
        return;
      case 'request': {
        const p = this.handle(decoded.tpdu, decoded.header, decoded.message, decoded.body).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
    }
  }

  private async handle(tpdu: Tpdu, header: CupHeader, message: CupPosMessage, body: Buffer): Promise<void> {
    const { ctx } = this.opts;
    const started = Date.now();
    let result: HandlerResult;
    try {
      result = await route(ctx, { tpdu, header, message, body, remoteAddress: this.remoteAddress, logger: this.logger }, this.opts.routes);
    } catch (e) {
      this.logger.error({ err: errInfo(e), mti: message.mti }, 'handler failed: answering 96');
      result = { response: startResponse(message, ResponseCode.SystemMalfunction) };
      this.opts.track(
        appendEvent(ctx.db, {
          type: 'request.failed',
          ok: false,
          merchantNo: safeText(message, 42) ?? null,
          terminalNo: safeText(message, 41) ?? null,
          detail: { responseCode: ResponseCode.SystemMalfunction, mti: message.mti, error: errInfo(e).name, address: this.remoteAddress },
        }).catch((e2: unknown) => this.logger.warn({ err: errInfo(e2) }, 'could not record failure event')),
      );
    }
    let requirement = 0;
    try {
      requirement = await processingRequirementFor(ctx, result);
    } catch (e) {
      this.logger.error({ err: errInfo(e) }, 'could not work out the processing requirement');
    }
    if (result.terminal !== undefined) this.noteTerminal(result.terminal);
    this.write(tpdu, header, result.response, requirement);
    this.logger.info(
      { mti: message.mti, rsp: result.response.mti, code: result.response.get(39), pr: requirement, ms: Date.now() - started },
      'request answered',
    );
  }

  private write(tpdu: Tpdu, header: CupHeader, response: CupPosMessage, requirement: number): void {
    const encode = (m: CupPosMessage, pr: number): Buffer =>
      encodeFrame(this.opts.profile, {
        tpdu: swapTpdu(tpdu),
        header: { ...header, processingRequirement: pr as CupHeader['processingRequirement'] },
        body: pack(cupPos, m),
      });
    let frame: Buffer;
    try {
      frame = encode(response, requirement);
    } catch (e) {
      // A handler built a response that cannot be encoded (a bug): answer 96 with the echoed
      // fields rather than leave the terminal waiting.
      this.logger.error({ err: errInfo(e), mti: response.mti }, 'could not encode the response: answering 96');
      try {
        const fallback = createMessage(cupPos, response.mti);
        for (const n of ECHOED_FIELDS) {
          const v = response.get(n);
          if (v !== undefined) fallback.set(n, v as never);
        }
        fallback.set(39, ResponseCode.SystemMalfunction);
        frame = encode(fallback, 0);
      } catch (e2) {
        this.logger.error({ err: errInfo(e2), mti: response.mti }, 'could not encode the fallback response');
        return;
      }
    }
    if (this.socket.destroyed || !this.socket.writable) {
      this.logger.warn({ mti: response.mti }, 'connection gone: response dropped');
      return;
    }
    this.socket.write(frame);
  }

  private noteTerminal(t: Terminal): void {
    if (this.closed) return;
    const key = `${t.merchantNo}/${t.terminalNo}`;
    if (this.terminals.has(key)) return;
    const ref = { merchantNo: t.merchantNo, terminalNo: t.terminalNo };
    this.terminals.set(key, ref);
    this.opts.presence.up(ref, this.remoteAddress);
  }

  private onClose(): void {
    this.closed = true;
    this.logger.debug('connection closed');
    for (const ref of this.terminals.values()) this.opts.presence.down(ref);
    this.terminals.clear();
  }
}

/** Error details safe to log (library errors here carry no key material). */
export function errInfo(e: unknown): { name: string; message: string; reason?: string } {
  if (e instanceof Error) {
    const reason = (e as { reason?: unknown }).reason;
    return { name: e.name, message: e.message, ...(typeof reason === 'string' ? { reason } : {}) };
  }
  return { name: 'unknown', message: String(e) };
}
