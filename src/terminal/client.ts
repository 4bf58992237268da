/**
 * TerminalClient: the terminal side of a UnionPay POS link over TCP.
 *
 * - One TCP connection framed as CUP_POS_FRAME (2-byte length, TPDU, UnionPay header).
 * - Requests are matched to responses by STAN (field 11), so several may be in flight; each has
 *   its own timeout (TerminalError TIMEOUT).
 * - signOn() (0800, 60.3 = 001/003/004) decrypts the working keys of field 62 under the TMK and
 *   checks every KCV; on a mismatch the keys are wiped and nothing is kept.
 * - signOff() (0820/002) and echo() (0820/301); an idle timer sends echoes when nothing moved.
 * - The processing-requirement nibble of every response is obeyed: 3 → sign on again
 *   automatically ('signOnRequired'), 1 → 'parametersPending' (parameter download is not
 *   implemented yet); any non-zero value is also reported as 'processingRequirement'.
 *   Response codes 99 and A0 (PIN format / MAC error, "sign on again") also trigger a sign-on.
 * - An idle echo that times out closes the connection, so a dead link is re-opened.
 * - A dropped connection is re-opened with exponential backoff and jitter. Working keys survive a
 *   reconnect; in-flight requests fail with DISCONNECTED.
 *
 * close() is final: it wipes the working keys and the client's copy of the TMK.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import {
  CUP_POS_FRAME,
  ProcessingRequirement,
  attachFrameDecoder,
  encodeFrame,
  makeTpdu,
  parseFramePayload,
  type CupHeader,
  type Tpdu,
} from '../framing/index.js';
import { createMessage, pack, unpack } from '../iso8583/index.js';
import { cupPos } from '../specs/cup-pos.js';
import { wipe } from '../crypto/cipher.js';
import { unionPayMac, verifyUnionPayMac } from '../crypto/mac.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { TerminalError, declined, isTerminalError } from './errors.js';
import { SIGN_ON_AGAIN_CODES } from './response-codes.js';
import { parseHostTime } from './host-time.js';
import { StanCounter } from './stan.js';
import { downloadParameters, type DownloadedParameters } from './parameters.js';
import { decryptWorkingKeys, isKeyScheme, wipeWorkingKeys, workingKeyKcvs, type KeyScheme, type WorkingKeyKcvs, type WorkingKeys } from './working-keys.js';
import {
  DEFAULT_HEADER,
  type CupFieldValues,
  type CupMessage,
  type EchoResult,
  type SignOnResult,
  type TerminalClientOptions,
  type TerminalEvents,
  type RequestOptions,
  type TerminalResponse,
} from './client-types.js';

interface Pending {
  readonly stan: string;
  readonly responseMti: string;
  readonly resolve: (r: TerminalResponse) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const SIX_DIGITS = /^\d{6}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/** The response MTI for a request MTI (third digit + 1: 0800 → 0810). */
export function responseMtiOf(mti: string): string {
  const f = Number(mti[2]);
  return mti.slice(0, 2) + String(f + 1) + mti.slice(3);
}

export class TerminalClient extends EventEmitter<TerminalEvents> {
  readonly host: string;
  private readonly tls: ConnectionOptions | undefined;
  readonly port: number;
  readonly terminalNo: string;
  readonly merchantNo: string;
  readonly keyScheme: KeyScheme;
  readonly operatorNo: string | undefined;
  private readonly tmk: Buffer;
  private readonly tpdu: Tpdu;
  private readonly header: CupHeader;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly echoIntervalMs: number;
  private readonly reconnectOptions: BackoffOptions | false;
  private readonly autoSignOn: boolean;
  private readonly hostUtcOffsetMinutes: number;
  private readonly random: () => number;
  private readonly stans: StanCounter;

  private socket: Socket | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private readonly pending = new Map<string, Pending>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectAttempt = 0;
  private echoTimer: NodeJS.Timeout | null = null;
  private signOnInFlight: Promise<SignOnResult> | null = null;

