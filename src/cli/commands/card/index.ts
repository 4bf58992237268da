import type { Command } from '../../command.js';

export const cardCommands: Command[] = [];
