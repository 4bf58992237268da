import type { Command } from '../../command.js';

export const tradeCommands: Command[] = [];
