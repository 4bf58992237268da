/** Management API commands: back-office users and the API server. */
import type { Command } from '../../command.js';
import { consoleStartCommand } from './start.js';
import { userAddCommand, userListCommand } from './user.js';

export const consoleCommands: Command[] = [userAddCommand, userListCommand, consoleStartCommand];
