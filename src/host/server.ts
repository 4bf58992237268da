/**
 * The acquiring host's TCP server: UnionPay POS terminals connect, send framed ISO 8583 requests
 * (2-byte length, TPDU, 6-byte header, body) and get one response per request.
 *
 * - Per connection: frames decoded with the CUP_POS frame profile; several requests in flight,
 *   each answered when its handler finishes.
 * - A frame that cannot be decoded is answered with 39 = 30 when its TPDU, header and MTI can be
 *   read, else logged (reason and size only) and ignored. Lost framing (bad or oversized length
 *   header) closes that connection only.
 * - Idle connections (no bytes for idleTimeoutMs, nothing in flight) are closed.
 * - close(): stop accepting, ignore new requests, answer every request in flight, then end the
 *   sockets (destroying any the peer has not closed after closeTimeoutMs).
 * - Before listening, journal entries a previous run left pending are reversed with the issuer
 *   (./recovery.ts); while running, a periodic sweep does the same for entries a failed stand-in
 *   reversal left behind. The process registers as a host instance with a heartbeat
 *   (src/store/host-instances.ts) so that hosts sharing one database leave each other's pending
 *   entries alone while their writer lives.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Hsm } from '../crypto/hsm/hsm.js';
import { CUP_POS_FRAME, defineFrameProfile } from '../framing/index.js';
import type { Issuer } from '../issuer/issuer.js';
import { withIssuerTimeout } from '../issuer/timeout.js';
import type { RiskEngine } from '../risk/types.js';
import type { Db } from '../store/index.js';
import { heartbeat, markStopped, pruneInstances, registerInstance } from '../store/host-instances.js';
import { Connection, errInfo } from './connection.js';
import type { HostContext } from './context.js';
import { Presence } from './presence.js';
import { recoverPending, type RecoveryReport } from './recovery.js';
import { DEFAULT_ROUTES, type Route } from './router.js';
import { createRrnGenerator } from './rrn.js';
import { panFingerprintKey } from '../transactions/pan-fingerprint.js';

export interface HostOptions {
  /** TCP port; 0 picks a free one (see RunningHost.port). */
  port: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  db: Db;
  hsm: Hsm;
  logger: Logger;
  /** Close connections idle for this long; 0 disables. Default 300 000 (5 minutes). */
  idleTimeoutMs?: number;
  /** Largest frame payload accepted (bytes after the length header). Default 8192. */
  maxFrameLength?: number;
  /** Working-key lifetime before the terminal is told to sign on again. Default 86 400. */
  keyLifetimeSeconds?: number;
  /** How long superseded working keys stay usable. Default 300. */
  graceSeconds?: number;
  /** Field 32 (acquiring institution code, up to 11 digits) on sign-on responses. Default: not sent. */
  acquirerId?: string;
  /** How long close() waits for peers to close after their last response. Default 2000. */
  closeTimeoutMs?: number;
  /**
   * Serve TLS instead of plain TCP: at least `key` and `cert` (PEM); `ca` + `requestCert` +
   * `rejectUnauthorized` for terminals that present client certificates. A failed handshake is
   * logged and closes only that connection.
   */
  tls?: TlsOptions;
  /** The card issuer (simulator or upstream link) for financial requests. Default: none (answer 91). */
  issuer?: Issuer;
  /**
   * The host's own limit on every issuer call (authorise, reverse): past it the request is
   * answered 98 and reversed. Default 25 000 ms (below a terminal's usual 30-60 s timeout).
   */
  issuerTimeoutMs?: number;
  /** Risk rules for financial requests. Default: none. */
  risk?: RiskEngine;
  /** An operator's sign-on lapses after this long without activity. Default 1800 (30 minutes). */
  operatorIdleSeconds?: number;
  /** Replace the routing table (tests, extensions). Default DEFAULT_ROUTES. */
  routes?: readonly Route[];
  /**
   * Before listening, reverse with the issuer every journal entry a previous run left pending
   * (src/host/recovery.ts). Default true.
   */
  recover?: boolean;
  /**
   * While running, reverse every so often the journal entries left pending (a stand-in reversal
   * that could not reach the issuer) once they are `recoveryAgeMs` old; 0 disables. Default 60 000.
   */
  recoveryIntervalMs?: number;
  /**
   * Minimum age of a pending entry for the periodic sweep. Default 120 000. Entries of another live
   * host process, or written before host instances were recorded, wait at least this long and at
   * least twice issuerTimeoutMs (its issuer call and its stand-in reversal).
   */
  recoveryAgeMs?: number;
  /**
   * How often this process refreshes its host-instance heartbeat; other processes sharing the
   * database count it dead after 3 missed beats and may then recover its pending entries. Default 5000.
   */
  heartbeatMs?: number;
}