  private keys: WorkingKeys | null = null;
  private lastStanSent: string | null = null;
  private batch: string;
  private clockOffset: number | null = null;
  private lastSignOn: Date | null = null;

  constructor(options: TerminalClientOptions) {
    super();
    const o = options;
    if (typeof o.host !== 'string' || o.host === '') throw new TerminalError('BAD_ARGUMENT', 'host is required');
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new TerminalError('BAD_ARGUMENT', `bad port ${o.port}`);
    if (typeof o.terminalNo !== 'string' || o.terminalNo.length !== 8) {
      throw new TerminalError('BAD_ARGUMENT', 'terminalNo (field 41) must be 8 characters');
    }
    if (typeof o.merchantNo !== 'string' || o.merchantNo.length !== 15) {
      throw new TerminalError('BAD_ARGUMENT', 'merchantNo (field 42) must be 15 characters');
    }
    if (!(o.tmk instanceof Uint8Array) || ![8, 16, 24].includes(o.tmk.length)) {
      throw new TerminalError('BAD_ARGUMENT', 'tmk must be 8, 16 or 24 bytes');
    }
    const scheme = o.keyScheme ?? '004';
    if (!isKeyScheme(scheme)) throw new TerminalError('BAD_ARGUMENT', `keyScheme must be 001, 003 or 004, got ${String(scheme)}`);
    const batch = o.batchNo ?? '000001';
    if (!SIX_DIGITS.test(batch)) throw new TerminalError('BAD_ARGUMENT', 'batchNo must be 6 digits');
    const dest = o.tpdu?.destination ?? '0000';
    const src = o.tpdu?.source ?? '0000';
    if (!HEX4.test(dest) || !HEX4.test(src)) throw new TerminalError('BAD_ARGUMENT', 'TPDU addresses must be 4 hex characters');
    const reconnect = o.reconnect ?? { initialMs: 1000, maxMs: 60_000 };
    if (reconnect !== false && !(reconnect.initialMs > 0 && reconnect.maxMs >= reconnect.initialMs)) {
      throw new TerminalError('BAD_ARGUMENT', 'reconnect needs 0 < initialMs <= maxMs');
    }
    this.host = o.host;
    this.tls = o.tls;
    this.port = o.port;
    this.terminalNo = o.terminalNo;
    this.merchantNo = o.merchantNo;
    this.keyScheme = scheme;
    this.operatorNo = o.operatorNo;
    this.tmk = Buffer.from(o.tmk);
    this.tpdu = makeTpdu(dest, src);
    this.header = { ...DEFAULT_HEADER, ...o.header, processingRequirement: ProcessingRequirement.None };
    this.requestTimeoutMs = o.requestTimeoutMs ?? 30_000;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.echoIntervalMs = o.echoIntervalMs ?? 0;
    this.reconnectOptions = reconnect;
    this.autoSignOn = o.autoSignOn ?? true;
    this.hostUtcOffsetMinutes = o.hostUtcOffsetMinutes ?? 480;
    this.random = o.random ?? Math.random;
    this.stans = new StanCounter(o.firstStan ?? 1);
    this.batch = batch;
  }

  // ---- state ---------------------------------------------------------------------------------

  get connected(): boolean {
    return this.socket !== null;
  }

  /** True while working keys from a successful sign-on are held. */
  get signedOn(): boolean {
    return this.keys !== null;
  }

  /** The clear working keys, or null when not signed on. Do not keep references past signOff/close. */
  get workingKeys(): WorkingKeys | null {
    return this.keys;
  }

  /** Check values of the held working keys. */
  get kcvs(): WorkingKeyKcvs | null {
    return this.keys === null ? null : workingKeyKcvs(this.keys);
  }

  /** Current batch number (60.2). */
  get batchNo(): string {
    return this.batch;
  }

  /** Host clock minus local clock at the last sign-on, ms; null when unknown. */
  get clockOffsetMs(): number | null {
    return this.clockOffset;
  }

