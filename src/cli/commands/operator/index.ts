import type { Command } from '../../command.js';

export const operatorCommands: Command[] = [];