export interface RunningHost {
  /** The port actually listened on. */
  readonly port: number;
  /** Connections currently open. */
  readonly connections: number;
  /** Requests being handled (received, not yet answered). */
  readonly pending: number;
  /** What crash recovery found and did at start (all zero when disabled). */
  readonly recovery: RecoveryReport;
  /** This process's host instance id (table host_instances). */
  readonly instanceId: string;
  /** Graceful shutdown; safe to call more than once. */
  close(): Promise<void>;
}

function positive(name: string, v: number, allowZero: boolean): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  return v;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

/** setInterval treats a longer delay as 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function startHost(options: HostOptions): Promise<RunningHost> {
  // Every option is checked before this process registers as a host instance, so a bad one leaves
  // nothing behind (a registered instance that never beats would hold other hosts back).
  const heartbeatMs = positive('heartbeatMs', options.heartbeatMs ?? 5000, false);
  if (heartbeatMs > MAX_TIMER_MS) throw new RangeError(`heartbeatMs must be at most ${MAX_TIMER_MS}`);
  const keyLifetimeSeconds = positive('keyLifetimeSeconds', options.keyLifetimeSeconds ?? 86_400, false);
  const graceSeconds = positive('graceSeconds', options.graceSeconds ?? 300, true);
  const issuerTimeoutMs = positive('issuerTimeoutMs', options.issuerTimeoutMs ?? 25_000, false);
  const operatorIdleSeconds = positive('operatorIdleSeconds', options.operatorIdleSeconds ?? 1800, false);
  const recoveryAgeMs = positive('recoveryAgeMs', options.recoveryAgeMs ?? 120_000, true);
  const liveAgeMs = Math.max(recoveryAgeMs, 2 * issuerTimeoutMs);
  const profile = defineFrameProfile({ ...CUP_POS_FRAME, maxFrameLength: options.maxFrameLength ?? CUP_POS_FRAME.maxFrameLength });
  const idleTimeoutMs = positive('idleTimeoutMs', options.idleTimeoutMs ?? 300_000, true);
  const closeTimeoutMs = positive('closeTimeoutMs', options.closeTimeoutMs ?? 2000, true);
  const recoveryIntervalMs = positive('recoveryIntervalMs', options.recoveryIntervalMs ?? 60_000, true);
  if (recoveryIntervalMs > MAX_TIMER_MS) throw new RangeError(`recoveryIntervalMs must be at most ${MAX_TIMER_MS}`);

  // Registered before recovery: a host starting at the same time sees this one alive at once.
  const instance = await registerInstance(options.db, { heartbeatMs: Math.ceil(heartbeatMs) });
  const instanceId = instance.id;
  const ctx: HostContext = {
    instanceId,
    db: options.db,
    hsm: options.hsm,
    logger: options.logger,
    keyLifetimeSeconds,
    graceSeconds,
    acquirerId: options.acquirerId,
    rrn: createRrnGenerator(),
    issuer: options.issuer === undefined ? undefined : withIssuerTimeout(options.issuer, issuerTimeoutMs),
    risk: options.risk,
    operatorIdleSeconds,
    journalInFlight: new Set<string>(),
  };
  const heartbeatTimer = setInterval(() => {
    heartbeat(ctx.db, instanceId).then(
      // The row is gone or marked stopped: other hosts may already be recovering this one's entries.
      (ok) => (ok ? undefined : options.logger.error({ instanceId }, 'host instance no longer registered: its pending entries may be recovered by other hosts')),
      (e: unknown) => options.logger.warn({ err: errInfo(e) }, 'host instance heartbeat failed'),
    );
  }, heartbeatMs);
  heartbeatTimer.unref();
  const stopInstance = async (): Promise<void> => {
    clearInterval(heartbeatTimer);
    await markStopped(ctx.db, instanceId).catch((e: unknown) => options.logger.warn({ err: errInfo(e) }, 'could not mark the host instance stopped'));
  };
  let recovery: RecoveryReport = { pending: 0, reversed: 0, left: 0 };
  try {
    // Instances gone for a week that no pending entry names are forgotten.
    await pruneInstances(ctx.db, 7 * 86_400_000);
    // The PAN fingerprint key exists from the first start on (under the LMK of that start), so a
    // later LMK rotation re-wraps it instead of a new key being made from the new LMK.
    await panFingerprintKey(ctx.db, ctx.hsm);
    if (options.recover !== false) {
      recovery = await recoverPending({ db: ctx.db, hsm: ctx.hsm, issuer: ctx.issuer, logger: options.logger, instanceId, liveAgeMs });
    }
  } catch (e) {
    await stopInstance();
    throw e;
  }
  const routes = options.routes ?? DEFAULT_ROUTES;
  const logger = options.logger;

  const connections = new Set<Connection>();
  const background = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>): void => {
    const q = p.finally(() => background.delete(q));
    background.add(q);
  };
  const presence = new Presence(ctx.db, logger);
  let nextId = 1;
  let closing: Promise<void> | null = null;

  const accept = (socket: Socket): void => {
    if (closing !== null) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, nextId++, { ctx, profile, routes, idleTimeoutMs, track, presence });
    connections.add(conn);
    socket.on('close', () => connections.delete(conn));
  };
  let server: Server;
  try {
    // Bad TLS material throws here: the instance registered above must not stay behind.
    server = options.tls ? createTlsServer(options.tls, accept) : createServer(accept);
  } catch (e) {
    await stopInstance();
    throw e;
  }
  server.on('error', (e) => logger.error({ err: errInfo(e) }, 'server error'));
  server.on('tlsClientError', (e: Error, socket: Socket) => {
    logger.warn({ err: errInfo(e), remote: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });

  let sweeping = false;
  const sweep = (): void => {
    if (sweeping || closing !== null) return;
    sweeping = true;
    track(
      recoverPending({ db: ctx.db, hsm: ctx.hsm, issuer: ctx.issuer, logger, skip: ctx.journalInFlight, olderThanMs: recoveryAgeMs, instanceId, liveAgeMs })
        .catch((e: unknown) => logger.error({ err: errInfo(e) }, 'journal sweep failed'))
        .finally(() => {
          sweeping = false;
        }),
    );
  };

  let port: number;
  try {
    port = await listen(server, options.port, options.host ?? '127.0.0.1');
  } catch (e) {
    await stopInstance();
    throw e;
  }
  const sweepTimer = recoveryIntervalMs > 0 && ctx.issuer !== undefined ? setInterval(sweep, recoveryIntervalMs) : null;
  sweepTimer?.unref();
  logger.info({ port, host: options.host ?? '127.0.0.1', tls: options.tls !== undefined }, 'host listening');

  const shutdown = async (): Promise<void> => {
    if (sweepTimer !== null) clearInterval(sweepTimer);
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    const open = [...connections];
    logger.info({ connections: open.length }, 'host closing: answering requests in flight');
    await Promise.all(open.map((c) => c.drain()));
    for (const c of open) c.socket.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, closeTimeoutMs);
    });
    await Promise.race([serverClosed, timedOut]);
    clearTimeout(timer);
    for (const c of connections) c.socket.destroy();
    await serverClosed;
    while (background.size > 0) await Promise.allSettled([...background]);
    await presence.settle();
    // Last: whatever is still pending now (a stand-in reversal that failed) is for recovery.
    await stopInstance();
    logger.info('host closed');
  };

  return {
    port,
    recovery,
    instanceId,
    get connections() {
      return connections.size;
    },
    get pending() {
      let n = 0;
      for (const c of connections) n += c.pending;
      return n;
    },
    close(): Promise<void> {
      closing ??= shutdown();
      return closing;
    },
  };
}
