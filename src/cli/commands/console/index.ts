import type { Command } from '../../command.js';

export const consoleCommands: Command[] = [];
