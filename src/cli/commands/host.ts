/**
 * `qiandao host start` — run the acquiring host.
 *
 *   store   PostgreSQL (--database-url or DATABASE_URL) else embedded PGlite in DATA/pglite;
 *           migrations are applied on open
 *   HSM     SoftHsm; LMK from QIANDAO_LMK, else --lmk-file (default DATA/lmk.hex). A development
 *           LMK is generated only with --dev-lmk (never when NODE_ENV=production).
 *   issuer  --issuer simulator (default): the in-process issuer simulator over the same store (test
 *           cards from `qiandao card add`); none: financial requests are answered 91
 *   risk    the risk-rule engine on every financial request (--risk off disables it), and the
 *           sign-on anomaly monitor raising alerts
 *   audit   new events are linked into the audit hash chain every second
 *   logs    pino JSON lines on stdout
 *   stop    SIGINT / SIGTERM: stop accepting, answer requests in flight, close store and HSM.
 *
 * startHostService() holds the start/stop logic without signals (tests use port 0).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { SoftHsm } from '../../crypto/hsm/soft-hsm.js';
import { startSealer } from '../../audit/index.js';
import { startHost, type RunningHost } from '../../host/index.js';
import { openIssuerSimulator } from '../../issuer/index.js';
import { createRiskEngine, startMonitor } from '../../risk/index.js';
import { openStore, type Db } from '../../store/index.js';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';
import { readFileArg } from '../io.js';
import { refuseUrlPassword } from '../store-options.js';
import { parsePort, parsePositiveInt } from './sim/options.js';

export interface HostServiceConfig {
  port: number;
  /** Listen address. Default 127.0.0.1. */
  listen?: string;
  /** Data directory for PGlite (DIR/pglite) and the default LMK file. Default ./data. */
  dataDir?: string;
  /** PGlite directory override (e.g. 'memory://'); ignored with databaseUrl. */
  pgliteDir?: string;
  /** PostgreSQL URL; PGlite when undefined. */
  databaseUrl?: string;
  /** LMK file; default DATA/lmk.hex. QIANDAO_LMK in the environment takes precedence. */
  lmkFile?: string;
  /** LMK hex given directly (tests). */
  lmkHex?: string;
  /** Generate a development LMK when none is configured. */
  devLmk?: boolean;
  keyLifetimeSeconds?: number;
  idleTimeoutSeconds?: number;
  /** Serve TLS with this PEM certificate and key (both or neither). */
  tls?: { cert: Buffer; key: Buffer };
  /** Where financial requests are authorised. Default 'simulator'. */
  issuer?: 'simulator' | 'none';
  /** Evaluate risk rules and run the sign-on monitor. Default true. */
  risk?: boolean;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface HostService {
  readonly host: RunningHost;
  readonly port: number;
  readonly db: Db;
  readonly hsm: SoftHsm;
  /** Graceful stop: host (answers requests in flight), then HSM and store. Idempotent. */
  stop(): Promise<void>;
}

/** Open the store and SoftHsm and start the host. Everything opened is closed again on failure. */
export async function startHostService(config: HostServiceConfig, logger: Logger): Promise<HostService> {
  const env = config.env ?? process.env;
  const dataDir = config.dataDir ?? './data';
  const envUrl = env['DATABASE_URL'];
  const url = config.databaseUrl ?? (envUrl !== undefined && envUrl !== '' ? envUrl : undefined);
  const lmkFile = config.lmkFile ?? join(dataDir, 'lmk.hex');

  const hsm = await SoftHsm.open({
    ...(config.lmkHex !== undefined ? { lmkHex: config.lmkHex } : {}),
    lmkFile,
    allowDevLmk: config.devLmk === true,
    env,
    logger: { warn: (m: string) => logger.warn(m) },
  });
  let db: Db | undefined;
  try {
    if (url === undefined && config.pgliteDir === undefined) mkdirSync(dataDir, { recursive: true });
    db = await openStore(url !== undefined ? { url } : { dataDir: config.pgliteDir ?? join(dataDir, 'pglite') });
    logger.info({ store: url !== undefined ? 'postgres' : 'pglite', lmkKcv: hsm.lmkKcv }, 'store and HSM open');
    const issuer = config.issuer === 'none' ? undefined : await openIssuerSimulator({ db, hsm, logger });
    const risk = config.risk === false ? undefined : createRiskEngine({ logger });
    logger.info({ issuer: issuer === undefined ? 'none' : 'simulator', risk: risk !== undefined }, 'financial services');
    const host = await startHost({
      ...(issuer !== undefined ? { issuer } : {}),
      ...(risk !== undefined ? { risk } : {}),
      port: config.port,
      host: config.listen ?? '127.0.0.1',
      db,
      hsm,
      logger,
      ...(config.keyLifetimeSeconds !== undefined ? { keyLifetimeSeconds: config.keyLifetimeSeconds } : {}),
      ...(config.idleTimeoutSeconds !== undefined ? { idleTimeoutMs: config.idleTimeoutSeconds * 1000 } : {}),
      ...(config.tls !== undefined ? { tls: config.tls } : {}),
    });
    const openDb = db;
    // Link new events into the audit hash chain every second (src/audit).
    const sealer = startSealer({ db: openDb, logger, intervalMs: 1000 });
    // Sign-on anomalies (failed operator sign-ons, outside trading hours, new address) -> alerts.
    const monitor = config.risk === false ? null : startMonitor({ db: openDb, logger, intervalMs: 10_000 });
    let stopping: Promise<void> | null = null;
    return {
      host,
      port: host.port,
      db: openDb,
      hsm,
      stop() {
        stopping ??= (async () => {
          try {
            await host.close();
            await monitor?.stop();
            await sealer.stop();
          } finally {
            await openDb.close().catch((e: unknown) => logger.error({ err: String(e) }, 'closing the store failed'));
            await hsm.close();
            logger.info('stopped');
          }
        })();
        return stopping;
      },
    };
  } catch (e) {
    await db?.close().catch(() => undefined);
    await hsm.close().catch(() => undefined);
    throw e;
  }
}

