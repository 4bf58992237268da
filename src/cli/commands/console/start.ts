/**
 * `qiandao console start` — run the management API (Fastify) over the host's store and HSM.
 * OpenAPI at /openapi.json, Swagger UI at /docs. Ctrl-C / SIGTERM stops.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startSealer } from '../../../audit/index.js';
import { startConsole } from '../../../console/index.js';
import type { Command } from '../../command.js';
import { CliError } from '../../errors.js';
import { HSM_OPTIONS, HSM_USAGE, openHsmFrom, openStoreFrom, STORE_USAGE } from '../../store-options.js';
import { waitForStopSignal } from '../host.js';
import { parsePort } from '../sim/options.js';

const USAGE = `qiandao console start [--port 8080] [--listen 127.0.0.1] [--trust-proxy] [--log-level info] ${STORE_USAGE} ${HSM_USAGE}`;

export const consoleStartCommand: Command = {
  path: ['console', 'start'],
  summary: 'Run the management API (OpenAPI at /openapi.json, Swagger UI at /docs); Ctrl-C stops',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...HSM_OPTIONS,
        port: { type: 'string', default: '8080' },
        listen: { type: 'string', default: '127.0.0.1' },
        'trust-proxy': { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
      },
    });
    const port = parsePort(values.port);
    const level = values['log-level'] ?? 'info';
    if (!(level in pino.levels.values) && level !== 'silent') {
      throw new CliError(`--log-level must be one of ${Object.keys(pino.levels.values).join(', ')}, silent; got '${level}'`);
    }
    const logger = pino({ name: 'qiandao-console', level });
    const hsm = await openHsmFrom(values);
    try {
      const db = await openStoreFrom(values);
      try {
        const running = await startConsole({ db, hsm, logger, port, host: values.listen ?? '127.0.0.1', trustProxy: values['trust-proxy'] === true });
        // Sign-ins and administrative changes are events: link them into the audit hash chain.
        const sealer = startSealer({ db, logger, intervalMs: 1000 });
        logger.info({ port: running.port, docs: `http://${values.listen ?? '127.0.0.1'}:${running.port}/docs` }, 'management API listening');
        const signal = await waitForStopSignal();
        logger.info({ signal }, 'stopping');
        await running.close();
        await sealer.stop();
      } finally {
        await db.close();
      }
    } finally {
      await hsm.close();
    }
  },
};
