import type { Command } from '../../command.js';

export const auditCommands: Command[] = [];
