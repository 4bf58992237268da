import type { Command } from './command.js';
import { decodeCommand } from './commands/decode.js';
import { encodeCommand } from './commands/encode.js';
import { cryptoCommands } from './commands/crypto/index.js';
import { demoCommand } from './commands/demo.js';
import { adminCommands } from './commands/admin/index.js';
import { runtimeCommands } from './commands/sim/index.js';

/** Every CLI command, in the order `qiandao --help` lists them. */
export const commands: Command[] = [demoCommand, ...runtimeCommands, ...adminCommands, decodeCommand, encodeCommand, ...cryptoCommands];