/** Resolve when SIGINT or SIGTERM arrives (listeners removed afterwards). */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const hostStartCommand: Command = {
  path: ['host', 'start'],
  summary: 'Run the acquiring host (store + SoftHsm + TCP server); pino logs on stdout, Ctrl-C stops',
  usage:
    'qiandao host start [--port 5000] [--listen 127.0.0.1] [--data ./data] [--database-url URL] [--lmk-file FILE] [--dev-lmk] [--key-lifetime 86400] [--idle-timeout 300] [--tls-cert cert.pem --tls-key key.pem] [--issuer simulator|none] [--risk on|off] [--log-level info]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '5000' },
        listen: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string', default: './data' },
        'database-url': { type: 'string' },
        'lmk-file': { type: 'string' },
        'dev-lmk': { type: 'boolean', default: false },
        'key-lifetime': { type: 'string', default: '86400' },
        'idle-timeout': { type: 'string', default: '300' },
        'log-level': { type: 'string', default: 'info' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        issuer: { type: 'string', default: 'simulator' },
        risk: { type: 'string', default: 'on' },
      },
    });
    refuseUrlPassword(values['database-url']);
    const issuerKind = values.issuer;
    if (issuerKind !== 'simulator' && issuerKind !== 'none') throw new CliError(`--issuer must be simulator or none, got '${String(issuerKind)}'`);
    if (values.risk !== 'on' && values.risk !== 'off') throw new CliError(`--risk must be on or off, got '${String(values.risk)}'`);
    const port = parsePort(values.port);
    const tls = readTlsFiles(values['tls-cert'], values['tls-key']);
    const keyLifetimeSeconds = parsePositiveInt(values['key-lifetime'], '--key-lifetime');
    const idleTimeoutSeconds = parsePositiveInt(values['idle-timeout'], '--idle-timeout', true);
    const level = values['log-level'] ?? 'info';
    if (!(level in pino.levels.values) && level !== 'silent') {
      throw new CliError(`--log-level must be one of ${Object.keys(pino.levels.values).join(', ')}, silent; got '${level}'`);
    }
    const logger = pino({ name: 'qiandao-host', level });
    const service = await startHostService(
      {
        port,
        listen: values.listen ?? '127.0.0.1',
        dataDir: values.data ?? './data',
        ...(values['database-url'] !== undefined ? { databaseUrl: values['database-url'] } : {}),
        ...(values['lmk-file'] !== undefined ? { lmkFile: values['lmk-file'] } : {}),
        devLmk: values['dev-lmk'] === true,
        keyLifetimeSeconds,
        idleTimeoutSeconds,
        ...(tls !== undefined ? { tls } : {}),
        issuer: issuerKind,
        risk: values.risk === 'on',
      },
      logger,
    );
    const signal = await waitForStopSignal();
    logger.info({ signal }, 'stopping: answering requests in flight');
    await service.stop();
  },
};

/** `--tls-cert` and `--tls-key` go together; unreadable files are bad input (exit 2). */
function readTlsFiles(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new CliError('--tls-cert and --tls-key must be given together');
  return { cert: readFileArg(certFile, '--tls-cert'), key: readFileArg(keyFile, '--tls-key') };
}
