import type { Command } from './command.js';
import { decodeCommand } from './commands/decode.js';
import { encodeCommand } from './commands/encode.js';
import { cryptoCommands } from './commands/crypto/index.js';
import { demoCommand } from './commands/demo.js';
import { adminCommands } from './commands/admin/index.js';
import { runtimeCommands } from './commands/sim/index.js';
import { operatorCommands } from './commands/operator/index.js';
import { consoleCommands } from './commands/console/index.js';
import { cardCommands } from './commands/card/index.js';
import { tradeCommands } from './commands/trade/index.js';
import { auditCommands } from './commands/audit/index.js';
import { riskCommands } from './commands/risk/index.js';
import { lmkCommands } from './commands/lmk.js';

/** Every CLI command, in the order `qiandao --help` lists them. */
export const commands: Command[] = [
  demoCommand,
  ...runtimeCommands,
  ...tradeCommands,
  ...adminCommands,
  ...operatorCommands,
  ...cardCommands,
  ...consoleCommands,
  ...auditCommands,
  ...riskCommands,
  ...lmkCommands,
  decodeCommand,
  encodeCommand,
  ...cryptoCommands,
];
