/** Administration commands: merchants and terminals in the host's store, and terminal master keys. */
import type { Command } from '../../command.js';
import { merchantCommands } from './merchant.js';
import {
  terminalAddCommand,
  terminalDisableCommand,
  terminalEnableCommand,
  terminalListCommand,
  terminalRekeyCommand,
  terminalShowCommand,
} from './terminal.js';
import { terminalTmkCommand } from './tmk.js';

export const adminCommands: Command[] = [
  ...merchantCommands,
  terminalAddCommand,
  terminalListCommand,
  terminalShowCommand,
  terminalDisableCommand,
  terminalEnableCommand,
  terminalRekeyCommand,
  terminalTmkCommand,
];