  /** The host's clock now, estimated from the last sign-on (local clock when unknown). */
  hostNow(): Date {
    return new Date(Date.now() + (this.clockOffset ?? 0));
  }

  get lastSignOnAt(): Date | null {
    return this.lastSignOn;
  }

  /** Requests waiting for a response. */
  get inFlight(): number {
    return this.pending.size;
  }

  // ---- connection ----------------------------------------------------------------------------

  /** Open the connection (no-op when open). Rejects with CONNECT_FAILED, or CLOSED after close(). */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new TerminalError('CLOSED', 'client is closed'));
    if (this.connecting) return this.connecting;
    if (this.socket) return Promise.resolve();
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const p = this.open().finally(() => {
      if (this.connecting === p) this.connecting = null;
    });
    this.connecting = p;
    return p;
  }

  private open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = this.tls
        ? tlsConnect({ ...(isIP(this.host) ? {} : { servername: this.host }), ...this.tls, host: this.host, port: this.port })
        : netConnect({ host: this.host, port: this.port });
      const connectedEvent = this.tls ? 'secureConnect' : 'connect';
      socket.setNoDelay(true);
      let settled = false;
      const timer = setTimeout(() => {
        fail(new Error(`no connection within ${this.connectTimeoutMs} ms`));
        socket.destroy();
      }, this.connectTimeoutMs);
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new TerminalError('CONNECT_FAILED', `cannot connect to ${this.host}:${this.port}: ${e.message}`, { cause: e }));
      };
      socket.once('error', fail);
      socket.once(connectedEvent, () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('error', fail);
        if (this.closed) {
          socket.destroy();
          reject(new TerminalError('CLOSED', 'client was closed while connecting'));
          return;
        }
        this.adopt(socket);
        resolve();
      });
    });
  }

  private adopt(socket: Socket): void {
    this.socket = socket;
    let lastError: Error | undefined;
    socket.on('error', (e) => {
      lastError = e;
    });
    socket.once('close', () => this.onSocketClose(socket, lastError));
    attachFrameDecoder(socket, CUP_POS_FRAME, {
      onFrame: (payload) => this.onFrame(payload),
      onError: (error) => {
        lastError = error;
        this.emit('protocolError', error);
      },
    });
    this.emit('connected');
    this.touch();
  }

  private onSocketClose(socket: Socket, error: Error | undefined): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.stopEchoTimer();
    this.failAll(() => new TerminalError('DISCONNECTED', 'connection to the host dropped'));
    if (this.closed) return;
    this.emit('disconnected', error);
    if (this.reconnectOptions !== false) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectOptions === false || this.reconnectTimer) return;
    const attempt = ++this.reconnectAttempt;
    const delayMs = backoffDelay(attempt, this.reconnectOptions, this.random);
    this.emit('reconnecting', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().then(
        () => {
          const attempts = this.reconnectAttempt;
          this.reconnectAttempt = 0;
          this.emit('reconnected', { attempts });
        },
        (error: unknown) => {
          if (this.closed) return;
          this.emit('reconnectFailed', { attempt, error: error as Error });
          this.scheduleReconnect();
        },
      );
    }, delayMs);
  }

  /** Close for good: fail requests in flight, stop timers, wipe keys and the TMK copy. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopEchoTimer();
    this.failAll(() => new TerminalError('CLOSED', 'client closed'));
    if (this.connecting) await this.connecting.catch(() => undefined);
    const socket = this.socket;
    this.socket = null;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => socket.destroy(), 1000);
        socket.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        socket.end();
      });
    }
    this.discardKeys();
    wipe(this.tmk);
    this.emit('closed');
  }

  private failAll(make: () => TerminalError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      const e = make();
      p.reject(new TerminalError(e.reason, `${e.message} (STAN ${p.stan})`, { stan: p.stan }));
    }
  }

  // ---- requests ------------------------------------------------------------------------------

  /**
   * Send a request and wait for its response: the same STAN and the response MTI of the request
   * (a response with the STAN but another MTI is a late answer to an earlier request that used the
   * STAN — a reversal repeats its original's — and is reported as `unmatchedResponse`, not taken).
   * Field 11 is assigned here (any value given is replaced). With `mac: true` field 64 is added: the UnionPay POS MAC of the
   * message under the current MAC key (MTI to the last field before 64). Rejects with
   * NOT_CONNECTED, TIMEOUT, DISCONNECTED, CLOSED or NOT_SIGNED_ON (a MAC is asked for without working keys); an encoding error is
   * thrown as is. The STAN used is `lastStan` as soon as this returns.
   */
  request(mti: string, fields: CupFieldValues, opts: RequestOptions = {}): Promise<TerminalResponse> {
    if (this.closed) return Promise.reject(new TerminalError('CLOSED', 'client is closed'));
    const socket = this.socket;
    if (socket === null) return Promise.reject(new TerminalError('NOT_CONNECTED', 'not connected to the host'));
    if (opts.mac === true && this.keys === null) return Promise.reject(new TerminalError('NOT_SIGNED_ON', 'a MAC needs working keys: sign on first'));
    const stan = opts.stan ?? this.stans.next((s) => this.pending.has(s));
    if (this.pending.has(stan)) return Promise.reject(new TerminalError('BAD_REQUEST', `STAN ${stan} is already in flight`));
    this.lastStanSent = stan;
    const msg = createMessage(cupPos, mti, opts.mac === true ? { ...fields, 11: stan, 64: Buffer.alloc(8) } : { ...fields, 11: stan });
    let frame: Buffer;
    try {
      const body = pack(cupPos, msg);
      if (opts.mac === true && this.keys !== null) {
        const mac = unionPayMac(this.keys.mak, body.subarray(0, body.length - 8));
        mac.copy(body, body.length - 8);
      }
      frame = encodeFrame(CUP_POS_FRAME, { tpdu: this.tpdu, header: this.header, body });
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<TerminalResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.get(stan)?.timer !== timer) return;
        this.pending.delete(stan);
        reject(new TerminalError('TIMEOUT', `no response to ${mti} (STAN ${stan}) within ${this.requestTimeoutMs} ms`, { stan }));
      }, this.requestTimeoutMs);
      this.pending.set(stan, { stan, responseMti: responseMtiOf(mti), resolve, reject, timer });
      socket.write(frame);
      this.touch();
    });
  }

  private onFrame(payload: Buffer): void {
    this.touch();
    if (payload.length === 0) return; // keep-alive
    let response: TerminalResponse;
    let stan: string | undefined;
    try {
      const parsed = parseFramePayload(CUP_POS_FRAME, payload);
      const message = unpack(cupPos, parsed.body);
      stan = message.get(11);
      response = { message, tpdu: parsed.tpdu!, header: parsed.header!, body: parsed.body };
    } catch (e) {
      this.emit('protocolError', e as Error);
      return;
    }
    const mti = response.message.mti;
    const p = stan === undefined ? undefined : this.pending.get(stan);
    if (p === undefined || mti !== p.responseMti) {
      // Nobody waits for this answer: it came after its request timed out (the STAN may be in use
      // again: a reversal 0400 repeats its original's STAN, and the late 0210 must not answer it).
      // Stale, so its processing requirement and response code are not acted on either.
      this.emit('unmatchedResponse', { mti, stan });
      return;
    }
    this.pending.delete(p.stan);
    clearTimeout(p.timer);
    p.resolve(response);
    this.obey(response.header.processingRequirement, mti);
    if (mti !== '0810') {
      let code: string | undefined;
      try {
        code = response.message.get(39);
      } catch {
        code = undefined;
      }
      if (code !== undefined && SIGN_ON_AGAIN_CODES.includes(code.toUpperCase())) {
        this.requireSignOn({ mti, reason: 'responseCode', responseCode: code });
      }
    }
  }

  /** Act on the processing-requirement nibble of a response. */
  private obey(requirement: ProcessingRequirement, mti: string): void {
    if (requirement === ProcessingRequirement.None) return;
    this.emit('processingRequirement', { requirement, mti });
    if (requirement === ProcessingRequirement.DownloadParameters) {
      this.emit('parametersPending', { mti });
    } else if (requirement === ProcessingRequirement.SignOnAgain && mti !== '0810') {
      this.requireSignOn({ mti, reason: 'processingRequirement' });
    }
  }

  /** Report that the host wants a new sign-on and, when enabled, do it. */
  private requireSignOn(info: TerminalEvents['signOnRequired'][0]): void {
    this.emit('signOnRequired', info);
    if (!this.autoSignOn || this.closed) return;
    // Let the response that asked for it settle first.
    setImmediate(() => {
      if (this.closed) return;
      this.signOn().catch((e: unknown) => this.emit('autoSignOnFailed', e as Error));
    });
  }

  // ---- network management --------------------------------------------------------------------

  /**
   * Sign on (0800, 60.3 = key scheme) and load the working keys. Concurrent calls share one
   * exchange. Rejects with DECLINED (39 ≠ 00, see responseCode/meaning), KCV_MISMATCH,
   * BAD_KEY_BLOCK, BAD_RESPONSE or a transport reason. When the host answers but the sign-on
   * fails, any keys held before are discarded too.
   */
  signOn(): Promise<SignOnResult> {
    if (this.signOnInFlight) return this.signOnInFlight;
    const p = this.doSignOn().finally(() => {
      if (this.signOnInFlight === p) this.signOnInFlight = null;
    });
    this.signOnInFlight = p;
    return p;
  }

  private async doSignOn(): Promise<SignOnResult> {
    const scheme = this.keyScheme;
    const fields: CupFieldValues = {
      41: this.terminalNo,
      42: this.merchantNo,
      60: { 1: '00', 2: this.batch, 3: scheme },
    };
    if (this.operatorNo !== undefined) fields[63] = this.operatorNo;
    const sentAt = Date.now();
    const rsp = await this.request('0800', fields);
    const m = rsp.message;
    const stan = m.get(11);
    let keys: WorkingKeys;
    let code: string;
    let batch: string | undefined;
    try {
      code = this.responseCode(m, 'sign-on');
      if (code !== '00') throw declined('sign-on', code, stan);
      this.checkIdentity(m);
      batch = m.get(60)?.[2];
      if (batch !== undefined && !SIX_DIGITS.test(batch)) throw new TerminalError('BAD_RESPONSE', `batch number ${batch} in 60.2 is not 6 digits`);
      keys = decryptWorkingKeys(this.tmk, scheme, m.get(62));
    } catch (e) {
      this.discardKeys();
      throw e;
    }
    this.discardKeys();
    this.keys = keys;
    if (batch !== undefined) this.batch = batch;
    const now = Date.now();
    const hostTime = parseHostTime(m.get(12), m.get(13), new Date(now), this.hostUtcOffsetMinutes);
    // The host stamped 12/13 somewhere between send and receive: compare against the midpoint.
    this.clockOffset = hostTime === null ? null : hostTime.getTime() - Math.round((sentAt + now) / 2);
    this.lastSignOn = new Date(now);
    const result: SignOnResult = {
      responseCode: code,
      batchNo: this.batch,
      kcvs: workingKeyKcvs(keys),
      hostTime,
      processingRequirement: rsp.header.processingRequirement,
    };
    this.emit('signedOn', result);
    return result;
  }

  /** Sign off (0820, 60.3 = 002) and wipe the working keys. Rejects with DECLINED when 39 ≠ 00. */
  async signOff(): Promise<{ responseCode: string | undefined }> {
    const rsp = await this.request('0820', { 41: this.terminalNo, 42: this.merchantNo, 60: { 1: '00', 2: this.batch, 3: '002' } });
    const code = rsp.message.get(39);
    if (code !== undefined && code !== '00') throw declined('sign-off', code, rsp.message.get(11));
    this.discardKeys();
    this.emit('signedOff');
    return { responseCode: code };
  }

  /** Echo test (0820, 60.3 = 301). Rejects with DECLINED when the host sends 39 ≠ 00. */
  async echo(): Promise<EchoResult> {
    const t0 = Date.now();
    const rsp = await this.request('0820', { 41: this.terminalNo, 42: this.merchantNo, 60: { 1: '00', 2: this.batch, 3: '301' } });
    const code = rsp.message.get(39);
    if (code !== undefined && code !== '00') throw declined('echo test', code, rsp.message.get(11));
    return { responseCode: code, roundTripMs: Date.now() - t0 };
  }

  /**
   * Download the terminal's parameters (0800, 60.3 = 360), page by page, starting again when the
   * host's parameter version changes between pages. Resolves with the version and name → value.
   */
  async downloadParameters(): Promise<DownloadedParameters> {
    return downloadParameters({
      request: (f62) =>
        this.request('0800', { 41: this.terminalNo, 42: this.merchantNo, 60: { 1: '00', 2: this.batch, 3: '360' }, ...(f62 ? { 62: f62 } : {}) }).then((r) => {
          this.checkIdentity(r.message);
          return r.message;
        }),
    });
  }

  /** The STAN of the last request sent (for reversals and voids), or null before the first. */
  get lastStan(): string | null {
    return this.lastStanSent;
  }

  /**
   * Check field 64 of a response against the current MAC key: true when present and right. False
   * when it is missing, wrong, or the client holds no keys.
   */
  verifyResponseMac(response: TerminalResponse): boolean {
    if (this.keys === null) return false;
    let mac: Buffer | undefined;
    try {
      mac = response.message.get(64);
    } catch {
      return false;
    }
    if (mac === undefined || mac.length !== 8 || response.body.length <= 8) return false;
    return verifyUnionPayMac(this.keys.mak, response.body.subarray(0, response.body.length - 8), mac);
  }

  /** Wipe and forget the working keys (the terminal is then not signed on). */
  discardKeys(): void {
    wipeWorkingKeys(this.keys);
    this.keys = null;
  }

  private responseCode(m: CupMessage, what: string): string {
    const code = m.get(39);
    if (code === undefined) throw new TerminalError('BAD_RESPONSE', `${what} response has no field 39`, { stan: m.get(11) });
    return code;
  }

  private checkIdentity(m: CupMessage): void {
    const t = m.get(41);
    const mer = m.get(42);
    if (t !== undefined && t !== this.terminalNo) throw new TerminalError('BAD_RESPONSE', `response is for terminal ${t}, not ${this.terminalNo}`);
    if (mer !== undefined && mer !== this.merchantNo) throw new TerminalError('BAD_RESPONSE', `response is for merchant ${mer}, not ${this.merchantNo}`);
  }

  // ---- idle echo -----------------------------------------------------------------------------

  /** Traffic seen: restart the idle echo timer. */
  private touch(): void {
    if (this.echoIntervalMs <= 0 || this.closed || this.socket === null) return;
    this.stopEchoTimer();
    this.echoTimer = setTimeout(() => {
      this.echoTimer = null;
      if (this.socket === null || this.closed) return;
      const socket = this.socket;
      this.echo().catch((e: unknown) => {
        this.emit('echoFailed', e as Error);
        // No answer to an idle echo: treat the link as dead so the reconnect logic takes over.
        if (isTerminalError(e, 'TIMEOUT') && this.socket === socket && !socket.destroyed) socket.destroy();
      });
    }, this.echoIntervalMs);
    this.echoTimer.unref();
  }

  private stopEchoTimer(): void {
    if (this.echoTimer) clearTimeout(this.echoTimer);
    this.echoTimer = null;
  }
}
